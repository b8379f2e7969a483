// `npm run bench [-- --quick]`: baosong against the fastest thing possible, on this machine, in
// this run. Starts its own Dovecot and SMTP server (the test harnesses), fills mailboxes with
// seeded realistic mail, and measures (issue 6):
//   1. backfill: a bare imapflow fetch of the mailbox (the wire), then baosong's full intake
//      of the same mailbox into an empty data folder, in messages per second and as a ratio;
//   2. growth: the same at a quarter of the size, as the time ratio for 4x the mail;
//   3. memory: peak RSS of the intake process during the backfill and for one 150 MB attachment;
//   4. latency: the daemon idling on the mailbox, 50 messages appended one by one, time from
//      APPEND to the receipt at the SMTP server;
//   5. scale: status matrix and reminder list for 2,000 units x 50 items x 200,000 materials.
// Every measured intake runs as its own node process (bench/backfill.js, the daemon), so its
// RSS is its own. Prints a table with each figure next to its target and writes
// bench/results.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { cleanupDovecot, startDovecot, type DovecotServer } from '../tests/support/dovecot.js';
import { startSmtpServer, type SmtpCapture } from '../tests/support/smtp.js';
import { BUILD_DIR, launcherNodeFlags, REPO_ROOT, runChild } from './child.js';
import { bigMail, generateMail, type BenchMail } from './corpus.js';
import { latencyRun } from './latency.js';
import { summarizeDir } from './profile.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const KEEP = args.has('--keep');
const PROFILE = args.has('--profile');
const ONLY = new Set(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--only='))
    .flatMap((a) => a.slice('--only='.length).split(',')),
);
/** `--only=backfill,latency` runs just those steps (for working on one of them). */
const runs = (step: string) => ONLY.size === 0 || ONLY.has(step);
const SEED = 20150519;
const BACKFILL_MESSAGES = QUICK ? 500 : 2000;
const BIG_ATTACHMENT_BYTES = 150 * 1024 * 1024;
const LATENCY_MESSAGES = 50;

const TARGETS = {
  ratio: 0.2,
  growth: 4.4,
  backfillRss: 200,
  bigRss: 160,
  p50: 1000,
  p95: 1500,
  statusMs: 200,
  remindersMs: 200,
};

