// The inspection team's copy: every material as a file in
//   DIR/<unit name>/<item code> <item title>/<received date> <original filename>
// (links as Windows .url shortcuts), plus DIR/材料索引.xlsx listing each with its unit, item,
// sender, time and reason. Material still waiting for review goes to DIR/待确认/; material a
// clerk set aside is not exported. Names are deterministic, so exporting again into the same
// folder rewrites the same files.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatDateTime } from '../core/deadlines.js';
import type { Item, Unit } from '../core/types.js';
import type { MaterialRow } from '../store/sqlite.js';
import { FolderNames, safeName, urlShortcut } from './names.js';
import { wallTime, type Column, type Table, type Value } from './tables.js';
import { addTable, newWorkbook, saveWorkbook } from './xlsx.js';

export const INDEX_FILE = '材料索引.xlsx';
export const REVIEW_FOLDER = '待确认';
/** Item titles run to 60 characters; the folder keeps the start, the index has the rest. */
const ITEM_TITLE_CHARS = 24;

export interface MaterialsExportInput {
  dir: string;
  /** The data folder: material paths are relative to it. */
  dataRoot: string;
  materials: readonly MaterialRow[];
  units: readonly Unit[];
  items: readonly Item[];
  timeZone: string;
  /** Only material received by then. */
  at: Date;
  now: Date;
}

export interface ExportedMaterial {
  material: number;
  /** Relative to DIR, with forward slashes; null when the stored file is missing. */
  file: string | null;
  outcome: 'copied' | 'link' | 'same_file' | 'missing';
}

export interface MaterialsExportResult {
  dir: string;
  index: string;
  copied: number;
  links: number;
  missing: number;
  entries: ExportedMaterial[];
}

function day(d: Date, tz: string): string {
  return formatDateTime(d, tz).slice(0, 10);
}

function linkName(m: MaterialRow): string {
  let host = 'link';
  try {
    host = new URL(m.filename).hostname;
  } catch {
    // not a URL we can read: keep the generic word
  }
  return `下载链接 ${host}${m.accessCode ? ` 提取码${m.accessCode}` : ''}.url`;
}

export async function exportMaterials(input: MaterialsExportInput): Promise<MaterialsExportResult> {
  const { dir, dataRoot, units, items, timeZone: tz } = input;
  const unitPos = new Map(units.map((u, i) => [u.code, i]));
  const itemPos = new Map(items.map((it, i) => [it.code, i]));
  const rows = input.materials
    .filter(
      (m) => m.status !== 'rejected' && new Date(m.receivedAt).getTime() <= input.at.getTime(),
    )
    .sort(
      (a, b) =>
        (unitPos.get(a.unit ?? '') ?? 1e9) - (unitPos.get(b.unit ?? '') ?? 1e9) ||
        (itemPos.get(a.item ?? '') ?? 1e9) - (itemPos.get(b.item ?? '') ?? 1e9) ||
        a.receivedAt.localeCompare(b.receivedAt) ||
        a.id - b.id,
    );

  mkdirSync(dir, { recursive: true });
  const names = new Map<string, FolderNames>();
  const bySha = new Map<string, string>();
  const entries: ExportedMaterial[] = [];
  const table: Value[][] = [];
  const links: (string | null)[] = [];
  let copied = 0;
  let linkCount = 0;
  let missing = 0;

  for (const m of rows) {
    const unit = units.find((u) => u.code === m.unit);
    const item = items.find((i) => i.code === m.item);
    const folder =
      m.status === 'credited' && unit && item
        ? [
            safeName(unit.name, 40),
            safeName(`${item.code} ${[...item.title].slice(0, ITEM_TITLE_CHARS).join('')}`, 40),
          ]
        : [REVIEW_FOLDER];
    const key = folder.join('/');
    let claimed = names.get(key);
    if (!claimed) names.set(key, (claimed = new FolderNames()));
    const received = new Date(m.receivedAt);
    const base = m.kind === 'link' ? linkName(m) : m.filename || '未命名附件';
    let rel: string | null;
    let outcome: ExportedMaterial['outcome'];

    const same = m.sha256 ? bySha.get(`${key}\n${m.sha256}`) : undefined;
    if (same) {
      // The same bytes sent twice for one item: one file, two index rows.
      rel = same;
      outcome = 'same_file';
    } else {
      const name = claimed.claim(safeName(`${day(received, tz)} ${base}`));
      rel = [...folder, name].join('/');
      const dest = path.join(dir, ...folder, name);
      mkdirSync(path.dirname(dest), { recursive: true });
      if (m.kind === 'link') {
        writeFileSync(dest, urlShortcut(m.filename));
        outcome = 'link';
        linkCount++;
      } else {
        const src = m.path ? path.join(dataRoot, m.path) : '';
        if (src && existsSync(src)) {
          copyFileSync(src, dest);
          outcome = 'copied';
          copied++;
          if (m.sha256) bySha.set(`${key}\n${m.sha256}`, rel);
        } else {
          rel = null;
          outcome = 'missing';
          missing++;
        }
      }
    }
    entries.push({ material: m.id, file: rel, outcome });
    table.push([
      unit?.name ?? m.unit,
      item?.code ?? m.item,
      item?.title ?? null,
      rel ?? '（数据目录中找不到该文件）',
      m.filename || null,
      m.accessCode,
      m.size,
      wallTime(received, tz),
      m.fromAddress,
      m.status === 'credited' ? '已计入' : '待确认',
      m.reason,
    ]);
    links.push(rel);
  }

  const columns: Column[] = [
    { header: '单位', kind: 'text' },
    { header: '事项', kind: 'text' },
    { header: '事项名称', kind: 'text' },
    { header: '文件', kind: 'text' },
    { header: '原文件名或链接', kind: 'text' },
    { header: '提取码', kind: 'text' },
    { header: '大小（字节）', kind: 'int' },
    { header: '收到时间', kind: 'datetime' },
    { header: '发件人', kind: 'text' },
    { header: '状态', kind: 'text' },
    { header: '理由', kind: 'text' },
  ];
  const index: Table = { sheet: '材料索引', columns, rows: table, frozenColumns: 1 };
  const wb = newWorkbook(input.now);
  addTable(wb, index, links);
  const indexPath = path.join(dir, INDEX_FILE);
  await saveWorkbook(wb, indexPath);
  return { dir, index: indexPath, copied, links: linkCount, missing, entries };
}
