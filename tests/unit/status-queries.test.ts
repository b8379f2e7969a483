// The status matrix's read of the store: loadSubmissionColumns() (one JSON row, indexes only)
// must give the cells that loadSubmissions() and statusMatrix() give, on a real SQLite file
// built through the migrations.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import {
  cellOf,
  statusMatrix,
  statusMatrixFromColumns,
  type StatusMatrix,
} from '../../src/core/status.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  loadSubmissionColumns,
  loadSubmissions,
  SUBMISSION_COLUMNS_SQL,
} from '../../src/store/status-queries.js';

const config = loadConfig(DEFAULT_CONFIG_PATH, {});
const { units } = config;
const items = config.checklist.items;
const OPTS = { year: 2015, timeZone: 'Asia/Shanghai', dueSoonDays: 14 };
const sh = (s: string) => new Date(`${s}+08:00`);

interface File {
  unit?: string | null;
  item?: string | null;
  confirmed?: boolean;
  status?: 'credited' | 'review' | 'rejected';
}

let dir: string;
let store: SqliteStore;
let nextId = 1;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-status-queries-'));
  store = new SqliteStore(path.join(dir, 'baosong.db'));
  nextId = 1;
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One message received at `at` (an instant) from `unit`, with its files. */
function record(unit: string, at: Date, files: File[]): void {
  const id = nextId++;
  const sha = id.toString(16).padStart(64, '0');
  store.db
    .prepare(
      `INSERT INTO messages (id, message_id, sha256, raw_path, size, received_at, from_address,
         kind, reason, unit, unit_confirmed, recorded_at)
       VALUES (?, ?, ?, ?, 100, ?, 'x@example.com', 'submission', 'test', ?, 1, ?)`,
    )
    .run(id, `m${id}@example.com`, sha, `raw/${sha}.eml`, at.toISOString(), unit, at.toISOString());
  const mat = store.db.prepare(
    `INSERT INTO materials (message, kind, filename, unit, item, confirmed, status, reason)
     VALUES (?, 'file', 'f.doc', ?, ?, ?, ?, 'test')`,
  );
  for (const f of files)
    mat.run(
      id,
      f.unit === undefined ? unit : f.unit,
      f.item === undefined ? '1' : f.item,
      f.confirmed === false ? 0 : 1,
      f.status ?? 'credited',
    );
}

const byColumns = (at: Date): StatusMatrix =>
  statusMatrixFromColumns(units, items, loadSubmissionColumns(store.db, at), at, OPTS);
const byRows = (at: Date): StatusMatrix =>
  statusMatrix(units, items, loadSubmissions(store.db, { until: at }), at, OPTS);

