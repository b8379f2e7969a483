// Who owes what: the state of each unit × item at a given instant. Pure: the submissions, the
// clock and the campaign's year and zone come in as arguments, so a test (or `status --at`)
// can ask about any day of the campaign.
//
// Rules, in the order they are applied:
//   - an item that does not apply to the unit (tags)            → not_applicable
//   - checked on site (item 4.3), never sent by mail             → onsite
//   - 及时报送 / 灵活安排: no deadline, never late                 → ongoing / flexible
//   - dated, something arrived by the end of the deadline day    → submitted_on_time
//   - dated, the first thing arrived after it                    → submitted_late
//   - dated, nothing yet: past the deadline                      → overdue
//                         within `dueSoonDays` calendar days     → due_soon
//                         else                                   → not_yet_due
// "Arrived" is the server's receipt time (IMAP INTERNALDATE), never the sender's Date header,
// and only submissions received by `now` count, so a past date shows the past. Material from
// a sender not yet confirmed as the unit counts (the clerk did send it) but the cell says so.
import { appliesTo } from './classify.js';
import { DeadlineError, parseDeadline, type Deadline } from './deadlines.js';
import type { Item, Unit } from './types.js';
import { dayIndex } from './workdays.js';

export type CellState =
  | 'not_applicable'
  | 'onsite'
  | 'submitted_on_time'
  | 'submitted_late'
  | 'not_yet_due'
  | 'due_soon'
  | 'overdue'
  | 'ongoing'
  | 'flexible';

/** Every state, in the order a legend lists them. */
export const CELL_STATES: readonly CellState[] = [
  'submitted_on_time',
  'submitted_late',
  'overdue',
  'due_soon',
  'not_yet_due',
  'ongoing',
  'flexible',
  'onsite',
  'not_applicable',
];

/** How the office says it. */
export const STATE_LABEL: Readonly<Record<CellState, string>> = {
  not_applicable: '不适用',
  onsite: '现场检查',
  submitted_on_time: '按时报送',
  submitted_late: '逾期报送',
  not_yet_due: '未到期',
  due_soon: '即将到期',
  overdue: '逾期未报',
  ongoing: '随时报送',
  flexible: '灵活安排',
};

/** One character per cell, so a 22 × 18 matrix fits a screen and a mail. */
export const STATE_MARK: Readonly<Record<CellState, string>> = {
  not_applicable: '-',
  onsite: '查',
  submitted_on_time: '✓',
  submitted_late: '迟',
  not_yet_due: '·',
  due_soon: '!',
  overdue: '✗',
  ongoing: '○',
  flexible: '◇',
};

/** One submission of material for an item: when the server got it, and from whom. */
export interface Submission {
  receivedAt: Date;
  /** false when the sender address is not (yet) known to belong to the unit. */
  confirmed: boolean;
}

/** A submission with the unit and item it was credited to: what the store hands over. */
export interface SubmissionRow extends Submission {
  unit: string;
  item: string;
}

export interface Cell {
  unit: string;
  item: string;
  state: CellState;
  /** Last instant that counts as on time; null for items without a date. */
  due: Date | null;
  /** Calendar days from `now` to the deadline day (0 = today, -3 = three days late);
   * null for items without a date. */
  daysLeft: number | null;
  /** Earliest and latest receipt time of the counted submissions. */
  first: Date | null;
  latest: Date | null;
  count: number;
  /** Some counted submission came from a sender not confirmed as the unit. */
  unconfirmed: boolean;
}

export interface StatusOptions {
  /** The campaign's year: "5月底之前" is read in it. */
  year: number;
  timeZone: string;
  /** A dated item with nothing sent is "due soon" this many calendar days before its day. */
  dueSoonDays: number;
}

export interface StatusMatrix {
  at: Date;
  options: StatusOptions;
  units: readonly Unit[];
  items: readonly Item[];
  /** rows[u][i] is the cell of units[u] × items[i]. */
  rows: Cell[][];
}

/** The mark a person sees: the state's mark, plus "?" when credit rests on an unconfirmed sender
 * and "✓" for ongoing or flexible items that have something. */
export function cellMark(c: Cell): string {
  let mark = STATE_MARK[c.state];
  if ((c.state === 'ongoing' || c.state === 'flexible') && c.count > 0) mark = '✓';
  return c.unconfirmed ? `${mark}?` : mark;
}

/** Running tally of one cell's submissions, in epoch ms (Infinity/-Infinity when empty). */
interface Tally {
  first: number;
  latest: number;
  count: number;
  unconfirmed: boolean;
}

/** An item's deadline, resolved once per matrix instead of once per cell. */
interface ItemRule {
  item: Item;
  deadline: Deadline;
  /** Shared by the item's cells (100,000 cells need not mean 100,000 Dates): read-only. */
  due: Date | null;
  dueMs: number;
  dueDay: number;
}

function ruleFor(item: Item, o: StatusOptions): ItemRule {
  let deadline: Deadline;
  try {
    deadline = parseDeadline(item.deadline, o.year, o.timeZone);
  } catch (err) {
    throw new DeadlineError(`item ${item.code}: ${(err as Error).message}`, { cause: err });
  }
  const due = deadline.kind === 'date' ? deadline.due : null;
  return {
    item,
    deadline,
    due,
    dueMs: due ? due.getTime() : NaN,
    dueDay: due ? dayIndex(due, o.timeZone) : NaN,
  };
}

