// `status` and `remind`: the unit × item matrix for a person (or JSON for a program), and
// the reminder job run by hand. Registered on the main program by src/cli/index.ts.
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { FixedClock, SystemClock } from '../core/clock.js';
import { displayCode } from '../core/codes.js';
import { endOfDay } from '../core/deadlines.js';
import { DEFAULT_REMINDER_SETTINGS, type ReminderSettings } from '../core/reminder.js';
import {
  cellMark,
  CELL_STATES,
  countStates,
  STATE_LABEL,
  STATE_MARK,
  type Cell,
  type CellState,
  type StatusMatrix,
} from '../core/status.js';
import { dateTimeText, localDay, monthDayText, zoneOffsetMs } from '../core/workdays.js';
import type { Config } from '../config/types.js';
import type { App, AppOptions } from '../main.js';
import { RemindersJob, type RemindersResult } from '../schedule/reminders.js';
import { displayWidth } from '../core/width.js';

export interface StatusCommandDeps {
  loadConfig: () => Config;
  buildApp: (config: Config, opts: AppOptions) => App;
  /** A quiet logger for commands whose output is for a person. */
  logger: () => Logger;
  /** Until the config carries them (`reminders:`), the defaults. */
  settings?: (config: Config) => ReminderSettings;
  /** Where output goes; a test passes its own. */
  out?: { write(s: string): unknown; isTTY?: boolean };
}

/**
 * The instant `--at` names, in the campaign's zone: "2015-06-01" = the end of that day (the
 * state "as of 1 June" includes mail of 1 June), "2015-06-01 09:00" = that wall time, and an
 * ISO time with a zone as written.
 */
export function parseAt(text: string, timeZone: string): Date {
  const t = text.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) {
    const d = endOfDay(Number(m[1]), Number(m[2]), Number(m[3]), timeZone);
    // Date.UTC rolls 2015-02-30 over to 2 March: accept only a day that reads back the same.
    if (!Number.isNaN(d.getTime()) && localDay(d, timeZone) === t) return d;
  }
  m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (m) {
    const wall = Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
    );
    const d = new Date(wall - zoneOffsetMs(new Date(wall), timeZone));
    const asWritten = `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}`;
    if (!Number.isNaN(d.getTime()) && dateTimeText(d, timeZone) === asWritten) return d;
  }
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new Error(
    `--at "${text}" is not a date; write 2015-06-01, "2015-06-01 09:00" or 2015-06-01T09:00:00+08:00`,
  );
}

// ---------------------------------------------------------------------------------------
// Terminal rendering

const ANSI: Readonly<Record<CellState, string>> = {
  submitted_on_time: '32',
  submitted_late: '35',
  overdue: '1;31',
  due_soon: '33',
  not_yet_due: '2',
  ongoing: '36',
  flexible: '36',
  onsite: '2',
  not_applicable: '2',
};

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

function paint(s: string, state: CellState, colour: boolean): string {
  return colour ? `\u001b[${ANSI[state]}m${s}\u001b[0m` : s;
}

/** The matrix as terminal lines: one row per unit, one column per item code. */
export function renderMatrix(m: StatusMatrix, campaign: string, colour: boolean): string {
  const tz = m.options.timeZone;
  const codes = m.items.map((i) => displayCode(i.code));
  const widths = codes.map((c) => Math.max(displayWidth(c), 3) + 1);
  const nameWidth = Math.max(4, ...m.units.map((u) => displayWidth(u.name))) + 2;
  const lines = [
    `${campaign} 报送状态（截至 ${dateTimeText(m.at, tz)}）`,
    '',
    pad('单位', nameWidth) + codes.map((c, i) => pad(c, widths[i] ?? 4)).join(''),
  ];
  m.units.forEach((unit, u) => {
    const row = (m.rows[u] ?? [])
      .map((c, i) => paint(pad(cellMark(c), widths[i] ?? 4), c.state, colour))
      .join('');
    lines.push(pad(unit.name, nameWidth) + row);
  });
  const n = countStates(m.rows.flat());
  lines.push(
    '',
    `图例：${CELL_STATES.map((s) => `${paint(STATE_MARK[s], s, colour)} ${STATE_LABEL[s]}`).join('  ')}  ?=发件地址待确认`,
    `合计：按时报送 ${n.submitted_on_time}，逾期报送 ${n.submitted_late}，逾期未报 ${n.overdue}，即将到期（${m.options.dueSoonDays}天内） ${n.due_soon}，未到期 ${n.not_yet_due}`,
  );
  return lines.join('\n') + '\n';
}

