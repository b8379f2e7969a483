// The state of a unit × item at any instant: every state, with an injected clock.
import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../src/core/deadlines.js';
import {
  cellMark,
  cellOf,
  countStates,
  deadlineProblems,
  stateOf,
  statusMatrix,
  statusMatrixFromColumns,
  type CellState,
  type Submission,
  type SubmissionColumns,
  type SubmissionRow,
} from '../../src/core/status.js';
import type { Item, Unit } from '../../src/core/types.js';

const TZ = 'Asia/Shanghai';
const YEAR = 2015;
const SOON = 14;
/** Wall time in Shanghai. */
const sh = (s: string) => new Date(`${s}+08:00`);

const item = (code: string, deadline: string, appliesTo: string[] = []): Item => ({
  code,
  groupTitle: code,
  title: `事项${code}`,
  deadline,
  appliesTo,
  keywords: [code],
});
const unit = (code: string, tags: string[]): Unit => ({
  code,
  name: code,
  shortNames: [],
  tags,
  addresses: [`${code}@huiji.example`],
});

const ITEMS = {
  plan: item('1', '5月底之前'),
  urban: item('4.1', '8月上旬', ['urban']),
  onsite: item('4.3', '现场检查时抽查', ['urban']),
  flexible: item('4.2', '灵活安排时间', ['urban']),
  ongoing: item('9', '及时报送'),
};
const street = unit('dahelu', ['street']);
const cgzf = unit('cgzf', ['department', 'urban']);
const sub = (at: string, confirmed = true): Submission => ({ receivedAt: sh(at), confirmed });