describe('loadSubmissionColumns: one submission per message, unit and item', () => {
  const AT = sh('2015-06-10T09:00');
  const cases: {
    name: string;
    messages: { at: string; files: File[] }[];
    cell: { count: number; unconfirmed: boolean; state: string; first?: string };
  }[] = [
    {
      name: 'nothing recorded',
      messages: [],
      cell: { count: 0, unconfirmed: false, state: 'overdue' },
    },
    {
      name: 'two files for the item in one message are one submission',
      messages: [{ at: '2015-05-20T10:00', files: [{}, {}] }],
      cell: { count: 1, unconfirmed: false, state: 'submitted_on_time', first: '2015-05-20T10:00' },
    },
    {
      name: 'two messages are two; the earlier one decides',
      messages: [
        { at: '2015-06-02T10:00', files: [{}] },
        { at: '2015-05-31T23:59:59', files: [{}] },
      ],
      cell: {
        count: 2,
        unconfirmed: false,
        state: 'submitted_on_time',
        first: '2015-05-31T23:59:59',
      },
    },
    {
      name: 'a message with one confirmed file for the item is confirmed',
      messages: [{ at: '2015-05-20T10:00', files: [{ confirmed: false }, {}] }],
      cell: { count: 1, unconfirmed: false, state: 'submitted_on_time' },
    },
    {
      name: 'a message with only unconfirmed files flags the cell',
      messages: [
        { at: '2015-05-20T10:00', files: [{}] },
        { at: '2015-05-21T10:00', files: [{ confirmed: false }, { confirmed: false }] },
      ],
      cell: { count: 2, unconfirmed: true, state: 'submitted_on_time' },
    },
    {
      name: 'rejected material never counts',
      messages: [{ at: '2015-05-20T10:00', files: [{ status: 'rejected' }] }],
      cell: { count: 0, unconfirmed: false, state: 'overdue' },
    },
    {
      name: 'material awaiting review counts',
      messages: [{ at: '2015-06-01T08:00', files: [{ status: 'review', confirmed: false }] }],
      cell: { count: 1, unconfirmed: true, state: 'submitted_late' },
    },
    {
      name: 'received at the instant itself counts, a millisecond later does not',
      messages: [
        { at: '2015-06-10T09:00:00.000', files: [{}] },
        { at: '2015-06-10T09:00:00.001', files: [{ confirmed: false }] },
      ],
      cell: { count: 1, unconfirmed: false, state: 'submitted_late' },
    },
    {
      name: 'material without an item or credited to another unit is not this cell',
      messages: [
        { at: '2015-05-20T10:00', files: [{ item: null }, { unit: null }, { unit: 'guxing' }] },
      ],
      cell: { count: 0, unconfirmed: false, state: 'overdue' },
    },
    {
      name: 'codes the config no longer has are left out',
      messages: [{ at: '2015-05-20T10:00', files: [{ item: '99' }, { unit: 'gone' }] }],
      cell: { count: 0, unconfirmed: false, state: 'overdue' },
    },
  ];

  it.each(cases)('$name', (c) => {
    for (const m of c.messages) record('dahelu', sh(m.at), m.files);
    const m = byColumns(AT);
    const cell = cellOf(m, 'dahelu', '1')!;
    expect(cell).toMatchObject({
      count: c.cell.count,
      unconfirmed: c.cell.unconfirmed,
      state: c.cell.state,
    });
    if (c.cell.first) expect(cell.first).toEqual(sh(c.cell.first));
    expect(m.rows).toEqual(byRows(AT).rows);
  });

  it('is empty columns on an empty database', () => {
    expect(loadSubmissionColumns(store.db, AT)).toEqual({
      unit: [],
      item: [],
      receivedAt: [],
      confirmed: [],
    });
  });

  it.each([1, 2, 3])(
    'random mail, seed %i: the same matrix as loadSubmissions at any instant',
    (seed) => {
      let x = seed * 104729;
      const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const unitCodes = [...units.map((u) => u.code), 'gone'];
      const itemCodes = [...items.map((i) => i.code), '99'];
      const statuses = ['credited', 'credited', 'credited', 'review', 'rejected'] as const;
      const start = Date.UTC(2015, 4, 1);
      store.transaction(() => {
        for (let n = 0; n < 600; n++) {
          const unit = pick(unitCodes);
          const files = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
            item: rnd() < 0.05 ? null : pick(itemCodes),
            unit: rnd() < 0.05 ? pick(unitCodes) : unit,
            confirmed: rnd() > 0.2,
            status: pick(statuses),
          }));
          record(unit, new Date(start + Math.floor(rnd() * 160 * 86_400_000)), files);
        }
      });
      for (const at of [
        '2015-04-30T09:00',
        '2015-05-31T23:59:59.999',
        '2015-06-01T00:00',
        '2015-08-11T12:00',
        '2016-01-01T00:00',
      ]) {
        expect(byColumns(sh(at)).rows).toEqual(byRows(sh(at)).rows);
      }
    },
  );

  it('reads indexes only, in an order that needs no sort (migration 005)', () => {
    const plan = (
      store.db
        .prepare(`EXPLAIN QUERY PLAN ${SUBMISSION_COLUMNS_SQL}`)
        .all({ until: new Date().toISOString() }) as { detail: string }[]
    ).map((r) => r.detail);
    expect(plan).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SEARCH g USING COVERING INDEX messages_received_at /),
        expect.stringMatching(/^SEARCH m USING COVERING INDEX materials_counting /),
      ]),
    );
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|SCAN m\b|SCAN g\b/);
  });
});