/** One unit, item by item, with dates: what `status --unit` prints. */
export function renderUnit(m: StatusMatrix, u: number, colour: boolean): string {
  const tz = m.options.timeZone;
  const unit = m.units[u];
  if (!unit) return '';
  const rows = (m.rows[u] ?? []).map((c, i) => {
    const item = m.items[i];
    const title = item ? item.title.slice(0, 16) : '';
    const due = c.due && c.state !== 'not_applicable' ? monthDayText(c.due, tz) : '—';
    const when = c.first
      ? `首次 ${dateTimeText(c.first, tz)}${c.count > 1 ? `，最近 ${c.latest ? dateTimeText(c.latest, tz) : ''}，共${c.count}次` : ''}`
      : '';
    const left =
      c.state === 'overdue'
        ? `已逾期${-(c.daysLeft ?? 0)}天`
        : c.state === 'due_soon' || c.state === 'not_yet_due'
          ? `还有${c.daysLeft ?? 0}天`
          : '';
    return [
      pad(`${displayCode(c.item)} ${title}`, 40),
      paint(pad(STATE_LABEL[c.state] + (c.unconfirmed ? '?' : ''), 10), c.state, colour),
      pad(due, 8),
      [left, when, c.unconfirmed ? '发件地址待确认' : ''].filter(Boolean).join('  '),
    ].join(' ');
  });
  return (
    [`${unit.name}（${unit.code}） 截至 ${dateTimeText(m.at, tz)}`, '', ...rows].join('\n') + '\n'
  );
}

/** JSON: for each unit, for each item code, the state, first and latest time, count. */
export function matrixJson(m: StatusMatrix, onlyUnit?: number): unknown {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const units: Record<string, unknown> = {};
  m.units.forEach((unit, u) => {
    if (onlyUnit !== undefined && u !== onlyUnit) return;
    const items: Record<string, unknown> = {};
    for (const c of m.rows[u] ?? []) {
      items[c.item] = {
        state: c.state,
        due: iso(c.due),
        first: iso(c.first),
        latest: iso(c.latest),
        count: c.count,
        unconfirmed: c.unconfirmed,
      };
    }
    units[unit.code] = { name: unit.name, items };
  });
  return {
    at: m.at.toISOString(),
    timeZone: m.options.timeZone,
    dueSoonDays: m.options.dueSoonDays,
    units,
  };
}

