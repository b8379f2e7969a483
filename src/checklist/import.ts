// The notice's 督导内容细则 table → the config's `checklist:` YAML, so next year's notice is
// loaded without retyping it. Reads the table as notices print it: tab-separated rows under
// a 序号/项目/需报送材料/完成时间 header, Chinese numerals for items, numbered sub-items on
// continuation rows, merged deadline cells left empty, and a 说明 paragraph saying who is
// responsible for which item.
//
// What the notice cannot say, and how it is handled:
//   - keywords (words that point a file name to the item) are not in a notice. With a base
//     config (the one in use), an item whose code and wording match keeps the base's
//     keywords, and its title as the operator worded it (the notice's words then stand in a
//     comment); otherwise keywords are drafted from the title and marked for the operator.
//   - who an item is for: a 说明 sentence naming a unit kind (城管, 行政调解职能…) becomes
//     appliesTo with the roster's tag; a sentence naming none stays a comment.
//   - an item "checked on site" (现场检查时抽查) gets that as its deadline whatever the date
//     column says: nobody mails it, so nobody is reminded of it.
// Pure: text in, data and YAML out; the deadline parser checks every deadline.
import * as OpenCC from 'opencc-js/t2cn';
import YAML from 'yaml';
import { DeadlineError, parseDeadline } from '../core/deadlines.js';
import type { Item } from '../core/types.js';

export interface ChecklistEntry {
  code: string;
  title: string;
  /** Omitted on a sub-item that shares its group's deadline (a merged cell). */
  deadline?: string;
  appliesTo?: string[];
  /** Absent on a group (its sub-items carry them). */
  keywords?: string[];
  items?: ChecklistEntry[];
  /** Comments for the operator, on the line of each key. */
  comments: Partial<Record<'title' | 'deadline' | 'appliesTo' | 'keywords', string>>;
}

export interface ChecklistImport {
  year: number;
  items: ChecklistEntry[];
  /** Deadlines the parser does not understand, rows it could not read: to fix by hand. */
  problems: string[];
  /** Base items the notice no longer has. */
  dropped: string[];
}

export interface ImportOptions {
  /** The campaign year deadlines are checked in; default: the first "20xx年" in the text. */
  year?: number;
  timeZone: string;
  /** The tags units carry in the roster: applicability is only set to a tag that exists. */
  tags?: ReadonlySet<string>;
  /** The config in use: its keywords (and wording) are kept for items that did not change. */
  base?: readonly Item[];
}

export class ChecklistImportError extends Error {
  readonly code = 'CHECKLIST_IMPORT';
}

// ---------------------------------------------------------------------------------------
// Reading the table

const CN = '一二三四五六七八九';

/** 一..九十九 → 1..99; NaN otherwise. */
export function chineseNumber(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^([一二三四五六七八九])?(十)?([一二三四五六七八九])?$/.exec(t);
  if (!m || t === '') return NaN;
  const [, tens, ten, ones] = m;
  if (!ten) return tens && !ones ? CN.indexOf(tens) + 1 : NaN;
  return (tens ? CN.indexOf(tens) + 1 : 1) * 10 + (ones ? CN.indexOf(ones) + 1 : 0);
}

// "1." "1、" "1．" "（1）" "(1)" "①" at the start of a material cell.
const SUB_NUMBER = /^\s*(?:(\d{1,2})\s*[.、．]|[（(](\d{1,2})[）)]|([①②③④⑤⑥⑦⑧⑨⑩]))\s*/;
const CIRCLED = '①②③④⑤⑥⑦⑧⑨⑩';

interface Row {
  line: number;
  seq: string;
  project: string;
  material: string;
  deadline: string;
}

const t2cn = OpenCC.Converter({ from: 't', to: 'cn' });

/** Simplified characters: a notice typed or scanned with traditional ones (督導體系) must
 * still match what units write, and keywords are simplified. */
export function simplified(s: string): string {
  return t2cn(s);
}