describe('stateOf: every state, at injected instants', () => {
  const cases: {
    name: string;
    item: Item;
    unit?: Unit;
    subs?: Submission[];
    now: string;
    state: CellState;
    daysLeft?: number | null;
  }[] = [
    {
      name: 'an urban item for a street office',
      item: ITEMS.urban,
      now: '2015-09-01T09:00',
      state: 'not_applicable',
    },
    {
      name: 'checked on site, never by mail',
      item: ITEMS.onsite,
      unit: cgzf,
      now: '2015-09-20T09:00',
      state: 'onsite',
      daysLeft: null,
    },
    {
      name: 'flexible: no deadline',
      item: ITEMS.flexible,
      unit: cgzf,
      now: '2015-12-31T09:00',
      state: 'flexible',
    },
    { name: 'ongoing: never late', item: ITEMS.ongoing, now: '2015-12-31T23:00', state: 'ongoing' },
    {
      name: 'ongoing with a submission stays ongoing, and counts it',
      item: ITEMS.ongoing,
      subs: [sub('2015-07-01T10:00')],
      now: '2015-12-31T23:00',
      state: 'ongoing',
    },
    {
      name: 'far from the deadline',
      item: ITEMS.plan,
      now: '2015-05-01T09:00',
      state: 'not_yet_due',
      daysLeft: 30,
    },
    {
      name: '15 days before: not yet due soon',
      item: ITEMS.plan,
      now: '2015-05-16T09:00',
      state: 'not_yet_due',
      daysLeft: 15,
    },
    {
      name: '14 days before: due soon',
      item: ITEMS.plan,
      now: '2015-05-17T09:00',
      state: 'due_soon',
      daysLeft: 14,
    },
    {
      name: 'the deadline day itself, late evening',
      item: ITEMS.plan,
      now: '2015-05-31T23:59:59',
      state: 'due_soon',
      daysLeft: 0,
    },
    {
      name: 'one second after the deadline day',
      item: ITEMS.plan,
      now: '2015-06-01T00:00:00',
      state: 'overdue',
      daysLeft: -1,
    },
    {
      name: 'weeks after',
      item: ITEMS.plan,
      now: '2015-06-22T09:00',
      state: 'overdue',
      daysLeft: -22,
    },
    {
      name: 'received on the last evening: on time',
      item: ITEMS.plan,
      subs: [sub('2015-05-31T23:59:30')],
      now: '2015-06-10T09:00',
      state: 'submitted_on_time',
    },
    {
      name: 'received just after midnight: late',
      item: ITEMS.plan,
      subs: [sub('2015-06-01T00:00:30')],
      now: '2015-06-10T09:00',
      state: 'submitted_late',
    },
    {
      name: 'on time once is on time, whatever follows',
      item: ITEMS.plan,
      subs: [sub('2015-07-01T10:00'), sub('2015-05-20T14:32')],
      now: '2015-07-02T09:00',
      state: 'submitted_on_time',
    },
    {
      name: 'a submission after "now" does not count yet',
      item: ITEMS.plan,
      subs: [sub('2015-06-03T10:00')],
      now: '2015-06-02T09:00',
      state: 'overdue',
    },
    {
      name: 'submitted before it was due soon',
      item: ITEMS.urban,
      unit: cgzf,
      subs: [sub('2015-06-01T10:00')],
      now: '2015-06-02T09:00',
      state: 'submitted_on_time',
    },
  ];

  it.each(cases)('$name → $state', (c) => {
    const cell = stateOf(c.unit ?? street, c.item, c.subs ?? [], sh(c.now), YEAR, TZ, SOON);
    expect(cell.state).toBe(c.state);
    if (c.daysLeft !== undefined) expect(cell.daysLeft).toBe(c.daysLeft);
  });

  it('the receipt time counts, not a Date header: the input has none to be fooled by', () => {
    // A clerk's PC clock said 31 May; the server received it on 1 June. Intake stores the
    // server's INTERNALDATE as receivedAt, and that is the only time stateOf looks at.
    const cell = stateOf(
      street,
      ITEMS.plan,
      [sub('2015-06-01T08:10')],
      sh('2015-06-05T09:00'),
      YEAR,
      TZ,
      SOON,
    );
    expect(cell.state).toBe('submitted_late');
  });

  it('reports first and latest submission times and the count', () => {
    const cell = stateOf(
      street,
      ITEMS.plan,
      [sub('2015-05-25T10:00'), sub('2015-05-20T14:32'), sub('2015-06-02T08:00')],
      sh('2015-06-10T09:00'),
      YEAR,
      TZ,
      SOON,
    );
    expect(cell).toMatchObject({
      unit: 'dahelu',
      item: '1',
      state: 'submitted_on_time',
      first: sh('2015-05-20T14:32'),
      latest: sh('2015-06-02T08:00'),
      count: 3,
      unconfirmed: false,
      due: new Date('2015-05-31T15:59:59.999Z'),
    });
  });

  it('an unconfirmed sender still counts as submitted, and the cell says so', () => {
    const cell = stateOf(
      street,
      ITEMS.plan,
      [sub('2015-05-20T14:32', false)],
      sh('2015-06-10T09:00'),
      YEAR,
      TZ,
      SOON,
    );
    expect(cell.state).toBe('submitted_on_time');
    expect(cell.unconfirmed).toBe(true);
    expect(cellMark(cell)).toBe('✓?');
  });

  it('confirmed credit next to an unconfirmed one is still marked', () => {
    const cell = stateOf(
      street,
      ITEMS.plan,
      [sub('2015-05-20T14:32'), sub('2015-05-22T09:00', false)],
      sh('2015-06-10T09:00'),
      YEAR,
      TZ,
      SOON,
    );
    expect(cell.unconfirmed).toBe(true);
  });

  it('no submissions: no times, count 0', () => {
    const cell = stateOf(street, ITEMS.plan, [], sh('2015-05-01T09:00'), YEAR, TZ, SOON);
    expect(cell).toMatchObject({ first: null, latest: null, count: 0, unconfirmed: false });
  });

  it('dueSoonDays 0 means only the deadline day is due soon', () => {
    expect(stateOf(street, ITEMS.plan, [], sh('2015-05-30T09:00'), YEAR, TZ, 0).state).toBe(
      'not_yet_due',
    );
    expect(stateOf(street, ITEMS.plan, [], sh('2015-05-31T09:00'), YEAR, TZ, 0).state).toBe(
      'due_soon',
    );
  });

  it('an unknown deadline text names the item', () => {
    expect(() =>
      stateOf(street, item('2.9', '下个月'), [], sh('2015-05-01T09:00'), YEAR, TZ, SOON),
    ).toThrow(DeadlineError);
    expect(deadlineProblems([ITEMS.plan, item('2.9', '下个月')], YEAR, TZ)).toEqual([
      expect.stringMatching(/^item 2\.9: deadline "下个月" is not understood/),
    ]);
  });
});

