#!/usr/bin/env node
// The command line. Each command: load config, build the app at the composition root, run
// one use case, print for a person (or JSON for a program), exit with a meaningful code.
import { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { displayCode } from '../core/codes.js';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { parseMessageFile } from '../intake/mime.js';
import { defaultParseWorkers } from '../intake/parse-pool.js';
import { createLogger } from '../log.js';
import { buildApp, classifierFor } from '../main.js';
import { LockError, lockDataDir } from '../store/lock.js';
import { ReviewStore, type LearnedAddress } from '../store/review-store.js';
import { SqliteStore } from '../store/sqlite.js';
import { CHINESE_WORKDAYS } from '../core/workdays.js';
import { CronScheduler } from '../schedule/cron.js';
import { reminderJobs } from '../schedule/reminders.js';
import { registerStatusCommands } from './status.js';
import { registerOfficeCommands } from './office.js';

const program = new Command();
program
  .name('baosong')
  .description('报送: turns a shared mailbox into a submission desk')
  .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH);

function config(): Config {
  return loadConfig(program.opts<{ config: string }>().config);
}

function logger() {
  // The composition root's one read of the environment besides the config loader.
  return createLogger(process.env.BAOSONG_LOG_LEVEL);
}

program
  .command('run')
  .description('watch the mailbox: record submissions, send receipts')
  .option('--once', 'process what is in the mailbox, send the outbox, and exit')
  .action(async (opts: { once?: boolean }) => {
    const cfg = config();
    const log = logger();
    if (!cfg.imap.password) {
      throw new UsageError(
        "no IMAP password: set BAOSONG_IMAP_PASSWORD (or BAOSONG_IMAP_PASSWORD_FILE) to the mailbox's 授权码 (client authorisation code), not the webmail password",
      );
    }
    if (cfg.smtp.user && !cfg.smtp.password) {
      throw new UsageError(
        "no SMTP password: set BAOSONG_SMTP_PASSWORD (or BAOSONG_SMTP_PASSWORD_FILE) to the mailbox's 授权码; receipts cannot be sent without it",
      );
    }
    const unlock = lockDataDir(cfg.dataDir);
    process.once('exit', unlock);
    // The daemon parses in worker threads: a backfill of years of mail uses every core.
    const app = buildApp(cfg, { log, parseWorkers: defaultParseWorkers() });
    app.recoverInterrupted();
    // Receipts queued by a run that was stopped before it could send them.
    void app.outbox.flush();
    if (opts.once) {
      try {
        const results = await app.imap.once();
        const sent = await app.outbox.flush();
        log.info({ event: 'run.once', processed: results.length, ...sent }, 'done');
      } finally {
        app.close();
      }
      return;
    }
    const retry = setInterval(() => void app.outbox.flush(), 30_000);
    // Weekly digests and the office summary; a tick only starts the idempotent job.
    const scheduler = new CronScheduler({
      clock: app.clock,
      log,
      timeZone: cfg.checklist.timezone,
      calendar: cfg.reminders.skipHolidays ? CHINESE_WORKDAYS : null,
    });
    for (const job of reminderJobs(app.reminders, cfg.reminders, () => app.outbox.flush()))
      scheduler.add(job);
    scheduler.start();
    const shutdown = async (signal: string) => {
      log.info({ event: 'run.stopping', signal }, 'stopping after the current message');
      clearInterval(retry);
      await scheduler.stop();
      await app.imap.stop();
      await app.outbox.flush().catch(() => {});
      app.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
    await app.imap.run();
  });

program
  .command('materials')
  .description('every recorded material, with its unit, item and why')
  .option('--json', 'print JSON')
  .action((opts: { json?: boolean }) => {
    const cfg = config();
    const app = buildApp(cfg, { log: createLogger('warn') });
    try {
      const rows = app.store.materials();
      if (opts.json) {
        const out = rows.map((m) => ({
          messageId: m.messageId,
          unit: m.unit,
          item: m.item,
          kind: m.kind,
          filename: m.filename,
          sha256: m.sha256,
          size: m.size,
          accessCode: m.accessCode,
          confirmed: m.confirmed,
          status: m.status,
          reason: m.reason,
          receivedAt: m.receivedAt,
          from: m.fromAddress,
          path: m.path,
        }));
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        return;
      }
      const unitName = new Map(cfg.units.map((u) => [u.code, u.name]));
      for (const m of rows) {
        const where = m.item ? displayCode(m.item) : '？';
        const who = m.unit ? (unitName.get(m.unit) ?? m.unit) : '？';
        const mark = m.status === 'credited' ? '✓' : m.status === 'review' ? '待确认' : '已退回';
        process.stdout.write(
          `${m.receivedAt.slice(0, 16).replace('T', ' ')}  ${who}  ${where}  ${mark}  ${m.filename}\n`,
        );
      }
      process.stdout.write(`${rows.length} materials\n`);
    } finally {
      app.close();
    }
  });

program
  .command('explain')
  .description('what intake would decide for one .eml file and why; stores and sends nothing')
  .argument('<file>', '.eml file')
  .option('--json', 'print JSON')
  .action(async (file: string, opts: { json?: boolean }) => {
    const cfg = config();
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'baosong-explain-'));
    try {
      const mail = await parseMessageFile(file, { filesDir: tmp, tmpDir: tmp });
      const decision = classifierFor(cfg, learnedAddresses(cfg)).classify(mail);
      const result = {
        file,
        messageId: mail.messageId,
        from: mail.fromAddress,
        subject: mail.subject,
        attachments: mail.attachments.map((a) => ({
          filename: a.filename,
          size: a.size,
          sha256: a.sha256,
          inline: a.inline,
        })),
        decision: stripPaths(decision),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      const lines = [
        `邮件：${mail.subject || '（无主题）'}  发件人：${mail.fromAddress ?? '（无）'}`,
      ];
      if (decision.kind === 'not_submission') lines.push(`不是报送：${decision.reason}`);
      else {
        lines.push(
          `单位：${decision.unit.unit ?? '未确定'}${decision.unit.confirmed ? '' : '（待确认）'} — ${decision.unit.reason}`,
        );
        for (const m of decision.materials) {
          lines.push(
            `  ${m.status === 'credited' ? '✓' : '?'} ${m.filename} → ${m.item ? displayCode(m.item) : '未确定'}：${m.reason}`,
          );
        }
        for (const i of decision.ignored) lines.push(`  - ${i.filename}：${i.reason}`);
        lines.push(
          decision.reply.allowed ? '回执：会发送' : `回执：不发送（${decision.reply.reason}）`,
        );
      }
      process.stdout.write(lines.join('\n') + '\n');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

/** Addresses confirmed in review, if a database exists; explain itself never creates one. */
function learnedAddresses(cfg: Config): LearnedAddress[] {
  const file = path.join(cfg.dataDir, 'baosong.db');
  if (!existsSync(file)) return [];
  const store = new SqliteStore(file);
  try {
    return new ReviewStore(store.db).learnedAddresses();
  } finally {
    store.close();
  }
}

function stripPaths<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (k, val: unknown) => (k === 'path' ? undefined : val))) as T;
}

program
  .command('backup')
  .description('a consistent copy of the database, safe while the daemon runs')
  .argument('<file>', 'where to write the copy')
  .action(async (file: string) => {
    const app = buildApp(config(), { log: createLogger('warn') });
    try {
      await app.store.backup(file);
      process.stdout.write(`database copied to ${file}\n`);
    } finally {
      app.close();
    }
  });

registerStatusCommands(program, {
  loadConfig: config,
  buildApp,
  logger: () => createLogger('warn'),
  settings: (c) => c.reminders,
});

registerOfficeCommands(program, {
  configFile: () => program.opts<{ config: string }>().config,
  buildApp,
  logger: () => createLogger('warn'),
});

class UsageError extends Error {}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof LockError) {
    process.stderr.write(`baosong: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`baosong: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
