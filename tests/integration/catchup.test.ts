// The pipelined IMAP catch-up against a real Dovecot: many messages downloaded in batches and
// parsed concurrently (in parse threads, or with parse times out of order) are still recorded
// one by one in UID order, duplicates among the concurrent ones are caught, a big message is
// streamed, a failure stops the catch-up at that UID, and the next run starts again there.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { ImapSource, WHOLE_FETCH_MAX_BYTES } from '../../src/intake/imap.js';
import { parseMessageFile } from '../../src/intake/mime.js';
import { Intake } from '../../src/intake/pipeline.js';
import { createLogger } from '../../src/log.js';
import { buildApp, classifierFor, type App } from '../../src/main.js';
import { DataFolder } from '../../src/store/files.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  cleanupDovecot,
  requireDovecot,
  startDovecot,
  type DovecotServer,
} from '../support/dovecot.js';

const log = createLogger('silent', false);
const clock = new FixedClock(new Date('2015-06-05T10:00:00+08:00'));

function submission(n: number, opts: { bytes?: number; messageId?: string } = {}): Buffer {
  return composeMail({
    from: 'dahelu@huiji.example',
    subject: `大河路街道 行政指导意见 第${n}份`,
    messageId: opts.messageId ?? `catchup-${n}@huiji.example`,
    date: new Date(Date.UTC(2015, 4, 20, 1, n)),
    text: '见附件',
    attachments: [
      { filename: `行政指导意见-${n}.doc`, content: fakeDoc(`catchup-${n}`, opts.bytes ?? 30_000) },
    ],
  });
}

