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
  /** Earliest and latest receipt time of the counted submissions. Read-only: when they are
   * the same instant they are the same Date. */
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

/**
 * Submissions as parallel arrays, entry j being one submission: what the store hands over for
 * a province (100,000s of them) without an object and a Date apiece.
 */
export interface SubmissionColumns {
  unit: readonly string[];
  item: readonly string[];
  /** When the server got it, epoch ms (NaN if unreadable, as an invalid Date). */
  receivedAt: readonly number[];
  /** 1 when the sender is confirmed as the unit. */
  confirmed: readonly number[];
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

/** The cell of one unit × item with `count` submissions counted, received between `first` and
 * `latest` (epoch ms). */
function makeCell(
  unit: Unit,
  rule: ItemRule,
  count: number,
  first: number,
  latest: number,
  unconfirmed: boolean,
  nowMs: number,
  today: number,
  dueSoonDays: number,
): Cell {
  const dated = rule.due !== null;
  const some = count > 0;
  const firstDate = some ? new Date(first) : null;
  const cell: Cell = {
    unit: unit.code,
    item: rule.item.code,
    state: 'not_applicable',
    due: rule.due,
    daysLeft: dated ? rule.dueDay - today : null,
    first: firstDate,
    // One submission (most cells): the same instant, the same read-only Date.
    latest: some ? (latest === first ? firstDate : new Date(latest)) : null,
    count,
    unconfirmed: some && unconfirmed,
  };
  if (!appliesTo(rule.item, unit)) cell.state = 'not_applicable';
  else if (rule.deadline.kind === 'onsite') cell.state = 'onsite';
  else if (rule.deadline.kind === 'ongoing') cell.state = 'ongoing';
  else if (rule.deadline.kind === 'flexible') cell.state = 'flexible';
  else if (some) cell.state = first <= rule.dueMs ? 'submitted_on_time' : 'submitted_late';
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
  const t = tally(submissions, nowMs);
  return makeCell(
    unit,
    ruleFor(item, o),
    t.count,
    t.first,
    t.latest,
    t.unconfirmed,
    nowMs,
    dayIndex(now, timeZone),
    dueSoonDays,
  );
}

/**
 * Every cell's tally in flat arrays indexed by (unit, item) position: 200,000 submissions cost
 * a few milliseconds. Submissions of codes that are not in the config (a unit removed since)
 * are ignored.
 */
class Grid {
  readonly first: Float64Array;
  readonly latest: Float64Array;
  readonly count: Uint32Array;
  readonly unconfirmed: Uint8Array;
  private readonly unitPos: Map<string, number>;
  private readonly itemPos: Map<string, number>;

  constructor(
    units: readonly Unit[],
    private readonly items: readonly Item[],
    private readonly nowMs: number,
  ) {
    const n = units.length * items.length;
    this.first = new Float64Array(n).fill(Infinity);
    this.latest = new Float64Array(n).fill(-Infinity);
    this.count = new Uint32Array(n);
    this.unconfirmed = new Uint8Array(n);
    this.unitPos = new Map(units.map((u, i) => [u.code, i]));
    this.itemPos = new Map(items.map((it, i) => [it.code, i]));
  }

  /** Counts one submission, unless it arrived after `now`. */
  add(unit: string, item: string, ms: number, confirmed: boolean): void {
    if (ms > this.nowMs) return;
    const u = this.unitPos.get(unit);
    const i = this.itemPos.get(item);
    if (u === undefined || i === undefined) return;
    const k = u * this.items.length + i;
    this.count[k]!++;
    if (ms < this.first[k]!) this.first[k] = ms;
    if (ms > this.latest[k]!) this.latest[k] = ms;
    if (!confirmed) this.unconfirmed[k] = 1;
  }
}

function matrixOf(
  units: readonly Unit[],
  items: readonly Item[],
  rules: readonly ItemRule[],
  grid: Grid,
  now: Date,
  options: StatusOptions,
): StatusMatrix {
  const nowMs = now.getTime();
  const today = dayIndex(now, options.timeZone);
  const { first, latest, count, unconfirmed } = grid;
  const rows = units.map((unit, u) =>
    rules.map((rule, i) => {
      const k = u * items.length + i;
      return makeCell(
        unit,
        rule,
        count[k]!,
        first[k]!,
        latest[k]!,
        unconfirmed[k] === 1,
        nowMs,
        today,
        options.dueSoonDays,
      );
    }),
  );
  return { at: now, options, units, items, rows };
}

/**
 * The whole unit × item matrix at `now`: one pass over the submissions, those received after
 * `now` left out, rows for units or items not in the config ignored.
 */
export function statusMatrix(
  units: readonly Unit[],
  items: readonly Item[],
  submissions: Iterable<SubmissionRow>,
  now: Date,
  options: StatusOptions,
): StatusMatrix {
  const rules = items.map((i) => ruleFor(i, options));
  const grid = new Grid(units, items, now.getTime());
  for (const s of submissions) grid.add(s.unit, s.item, s.receivedAt.getTime(), s.confirmed);
  return matrixOf(units, items, rules, grid, now, options);
}

/** statusMatrix() of submissions handed over as columns (the store's loadSubmissionColumns). */
export function statusMatrixFromColumns(
  units: readonly Unit[],
  items: readonly Item[],
  submissions: SubmissionColumns,
  now: Date,
  options: StatusOptions,
): StatusMatrix {
  const rules = items.map((i) => ruleFor(i, options));
  const grid = new Grid(units, items, now.getTime());
  const { unit, item, receivedAt, confirmed } = submissions;
  for (let j = 0; j < unit.length; j++)
    grid.add(unit[j]!, item[j]!, receivedAt[j]!, confirmed[j] === 1);
  return matrixOf(units, items, rules, grid, now, options);
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