function findTable(text: string): { rows: Row[]; notes: string } {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const headerAt = lines.findIndex(
    (l) =>
      /序号/.test(l) &&
      /需报送材料|报送材料/.test(l) &&
      /完成时间|时间/.test(l) &&
      l.includes('\t'),
  );
  if (headerAt < 0)
    throw new ChecklistImportError(
      'no 督导内容细则 table found: expected a tab-separated header row "序号<TAB>项目<TAB>需报送材料<TAB>完成时间" (copy the table from the notice as text, cells separated by tabs)',
    );
  const header = (lines[headerAt] ?? '').split('\t').map((c) => c.trim());
  const col = (re: RegExp, fallback: number) => {
    const i = header.findIndex((h) => re.test(h));
    return i >= 0 ? i : fallback;
  };
  const cSeq = col(/序号/, 0);
  const cProject = col(/项目/, 1);
  const cMaterial = col(/材料|内容/, 2);
  const cDeadline = col(/时间|期限/, 3);
  const rows: Row[] = [];
  let notes = '';
  for (let i = headerAt + 1; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.trim() === '') continue;
    if (/^\s*(说明|备注|注)[：:]/.test(l)) {
      notes = lines.slice(i).join('\n').trim();
      break;
    }
    if (!l.includes('\t')) {
      if (/^#/.test(l.trim())) break; // the next section of a markdown file
      continue;
    }
    const cells = l.split('\t');
    rows.push({
      line: i + 1,
      seq: (cells[cSeq] ?? '').trim(),
      project: (cells[cProject] ?? '').trim(),
      material: (cells[cMaterial] ?? '').trim(),
      deadline: (cells[cDeadline] ?? '').trim(),
    });
  }
  return { rows, notes };
}

function cleanTitle(s: string): string {
  return s
    .replace(SUB_NUMBER, '')
    .trim()
    .replace(/[。；;，,\s]+$/u, '');
}

// ---------------------------------------------------------------------------------------
// Who an item is for: the 说明's words for a kind of unit → the roster's tag.

/** Unit kinds the notices name, with the tag the roster (config/default.yaml) gives them. */
export const UNIT_KINDS: readonly { tag: string; words: RegExp; what: string }[] = [
  { tag: 'urban', words: /城管|城市管理/, what: '城市管理执法部门' },
  { tag: 'mediation', words: /行政调解职能|调解职能|具有.*调解/, what: '具有行政调解职能的部门' },
];

interface Responsibility {
  code: string;
  sentence: string;
  tag: string | null;
}

function responsibilities(notes: string, tags: ReadonlySet<string> | undefined): Responsibility[] {
  const out: Responsibility[] = [];
  for (const raw of notes.split(/[。；;\n]/)) {
    const s = raw.replace(/^\s*(说明|备注|注)[：:]/, '').trim();
    const m = /第([一二三四五六七八九十]+)项/.exec(s);
    if (!m) continue;
    const n = chineseNumber(m[1] ?? '');
    if (Number.isNaN(n)) continue;
    // The item's own name in brackets after 第N项 says nothing about who does it.
    const who = s
      .slice((m.index ?? 0) + m[0].length)
      .replace(/^\s*[（(][^）)]*[）)]/, '')
      .trim();
    const kind = UNIT_KINDS.find((k) => k.words.test(who) && (!tags || tags.has(k.tag)));
    out.push({ code: String(n), sentence: who, tag: kind?.tag ?? null });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// From rows to items

const ONSITE = /[（(]([^）)]*现场[^）)]*)[）)]/;

function onsiteDeadline(title: string, year: number, timeZone: string): string | null {
  const m = ONSITE.exec(title);
  if (!m) return null;
  const words = (m[1] ?? '').trim();
  try {
    if (parseDeadline(words, year, timeZone).kind === 'onsite') return words;
  } catch {
    // words the parser does not take: the canonical ones below
  }
  return '现场检查时抽查';
}

/** "查看相关文件" is what the inspectors do, not what is sent: name it after its group. */
function inspectionTitle(title: string, groupTitle: string): string | null {
  const m = /^(?:查看|查阅|检查)(.+)$/.exec(title);
  if (!m) return null;
  const subject = groupTitle.replace(/(建立|制定|开展|落实|推进)?(情况|工作)$/, '');
  return `${subject}${m[1] ?? ''}`;
}

