// Every message of the shared real-world corpus (417 files from other parsers' test suites, many
// malformed) through the WHOLE intake: raw storage, parse, classification, one transaction, the
// receipt queued and written out as .eml. None may crash or hang; each is recorded (submission /
// not_submission), set aside (failed) with its reason, or reported as a duplicate of one that was.
// The parse-level comparison with the oracle is tests/unit/corpus.test.ts.
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import type { IntakeResult } from '../../src/intake/pipeline.js';
import { createLogger } from '../../src/log.js';
import { buildApp, type App } from '../../src/main.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpusDir = path.resolve(repoRoot, '../shared/corpus');

let tmp = '';
let app: App;
const apps: App[] = [];

/** A fresh daemon on its own data folder under tmp, writing its mail to <folder>/outbox. */
function newApp(folder: string): App {
  const config = loadConfig(DEFAULT_CONFIG_PATH, {
    BAOSONG_DATA_DIR: path.join(tmp, folder, 'data'),
    BAOSONG_IMAP_PASSWORD: 'x',
    BAOSONG_SMTP_PASSWORD: 'x',
  });
  const a = buildApp(config, {
    log: createLogger('silent', false),
    clock: new FixedClock(new Date('2015-06-05T10:00:00+08:00')),
    outboxToFolder: path.join(tmp, folder, 'outbox'),
  });
  apps.push(a);
  return a;
}

async function ingestFile(a: App, file: string): Promise<IntakeResult> {
  return a.intake.ingest({
    source: createReadStream(path.join(corpusDir, file)),
    fallbackReceivedAt: new Date('2015-06-01T09:00:00+08:00'),
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'baosong-corpus-intake-'));
  app = newApp('main');
});
afterAll(async () => {
  for (const a of apps) a.close();
  if (tmp && !process.env.KEEP_OUTBOX) await rm(tmp, { recursive: true, force: true });
});

describe('the real-world corpus through the whole intake', () => {
  it(
    'records or sets aside every message, with a reason, and answers without crashing',
    { timeout: 300_000 },
    async () => {
      const manifest = await readFile(path.join(corpusDir, 'MANIFEST.tsv'), 'utf8');
      const files = manifest
        .split('\n')
        .slice(1)
        .map((l) => l.split('\t')[0] ?? '')
        .filter(Boolean);
      expect(files).toHaveLength(417);

      const results = new Map<string, IntakeResult>();
      const t0 = Date.now();
      for (const file of files) {
        results.set(file, await ingestFile(app, file));
      }
      const ms = Date.now() - t0;

      const by = (s: IntakeResult['status'], kind?: string) =>
        [...results.values()].filter((r) => r.status === s && (!kind || r.kind === kind)).length;
      const submission = by('recorded', 'submission');
      const notSubmission = by('recorded', 'not_submission');
      const failed = by('failed');
      const duplicate = by('duplicate');
      console.log(
        `corpus intake: ${files.length} files in ${ms} ms: ${submission} submissions, ` +
          `${notSubmission} not submissions, ${failed} set aside (failed), ${duplicate} duplicates`,
      );
      for (const [f, r] of results)
        if (r.status === 'failed') console.log(`  failed: ${f}: ${r.reason}`);
      const dupes = [...results.values()].filter((r) => r.status === 'duplicate');
      const sameBytes = dupes.filter((r) => r.reason.includes('内容相同')).length;
      console.log(
        `  duplicates: ${sameBytes} identical bytes, ${dupes.length - sameBytes} same Message-ID ` +
          '(fixtures of one suite reuse IDs)',
      );

      // every file is accounted for, and each answer carries its reason
      expect(submission + notSubmission + failed + duplicate).toBe(files.length);
      for (const [f, r] of results) expect(r.reason.trim(), f).not.toBe('');

      // the database holds one row per distinct message, none without a reason
      const rows = app.store.db.prepare('SELECT id, kind, reason FROM messages').all() as {
        id: number;
        kind: string;
        reason: string;
      }[];
      expect(rows).toHaveLength(files.length - duplicate);
      expect(rows.filter((r) => r.kind === 'submission')).toHaveLength(submission);
      expect(rows.filter((r) => r.kind === 'not_submission')).toHaveLength(notSubmission);
      expect(rows.filter((r) => r.kind === 'failed')).toHaveLength(failed);
      expect(rows.filter((r) => r.reason.trim() === '')).toEqual([]);
      // a duplicate points at a message that was recorded
      const ids = new Set(rows.map((r) => r.id));
      for (const r of results.values())
        if (r.status === 'duplicate') expect(ids.has(r.message!)).toBe(true);

      // every material has its reason; every stored file is inside the data folder
      const dataRoot = await realpath(app.data.root);
      for (const m of app.store.materials()) {
        expect(m.reason.trim()).not.toBe('');
        if (m.kind === 'file' && m.path) {
          const real = await realpath(path.join(app.data.root, m.path));
          expect(real.startsWith(dataRoot + path.sep)).toBe(true);
          expect(path.basename(real)).toBe(m.sha256);
        }
      }
      expect(app.store.integrityCheck()).toBe('ok');
      expect(await readdir(app.data.tmp)).toEqual([]);

      // the receipts go out (to a folder here); each is a well-formed mail with one recipient
      const flushed = await app.outbox.flush();
      expect(flushed.failed).toBe(0);
      if (process.env.KEEP_OUTBOX) console.log(tmp);
      const outDir = path.join(tmp, 'main', 'outbox');
      const emls = (await readdir(outDir)).filter((f) => f.endsWith('.eml'));
      expect(emls.length).toBe(flushed.sent);
      for (const f of emls) {
        const parsed = await simpleParser(await readFile(path.join(outDir, f)));
        expect(parsed.headers.has('bcc'), f).toBe(false);
        expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value : [], f).toHaveLength(1);
        expect(parsed.subject ?? '', f).toMatch(/^回执/);
      }
      console.log(`corpus intake: ${emls.length} receipts written`);

      // The duplicates (fixtures of one suite share a Message-ID) were parsed but not recorded:
      // take them again into fresh data folders, pass after pass, so that every one of the 417
      // is also recorded or set aside on its own.
      let rest = [...results].filter(([, r]) => r.status === 'duplicate').map(([f]) => f);
      let pass = 1;
      while (rest.length > 0) {
        pass++;
        expect(pass).toBeLessThan(50);
        const again = newApp(`pass${pass}`);
        const next: string[] = [];
        for (const file of rest) {
          const r = await ingestFile(again, file);
          expect(r.reason.trim(), file).not.toBe('');
          if (r.status === 'duplicate') next.push(file);
          else results.set(file, r);
        }
        expect(
          again.store.db
            .prepare("SELECT COUNT(*) AS n FROM messages WHERE trim(reason) = ''")
            .get(),
        ).toEqual({ n: 0 });
        rest = next;
      }
      const final = [...results.values()];
      expect(final.filter((r) => r.status === 'duplicate')).toEqual([]);
      console.log(
        `corpus intake, each file on its own (${pass} passes): ` +
          `${final.filter((r) => r.kind === 'submission').length} submissions, ` +
          `${final.filter((r) => r.kind === 'not_submission').length} not submissions, ` +
          `${final.filter((r) => r.status === 'failed').length} set aside`,
      );
    },
  );
});
