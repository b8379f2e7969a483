// Charset helpers for mail text. Pure functions: no I/O.
//
// Chinese mail is labelled GB2312 or GBK but routinely carries characters outside those sets
// (mislabelled mail, or GB18030 four-byte sequences). GB18030 is a strict superset of both, so
// every GB label is decoded as GB18030. Bytes that carry no label at all are read as UTF-8 when
// they are valid UTF-8, else as GB18030 (the product's mail is Chinese), unless the high bytes
// are mostly isolated, which no double-byte charset produces: that is Latin text in Windows-1252.

import iconv from 'iconv-lite';

/** Labels (lower-case) of the GB family; all of them are decoded as GB18030. */
const GB_LABELS = new Set([
  'gb2312',
  'gb_2312',
  'gb_2312-80',
  'gb-2312',
  'csgb2312',
  'euc-cn',
  'x-euc-cn',
  'euccn',
  'gbk',
  'x-gbk',
  'cp936',
  'ms936',
  'windows-936',
  'chinese',
  'csiso58gb231280',
  'iso-ir-58',
  'gb18030',
]);

/** Regex source matching any GB-family label (for rewriting labels inside raw header text). */
export const GB_LABEL_PATTERN =
  'gb_?-?2312(?:-80)?|csgb2312|x-euc-cn|euc-?cn|x-gbk|gbk|cp936|ms936|windows-936|chinese|csiso58gb231280|iso-ir-58|gb18030';

/** True for a GB-family charset label (GB2312, GBK, GB18030 and their aliases). */
export function isGbLabel(label: string | null | undefined): boolean {
  return !!label && GB_LABELS.has(label.trim().toLowerCase());
}

/** The label to decode with: GB-family labels become gb18030, others are returned trimmed. */
export function normalizeCharsetLabel(label: string): string {
  const l = label.trim().replace(/^["']|["']$/g, '');
  return isGbLabel(l) ? 'gb18030' : l;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** True when the bytes are well-formed UTF-8 (ASCII included). */
export function isValidUtf8(buf: Uint8Array): boolean {
  try {
    utf8Fatal.decode(buf);
    return true;
  } catch {
    return false;
  }
}

function hasHighBytes(buf: Uint8Array): boolean {
  for (const b of buf) if (b >= 0x80) return true;
  return false;
}

/**
 * Whether the bytes are valid UTF-8 up to an incomplete sequence at the very end (a name cut
 * off in the middle of a character by the sending client).
 */
function isTruncatedUtf8(buf: Uint8Array): boolean {
  let end = buf.length;
  // step back over at most 3 continuation bytes and the lead byte of the last sequence
  let back = 0;
  while (end > 0 && back < 4 && (buf[end - 1]! & 0xc0) === 0x80) {
    end--;
    back++;
  }
  if (end === 0) return false;
  const lead = buf[end - 1]!;
  if (lead < 0xc2 || lead > 0xf4) return false;
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1;
  if (back >= need) return false; // complete sequence: the error is elsewhere
  return end - 1 > 0 && isValidUtf8(buf.subarray(0, end - 1));
}

/**
 * Whether lenient UTF-8 decoding is the right reading of bytes that are not strictly valid: at
 * most two broken sequences (a name cut inside a character) among at least three good multibyte
 * characters. Double-byte text (GBK, Big5) decoded as UTF-8 breaks on nearly every character.
 */
function isMostlyUtf8(buf: Buffer): boolean {
  const s = buf.toString('utf8');
  let bad = 0;
  let good = 0;
  for (const ch of s) {
    if (ch === '\ufffd') bad++;
    else if (ch.codePointAt(0)! >= 0x80) good++;
  }
  return bad <= 2 && good >= 3 * bad && good >= 3;
}

/** Share of high bytes that sit next to another high byte (double-byte text is near 1). */
function pairedHighRatio(buf: Uint8Array): number {
  let high = 0;
  let paired = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i]! < 0x80) continue;
    high++;
    if ((i + 1 < buf.length && buf[i + 1]! >= 0x80) || (i > 0 && buf[i - 1]! >= 0x80)) paired++;
  }
  return high ? paired / high : 1;
}

