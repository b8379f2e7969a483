// The year-end evaluation as tables: sheet 1 the unit × item matrix with completion and
// on-time rates, ranked as the office ranks; sheet 2 every material; sheet 3 how to read them.
// Pure: the status matrix (src/core/status.ts) and the material rows come in; the xlsx and
// csv writers only render these tables.
import { displayCode } from '../core/codes.js';
import { formatDateTime, offsetMs } from '../core/deadlines.js';
import { cellMark, STATE_LABEL, type Cell, type StatusMatrix } from '../core/status.js';
import type { MaterialRow } from '../store/sqlite.js';

export type ColumnKind = 'text' | 'int' | 'percent' | 'date' | 'datetime';
export type CellTone = 'good' | 'late' | 'bad' | 'soon' | 'muted';
export type Value = string | number | Date | null;

export interface Column {
  header: string;
  kind: ColumnKind;
  /** Shown as a note on the header cell (the item's full title and deadline). */
  note?: string;
}

export interface Table {
  sheet: string;
  columns: Column[];
  rows: Value[][];
  /** Optional colour of each cell, same shape as rows. */
  tones?: (CellTone | null)[][];
  /** Columns kept in view when scrolling right. */
  frozenColumns: number;
}

/**
 * Excel has no time zones: a cell shows the clock time it holds. Dates are written as the
 * campaign zone's wall time (a Date whose UTC fields read 2015-05-20 14:32 for 14:32 in
 * Shanghai), so the sheet shows what the office's clocks showed.
 */
export function wallTime(d: Date, timeZone: string): Date {
  return new Date(d.getTime() + offsetMs(d, timeZone));
}

const TONE: Partial<Record<Cell['state'], CellTone>> = {
  submitted_on_time: 'good',
  submitted_late: 'late',
  overdue: 'bad',
  due_soon: 'soon',
  not_applicable: 'muted',
  onsite: 'muted',
};

export interface UnitScore {
  unit: number;
  /** Items the unit must send by mail over the campaign (not on-site, not "as it happens"). */
  required: number;
  /** Of those, the ones with something received by the date of the export. */
  submitted: number;
  /** Dated items whose deadline has passed or that were sent: the base of the on-time rate. */
  due: number;
  onTime: number;
  late: number;
  overdue: number;
  completionRate: number | null;
  onTimeRate: number | null;
  rank: number;
}

/** How a cell counts. Flexible items (4.2) are required and never late; 及时报送 (9) and
 * on-site checks (4.3) are outside the rates. */
function counts(
  c: Cell,
): Pick<UnitScore, 'required' | 'submitted' | 'due' | 'onTime' | 'late' | 'overdue'> {
  const z = { required: 0, submitted: 0, due: 0, onTime: 0, late: 0, overdue: 0 };
  switch (c.state) {
    case 'submitted_on_time':
      return { ...z, required: 1, submitted: 1, due: 1, onTime: 1 };
    case 'submitted_late':
      return { ...z, required: 1, submitted: 1, due: 1, late: 1 };
    case 'overdue':
      return { ...z, required: 1, due: 1, overdue: 1 };
    case 'due_soon':
    case 'not_yet_due':
      return { ...z, required: 1 };
    case 'flexible':
      return c.count > 0
        ? { ...z, required: 1, submitted: 1, due: 1, onTime: 1 }
        : { ...z, required: 1 };
    default:
      return z;
  }
}

/**
 * Scores in the office's order: completion rate, then on-time rate, then fewer overdue
 * items, then the roster's order. Units equal on all three share a rank (1, 1, 3).
 */