describe('statusMatrix', () => {
  const units = [street, cgzf, unit('gongshang', ['department', 'mediation'])];
  const items = Object.values(ITEMS);

  it('gives every cell the state stateOf gives it', () => {
    const rows: SubmissionRow[] = [];
    // Deterministic pseudo-random submissions across the campaign, some unconfirmed, some
    // for units and items the config no longer has.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const unitCodes = [...units.map((u) => u.code), 'gone'];
    const itemCodes = [...items.map((i) => i.code), '99'];
    for (let n = 0; n < 300; n++) {
      rows.push({
        unit: unitCodes[Math.floor(rnd() * unitCodes.length)]!,
        item: itemCodes[Math.floor(rnd() * itemCodes.length)]!,
        receivedAt: new Date(Date.UTC(2015, 4, 1) + Math.floor(rnd() * 150 * 86_400_000)),
        confirmed: rnd() > 0.2,
      });
    }
    for (const now of [
      '2015-05-20T09:00',
      '2015-06-01T09:00',
      '2015-08-11T00:00',
      '2015-10-12T09:00',
    ]) {
      const m = statusMatrix(units, items, rows, sh(now), {
        year: YEAR,
        timeZone: TZ,
        dueSoonDays: SOON,
      });
      for (const u of units) {
        for (const it of items) {
          const mine = rows.filter((r) => r.unit === u.code && r.item === it.code);
          expect(cellOf(m, u.code, it.code)).toEqual(stateOf(u, it, mine, sh(now), YEAR, TZ, SOON));
        }
      }
    }
  });

  it('counts states over the matrix', () => {
    const m = statusMatrix(units, items, [], sh('2015-06-01T09:00'), {
      year: YEAR,
      timeZone: TZ,
      dueSoonDays: SOON,
    });
    const n = countStates(m.rows.flat());
    // 1 is overdue for all three; 4.1 (urban, due 8-10) is not yet due for cgzf only.
    expect(n).toMatchObject({
      overdue: 3,
      not_yet_due: 1,
      onsite: 1,
      flexible: 1,
      ongoing: 3,
      not_applicable: 6,
    });
  });

  it('counts a province: 2,000 units × 50 items × 200,000 submissions', () => {
    // Speed is the benchmark's business (bench/scale.ts); here, that nothing is lost.
    const bigUnits = Array.from({ length: 2000 }, (_, i) =>
      unit(`u${i}`, i % 10 === 0 ? ['urban'] : []),
    );
    const deadlines = ['5月底之前', '6月底之前', '9月上旬', '10月上旬', '及时报送'];
    const bigItems = Array.from({ length: 50 }, (_, i) =>
      item(`${i + 1}`, deadlines[i % deadlines.length]!),
    );
    const rows: SubmissionRow[] = Array.from({ length: 200_000 }, (_, n) => ({
      unit: `u${(n * 7919) % 2000}`,
      item: `${((n * 31) % 50) + 1}`,
      receivedAt: new Date(Date.UTC(2015, 4, 1) + ((n * 104729) % (150 * 86_400)) * 1000),
      confirmed: n % 13 !== 0,
    }));
    const now = sh('2015-09-01T09:00');
    const opts = { year: YEAR, timeZone: TZ, dueSoonDays: SOON };
    const m = statusMatrix(bigUnits, bigItems, rows, now, opts);
    expect(m.rows).toHaveLength(2000);
    const counted = rows.filter((r) => r.receivedAt <= now).length;
    expect(m.rows.flat().reduce((a, c) => a + c.count, 0)).toBe(counted);
    const fromColumns = statusMatrixFromColumns(bigUnits, bigItems, columnsOf(rows), now, opts);
    expect(JSON.stringify(fromColumns.rows)).toBe(JSON.stringify(m.rows));
  });
});

/** The rows as the store hands them over for a province. */
function columnsOf(rows: readonly SubmissionRow[]): SubmissionColumns {
  return {
    unit: rows.map((r) => r.unit),
    item: rows.map((r) => r.item),
    receivedAt: rows.map((r) => r.receivedAt.getTime()),
    confirmed: rows.map((r) => (r.confirmed ? 1 : 0)),
  };
}

