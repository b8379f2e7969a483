// The daemon as an operator meets it: a second copy on the same data folder, SIGTERM,
// a wrong 授权码, Dovecot going away mid-run, and a backup taken while it runs.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { buildApp } from '../../src/main.js';
import { baosong, spawnBaosong } from '../support/cli.js';
import {
  cleanupDovecot,
  requireDovecot,
  startDovecot,
  type DovecotServer,
} from '../support/dovecot.js';
import { serverEnv } from '../support/env.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

function submission(n: number): Buffer {
  return composeMail({
    from: 'dahelu@huiji.example',
    subject: `大河路街道 五 调研报告 ${n}`,
    messageId: `daemon-${n}@units.example`,
    text: '见附件',
    attachments: [{ filename: `调研报告${n}.doc`, content: fakeDoc(`daemon-${n}`) }],
  });
}

/** Resolves with the first stdout line matching `re`. */
function waitForLine(child: ChildProcess, re: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(
      () => reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${buf}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const line = buf.split('\n').find((l) => re.test(l));
      if (line) {
        clearTimeout(t);
        resolve(line);
      }
    });
  });
}

describe.skipIf(!requireDovecot())('the daemon in operation', () => {
  let imap: DovecotServer;
  let smtp: SmtpCapture;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    [imap, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-daemon-'));
    env = {
      PATH: process.env.PATH ?? '',
      ...serverEnv(imap, smtp, path.join(dir, 'data')),
    };
  });
  afterAll(async () => {
    await Promise.all([cleanupDovecot(imap), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN a daemon running WHEN a second starts on the same data folder THEN it refuses, naming the first; SIGTERM stops the first cleanly; backup works meanwhile', async () => {
    await imap.append(submission(1));
    const first = spawnBaosong(['run'], env);
    await waitForLine(first, /"outbox\.sent"/);

    const second = await baosong(['run'], env);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`another baosong (pid ${first.pid}) is already running`);

    const copy = path.join(dir, 'backup.db');
    expect((await baosong(['backup', copy], env)).code).toBe(0);
    const b = new Database(copy, { readonly: true });
    expect(b.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(b.prepare('SELECT COUNT(*) AS n FROM materials').get()).toEqual({ n: 1 });
    b.close();
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(env.BAOSONG_DATA_DIR ?? '', 'baosong.db')).mode & 0o777).toBe(0o600);
    expect(statSync(env.BAOSONG_DATA_DIR ?? '').mode & 0o777).toBe(0o700);

    first.kill('SIGTERM');
    const [exit, signal] = await new Promise<[number | null, string | null]>((r) =>
      first.on('exit', (c, s) => r([c, s])),
    );
    expect([exit, signal]).toEqual([0, null]);

    // The lock went with it: the next start is accepted.
    expect((await baosong(['run', '--once'], env)).code).toBe(0);
  });

  it('GIVEN a wrong 授权码 THEN the log says so and the daemon does not hammer the server', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const config = loadConfig(DEFAULT_CONFIG_PATH, {
      ...env,
      BAOSONG_IMAP_PASSWORD: 'wrong',
      BAOSONG_DATA_DIR: path.join(dir, 'wrong-pw'),
    });
    const app = buildApp(config, {
      log: pino({ level: 'info' }, sink),
      clock: new FixedClock(new Date()),
    });
    const running = app.imap.run();
    await new Promise((r) => setTimeout(r, 3_000));
    await app.imap.stop();
    await running;
    app.close();
    const refusals = lines.filter((l) => l.includes('"imap.login_refused"'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('授权码');
    expect(refusals[0]).not.toContain('"wrong"');
  });

  it('GIVEN Dovecot goes away mid-run WHEN it comes back THEN the daemon reconnects and processes the new mail', async () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH, {
      ...env,
      BAOSONG_DATA_DIR: path.join(dir, 'restart'),
    });
    const app = buildApp(config, {
      log: pino({ level: 'silent' }),
      clock: new FixedClock(new Date()),
    });
    smtp.clear();
    await imap.recreateInbox();
    const running = app.imap.run();
    await new Promise((r) => setTimeout(r, 500));
    const before = app.store.materials().length;
    expect(before).toBe(0);

    await imap.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await imap.start();
    await imap.append(submission(2));
    const deadline = Date.now() + 15_000;
    while (app.store.materials().length === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(app.store.materials().length).toBe(before + 1);
    await app.imap.stop();
    await running;
    app.close();
  });
});