/** What `remind` did or would do, one line per mail, and who got nothing and why. */
export function renderRemind(r: RemindersResult, config: Config): string {
  const tz = config.checklist.timezone;
  const name = new Map(config.units.map((u) => [u.code, u.name]));
  const verb: Record<string, string> = {
    queued: '已排队',
    would_queue: '将发送',
    already_queued: '本周已发过，跳过',
    no_address: '没有登记邮箱，无法发送',
  };
  const codes = (cs: string[]) => cs.map(displayCode).join('、');
  const lines = [
    `提醒周期 ${r.period}（${r.dryRun ? '演练，不发送；' : ''}按 ${dateTimeText(r.at, tz)} 的状态）`,
    '',
  ];
  for (const m of r.mails) {
    if (m.kind === 'reminder') {
      const owes = [
        m.overdue.length ? `逾期未报：${codes(m.overdue)}` : '',
        m.dueSoon.length ? `即将到期：${codes(m.dueSoon)}` : '',
      ]
        .filter(Boolean)
        .join('；');
      lines.push(`${verb[m.outcome]}  ${name.get(m.unit ?? '') ?? m.unit} <${m.to}>  ${owes}`);
    } else {
      lines.push(`${verb[m.outcome]}  办公室周报 <${m.to}>`);
    }
    lines.push(`    主题：${m.subject}`);
  }
  const reminded = new Set(r.mails.map((m) => m.unit));
  const quiet = config.units.filter((u) => !reminded.has(u.code)).map((u) => u.name);
  if (quiet.length) {
    lines.push(
      '',
      `不提醒（没有逾期或${r.matrix.options.dueSoonDays}天内到期的未报事项）：${quiet.join('、')}`,
    );
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Commands

export function registerStatusCommands(program: Command, deps: StatusCommandDeps): void {
  const out = deps.out ?? process.stdout;
  const settingsOf = deps.settings ?? (() => DEFAULT_REMINDER_SETTINGS);

  program
    .command('status')
    .description('who has sent what: the unit × item matrix (Chinese labels), or JSON')
    .option('--json', 'print JSON: for each unit and item, state, first and latest time, count')
    .option('--at <date>', 'as of this date or time (campaign zone), e.g. 2015-06-01')
    .option('--unit <code>', 'one unit, item by item')
    .action((opts: { json?: boolean; at?: string; unit?: string }, cmd: Command) => {
      const config = deps.loadConfig();
      const tz = config.checklist.timezone;
      const at = opts.at ? atOrExit(cmd, opts.at, tz) : new Date();
      const u =
        opts.unit === undefined ? undefined : config.units.findIndex((x) => x.code === opts.unit);
      if (u === -1) {
        cmd.error(
          `no unit with code "${opts.unit}"; known: ${config.units.map((x) => x.code).join(', ')}`,
          { exitCode: 2 },
        );
      }
      const app = deps.buildApp(config, { log: deps.logger(), clock: new FixedClock(at) });
      try {
        const job = new RemindersJob({
          store: app.store,
          config,
          clock: new FixedClock(at),
          log: app.log,
          settings: settingsOf(config),
        });
        const m = job.matrix(at);
        if (opts.json) {
          out.write(JSON.stringify(matrixJson(m, u), null, 2) + '\n');
          return;
        }
        const colour =
          out.isTTY === true && cmd.optsWithGlobals<{ color?: boolean }>().color !== false;
        out.write(
          u === undefined
            ? renderMatrix(m, config.campaign.name, colour)
            : renderUnit(m, u, colour),
        );
      } finally {
        app.close();
      }
    });

  program
    .command('remind')
    .description(
      'run the weekly reminders now: a digest to each unit that owes something, and the office summary',
    )
    .option('--dry-run', 'print who would get what and why; queue and send nothing')
    .option('--at <date>', 'as if it were this date (campaign zone), e.g. 2015-06-01')
    .action(async (opts: { dryRun?: boolean; at?: string }, cmd: Command) => {
      const config = deps.loadConfig();
      const tz = config.checklist.timezone;
      const at = opts.at ? atOrExit(cmd, opts.at, tz) : new Date();
      const app = deps.buildApp(config, { log: deps.logger() });
      try {
        const job = new RemindersJob({
          store: app.store,
          config,
          clock: new SystemClock(),
          log: app.log,
          settings: settingsOf(config),
        });
        const r = job.run(at, { dryRun: opts.dryRun ?? false });
        out.write(renderRemind(r, config));
        if (r.dryRun || r.queued === 0) return;
        // The mails are paced (sendsPerMinute): stay until the last one is due and sent, so
        // a manual run completes without a daemon. A refused send stays for the daemon.
        let sent = 0;
        const due = r.mails.flatMap((m) =>
          m.outcome === 'queued' && m.sendAfter ? [m.sendAfter.getTime()] : [],
        );
        for (const t of [...new Set(due)].sort((a, b) => a - b)) {
          const wait = t - Date.now();
          if (wait > 0) await new Promise((res) => setTimeout(res, wait));
          sent += (await app.outbox.flush()).sent;
        }
        out.write(`已发送 ${sent} 封（共排队 ${r.queued} 封；未发出的由服务稍后重试）\n`);
      } finally {
        app.close();
      }
    });
}

function atOrExit(cmd: Command, text: string, tz: string): Date {
  try {
    return parseAt(text, tz);
  } catch (err) {
    return cmd.error((err as Error).message, { exitCode: 2 });
  }
}