function makeCell(
  unit: Unit,
  rule: ItemRule,
  t: Tally | undefined,
  nowMs: number,
  today: number,
  dueSoonDays: number,
): Cell {
  const dated = rule.due !== null;
  const count = t?.count ?? 0;
  const cell: Cell = {
    unit: unit.code,
    item: rule.item.code,
    state: 'not_applicable',
    due: rule.due,
    daysLeft: dated ? rule.dueDay - today : null,
    first: t && count > 0 ? new Date(t.first) : null,
    latest: t && count > 0 ? new Date(t.latest) : null,
    count,
    unconfirmed: count > 0 && (t?.unconfirmed ?? false),
  };
  if (!appliesTo(rule.item, unit)) cell.state = 'not_applicable';
  else if (rule.deadline.kind === 'onsite') cell.state = 'onsite';
  else if (rule.deadline.kind === 'ongoing') cell.state = 'ongoing';
  else if (rule.deadline.kind === 'flexible') cell.state = 'flexible';
  else if (t && count > 0)
    cell.state = t.first <= rule.dueMs ? 'submitted_on_time' : 'submitted_late';
  else if (nowMs > rule.dueMs) cell.state = 'overdue';
  else if (rule.dueDay - today <= dueSoonDays) cell.state = 'due_soon';
  else cell.state = 'not_yet_due';
  return cell;
}

function tally(submissions: Iterable<Submission>, nowMs: number): Tally {
  const t: Tally = { first: Infinity, latest: -Infinity, count: 0, unconfirmed: false };
  for (const s of submissions) {
    const ms = s.receivedAt.getTime();
    if (ms > nowMs) continue;
    t.count++;
    if (ms < t.first) t.first = ms;
    if (ms > t.latest) t.latest = ms;
    if (!s.confirmed) t.unconfirmed = true;
  }
  return t;
}

/** The state of one unit × item at `now`. For a whole roster use statusMatrix(): it parses
 * each deadline once and groups the submissions in one pass. */
export function stateOf(
  unit: Unit,
  item: Item,
  submissions: Iterable<Submission>,
  now: Date,
  year: number,
  timeZone: string,
  dueSoonDays: number,
): Cell {
  const o = { year, timeZone, dueSoonDays };
  const nowMs = now.getTime();
  return makeCell(
    unit,
    ruleFor(item, o),
    tally(submissions, nowMs),
    nowMs,
    dayIndex(now, timeZone),
    dueSoonDays,
  );
}

/**
 * The whole unit × item matrix at `now`. One pass over the submissions into flat arrays
 * indexed by (unit, item) position, so 200,000 rows cost a few milliseconds; rows for units
 * or items that are not in the config (a unit removed since) are ignored.
 */
export function statusMatrix(
  units: readonly Unit[],
  items: readonly Item[],
  submissions: Iterable<SubmissionRow>,
  now: Date,
  options: StatusOptions,
): StatusMatrix {
  const nowMs = now.getTime();
  const today = dayIndex(now, options.timeZone);
  const rules = items.map((i) => ruleFor(i, options));
  const unitPos = new Map(units.map((u, i) => [u.code, i]));
  const itemPos = new Map(items.map((it, i) => [it.code, i]));
  const n = units.length * items.length;
  const first = new Float64Array(n).fill(Infinity);
  const latest = new Float64Array(n).fill(-Infinity);
  const count = new Uint32Array(n);
  const unconfirmed = new Uint8Array(n);

  for (const s of submissions) {
    const u = unitPos.get(s.unit);
    const i = itemPos.get(s.item);
    if (u === undefined || i === undefined) continue;
    const ms = s.receivedAt.getTime();
    if (ms > nowMs) continue;
    const k = u * items.length + i;
    count[k]!++;
    if (ms < first[k]!) first[k] = ms;
    if (ms > latest[k]!) latest[k] = ms;
    if (!s.confirmed) unconfirmed[k] = 1;
  }

  const rows = units.map((unit, u) =>
    rules.map((rule, i) => {
      const k = u * items.length + i;
      const c = count[k]!;
      const t: Tally | undefined =
        c > 0
          ? { first: first[k]!, latest: latest[k]!, count: c, unconfirmed: unconfirmed[k] === 1 }
          : undefined;
      return makeCell(unit, rule, t, nowMs, today, options.dueSoonDays);
    }),
  );
  return { at: now, options, units, items, rows };
}

/** The cell of one unit × item, or undefined for codes not in the matrix. */
export function cellOf(m: StatusMatrix, unit: string, item: string): Cell | undefined {
  const u = m.units.findIndex((x) => x.code === unit);
  const i = m.items.findIndex((x) => x.code === item);
  return u < 0 || i < 0 ? undefined : m.rows[u]?.[i];
}

/** Counts of each state over the cells, e.g. for the office summary's totals. */
export function countStates(cells: Iterable<Cell>): Record<CellState, number> {
  const out = Object.fromEntries(CELL_STATES.map((s) => [s, 0])) as Record<CellState, number>;
  for (const c of cells) out[c.state]++;
  return out;
}

/**
 * Every deadline the parser does not understand, as "item <code>: <why>". For the config
 * loader: a typo must stop the start-up, not silently never remind anyone.
 */
export function deadlineProblems(items: readonly Item[], year: number, timeZone: string): string[] {
  const problems: string[] = [];
  for (const item of items) {
    try {
      parseDeadline(item.deadline, year, timeZone);
    } catch (err) {
      problems.push(`item ${item.code}: ${(err as Error).message}`);
    }
  }
  return problems;
}
