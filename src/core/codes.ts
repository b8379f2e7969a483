// Item codes as units write them: 二-1, 二.1, 2-1, 2.1, （二）1, 二（1）, 第二项第1条, 一, 五, 第五项.
// Pure functions: text in, codes out.

const CN_DIGITS = '一二三四五六七八九十';

/** Chinese numeral (一..十) or ASCII digit to a number; NaN for anything else. */
function toNumber(s: string): number {
  const i = CN_DIGITS.indexOf(s);
  if (i >= 0) return i + 1;
  return /^\d+$/.test(s) ? Number(s) : NaN;
}

/** "2.1" → "二-1", "5" → "五": how the notice and the units write codes. */
export function displayCode(code: string): string {
  const [group, sub] = code.split('.');
  const g = CN_DIGITS[Number(group) - 1] ?? group;
  return sub ? `${g}-${sub}` : `${g}`;
}

/** Full-width forms to ASCII so one set of patterns covers both. */
export function normalizeText(s: string): string {
  return s
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\u3000]/g, ' ')
    .replace(/[—–－‐]/g, '-')
    .replace(/[。]/g, '.');
}

const N = `[${CN_DIGITS}]`;
const SUB_PATTERNS: RegExp[] = [
  // 第二项第1条 / 第2项第一点
  new RegExp(`第(${N}|\\d)项第?(${N}|\\d)(?:条|项|点|款)?`, 'g'),
  // (二)1 / (二)-1 / (二).1
  new RegExp(`\\((${N})\\)\\s*[-.、]?\\s*(\\d)(?!\\d)`, 'g'),
  // 二(1) / (二)(1)
  new RegExp(`(${N})\\)?\\((\\d)\\)`, 'g'),
  // 二-1 / 二.1 / 二、1
  new RegExp(`(${N})\\s*[-.、_]\\s*(\\d)(?![\\d.])`, 'g'),
  // 2-1 / 2.1, but not dates (2015-5-31), versions (v2.1) or decimals (12.15)
  /(?<![\d.\-/vV])(\d)\s*[-.]\s*(\d)(?![\d.\-/])/g,
];

const GROUP_PATTERNS: RegExp[] = [
  // 第五项 / 第5项
  new RegExp(`第(${N}|\\d)项(?!第?(?:${N}|\\d))`, 'g'),
  // (五) not followed by a sub-number
  new RegExp(`\\((${N})\\)(?!\\s*[-.、]?\\s*\\d|\\()`, 'g'),
  // a bare numeral standing alone: "五 调研报告", "Fw: 九", "五、调研报告", "一.doc"
  new RegExp(`(?:^|[\\s:_\\[【-])(${N})(?=$|[\\s、:_\\]】]|\\.(?!\\d))`, 'g'),
];

export interface FoundCodes {
  /** Sub-item or single-item codes, e.g. "2.1", "5". */
  items: string[];
  /** Groups named without a sub-item, e.g. "2" from "（二）". */
  groups: string[];
  /** The literal text matched, for the reason. */
  matched: string[];
}

/**
 * Finds item codes in a text. `known` is the set of item codes in the checklist and `groups`
 * the codes of items that have sub-items; codes that are not in the checklist are ignored so
 * photo numbering like "照片3-7.jpg" does not count.
 */
export function findCodes(text: string, known: Set<string>, groups: Set<string>): FoundCodes {
  const s = normalizeText(text);
  const items = new Set<string>();
  const foundGroups = new Set<string>();
  const matched: string[] = [];
  const taken: [number, number][] = [];
  const overlaps = (a: number, b: number) => taken.some(([x, y]) => a < y && b > x);

  for (const re of SUB_PATTERNS) {
    for (const m of s.matchAll(re)) {
      const start = m.index ?? 0;
      if (overlaps(start, start + m[0].length)) continue;
      const g = toNumber(m[1] ?? '');
      const sub = toNumber(m[2] ?? '');
      const code = `${g}.${sub}`;
      if (known.has(code)) {
        items.add(code);
        matched.push(m[0].trim());
        taken.push([start, start + m[0].length]);
      }
    }
  }
  for (const re of GROUP_PATTERNS) {
    for (const m of s.matchAll(re)) {
      const start = m.index ?? 0;
      if (overlaps(start, start + m[0].length)) continue;
      const code = String(toNumber(m[1] ?? ''));
      if (groups.has(code)) foundGroups.add(code);
      else if (known.has(code)) items.add(code);
      else continue;
      matched.push(m[0].trim());
      taken.push([start, start + m[0].length]);
    }
  }
  // A group already narrowed to one of its sub-items adds nothing.
  for (const g of [...foundGroups]) {
    if ([...items].some((c) => c.startsWith(`${g}.`))) foundGroups.delete(g);
  }
  return { items: [...items], groups: [...foundGroups], matched };
}