/** The compiled baosong in dist/bench/src reads ../../config and ../../migrations. */
async function linkRepoFolders(): Promise<void> {
  for (const name of ['config', 'migrations']) {
    const at = path.join(BUILD_DIR, name);
    const exists = await lstat(at).then(
      () => true,
      () => false,
    );
    if (!exists) symlinkSync(path.join(REPO_ROOT, name), at);
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

interface Env {
  dir: string;
  imap: DovecotServer;
  smtp: SmtpCapture;
  defaultYaml: string;
}

/** A config file for one run: the default config with the given mailbox and overrides. */
function writeConfig(
  env: Env,
  name: string,
  opts: { mailbox: string; perSenderPerHour?: number; bigLimits?: boolean },
): string {
  const doc = YAML.parseDocument(env.defaultYaml);
  doc.setIn(['imap', 'mailbox'], opts.mailbox);
  if (opts.perSenderPerHour !== undefined)
    doc.setIn(['receipts', 'perSenderPerHour'], opts.perSenderPerHour);
  // Store the 150 MB file rather than refuse it: the more demanding path for memory.
  if (opts.bigLimits && doc.hasIn(['limits'])) {
    doc.setIn(['limits', 'maxAttachmentMb'], 512);
    doc.setIn(['limits', 'maxMessageMb'], 512);
  }
  const file = path.join(env.dir, `${name}.yaml`);
  writeFileSync(file, doc.toString());
  return file;
}

function childEnv(env: Env, dataDir: string): Record<string, string> {
  return {
    BAOSONG_IMAP_HOST: env.imap.host,
    BAOSONG_IMAP_PORT: String(env.imap.port),
    BAOSONG_IMAP_TLS: 'false',
    BAOSONG_IMAP_USER: env.imap.user,
    BAOSONG_IMAP_PASSWORD: env.imap.password,
    BAOSONG_SMTP_HOST: env.smtp.host,
    BAOSONG_SMTP_PORT: String(env.smtp.port),
    BAOSONG_SMTP_TLS: 'false',
    BAOSONG_SMTP_USER: 'hifz9199@sina.com',
    BAOSONG_SMTP_PASSWORD: 'bench',
    BAOSONG_DATA_DIR: dataDir,
    BAOSONG_LOG_LEVEL: 'info',
    ...(process.env.BENCH_PARSE_WORKERS
      ? { BENCH_PARSE_WORKERS: process.env.BENCH_PARSE_WORKERS }
      : {}),
  };
}

async function appendAll(env: Env, mailbox: string, mails: { raw: Buffer; date: Date }[]) {
  const client = await env.imap.client();
  try {
    if (mailbox !== 'INBOX') await client.mailboxCreate(mailbox).catch(() => undefined);
    for (const m of mails) await client.append(mailbox, m.raw, [], m.date);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

interface ScaleResult {
  units: number;
  items: number;
  materials: number;
  reminded: number;
  fillMs: number;
  statusMs: number;
  remindersMs: number;
  statusColdMs: number;
  remindersColdMs: number;
}
interface WireResult {
  messages: number;
  bytes: number;
  ms: number;
}
interface BackfillResult {
  messages: number;
  ms: number;
  counts: Record<string, number>;
  outbox: Record<string, number>;
  materials: number;
}

async function wire(env: Env, mailbox: string, label: string): Promise<WireResult> {
  const r = await runChild<WireResult>(
    path.join(BUILD_DIR, 'bench', 'wire.js'),
    [],
    { ...childEnv(env, env.dir), BENCH_MAILBOX: mailbox },
    { logFile: path.join(env.dir, `${label}.log`) },
  );
  if (r.code !== 0 || !r.result) throw new Error(`wire fetch failed (see ${env.dir}/${label}.log)`);
  return r.result;
}

/** Where `--profile` puts the CPU profiles of one measured run. */
function profileDir(env: Env, label: string): string {
  return path.join(env.dir, 'profiles', label);
}

async function backfill(env: Env, mailbox: string, label: string, bigLimits = false) {
  const dataDir = path.join(env.dir, `data-${label}`);
  const config = writeConfig(env, label, { mailbox, bigLimits });
  const r = await runChild<BackfillResult>(
    path.join(BUILD_DIR, 'bench', 'backfill.js'),
    [config],
    childEnv(env, dataDir),
    {
      logFile: path.join(env.dir, `${label}.log`),
      nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir(env, label)}`] : [],
    },
  );
  if (r.code !== 0 || !r.result)
    throw new Error(`baosong intake failed (exit ${r.code}; see ${env.dir}/${label}.log)`);
  if (!KEEP) rmSync(dataDir, { recursive: true, force: true });
  return { ...r.result, peakRssMb: r.peakRssMb };
}

async function main(): Promise<void> {
  await linkRepoFolders();
  const started = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-bench-'));
  const defaultYaml = readFileSync(path.join(REPO_ROOT, 'config', 'default.yaml'), 'utf8');
  const config = loadConfig(path.join(REPO_ROOT, 'config', 'default.yaml'), {});
  const flags = launcherNodeFlags();
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  say(
    `baosong benchmark${QUICK ? ' (--quick)' : ''}: ${os.cpus().length} CPUs, node ${process.version}` +
      `${flags.length ? ` ${flags.join(' ')} (${process.env.BENCH_NODE_FLAGS !== undefined ? 'BENCH_NODE_FLAGS' : 'from bin/baosong'})` : ''}` +
      `, load average ${load()}, work dir ${dir}`,
  );
  if (os.loadavg()[0]! > os.cpus().length / 2)
    say(
      `note: the machine is busy (load ${load()}); rates and latencies will be lower than on an idle one`,
    );
  const [imap, smtp] = await Promise.all([startDovecot({ user: 'bench' }), startSmtpServer()]);
  const env: Env = { dir, imap, smtp, defaultYaml };
  mkdirSync(path.join(dir, 'profiles'), { recursive: true });
  const results = {
    quick: QUICK,
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      nodeFlags: flags,
      loadAverageAtStart: os.loadavg(),
    },
    backfill: {
      messages: BACKFILL_MESSAGES,
      wireRate: NaN,
      rate: NaN,
      ratio: NaN,
      wireMs: NaN,
      ms: NaN,
    },
    growth: { quarterMessages: BACKFILL_MESSAGES / 4, quarterMs: NaN, timeRatio: NaN },
    memory: {
      backfillPeakRssMb: NaN,
      bigAttachmentPeakRssMb: NaN,
      bigAttachmentMb: BIG_ATTACHMENT_BYTES / 1024 / 1024,
    },
    latency: { messages: LATENCY_MESSAGES, p50Ms: NaN, p95Ms: NaN, maxMs: NaN },
    scale: { units: 0, items: 0, materials: 0, statusMs: NaN, remindersMs: NaN },
  };
  try {
    // --- mail ------------------------------------------------------------------------------
    const mails: BenchMail[] = generateMail(config, BACKFILL_MESSAGES, SEED);
    const quarter = mails.slice(0, BACKFILL_MESSAGES / 4);
    if (runs('backfill') || runs('growth')) {
      const t = performance.now();
      const bytes = mails.reduce((s, m) => s + m.raw.length, 0);
      await appendAll(
        env,
        'INBOX',
        mails.map((m) => ({ raw: m.raw, date: m.internalDate })),
      );
      await appendAll(
        env,
        'Quarter',
        quarter.map((m) => ({ raw: m.raw, date: m.internalDate })),
      );
      say(
        `mail: ${mails.length} messages, ${fmt(bytes / 1024 / 1024)} MB (mean ${fmt(bytes / mails.length / 1024)} KB), ` +
          `generated and appended in ${fmt((performance.now() - t) / 1000)} s`,
      );
    }

    // --- 1. backfill against the wire ---------------------------------------------------------
    let fullMs = NaN;
    if (runs('backfill') || runs('growth')) {
      // The first fetch also fills Dovecot's caches: the better of two is the wire.
      const w1 = await wire(env, 'INBOX', 'wire-1');
      const w2 = await wire(env, 'INBOX', 'wire-2');
      const w = w1.ms <= w2.ms ? w1 : w2;
      if (w.messages !== mails.length) throw new Error(`wire fetched ${w.messages} messages`);
      const wireRate = (w.messages / w.ms) * 1000;
      say(
        `wire: ${w.messages} messages in ${fmt(w.ms / 1000, 2)} s (runs: ${fmt(w1.ms / 1000, 2)} s, ${fmt(w2.ms / 1000, 2)} s)`,
      );
      const full = await backfill(env, 'INBOX', 'backfill');
      if (full.messages !== mails.length)
        throw new Error(`baosong processed ${full.messages} of ${mails.length} messages`);
      fullMs = full.ms;
      const rate = (full.messages / full.ms) * 1000;
      say(
        `backfill: ${full.messages} messages in ${fmt(full.ms / 1000, 2)} s; ${JSON.stringify(full.counts)}, ` +
          `${full.materials} materials, outbox ${JSON.stringify(full.outbox)}, peak RSS ${fmt(full.peakRssMb)} MB`,
      );
      Object.assign(results.backfill, {
        wireRate,
        rate,
        ratio: rate / wireRate,
        wireMs: w.ms,
        ms: full.ms,
      });
      results.memory.backfillPeakRssMb = full.peakRssMb;
      if (PROFILE)
        say(`\nwhere the backfill's time goes:\n${summarizeDir(profileDir(env, 'backfill'))}\n`);
    }

    // --- 2. growth ---------------------------------------------------------------------------
    if (runs('growth')) {
      const q = await backfill(env, 'Quarter', 'quarter');
      if (q.messages !== quarter.length) throw new Error(`quarter processed ${q.messages}`);
      say(`quarter: ${q.messages} messages in ${fmt(q.ms / 1000, 2)} s`);
      Object.assign(results.growth, { quarterMs: q.ms, timeRatio: fullMs / q.ms });
    }

    // --- 3. memory with a 150 MB attachment ---------------------------------------------------
    if (runs('big')) {
      const t = performance.now();
      const big = bigMail(BIG_ATTACHMENT_BYTES);
      await appendAll(env, 'Big', [{ raw: big, date: new Date('2015-10-08T02:00:00Z') }]);
      say(
        `big: ${fmt(big.length / 1024 / 1024)} MB message appended in ${fmt((performance.now() - t) / 1000)} s`,
      );
      const b = await backfill(env, 'Big', 'big', true);
      say(
        `big: intake in ${fmt(b.ms / 1000, 2)} s, ${b.materials} material(s), peak RSS ${fmt(b.peakRssMb)} MB`,
      );
      results.memory.bigAttachmentPeakRssMb = b.peakRssMb;
    }

    // --- 4. latency --------------------------------------------------------------------------
    if (runs('latency')) {
      const lat = await latencyRun({
        dir,
        imap,
        smtp,
        config,
        messages: LATENCY_MESSAGES,
        seed: SEED,
        configFile: writeConfig(env, 'latency', { mailbox: 'Live', perSenderPerHour: 1000 }),
        env: childEnv(env, path.join(dir, 'data-latency')),
        daemon: path.join(BUILD_DIR, 'src', 'cli', 'index.js'),
        say,
      });
      Object.assign(results.latency, { p50Ms: lat.p50, p95Ms: lat.p95, maxMs: lat.max });
    }

    // --- 5. scale ----------------------------------------------------------------------------
    if (runs('scale')) {
      const sc = await runChild<ScaleResult>(
        path.join(BUILD_DIR, 'bench', 'scale.js'),
        [path.join(REPO_ROOT, 'config', 'default.yaml')],
        {},
        { logFile: path.join(dir, 'scale.log') },
      );
      if (sc.code !== 0 || !sc.result) throw new Error(`scale run failed (see ${dir}/scale.log)`);
      const scale = sc.result;
      say(
        `scale: ${scale.units} units × ${scale.items} items, ${scale.materials} materials (built in ${fmt(scale.fillMs / 1000)} s); ` +
          `status ${fmt(scale.statusMs, 0)} ms (first ${fmt(scale.statusColdMs, 0)} ms), ` +
          `digests for ${scale.reminded} units ${fmt(scale.remindersMs, 0)} ms (first ${fmt(scale.remindersColdMs, 0)} ms)`,
      );
      results.scale = {
        units: scale.units,
        items: scale.items,
        materials: scale.materials,
        statusMs: scale.statusMs,
        remindersMs: scale.remindersMs,
      };
    }

    // --- report ------------------------------------------------------------------------------
    const r = results;
    const rows: [string, string, string, boolean][] = [
      ['backfill, wire (bare imapflow fetch)', `${fmt(r.backfill.wireRate, 0)} msg/s`, '', true],
      ['backfill, baosong intake', `${fmt(r.backfill.rate, 0)} msg/s`, '', true],
      [
        'backfill ratio to the wire',
        `${fmt(r.backfill.ratio, 3)}×`,
        `≥ ${TARGETS.ratio}×`,
        r.backfill.ratio >= TARGETS.ratio,
      ],
      [
        'growth: time for 4× the mail',
        `${fmt(r.growth.timeRatio, 2)}×`,
        `≤ ${TARGETS.growth}×`,
        r.growth.timeRatio <= TARGETS.growth,
      ],
      [
        'peak RSS, backfill',
        `${fmt(r.memory.backfillPeakRssMb, 0)} MB`,
        `≤ ${TARGETS.backfillRss} MB`,
        r.memory.backfillPeakRssMb <= TARGETS.backfillRss,
      ],
      [
        'peak RSS, 150 MB attachment',
        `${fmt(r.memory.bigAttachmentPeakRssMb, 0)} MB`,
        `≤ ${TARGETS.bigRss} MB`,
        r.memory.bigAttachmentPeakRssMb <= TARGETS.bigRss,
      ],
      [
        'receipt latency p50',
        `${fmt(r.latency.p50Ms, 0)} ms`,
        `≤ ${TARGETS.p50} ms`,
        r.latency.p50Ms <= TARGETS.p50,
      ],
      [
        'receipt latency p95',
        `${fmt(r.latency.p95Ms, 0)} ms`,
        `≤ ${TARGETS.p95} ms`,
        r.latency.p95Ms <= TARGETS.p95,
      ],
      [
        'status matrix (2,000 × 50, 200,000 materials)',
        `${fmt(r.scale.statusMs, 0)} ms`,
        `≤ ${TARGETS.statusMs} ms`,
        r.scale.statusMs <= TARGETS.statusMs,
      ],
      [
        'reminder list (same database)',
        `${fmt(r.scale.remindersMs, 0)} ms`,
        `≤ ${TARGETS.remindersMs} ms`,
        r.scale.remindersMs <= TARGETS.remindersMs,
      ],
    ];
    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => x[1].length));
    const w2 = Math.max(...rows.map((x) => x[2].length));
    say('');
    say(`| ${'measure'.padEnd(w0)} | ${'result'.padEnd(w1)} | ${'target'.padEnd(w2)} |    |`);
    say(`| ${'-'.repeat(w0)} | ${'-'.repeat(w1)} | ${'-'.repeat(w2)} | -- |`);
    for (const [name, value, target, ok] of rows)
      say(
        `| ${name.padEnd(w0)} | ${value.padEnd(w1)} | ${target.padEnd(w2)} | ${target ? (ok ? 'ok' : 'NO') : '  '} |`,
      );
    const out = path.join(REPO_ROOT, 'bench', 'results.json');
    if (ONLY.size === 0) {
      writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
      say(`\nwrote bench/results.json in ${fmt((performance.now() - started) / 1000)} s total`);
    } else
      say(
        `\n--only: bench/results.json not written (${fmt((performance.now() - started) / 1000)} s)`,
      );
    const missed = rows.filter((x) => x[2] && !x[3]).length;
    if (missed) say(`${missed} target(s) missed`);
  } finally {
    await Promise.all([cleanupDovecot(imap), smtp.stop()]);
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
}

await main();