export function scoreUnits(m: StatusMatrix): UnitScore[] {
  const scores = m.units.map((_, u): UnitScore => {
    const s = { required: 0, submitted: 0, due: 0, onTime: 0, late: 0, overdue: 0 };
    for (const c of m.rows[u] ?? []) {
      const k = counts(c);
      for (const key of Object.keys(s) as (keyof typeof s)[]) s[key] += k[key];
    }
    return {
      unit: u,
      ...s,
      completionRate: s.required ? s.submitted / s.required : null,
      onTimeRate: s.due ? s.onTime / s.due : null,
      rank: 0,
    };
  });
  const key = (s: UnitScore) => [s.completionRate ?? -1, s.onTimeRate ?? -1, -s.overdue];
  const cmp = (a: UnitScore, b: UnitScore) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) {
      const d = (kb[i] ?? 0) - (ka[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  };
  const sorted = [...scores].sort((a, b) => cmp(a, b) || a.unit - b.unit);
  sorted.forEach((s, i) => {
    const prev = sorted[i - 1];
    s.rank = prev && cmp(prev, s) === 0 ? prev.rank : i + 1;
  });
  return sorted;
}

function cellText(c: Cell): string {
  let label: string = STATE_LABEL[c.state];
  if ((c.state === 'ongoing' || c.state === 'flexible') && c.count > 0) label = '已报送';
  const times = c.count > 1 ? `（${c.count}次）` : '';
  const unconfirmed = c.unconfirmed ? '（发件地址待确认）' : '';
  return `${cellMark(c).replace('?', '')} ${label}${times}${unconfirmed}`;
}

export function matrixTable(m: StatusMatrix): Table {
  const tz = m.options.timeZone;
  const columns: Column[] = [
    { header: '排名', kind: 'int' },
    { header: '单位', kind: 'text' },
  ];
  for (const item of m.items) {
    const code = displayCode(item.code);
    const note = `${code} ${item.title}\n完成时间：${item.deadline}`;
    columns.push({ header: `${code} 报送日期`, kind: 'date', note });
    columns.push({ header: `${code} 情况`, kind: 'text', note });
  }
  columns.push(
    { header: '应报事项', kind: 'int' },
    { header: '已报事项', kind: 'int' },
    { header: '按时', kind: 'int' },
    { header: '逾期报送', kind: 'int' },
    { header: '逾期未报', kind: 'int' },
    { header: '完成率', kind: 'percent' },
    { header: '按时率', kind: 'percent' },
  );
  const rows: Value[][] = [];
  const tones: (CellTone | null)[][] = [];
  for (const s of scoreUnits(m)) {
    const unit = m.units[s.unit];
    const row: Value[] = [s.rank, unit?.name ?? ''];
    const tone: (CellTone | null)[] = [null, null];
    for (const c of m.rows[s.unit] ?? []) {
      row.push(c.first ? wallTime(c.first, tz) : null, cellText(c));
      const t = TONE[c.state] ?? null;
      tone.push(t, t);
    }
    row.push(s.required, s.submitted, s.onTime, s.late, s.overdue, s.completionRate, s.onTimeRate);
    tone.push(null, null, null, null, null, null, null);
    rows.push(row);
    tones.push(tone);
  }
  return { sheet: '评议汇总', columns, rows, tones, frozenColumns: 2 };
}

const STATUS_TEXT: Readonly<Record<MaterialRow['status'], string>> = {
  credited: '已计入',
  review: '待确认',
  rejected: '已退回',
};

export function materialsTable(
  materials: readonly MaterialRow[],
  m: Pick<StatusMatrix, 'units' | 'items' | 'at'>,
  timeZone: string,
): Table {
  const unitName = new Map(m.units.map((u) => [u.code, u.name]));
  const item = new Map(m.items.map((i) => [i.code, i]));
  const columns: Column[] = [
    { header: '编号', kind: 'int' },
    { header: '单位', kind: 'text' },
    { header: '事项', kind: 'text' },
    { header: '事项名称', kind: 'text' },
    { header: '类型', kind: 'text' },
    { header: '文件名或链接', kind: 'text' },
    { header: '提取码', kind: 'text' },
    { header: '大小（字节）', kind: 'int' },
    { header: '收到时间', kind: 'datetime' },
    { header: '发件人', kind: 'text' },
    { header: '发件地址已确认', kind: 'text' },
    { header: '状态', kind: 'text' },
    { header: '理由', kind: 'text' },
  ];
  const at = m.at.getTime();
  const rows: Value[][] = [];
  const tones: (CellTone | null)[][] = [];
  for (const r of materials) {
    const received = new Date(r.receivedAt);
    if (received.getTime() > at) continue;
    const it = r.item ? item.get(r.item) : undefined;
    rows.push([
      // Empty cells stay empty (null), not '': a filter on "blank" must find them.
      r.id,
      r.unit ? (unitName.get(r.unit) ?? r.unit) : null,
      r.item ? displayCode(r.item) : null,
      it?.title ?? null,
      r.kind === 'link' ? '链接' : '文件',
      r.filename,
      r.accessCode,
      r.size,
      wallTime(received, timeZone),
      r.fromAddress,
      r.confirmed ? '是' : '否',
      STATUS_TEXT[r.status],
      r.reason,
    ]);
    const t: CellTone | null =
      r.status === 'rejected' ? 'muted' : r.status === 'review' ? 'soon' : null;
    tones.push(columns.map((_, i) => (i === 11 ? t : null)));
  }
  return { sheet: '材料清单', columns, rows, tones, frozenColumns: 2 };
}

/** How to read the workbook: the office will be asked. */
export function notesTable(m: StatusMatrix, campaign: string): Table {
  const tz = m.options.timeZone;
  const lines = [
    `${campaign} 报送情况（截至 ${formatDateTime(m.at, tz)}，${tz}）`,
    '',
    '“评议汇总”：每个单位一行，按完成率、按时率、逾期未报事项数排序（并列者名次相同）。',
    '报送日期：该事项最早收到材料的日期（以邮件服务器收到的时间为准，不是发件人写的时间）。',
    '应报事项：适用于该单位、需要通过邮件报送的事项；现场检查抽查的事项和“及时报送”的事项不计入。',
    '完成率 = 已报事项 ÷ 应报事项。',
    '按时率 = 按时报送的事项 ÷（截止日期已过或已报送的有期限事项）；“灵活安排时间”的事项报送即为按时。',
    '（发件地址待确认）：材料来自尚未确认属于该单位的邮箱，仍计入，但请在复核队列中确认。',
    '',
    '“材料清单”：每件材料一行，包括待确认和已退回的材料及其理由。',
    '时间均为当地时间。',
  ];
  return {
    sheet: '说明',
    columns: [{ header: '说明', kind: 'text' }],
    rows: lines.map((l) => [l]),
    frozenColumns: 0,
  };
}