describe.skipIf(!requireDovecot())('pipelined catch-up', () => {
  let imap: DovecotServer;
  let dataDir: string;
  let config: Config;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    imap = await startDovecot();
  });
  afterAll(async () => {
    await cleanupDovecot(imap);
  });
  beforeEach(async () => {
    await imap.recreateInbox();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'baosong-catchup-'));
    config = loadConfig(DEFAULT_CONFIG_PATH, {
      BAOSONG_IMAP_HOST: imap.host,
      BAOSONG_IMAP_PORT: String(imap.port),
      BAOSONG_IMAP_TLS: 'false',
      BAOSONG_IMAP_USER: imap.user,
      BAOSONG_IMAP_PASSWORD: imap.password,
      BAOSONG_SMTP_HOST: '127.0.0.1',
      BAOSONG_SMTP_PORT: '9',
      BAOSONG_SMTP_TLS: 'false',
      BAOSONG_DATA_DIR: dataDir,
    });
  });
  afterEach(() => {
    for (const c of closers.splice(0)) c();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function appendAll(raws: Buffer[], mailbox = 'INBOX'): Promise<void> {
    const client = await imap.client();
    try {
      for (const raw of raws)
        await client.append(mailbox, raw, [], new Date('2015-05-20T08:00:00Z'));
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  /** (uid, status, message id) of every processed UID, in UID order. */
  function sources(store: SqliteStore) {
    return store.db
      .prepare('SELECT uid, status, message FROM message_sources ORDER BY uid')
      .all() as { uid: number; status: string; message: number }[];
  }

  it('GIVEN 60 messages with duplicates and a big one WHEN caught up with parse threads THEN each is recorded once, in UID order', async () => {
    const raws: Buffer[] = [];
    for (let n = 1; n <= 60; n++) raws.push(submission(n));
    raws[10] = raws[9]!; // UID 11: the same bytes as UID 10
    raws[20] = submission(999, { messageId: 'catchup-20@huiji.example' }); // UID 21: Message-ID of UID 20
    raws[30] = submission(31, { bytes: WHOLE_FETCH_MAX_BYTES }); // UID 31: above the batch limit: streamed
    await appendAll(raws);

    const app: App = buildApp(config, { log, clock, parseWorkers: 2 });
    closers.push(() => app.close());
    const results = await app.imap.once();
    expect(results).toHaveLength(60);

    const rows = sources(app.store);
    expect(rows.map((r) => r.uid)).toEqual(raws.map((_, i) => i + 1));
    expect(rows.filter((r) => r.status === 'duplicate').map((r) => r.uid)).toEqual([11, 21]);
    const recorded = rows.filter((r) => r.status === 'recorded');
    expect(recorded).toHaveLength(58);
    // recorded in UID order: message ids grow with the UID
    const ids = recorded.map((r) => r.message);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(rows.find((r) => r.uid === 11)?.message).toBe(rows.find((r) => r.uid === 10)?.message);
    expect(rows.find((r) => r.uid === 21)?.message).toBe(rows.find((r) => r.uid === 20)?.message);
    const big = app.store.materials().find((m) => m.filename === '行政指导意见-31.doc');
    expect(big?.size).toBe(WHOLE_FETCH_MAX_BYTES);

    // nothing new: the next run does nothing
    expect(await app.imap.once()).toEqual([]);
  });

  it('GIVEN parses that finish out of order WHEN caught up THEN records still follow the UIDs', async () => {
    await appendAll(Array.from({ length: 40 }, (_, i) => submission(i + 1)));
    const store = new SqliteStore(path.join(dataDir, 'baosong.db'));
    closers.push(() => store.close());
    let n = 0;
    const intake = new Intake({
      store,
      data: new DataFolder(dataDir),
      classifier: classifierFor(config),
      config,
      clock,
      log,
      // later messages parse faster than earlier ones
      parse: async (raw, o) => {
        const wait = 40 - (n++ % 10) * 4;
        await new Promise((r) => setTimeout(r, wait));
        return parseMessageFile(raw, o);
      },
    });
    const source = new ImapSource({ settings: config.imap, store, intake, log });
    await source.once();
    const rows = sources(store);
    expect(rows).toHaveLength(40);
    expect(rows.map((r) => r.message)).toEqual(rows.map((_, i) => i + 1));
  });

  it('GIVEN the disk fails at the 25th message WHEN caught up THEN UIDs 1-24 are recorded, and the next run does the rest', async () => {
    await appendAll(Array.from({ length: 40 }, (_, i) => submission(i + 1)));
    const store = new SqliteStore(path.join(dataDir, 'baosong.db'));
    closers.push(() => store.close());
    let calls = 0;
    let failing = true;
    class FailingFolder extends DataFolder {
      override async storeRaw(source: Readable | Buffer) {
        if (failing && ++calls === 25) {
          if (!Buffer.isBuffer(source)) source.resume();
          throw new Error('ENOSPC: no space left on device');
        }
        return super.storeRaw(source);
      }
    }
    const data = new FailingFolder(dataDir);
    const intake = new Intake({
      store,
      data,
      classifier: classifierFor(config),
      config,
      clock,
      log,
    });
    const source = new ImapSource({ settings: config.imap, store, intake, log });
    await expect(source.once()).rejects.toThrow(/ENOSPC/);
    expect(sources(store).map((r) => r.uid)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));

    failing = false;
    const rest = await source.once();
    expect(rest).toHaveLength(16);
    expect(sources(store).map((r) => r.uid)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('GIVEN imap.moveTo WHEN caught up THEN the processed messages are moved there', async () => {
    await appendAll(Array.from({ length: 12 }, (_, i) => submission(i + 1)));
    const app = buildApp(
      { ...config, imap: { ...config.imap, moveTo: 'Done' } },
      { log, clock, parseWorkers: 1 },
    );
    closers.push(() => app.close());
    const client = await imap.client();
    try {
      await client.mailboxCreate('Done').catch(() => undefined);
      expect(await app.imap.once()).toHaveLength(12);
      expect(await client.status('INBOX', { messages: true })).toMatchObject({ messages: 0 });
      expect(await client.status('Done', { messages: true })).toMatchObject({ messages: 12 });
    } finally {
      await client.logout().catch(() => client.close());
    }
  });
});
