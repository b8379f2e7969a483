// The outbox against a real SMTP server: outages, refusals, and the per-sender cap.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { createLogger } from '../../src/log.js';
import { buildApp, type App } from '../../src/main.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

const log = createLogger('silent', false);

function submission(n: number, from = 'dahelu@huiji.example'): Readable {
  return Readable.from([
    composeMail({
      from,
      subject: `大河路街道 五 调研报告 第${n}稿`,
      messageId: `draft-${n}-${from}`,
      text: '见附件',
      attachments: [{ filename: `调研报告${n}.doc`, content: fakeDoc(`draft-${n}-${from}`) }],
    }),
  ]);
}

describe('outbox', () => {
  let smtp: SmtpCapture;
  let dataDir: string;
  let app: App;
  let clock: FixedClock;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => smtp?.stop());
  beforeEach(() => {
    smtp.clear();
    smtp.setMode('accept');
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'baosong-outbox-'));
    const config = loadConfig(DEFAULT_CONFIG_PATH, {
      BAOSONG_SMTP_HOST: smtp.host,
      BAOSONG_SMTP_PORT: String(smtp.port),
      BAOSONG_SMTP_TLS: 'false',
      BAOSONG_SMTP_PASSWORD: 'secret',
      BAOSONG_DATA_DIR: dataDir,
    });
    clock = new FixedClock(new Date('2015-06-05T10:00:00+08:00'));
    app = buildApp(config, { log, clock });
  });
  afterEach(() => {
    app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('GIVEN the SMTP server refuses for a while WHEN it comes back THEN the receipt is sent exactly once', async () => {
    smtp.setMode('tempfail');
    await app.intake.ingest({ source: submission(1) });
    expect(await app.outbox.flush()).toEqual({ sent: 0, retry: 1, failed: 0 });
    // Not yet due again: nothing is tried.
    expect(await app.outbox.flush()).toEqual({ sent: 0, retry: 0, failed: 0 });

    await smtp.stop();
    clock.set(new Date(clock.now().getTime() + 60_000));
    expect(await app.outbox.flush()).toEqual({ sent: 0, retry: 1, failed: 0 });

    await smtp.start();
    smtp.setMode('accept');
    clock.set(new Date(clock.now().getTime() + 10 * 60_000));
    expect(await app.outbox.flush()).toEqual({ sent: 1, retry: 0, failed: 0 });
    expect(await app.outbox.flush()).toEqual({ sent: 0, retry: 0, failed: 0 });
    await smtp.waitFor(1);
    expect(smtp.messages).toHaveLength(1);
    expect(app.store.outboxCounts()).toEqual({ sent: 1 });
  });

  it('GIVEN a recipient the server rejects permanently THEN the mail is recorded as failed, not retried', async () => {
    smtp.setMode('permfail');
    await app.intake.ingest({ source: submission(2) });
    expect(await app.outbox.flush()).toEqual({ sent: 0, retry: 0, failed: 1 });
    const row = app.store.db.prepare('SELECT status, last_error FROM outbox').get() as {
      status: string;
      last_error: string;
    };
    expect(row.status).toBe('failed');
    expect(row.last_error).toMatch(/550/);

    // The office hears of it in the next weekly summary.
    smtp.setMode('accept');
    app.reminders.run(clock.now(), { parts: 'summary' });
    await app.outbox.flush();
    const [summary] = await smtp.waitFor(1);
    expect(summary?.to).toEqual(['hifz9199@sina.com']);
    expect(summary?.parsed.text).toContain('以下地址收不到系统邮件，请电话联系：');
    expect(summary?.parsed.text).toMatch(/dahelu@huiji\.example：.*550/);
  });

  it('GIVEN two flushes at once THEN each mail goes out once', async () => {
    await app.intake.ingest({ source: submission(3) });
    await app.intake.ingest({ source: submission(4) });
    const [a, b] = await Promise.all([app.outbox.flush(), app.outbox.flush()]);
    expect(a.sent + (a === b ? 0 : b.sent)).toBe(2);
    await smtp.waitFor(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.messages).toHaveLength(2);
  });

  it('GIVEN a sender who mails many times within an hour THEN receipts stop at the cap, and resume an hour later', async () => {
    for (let n = 10; n < 18; n++) await app.intake.ingest({ source: submission(n) });
    await app.outbox.flush();
    expect(smtp.messages).toHaveLength(5);
    const replies = app.store.db.prepare(`SELECT reply FROM messages ORDER BY id`).all() as {
      reply: string;
    }[];
    expect(replies.filter((r) => r.reply === 'queued')).toHaveLength(5);
    expect(replies[7]?.reply).toMatch(
      /^suppressed: 一小时内已向 dahelu@huiji.example 发出 5 封回执/,
    );

    clock.set(new Date(clock.now().getTime() + 61 * 60_000));
    await app.intake.ingest({ source: submission(30) });
    await app.outbox.flush();
    expect(smtp.messages).toHaveLength(6);
  });
});