function isUtf8Label(cs: string): boolean {
  return cs === 'utf-8' || cs === 'utf8';
}

function isAsciiLabel(cs: string): boolean {
  return cs === 'us-ascii' || cs === 'ascii' || cs === 'ansi_x3.4-1968' || cs === 'iso646-us';
}

/** Whether {@link decodeBytes} decodes this label itself (else the caller should use its own). */
export function canDecodeLabel(label: string | null | undefined): boolean {
  const cs = label ? normalizeCharsetLabel(label).toLowerCase() : '';
  if (!cs || isUtf8Label(cs) || isAsciiLabel(cs)) return true;
  return iconv.encodingExists(cs) && !/^(utf-?7|unicode-1-1-utf-7|base64|hex|binary)/.test(cs);
}

function nonAsciiCount(s: string): number {
  let n = 0;
  for (const ch of s) if (ch.codePointAt(0)! >= 0x80) n++;
  return n;
}

/**
 * Decodes text bytes carrying a charset label, tolerating the common mislabellings:
 * - no label or US-ASCII: {@link decodeBytesGuess};
 * - UTF-8: UTF-8, unless invalid and cleanly GB18030 (GBK text sent under a UTF-8 label);
 * - any GB label (GB2312, GBK, GB18030): GB18030, unless the bytes are valid UTF-8 with some
 *   non-ASCII text (UTF-8 sent under a GB2312 label, which GB18030 would turn into mojibake);
 * - other labels iconv-lite knows: that charset; unknown labels: {@link decodeBytesGuess}.
 */
export function decodeBytes(buf: Uint8Array, label: string | null | undefined): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const cs = label ? normalizeCharsetLabel(label).toLowerCase() : '';
  if (!cs || isAsciiLabel(cs)) return decodeBytesGuess(b);
  if (isUtf8Label(cs)) {
    if (isValidUtf8(b)) return b.toString('utf8');
    const gb = iconv.decode(b, 'gb18030');
    return pairedHighRatio(b) >= 0.6 && !gb.includes('\ufffd') ? gb : b.toString('utf8');
  }
  if (cs === 'gb18030') {
    if (hasHighBytes(b) && isValidUtf8(b)) {
      const utf8 = b.toString('utf8');
      if (nonAsciiCount(utf8) >= 4) return utf8;
    }
    return iconv.decode(b, 'gb18030');
  }
  if (!canDecodeLabel(cs)) return decodeBytesGuess(b);
  return iconv.decode(b, cs);
}

/**
 * Decodes bytes that carry no (trustworthy) charset label: ASCII and valid UTF-8 as UTF-8; UTF-8
 * with one or two broken sequences (cut inside a character) as UTF-8; bytes whose high bytes come in runs (double-byte
 * text) as GB18030 when they decode cleanly; otherwise Windows-1252.
 */
export function decodeBytesGuess(buf: Uint8Array): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (!hasHighBytes(b) || isValidUtf8(b)) return b.toString('utf8');
  if (isTruncatedUtf8(b) || isMostlyUtf8(b)) return b.toString('utf8');
  if (pairedHighRatio(b) >= 0.6) {
    const gb = iconv.decode(b, 'gb18030');
    if (!gb.includes('\ufffd')) return gb;
  }
  return iconv.decode(b, 'windows-1252');
}

/**
 * Decodes a "binary" string (one char per byte, as mail parsers hand out raw header text) with
 * {@link decodeBytesGuess}. Strings without bytes >= 0x80 come back unchanged.
 */
export function decodeBinaryStringGuess(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  return decodeBytesGuess(Buffer.from(s, 'latin1'));
}
