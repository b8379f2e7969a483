// The evaluation table: how units are scored and ranked, and what each cell shows.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { statusMatrix } from '../../src/core/status.js';
import { materialsTable, matrixTable, scoreUnits, wallTime } from '../../src/export/tables.js';

const config = loadConfig(DEFAULT_CONFIG_PATH, {});
const sh = (s: string) => new Date(`${s}+08:00`);
const opts = { year: 2015, timeZone: 'Asia/Shanghai', dueSoonDays: 14 };
const units = config.units.filter((u) =>
  ['guxing', 'huayuankou', 'xincheng', 'cgzf'].includes(u.code),
);

describe('scoreUnits and matrixTable', () => {
  // GIVEN at 2015-06-15: guxing sent 1 and 2.1 on time; huayuankou sent 1 late; xincheng
  // nothing; cgzf sent 1 on time and 4.2 (flexible).
  const rows = [
    { unit: 'guxing', item: '1', receivedAt: sh('2015-05-20T10:00'), confirmed: true },
    { unit: 'guxing', item: '2.1', receivedAt: sh('2015-05-31T23:59'), confirmed: true },
    { unit: 'huayuankou', item: '1', receivedAt: sh('2015-06-01T00:01'), confirmed: true },
    { unit: 'cgzf', item: '1', receivedAt: sh('2015-05-21T10:00'), confirmed: false },
    { unit: 'cgzf', item: '4.2', receivedAt: sh('2015-06-02T10:00'), confirmed: true },
  ];
  const m = statusMatrix(units, config.checklist.items, rows, sh('2015-06-15T12:00'), opts);

  it('counts required items (on-site and 及时报送 excluded), completion and on-time rates', () => {
    const s = Object.fromEntries(scoreUnits(m).map((x) => [units[x.unit]?.code, x]));
    // A town: 12 items apply; 4.x and 6.x do not; 9 is 及时报送: 11 required.
    expect(s.guxing).toMatchObject({ required: 11, submitted: 2, onTime: 2, late: 0 });
    // Due by 06-15: 1, 2.1, 2.2, 2.3, 7.1 (5月底) → guxing on time 2 of 5.
    expect(s.guxing?.due).toBe(5);
    expect(s.guxing?.onTimeRate).toBeCloseTo(2 / 5);
    expect(s.huayuankou).toMatchObject({ submitted: 1, onTime: 0, late: 1, overdue: 4 });
    // cgzf: urban, so 4.1 and 4.2 apply (4.3 is on site): 13 required; 4.2 flexible counts on time.
    expect(s.cgzf).toMatchObject({ required: 13, submitted: 2, onTime: 2 });
  });

  it('ranks by completion, then on-time rate, then fewer overdue; equal units share a rank', () => {
    const order = scoreUnits(m).map((x) => [units[x.unit]?.code, x.rank]);
    expect(order).toEqual([
      ['guxing', 1],
      ['cgzf', 2],
      ['huayuankou', 3],
      ['xincheng', 4],
    ]);
    const tie = statusMatrix(
      units.slice(0, 3),
      config.checklist.items,
      [],
      sh('2015-06-15T12:00'),
      opts,
    );
    expect(scoreUnits(tie).map((x) => x.rank)).toEqual([1, 1, 1]);
  });

  it('each item has a date column (wall time) and a mark column', () => {
    const t = matrixTable(m);
    expect(t.columns.slice(0, 4).map((c) => c.header)).toEqual([
      '排名',
      '单位',
      '一 报送日期',
      '一 情况',
    ]);
    const guxing = t.rows[0] ?? [];
    expect(guxing[1]).toBe('古荥镇人民政府');
    expect((guxing[2] as Date).toISOString()).toBe('2015-05-20T10:00:00.000Z');
    expect(guxing[3]).toBe('✓ 按时报送');
    const cgzf = t.rows[1] ?? [];
    expect(cgzf[3]).toBe('✓ 按时报送（发件地址待确认）');
    const h = t.rows[2] ?? [];
    expect(h[3]).toBe('迟 逾期报送');
    expect(h[5]).toBe('✗ 逾期未报');
  });

  it('wallTime shows Shanghai clock time in the UTC fields', () => {
    expect(wallTime(new Date('2015-05-20T06:32:00Z'), 'Asia/Shanghai').toISOString()).toBe(
      '2015-05-20T14:32:00.000Z',
    );
  });

  it('materials after the date of the export are left out', () => {
    const base = {
      messageId: null,
      fromAddress: 'a@x',
      subject: '',
      unit: 'guxing',
      item: '1',
      kind: 'file' as const,
      filename: 'f.doc',
      sha256: null,
      size: 1,
      path: null,
      accessCode: null,
      confirmed: true,
      status: 'credited' as const,
      reason: 'r',
    };
    const t = materialsTable(
      [
        { ...base, id: 1, receivedAt: '2015-06-01T00:00:00.000Z' },
        { ...base, id: 2, receivedAt: '2015-07-01T00:00:00.000Z' },
      ],
      m,
      'Asia/Shanghai',
    );
    expect(t.rows.map((r) => r[0])).toEqual([1]);
  });
});