export function checklistFromNotice(text: string, opts: ImportOptions): ChecklistImport {
  const { rows, notes } = findTable(text);
  const year =
    opts.year ?? Number(/(20\d\d)年/.exec(simplified(text))?.[1] ?? new Date().getFullYear());
  const tz = opts.timeZone;
  const problems: string[] = [];
  const items: ChecklistEntry[] = [];
  let group: ChecklistEntry | null = null;
  let lastSub: ChecklistEntry | null = null;

  const checkDeadline = (d: string, where: string) => {
    try {
      parseDeadline(d, year, tz);
      return true;
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      problems.push(`${where}: ${err.message}`);
      return false;
    }
  };

  const sub = (parent: ChecklistEntry, row: Row, first: boolean) => {
    const num = SUB_NUMBER.exec(row.material);
    const n = num?.[1] ?? num?.[2] ?? (num?.[3] ? String(CIRCLED.indexOf(num[3]) + 1) : undefined);
    const code = `${parent.code}.${n ?? (parent.items?.length ?? 0) + 1}`;
    const original = cleanTitle(row.material);
    let title = simplified(original);
    const comments: ChecklistEntry['comments'] = {};
    const inspect = inspectionTitle(title, parent.title);
    if (inspect) title = inspect;
    if (title !== original) comments.title = `通知原文：${original}`;
    const entry: ChecklistEntry = { code, title, comments };
    const onsite = onsiteDeadline(title, year, tz);
    const cell = simplified(row.deadline);
    if (onsite) {
      entry.deadline = onsite;
      comments.deadline = `现场检查时抽查，不通过邮件报送${cell ? `（通知的完成时间一栏为“${cell}”）` : ''}`;
      if (first && cell) parent.deadline = cell;
    } else if (!first && cell) {
      // Written in its own cell (not merged): kept, even when it equals the group's.
      entry.deadline = cell;
    } else if (first) {
      parent.deadline = cell;
    }
    if (entry.deadline) checkDeadline(entry.deadline, `${code} (line ${row.line})`);
    parent.items = [...(parent.items ?? []), entry];
    return entry;
  };

  for (const row of rows) {
    if (row.seq) {
      const n = chineseNumber(row.seq.replace(/[、.．]$/, ''));
      if (Number.isNaN(n)) {
        problems.push(`line ${row.line}: "${row.seq}" is not an item number (一, 二, … 十一)`);
        continue;
      }
      const code = String(n);
      const project = simplified(row.project);
      if (SUB_NUMBER.test(row.material)) {
        group = { code, title: project, comments: {}, items: [] };
        if (project !== row.project) group.comments.title = `通知原文：${row.project}`;
        items.push(group);
        lastSub = sub(group, row, true);
        if (!group.deadline)
          problems.push(`${code} (line ${row.line}): no deadline in the first row`);
        else checkDeadline(group.deadline, `${code} (line ${row.line})`);
      } else {
        const original = cleanTitle(row.material) || row.project;
        const title = simplified(original);
        const entry: ChecklistEntry = { code, title, comments: {} };
        if (title !== original) entry.comments.title = `通知原文：${original}`;
        entry.deadline = simplified(row.deadline);
        if (!entry.deadline) problems.push(`${code} (line ${row.line}): no deadline`);
        else checkDeadline(entry.deadline, `${code} (line ${row.line})`);
        items.push(entry);
        group = null;
        lastSub = null;
      }
    } else if (group && SUB_NUMBER.test(row.material)) {
      lastSub = sub(group, row, false);
    } else if (lastSub && row.material) {
      // A material cell wrapped onto the next row.
      lastSub.title += cleanTitle(simplified(row.material));
    } else if (row.material || row.deadline) {
      problems.push(`line ${row.line}: a continuation row with no item above it`);
    }
  }
  if (items.length === 0) throw new ChecklistImportError('the table has no item rows');

  for (const r of responsibilities(simplified(notes), opts.tags)) {
    const item = items.find((i) => i.code === r.code);
    if (!item) {
      problems.push(`说明 names item ${r.code}, which is not in the table`);
      continue;
    }
    if (r.tag) {
      item.appliesTo = [r.tag];
      item.comments.appliesTo = `说明：${r.sentence}`;
    } else {
      item.comments.appliesTo = `说明：${r.sentence}（未能对应到单位类别；需要时请填写 appliesTo）`;
    }
  }

  const dropped = opts.base ? applyBase(items, opts.base) : [];
  if (!opts.base) for (const leaf of leaves(items)) draftKeywords(leaf);
  return { year, items, problems, dropped };
}

function leaves(items: ChecklistEntry[]): ChecklistEntry[] {
  return items.flatMap((i) => (i.items ? i.items : [i]));
}

// ---------------------------------------------------------------------------------------
// The base config: keywords and the operator's wording, where the item did not change

/** Characters only: punctuation and spaces do not make two wordings different. */
function letters(s: string): string[] {
  return [...s.replace(/[\s\p{P}\p{S}]/gu, '')];
}

/** Length of the longest common subsequence of two strings' characters. */
function lcs(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++)
      row[j] =
        a[i - 1] === b[j - 1] ? (prev[j - 1] ?? 0) + 1 : Math.max(prev[j] ?? 0, row[j - 1] ?? 0);
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Whether the base's wording is the operator's edit of the notice's words (a shortening, a
 * simplified character) rather than another task: most of its characters appear, in order,
 * in the notice's title. 0.8: "机构与人员…现状与困难" for "执法机构的设置与人员配置…现状和困难"
 * passes; a new task under an old number shares a few characters, not four in five.
 */
export function sameWording(base: string, notice: string): boolean {
  const a = letters(base);
  const b = letters(notice);
  if (a.length === 0 || b.length === 0) return false;
  return lcs(a, b) / a.length >= 0.8;
}

