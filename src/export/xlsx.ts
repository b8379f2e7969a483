// Renders tables as an .xlsx workbook. Only this file imports exceljs.
import ExcelJS from 'exceljs';
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CellTone, ColumnKind, Table, Value } from './tables.js';
import { displayWidth } from '../core/width.js';

const FORMAT: Readonly<Record<ColumnKind, string | undefined>> = {
  text: undefined,
  int: '0',
  percent: '0.0%',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm',
};

const FILL: Readonly<Record<CellTone, string>> = {
  good: 'FFC6EFCE',
  late: 'FFFFEB9C',
  bad: 'FFFFC7CE',
  soon: 'FFFFF2CC',
  muted: 'FFEDEDED',
};

/** Widest shown value: dates and rates by their format, text by its longest line. Capped so
 * one long reason does not make a column a screen wide. */
function widthOf(kind: ColumnKind, header: string, values: Value[]): number {
  const fixed = kind === 'date' ? 10 : kind === 'datetime' ? 16 : kind === 'percent' ? 7 : 0;
  let w = Math.max(displayWidth(header), fixed);
  if (kind === 'text' || kind === 'int') {
    for (const v of values) {
      if (v === null || v instanceof Date) continue;
      for (const line of String(v).split('\n')) w = Math.max(w, displayWidth(line));
    }
  }
  return Math.min(w + 2, 60);
}

export function addTable(
  wb: ExcelJS.Workbook,
  t: Table,
  links?: (string | null)[],
): ExcelJS.Worksheet {
  const ws = wb.addWorksheet(t.sheet, {
    views: [{ state: 'frozen', xSplit: t.frozenColumns, ySplit: 1 }],
  });
  ws.columns = t.columns.map((c, i) => ({
    header: c.header,
    width: widthOf(
      c.kind,
      c.header,
      t.rows.map((r) => r[i] ?? null),
    ),
    style: FORMAT[c.kind] ? { numFmt: FORMAT[c.kind] } : {},
  }));
  const head = ws.getRow(1);
  head.font = { bold: true };
  head.alignment = { vertical: 'middle' };
  t.columns.forEach((c, i) => {
    const cell = head.getCell(i + 1);
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFD9E1F2' } };
    if (c.note) cell.note = c.note;
  });
  t.rows.forEach((values, r) => {
    const row = ws.addRow(values.map((v) => (v === null ? null : v)));
    t.tones?.[r]?.forEach((tone, i) => {
      if (tone)
        row.getCell(i + 1).fill = {
          type: 'pattern',
          pattern: 'solid',
          fgColor: { argb: FILL[tone] },
        };
    });
    const link = links?.[r];
    if (link) {
      // The first text column that holds the file's path becomes a link to it.
      const col = t.columns.findIndex((c) => c.header === '文件');
      if (col >= 0) {
        const cell = row.getCell(col + 1);
        cell.value = { text: String(values[col] ?? ''), hyperlink: link };
        cell.font = { color: { argb: 'FF0563C1' }, underline: true };
      }
    }
  });
  if (t.rows.length > 0 && t.columns.length > 0)
    ws.autoFilter = {
      from: { row: 1, column: 1 },
      to: { row: 1 + t.rows.length, column: t.columns.length },
    };
  return ws;
}

export function newWorkbook(created: Date): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'baosong';
  wb.created = created;
  wb.modified = created;
  return wb;
}

/** Writes next to the target and renames: an open half-written workbook is never left. */
export async function saveWorkbook(wb: ExcelJS.Workbook, file: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await wb.xlsx.writeFile(tmp);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeXlsx(file: string, tables: Table[], created: Date): Promise<void> {
  const wb = newWorkbook(created);
  for (const t of tables) addTable(wb, t);
  await saveWorkbook(wb, file);
}