describe('statusMatrixFromColumns: the cells statusMatrix gives from the same submissions', () => {
  const units = [street, cgzf, unit('gongshang', ['department', 'mediation'])];
  const items = [...Object.values(ITEMS), item('2.1', '6月底之前'), item('2.2', '9月上旬')];
  const opts = { year: YEAR, timeZone: TZ, dueSoonDays: SOON };
  const row = (u: string, i: string, at: string, confirmed = true): SubmissionRow => ({
    unit: u,
    item: i,
    receivedAt: sh(at),
    confirmed,
  });

  // Hand-picked: what each rule of the per-submission semantics does to a cell.
  const cases: {
    name: string;
    rows: SubmissionRow[];
    now: string;
    cell: [unit: string, item: string];
    expect: { state: CellState; count: number; unconfirmed: boolean; first?: string };
  }[] = [
    {
      name: 'nothing sent',
      rows: [],
      now: '2015-06-02T09:00',
      cell: ['dahelu', '1'],
      expect: { state: 'overdue', count: 0, unconfirmed: false },
    },
    {
      name: 'the earliest arrival decides on time, whatever the order',
      rows: [row('dahelu', '1', '2015-06-03T10:00'), row('dahelu', '1', '2015-05-30T10:00')],
      now: '2015-06-10T09:00',
      cell: ['dahelu', '1'],
      expect: {
        state: 'submitted_on_time',
        count: 2,
        unconfirmed: false,
        first: '2015-05-30T10:00',
      },
    },
    {
      name: 'late when the first arrival is after the deadline day',
      rows: [row('dahelu', '1', '2015-06-01T00:00:01')],
      now: '2015-06-10T09:00',
      cell: ['dahelu', '1'],
      expect: { state: 'submitted_late', count: 1, unconfirmed: false },
    },
    {
      name: 'only what arrived by now counts, the instant itself included',
      rows: [row('dahelu', '1', '2015-06-02T09:00'), row('dahelu', '1', '2015-06-02T09:00:01')],
      now: '2015-06-02T09:00',
      cell: ['dahelu', '1'],
      expect: { state: 'submitted_late', count: 1, unconfirmed: false },
    },
    {
      name: 'one unconfirmed submission flags the cell',
      rows: [row('dahelu', '1', '2015-05-20T10:00'), row('dahelu', '1', '2015-05-21T10:00', false)],
      now: '2015-06-02T09:00',
      cell: ['dahelu', '1'],
      expect: { state: 'submitted_on_time', count: 2, unconfirmed: true },
    },
    {
      name: 'an unconfirmed submission after now does not',
      rows: [row('dahelu', '1', '2015-05-20T10:00'), row('dahelu', '1', '2015-06-03T10:00', false)],
      now: '2015-06-02T09:00',
      cell: ['dahelu', '1'],
      expect: { state: 'submitted_on_time', count: 1, unconfirmed: false },
    },
    {
      name: 'units and items not in the config are ignored',
      rows: [row('gone', '1', '2015-05-20T10:00'), row('dahelu', '99', '2015-05-20T10:00')],
      now: '2015-06-02T09:00',
      cell: ['dahelu', '1'],
      expect: { state: 'overdue', count: 0, unconfirmed: false },
    },
    {
      name: 'an ongoing item with something sent',
      rows: [row('cgzf', '9', '2015-05-20T10:00', false)],
      now: '2015-06-02T09:00',
      cell: ['cgzf', '9'],
      expect: { state: 'ongoing', count: 1, unconfirmed: true },
    },
  ];

  it.each(cases)('$name', (c) => {
    const byRows = statusMatrix(units, items, c.rows, sh(c.now), opts);
    const byColumns = statusMatrixFromColumns(units, items, columnsOf(c.rows), sh(c.now), opts);
    const cell = cellOf(byColumns, ...c.cell)!;
    expect(cell).toMatchObject({
      state: c.expect.state,
      count: c.expect.count,
      unconfirmed: c.expect.unconfirmed,
    });
    if (c.expect.first) expect(cell.first).toEqual(sh(c.expect.first));
    expect(byColumns.rows).toEqual(byRows.rows);
  });

  it.each([1, 2, 3, 4, 5, 6])('random submissions, seed %i: every cell the same', (seed) => {
    let x = seed * 7919;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const unitCodes = [...units.map((u) => u.code), 'gone'];
    const itemCodes = [...items.map((i) => i.code), '99'];
    const base = Date.UTC(2015, 4, 1);
    const rows: SubmissionRow[] = [];
    for (let n = 0; n < 400; n++) {
      // Some instants repeat (two items of one message), one is unreadable.
      const at = rnd() < 0.2 && rows.length ? rows[rows.length - 1]!.receivedAt.getTime() : NaN;
      rows.push({
        unit: unitCodes[Math.floor(rnd() * unitCodes.length)]!,
        item: itemCodes[Math.floor(rnd() * itemCodes.length)]!,
        receivedAt: new Date(
          n === 17 ? NaN : Number.isNaN(at) ? base + Math.floor(rnd() * 150 * 86_400_000) : at,
        ),
        confirmed: rnd() > 0.2,
      });
    }
    for (const now of [
      '2015-05-20T09:00',
      '2015-06-01T00:00',
      '2015-08-11T00:00',
      '2016-01-01T00:00',
    ]) {
      const byRows = statusMatrix(units, items, rows, sh(now), opts);
      const byColumns = statusMatrixFromColumns(units, items, columnsOf(rows), sh(now), opts);
      expect(byColumns.rows).toEqual(byRows.rows);
      for (const u of units)
        for (const it of items) {
          const mine = rows.filter((r) => r.unit === u.code && r.item === it.code);
          expect(cellOf(byColumns, u.code, it.code)).toEqual(
            stateOf(u, it, mine, sh(now), YEAR, TZ, SOON),
          );
        }
    }
  });
});