function applyBase(items: ChecklistEntry[], base: readonly Item[]): string[] {
  const byCode = new Map(base.map((i) => [i.code, i]));
  const groupTitles = new Map(
    base.flatMap((i) => (i.group ? [[i.group, i.groupTitle] as const] : [])),
  );
  const seen = new Set<string>();
  const keep = (entry: ChecklistEntry, baseTitle: string | undefined) => {
    if (baseTitle === undefined || baseTitle === entry.title) return baseTitle !== undefined;
    if (!sameWording(baseTitle, entry.title)) return false;
    entry.comments.title = `通知原文：${entry.title}`;
    entry.title = baseTitle;
    return true;
  };
  for (const item of items) {
    if (item.items) {
      seen.add(item.code);
      keep(item, groupTitles.get(item.code));
    }
    for (const leaf of item.items ?? [item]) {
      seen.add(leaf.code);
      const b = byCode.get(leaf.code);
      if (b && keep(leaf, b.title)) {
        leaf.keywords = [...b.keywords];
      } else {
        draftKeywords(leaf);
        if (b)
          leaf.comments.keywords = `${leaf.comments.keywords ?? ''}（原配置的 ${b.code} 是“${b.title}”，内容已不同）`;
      }
    }
  }
  const dropped = [
    ...new Set(
      base.flatMap((i) => [i.code, ...(i.group ? [i.group] : [])]).filter((c) => !seen.has(c)),
    ),
  ];
  return dropped;
}

/** A first set of keywords from the title, for the operator to check: the phrases between
 * its punctuation, without the words every item starts with. */
export function draftKeywords(entry: ChecklistEntry): void {
  const kws = new Set<string>();
  for (const raw of entry.title.split(/[、，,。；;：:（）()“”"‘’'《》\s]|和|及|与|或|的/)) {
    const p = raw
      .replace(/^(本单位|所属|组织开展|开展|体现|在|推进|关于|建立健全|建立)/, '')
      .trim();
    const n = [...p].length;
    // Two characters (意见, 文书) match everything; a long phrase matches nothing: its last
    // four characters are usually the kind of document (年度方案, 会议纪要, 调研报告).
    if (n >= 3 && n <= 8) kws.add(p);
    else if (n > 8) kws.add([...p].slice(-4).join(''));
  }
  entry.keywords = kws.size ? [...kws] : [[...entry.title].slice(-4).join('')];
  entry.comments.keywords = '由标题生成，请核对：文件名或主题中出现这些词时计入本项';
}

// ---------------------------------------------------------------------------------------
// YAML for the config

export function checklistYaml(r: ChecklistImport, source: string): string {
  const toNode = (e: ChecklistEntry): Record<string, unknown> => {
    const o: Record<string, unknown> = { code: e.code, title: e.title };
    if (e.deadline !== undefined) o.deadline = e.deadline;
    if (e.appliesTo) o.appliesTo = e.appliesTo;
    if (e.items) o.items = e.items.map(toNode);
    else o.keywords = e.keywords ?? [];
    return o;
  };
  const doc = new YAML.Document({ checklist: r.items.map(toNode) });
  const all = new Map<string, ChecklistEntry>();
  for (const i of r.items) {
    all.set(i.code, i);
    for (const s of i.items ?? []) all.set(s.code, s);
  }
  YAML.visit(doc, {
    Map(_, map) {
      const code = map.get('code');
      const entry = typeof code === 'string' ? all.get(code) : undefined;
      for (const pair of map.items) {
        if (!YAML.isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === 'code' && YAML.isScalar(pair.value)) pair.value.type = 'QUOTE_SINGLE';
        if ((key === 'keywords' || key === 'appliesTo') && YAML.isSeq(pair.value))
          pair.value.flow = true;
        const comment = entry?.comments[key as keyof ChecklistEntry['comments']];
        if (comment && (YAML.isScalar(pair.value) || YAML.isSeq(pair.value)))
          pair.value.comment = ` ${comment.replace(/\s+/g, ' ')}`;
      }
    },
  });
  const seq = doc.get('checklist');
  if (YAML.isSeq(seq))
    seq.items.forEach((n, i) => {
      if (i > 0 && YAML.isMap(n)) n.spaceBefore = true;
    });
  doc.commentBefore = [
    ` 督导内容细则, imported from ${source} by \`baosong checklist import\` (deadlines read in ${r.year}).`,
    ' Replace the checklist: section of the config with the one below, then check the comments.',
    ...(r.problems.length
      ? [' PROBLEMS to fix by hand:', ...r.problems.map((p) => `   ${p}`)]
      : []),
  ].join('\n');
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
