// File and folder names that Windows accepts (the inspection team opens the export there),
// keeping as much of the original name as possible. Pure.

// Reserved by Windows whatever the extension: CON.txt is as forbidden as CON.
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

// The characters Windows refuses, each replaced by its full-width look-alike so a Chinese
// name stays readable ("方案：初稿?" → "方案：初稿？"), control characters dropped.
const FULL_WIDTH: Readonly<Record<string, string>> = {
  '<': '＜',
  '>': '＞',
  ':': '：',
  '"': '＂',
  '/': '／',
  '\\': '＼',
  '|': '｜',
  '?': '？',
  '*': '＊',
};

/** Longest name component written, in UTF-16 units: NTFS allows 255; the rest of the path
 * (DIR, unit, item folder) must still fit Explorer's 260 without long-path support. */
export const MAX_NAME = 120;

/** Splits "a.b.docx" into ["a.b", ".docx"]; a leading dot or a long "extension" is not one. */
export function splitExtension(name: string): [string, string] {
  const m = /^(.+?)(\.[A-Za-z0-9]{1,8})$/.exec(name);
  return m ? [m[1] ?? name, m[2] ?? ''] : [name, ''];
}

/** One path component Windows accepts; `fallback` when nothing is left. */
export function safeName(name: string, max = MAX_NAME, fallback = '未命名'): string {
  let s = name
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/[<>:"/\\|?*]/g, (c) => FULL_WIDTH[c] ?? '_')
    .replace(/\s+/g, ' ')
    .trim();
  // Windows drops trailing dots and spaces, so "报告." and "报告" would collide.
  s = s.replace(/[. ]+$/, '');
  if (s === '') s = fallback;
  if (RESERVED.test(s)) s = `_${s}`;
  if (s.length > max) {
    const [base, ext] = splitExtension(s);
    // Cut the base, never the extension: the file must still open with the right program.
    s = `${[...base].slice(0, Math.max(1, max - ext.length - 1)).join('')}…${ext}`;
    while (s.length > max) s = `${[...s].slice(0, -ext.length - 2).join('')}…${ext}`;
  }
  return s;
}

/**
 * Names handed out within one folder, unique as Windows sees them (case-insensitively): a
 * second "报告.doc" becomes "报告 (2).doc", so the original name is still all there.
 */
export class FolderNames {
  private readonly taken = new Set<string>();

  claim(name: string): string {
    const [base, ext] = splitExtension(name);
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++)
      candidate = `${base} (${n})${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

/** The body of a Windows Internet Shortcut (.url): double-click opens the link. */
export function urlShortcut(url: string): string {
  // One line only: a URL with a line break could add keys to the file.
  const clean = url.replace(/[\r\n]+/g, '');
  return `[InternetShortcut]\r\nURL=${clean}\r\n`;
}
