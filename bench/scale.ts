// The status matrix and the reminder list on a province-sized database: 2,000 units, 50 items,
// 200,000 materials (100,000 messages of two files each). Built straight into SQLite through
// the real migrations, then timed through the code the daemon and the CLI use:
//   status    = RemindersJob.matrix(at): load the submissions, compute every unit × item cell;
//   reminders = RemindersJob.run(at, { dryRun, parts: 'digests' }): the matrix, who is reminded
//               of what, and each digest's text; nothing queued.
// Run as its own process (bench/run.js starts it); the median of five runs after a warm-up.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FixedClock } from '../src/core/clock.js';
import type { Item, Unit } from '../src/core/types.js';
import type { Config } from '../src/config/types.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { digestWriter, planReminders } from '../src/core/reminder.js';
import { statusMatrixFromColumns } from '../src/core/status.js';
import { RemindersJob } from '../src/schedule/reminders.js';
import { loadSubmissionColumns } from '../src/store/status-queries.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { reportToParent } from './child.js';
import { prng } from './corpus.js';

export const UNITS = 2000;
export const ITEMS = 50;
export const MESSAGES = 100_000;
export const FILES_PER_MESSAGE = 2;

const DEADLINES = [
  '5月底之前',
  '6月底之前',
  '7月底之前',
  '8月上旬',
  '9月上旬',
  '9月底之前',
  '10月上旬',
  '及时报送',
  '灵活安排时间',
  '现场检查时抽查',
];
const TAGS = ['town', 'street', 'department'];

function syntheticRoster(): { units: Unit[]; items: Item[] } {
  const units: Unit[] = [];
  for (let u = 0; u < UNITS; u++) {
    const tags = [TAGS[u % 3] ?? 'town'];
    if (u % 7 === 0) tags.push('urban');
    if (u % 4 === 0) tags.push('mediation');
    units.push({
      code: `u${String(u).padStart(4, '0')}`,
      name: `第${u}单位`,
      shortNames: [`单位${u}`],
      tags,
      addresses: [`u${u}@units.example`],
    });
  }
  const items: Item[] = [];
  for (let i = 0; i < ITEMS; i++) {
    const group = Math.floor(i / 5) + 1;
    const code = `${group}.${(i % 5) + 1}`;
    items.push({
      code,
      group: String(group),
      groupTitle: `第${group}项`,
      title: `材料${code}`,
      deadline: DEADLINES[i % DEADLINES.length] ?? '5月底之前',
      appliesTo: i % 11 === 3 ? ['urban'] : i % 13 === 5 ? ['mediation'] : [],
      keywords: [`材料${code}`],
    });
  }
  return { units, items };
}

function fill(store: SqliteStore, units: Unit[], items: Item[]): void {
  const r = prng(2000_50);
  const db = store.db;
  const msg = db.prepare(
    `INSERT INTO messages (id, message_id, sha256, raw_path, size, received_at, from_address, subject,
       kind, reason, unit, unit_confirmed, reply, recorded_at)
     VALUES (?, ?, ?, ?, 50000, ?, ?, '报送材料', 'submission', 'bench', ?, ?, 'none', ?)`,
  );
  const mat = db.prepare(
    `INSERT INTO materials (message, kind, filename, sha256, size, path, content_type, unit, item,
       confirmed, status, reason) VALUES (?, 'file', ?, ?, 30000, ?, 'application/msword', ?, ?, ?, ?, 'bench')`,
  );
  const start = Date.UTC(2015, 4, 5);
  const span = 160 * 86_400_000;
  store.transaction(() => {
    for (let m = 1; m <= MESSAGES; m++) {
      const unit = units[Math.floor(r() * units.length)]!;
      const at = new Date(start + Math.floor(r() * span)).toISOString();
      const confirmed = r() < 0.9 ? 1 : 0;
      const sha = `${m.toString(16).padStart(8, '0')}${'0'.repeat(56)}`;
      msg.run(
        m,
        `m${m}@units.example`,
        sha,
        `raw/${sha}.eml`,
        at,
        unit.addresses[0],
        unit.code,
        confirmed,
        at,
      );
      for (let f = 0; f < FILES_PER_MESSAGE; f++) {
        const item = items[Math.floor(r() * items.length)]!;
        const s = r();
        const status = s < 0.9 ? 'credited' : s < 0.97 ? 'review' : 'rejected';
        mat.run(
          m,
          `材料${item.code}.doc`,
          sha,
          `files/${sha}`,
          unit.code,
          item.code,
          confirmed,
          status,
        );
      }
    }
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const base = loadConfig(process.argv[2] ?? '', {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-scale-'));
  try {
    const { units, items } = syntheticRoster();
    const config: Config = {
      ...base,
      units,
      checklist: { ...base.checklist, items },
    };
    const store = new SqliteStore(path.join(dir, 'baosong.db'));
    let t = performance.now();
    fill(store, units, items);
    const fillMs = performance.now() - t;
    const at = new Date('2015-06-15T09:00:00+08:00');
    const job = new RemindersJob({
      store,
      config,
      clock: new FixedClock(at),
      log: createLogger('silent', false),
    });
    const statusRuns: number[] = [];
    const reminderRuns: number[] = [];
    // where the time goes: the query, the matrix, the plan, the digests' text
    const queryRuns: number[] = [];
    const matrixRuns: number[] = [];
    const planRuns: number[] = [];
    const digestRuns: number[] = [];
    const settings = { year: config.checklist.year, timeZone: config.checklist.timezone };
    let reminded = 0;
    let cells = 0;
    for (let k = 0; k < 6; k++) {
      t = performance.now();
      const m = job.matrix(at);
      const s = performance.now() - t;
      cells = m.rows.reduce((n, row) => n + row.length, 0);
      t = performance.now();
      const run = job.run(at, { dryRun: true, parts: 'digests' });
      const rm = performance.now() - t;
      reminded = run.mails.length;
      statusRuns.push(s);
      reminderRuns.push(rm);
      t = performance.now();
      const subs = loadSubmissionColumns(store.db, at);
      queryRuns.push(performance.now() - t);
      t = performance.now();
      const m2 = statusMatrixFromColumns(units, items, subs, at, {
        ...settings,
        dueSoonDays: 14,
      });
      matrixRuns.push(performance.now() - t);
      t = performance.now();
      const plan = planReminders(m2, at, 14);
      planRuns.push(performance.now() - t);
      t = performance.now();
      const digest = digestWriter({
        campaign: config.campaign.name,
        office: config.campaign.office,
        mailbox: config.from,
        timeZone: config.checklist.timezone,
        items,
        now: at,
      });
      for (const reminder of plan) digest(reminder);
      digestRuns.push(performance.now() - t);
    }
    const [statusCold, ...statusWarm] = statusRuns;
    const [remindersCold, ...remindersWarm] = reminderRuns;
    const materials = (
      store.db.prepare('SELECT COUNT(*) AS n FROM materials').get() as { n: number }
    ).n;
    store.close();
    reportToParent({
      units: UNITS,
      items: ITEMS,
      materials,
      cells,
      reminded,
      fillMs,
      statusMs: median(statusWarm),
      remindersMs: median(remindersWarm),
      statusColdMs: statusCold,
      remindersColdMs: remindersCold,
      breakdown: {
        loadSubmissionColumnsMs: median(queryRuns.slice(1)),
        statusMatrixMs: median(matrixRuns.slice(1)),
        planRemindersMs: median(planRuns.slice(1)),
        digestTextsMs: median(digestRuns.slice(1)),
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
