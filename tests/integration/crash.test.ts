// Crash safety: the real daemon (bin/baosong run) against a real Dovecot and SMTP server,
// killed with SIGKILL at random moments while it works, restarted each time until the
// mailbox is done. Afterwards every message and material is recorded once, every
// submission answered once, no temp file is left and SQLite's integrity check passes.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { baosong, spawnBaosong } from '../support/cli.js';
import {
  cleanupDovecot,
  requireDovecot,
  startDovecot,
  type DovecotServer,
} from '../support/dovecot.js';
import { serverEnv } from '../support/env.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

const MESSAGES = 200;
const MIN_KILLS = 30;

/** Seeded, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.skipIf(!requireDovecot())('crash safety under SIGKILL', () => {
  let imap: DovecotServer;
  let smtp: SmtpCapture;
  let dir: string;
  let env: Record<string, string>;
  let configFile: string;

  beforeAll(async () => {
    [imap, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-crash-'));
    // Each unit sends ~10 messages here within minutes; lift the receipt cap so every
    // submission is owed its receipt and the count below means something.
    configFile = path.join(dir, 'config.yaml');
    const text = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
    if (!/perSenderPerHour: 5\b/.test(text))
      throw new Error('default.yaml changed: update this test');
    writeFileSync(configFile, text.replace(/perSenderPerHour: 5\b/, 'perSenderPerHour: 1000'));
    env = {
      PATH: process.env.PATH ?? '',
      ...serverEnv(imap, smtp, path.join(dir, 'data')),
    };
  });
  afterAll(async () => {
    await Promise.all([cleanupDovecot(imap), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`GIVEN ${MESSAGES} submissions WHEN the daemon is killed ${MIN_KILLS}+ times mid-work THEN nothing is lost and nothing is done twice`, async () => {
    const rand = prng(20150519);
    // Mixed units (roster addresses, so receipts are allowed) and items; one to three files.
    const config = loadConfig(DEFAULT_CONFIG_PATH, {});
    const senders = config.units
      .filter((u) => !u.tags.includes('urban'))
      .map((u) => ({ u, a: u.addresses[0] ?? '' }));
    const items = config.checklist.items.filter((i) => i.appliesTo.length === 0);
    let expectedMaterials = 0;
    for (let n = 0; n < MESSAGES; n++) {
      const s = senders[Math.floor(rand() * senders.length)];
      const item = items[Math.floor(rand() * items.length)];
      if (!s || !item) throw new Error('empty roster');
      const files = 1 + Math.floor(rand() * 3);
      expectedMaterials += files;
      await imap.append(
        composeMail({
          from: s.a,
          subject: `${s.u.shortNames[0]} ${item.keywords[0]} 第${n}号`,
          messageId: `crash-${n}@units.example`,
          text: '见附件',
          attachments: Array.from({ length: files }, (_, k) => ({
            filename: `${item.keywords[0]}-${n}-${k}.doc`,
            content: fakeDoc(`crash-${n}-${k}`, 8_000 + Math.floor(rand() * 40_000)),
          })),
        }),
        { internalDate: new Date(Date.UTC(2015, 4, 20, 0, n)) },
      );
    }

    // Kill after a random number of decisions (0 = during start-up), plus a random few ms.
    let kills = 0;
    const runUntilKilled = (target: number, extraMs: number) =>
      new Promise<{ killed: boolean; code: number | null; err: string }>((resolve) => {
        const child: ChildProcess = spawnBaosong(['--config', configFile, 'run'], env);
        let err = '';
        child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
        let decisions = 0;
        let armed = false;
        const arm = () => {
          if (armed) return;
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), extraMs);
        };
        if (target === 0) arm();
        child.stdout?.on('data', (chunk: Buffer) => {
          decisions += (chunk.toString().match(/"intake\.(decision|duplicate)"/g) ?? []).length;
          if (decisions >= target) arm();
        });
        // A daemon that has nothing left to do idles; don't wait for a kill that never comes.
        const idle = setTimeout(() => child.kill('SIGKILL'), 8_000);
        child.on('exit', (code, signal) => {
          clearTimeout(idle);
          resolve({ killed: signal === 'SIGKILL', code, err });
        });
      });

    let stderr = '';
    for (let round = 0; kills < MIN_KILLS && round < 200; round++) {
      const r = await runUntilKilled(Math.floor(rand() * 9), Math.floor(rand() * 25));
      if (r.killed) kills++;
      else stderr += `round ${round}: exit ${r.code} ${r.err}\n`;
      const dbFile = path.join(env.BAOSONG_DATA_DIR ?? '', 'baosong.db');
      let done = 0;
      if (existsSync(dbFile)) {
        const db = new Database(dbFile, { readonly: true });
        try {
          done = (db.prepare('SELECT COUNT(*) AS n FROM message_sources').get() as { n: number }).n;
        } catch {
          // killed before the first migration committed
        }
        db.close();
      }
      if (done >= MESSAGES && kills >= MIN_KILLS) break;
    }
    expect(stderr).toBe('');
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);

    // Then let it finish: one clean run that processes the rest and sends the outbox.
    const final = await baosong(['--config', configFile, 'run', '--once'], env);
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);

    const dataDir = env.BAOSONG_DATA_DIR ?? '';
    const db = new Database(path.join(dataDir, 'baosong.db'), { readonly: true });
    const one = (sql: string) => db.prepare(sql).get() as Record<string, number | string>;
    expect(one('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
    expect(one('SELECT COUNT(*) AS n FROM message_sources')).toEqual({ n: MESSAGES });
    expect(one(`SELECT COUNT(*) AS n FROM messages WHERE kind = 'submission'`)).toEqual({
      n: MESSAGES,
    });
    expect(one('SELECT COUNT(DISTINCT message_id) AS n FROM messages')).toEqual({ n: MESSAGES });
    expect(one('SELECT COUNT(*) AS n FROM materials')).toEqual({ n: expectedMaterials });
    expect(
      one(`SELECT COUNT(*) AS n FROM outbox WHERE kind = 'receipt' AND status = 'sent'`),
    ).toEqual({ n: MESSAGES });
    expect(one(`SELECT COUNT(*) AS n FROM outbox WHERE kind = 'receipt'`)).toEqual({ n: MESSAGES });

    // Every stored file is whole: its name is its content's hash.
    const files = db.prepare('SELECT path, sha256 FROM materials').all() as {
      path: string;
      sha256: string;
    }[];
    for (const f of files) {
      const bytes = readFileSync(path.join(dataDir, f.path));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    const raws = db.prepare('SELECT raw_path, sha256 FROM messages').all() as {
      raw_path: string;
      sha256: string;
    }[];
    for (const r of raws) {
      expect(
        createHash('sha256')
          .update(readFileSync(path.join(dataDir, r.raw_path)))
          .digest('hex'),
      ).toBe(r.sha256);
    }
    db.close();
    // No half-written files: the temp folder is emptied at start and by the last run.
    expect(readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
    expect(existsSync(path.join(dataDir, 'baosong.lock'))).toBe(false);

    // One receipt per submission. A kill in the instant between the SMTP server's 250 and
    // our UPDATE can repeat a send; the repeat carries the same Message-ID, so it is one
    // mail to the recipient's client. Count by Message-ID, and report raw repeats.
    await smtp.waitFor(MESSAGES, 20_000);
    const ids = smtp.messages.map((m) => m.headers.get('message-id'));
    const replyTo = new Set(smtp.messages.map((m) => m.headers.get('in-reply-to')));
    expect(new Set(ids).size).toBe(MESSAGES);
    expect(replyTo.size).toBe(MESSAGES);
    console.log(
      `crash test: ${kills} SIGKILLs survived; ${MESSAGES} messages, ${expectedMaterials} materials recorded once; ` +
        `${smtp.messages.length} SMTP deliveries for ${MESSAGES} receipts (${smtp.messages.length - MESSAGES} repeated sends)`,
    );
    expect(smtp.messages.length - MESSAGES).toBeLessThanOrEqual(2);
  }, 240_000);
});
