// Renders a table as CSV for programs and for Excel: UTF-8 with a byte-order mark (without
// it Excel reads Chinese as mojibake), CRLF line ends, RFC 4180 quoting.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Table, Value } from './tables.js';

function text(v: Value, kind: Table['columns'][number]['kind']): string {
  if (v === null) return '';
  if (v instanceof Date) {
    // Wall time already (see wallTime): the UTC fields are the office's clock.
    const iso = v.toISOString();
    return kind === 'date' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  }
  if (typeof v === 'number' && kind === 'percent') return `${(v * 100).toFixed(1)}%`;
  return String(v);
}

function quote(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: Table): string {
  const lines = [t.columns.map((c) => quote(c.header)).join(',')];
  for (const row of t.rows)
    lines.push(t.columns.map((c, i) => quote(text(row[i] ?? null, c.kind))).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export function writeCsv(file: string, t: Table): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, toCsv(t));
  renameSync(tmp, file);
}
