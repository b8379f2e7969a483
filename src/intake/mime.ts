// Parse stage: one raw message file -> ParsedMail, attachments stored content-addressed.
//
// Built on mailparser's streaming MailParser (never simpleParser): attachment content is streamed
// through sha256 into a temp file and renamed to filesDir/<aa>/<sha256>, so a 150 MB attachment is
// never held in memory. Text bodies are buffered (by mailparser too), as HTML-to-text needs them.
//
// mailparser 3.x is extended by overriding two internal methods (see BaosongMailParser):
//  - processHeaders: raw header lines are normalised before mailparser decodes them. Raw 8-bit
//    bytes are decoded with core/charset.ts (UTF-8 if valid, else GB18030 / Windows-1252 by a
//    byte heuristic) because mailparser reads them as UTF-8; GB2312/GBK labels in RFC 2047 words
//    and RFC 2231 parameters become GB18030 (libmime maps GB2312 to GBK, losing GB18030-only
//    characters).
//  - createNode: every leaf part is classified body text or attachment with Python's rule (an
//    attachment when disposed as one, named, or not text), so named text parts and parts with
//    odd dispositions are not swallowed into the body; text/calendar is an attachment; report
//    parts (delivery-status, MDN, ARF, text/rfc822-headers...) are body text; invalid content
//    types are text/plain; multipart/digest children default to message/rfc822. Body charsets
//    are decoded by core/charset.ts (mislabelled GB2312/UTF-8, unlabelled 8-bit). Attachment
//    base64 and uuencode are decoded here (Base64Decoder, UuDecoder).
// Embedded messages (message/rfc822, message/global, message/news) are not expanded by mailparser
// (ignoreEmbedded): they are stored as files and parsed recursively here; their attachments are
// listed with forwardedFrom and their text is appended to the body text. winmail.dat (TNEF) is
// opened by tnef.ts and the files inside listed instead of it.
//
// Hostile and oversized mail (every bound is in core/limits.ts with its reason):
//  - an attachment over maxAttachmentBytes, or over what is left of maxMessageBytes, is read to
//    its end (so parsing goes on) but written no further: its temp file is deleted and it is
//    listed with `oversized: true`, its size counted, sha256 and path '';
//  - body text is buffered up to MAX_BODY_TEXT_BYTES per message level, the rest dropped;
//  - more than MAX_MIME_PARTS parts, or a header block over 1 MB, fails the parse (mailsplit);
//  - stored names are always the sha256 under filesDir; the sender's filename is only data,
//    cleaned of control and bidi characters and cut to MAX_FILENAME_CHARS (cleanFilename);
//  - the whole parse is bounded by timeoutMs, nested messages by maxDepth.

import { createHash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Duplex, PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { MailParser } from 'mailparser';
import type {
  AddressObject,
  AttachmentStream,
  HeaderLines,
  Headers,
  HeaderValue,
  MessageText,
  StructuredHeader,
} from 'mailparser';
import {
  GB_LABEL_PATTERN,
  canDecodeLabel,
  decodeBinaryStringGuess,
  decodeBytes,
  decodeBytesGuess,
  isValidUtf8,
} from '../core/charset.js';
import {
  DEFAULT_MAX_ATTACHMENT_MB,
  DEFAULT_MAX_MESSAGE_MB,
  MAX_BODY_TEXT_BYTES,
  MAX_FILENAME_CHARS,
  MAX_FORWARD_DEPTH,
  MAX_MIME_PARTS,
  MB,
  PARSE_TIMEOUT_MS,
} from '../core/limits.js';
import type { ParsedAttachment, ParsedMail } from '../core/types.js';
import { contentPath, moveIn } from '../store/files.js';
import { extractTnef, isTnefPart } from './tnef.js';

export interface ParseOptions {
  /** Root of the content-addressed store: files land in filesDir/<first 2 hex>/<sha256>. */
  filesDir: string;
  /** Temp folder for files being written; must be on the same filesystem as filesDir. */
  tmpDir: string;
  /** How many levels of nested message/rfc822 are opened (default 5); deeper ones stay attachments. */
  maxDepth?: number;
  /** Give up (and reject) after this long for the whole message, nested ones included. Default 120 s. */
  timeoutMs?: number;
  /** Largest attachment stored, in bytes; a larger one is listed as oversized. Default 64 MiB. */
  maxAttachmentBytes?: number;
  /** All stored attachments of the message together (nested ones included), bytes. Default 128 MiB. */
  maxMessageBytes?: number;
}

/** Content types of embedded messages that are opened recursively. */
const MESSAGE_TYPES = new Set(['message/rfc822', 'message/global', 'message/news']);
const TNEF_TYPES = new Set(['application/ms-tnef', 'application/vnd.ms-tnef']);
/** Control characters (C0, DEL, C1), zero-width and bidi formatting characters in filenames. */
const FILENAME_JUNK = /[\u0000-\u001f\u007f-\u009f]+/g;
const FILENAME_INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const ADDRESS_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'sender',
  'reply-to',
  'delivered-to',
  'return-path',
  'disposition-notification-to',
]);

// ---------------------------------------------------------------------------------------------
// mailparser extension

/**
 * Prefix of the charset given to text bodies that core/charset.ts decodes (whole body at once,
 * with the mislabelling rules of decodeBytes) instead of libmime's streaming decoder.
 */
const OWN_CHARSET_PREFIX = 'x-baosong:';

interface RawHeaderLine {
  key: string;
  line: string;
}

/** The bits of mailparser's internal tree node this module touches. */
interface InternalNode {
  contentType?: string | false;
  charset?: string;
  disposition?: string;
  isAttachment?: boolean;
  decoder?: NodeJS.ReadWriteStream;
  headers: Headers;
  root?: boolean;
}

/** The bits of mailsplit's MIME node (the argument of createNode) this module reads. */
interface SplitterNode {
  encoding?: string | false;
  disposition?: string | false;
  filename?: string | false;
  parentNode?: { contentType?: string | false } | false;
  headers?: { get(key: string): string[] } | false;
}

interface BodyDecoder {
  decodeStream(charset: string): NodeJS.ReadWriteStream;
}

/** mailparser internals used here (marked @internal in mailparser 3.x, not in its typings). */
interface MailParserInternals {
  processHeaders(lines: RawHeaderLine[]): Headers;
  createNode(node: unknown): InternalNode;
  decoderEnded?: boolean;
}

const mailParserProto = MailParser.prototype as unknown as MailParserInternals;

function internalsAvailable(): boolean {
  return (
    typeof mailParserProto.processHeaders === 'function' &&
    typeof mailParserProto.createNode === 'function'
  );
}

const GB_WORD_RE = new RegExp(`=\\?(?:${GB_LABEL_PATTERN})(\\*[^?]*)?\\?`, 'gi');
const GB_2231_RE = new RegExp(`(\\*\\s*=\\s*"?)(?:${GB_LABEL_PATTERN})'`, 'gi');

/**
 * Normalises one raw header line ("binary" string, one char per byte) before mailparser decodes
 * it: raw 8-bit text becomes UTF-8 (mailparser reads header bytes as UTF-8), GB labels become
 * gb18030.
 */
export function normalizeRawHeaderLine(line: string): string {
  let out = line;
  if (/[\x80-\xff]/.test(out)) {
    const bytes = Buffer.from(out, 'latin1');
    if (!isValidUtf8(bytes)) out = Buffer.from(decodeBytesGuess(bytes), 'utf8').toString('latin1');
  }
  if (out.includes('=?')) {
    out = out.replace(GB_WORD_RE, (_m, lang: string | undefined) => `=?gb18030${lang ?? ''}?`);
  }
  if (out.includes("'")) out = out.replace(GB_2231_RE, "$1gb18030'");
  return out;
}

/** Bytes of body text one message level may still buffer (shared by its text parts). */
interface BodyBudget {
  left: number;
}

/** Said where body text was cut at MAX_BODY_TEXT_BYTES. */
const BODY_CUT_NOTE = '\n[正文过长，其余部分未读取]\n';

/**
 * Collects a text body and decodes it in one go when it ends (mailparser buffers bodies anyway).
 * Keeps at most what the level's budget allows; the rest is read and dropped.
 */
class BufferedDecodeStream extends Transform {
  private chunks: Buffer[] = [];
  private cut = false;
  constructor(
    private readonly decodeFn: (buf: Buffer) => string,
    private readonly budget: BodyBudget,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
    const keep = takeBudget(this.budget, chunk.length);
    if (keep < chunk.length) this.cut = true;
    if (keep > 0) this.chunks.push(keep === chunk.length ? chunk : chunk.subarray(0, keep));
    done();
  }
  override _flush(done: (err?: Error | null) => void) {
    try {
      const text = this.decodeFn(Buffer.concat(this.chunks)) + (this.cut ? BODY_CUT_NOTE : '');
      this.push(Buffer.from(text, 'utf8'));
      this.chunks = [];
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

function takeBudget(budget: BodyBudget, want: number): number {
  const n = Math.max(0, Math.min(want, budget.left));
  budget.left -= n;
  return n;
}

/** Passes body bytes through while the level's budget lasts (before a charset decoder). */
function budgetGate(budget: BodyBudget): Transform {
  let cut = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const keep = takeBudget(budget, chunk.length);
      if (keep < chunk.length) cut = true;
      done(null, keep > 0 ? chunk.subarray(0, keep) : undefined);
    },
    flush(done) {
      done(null, cut ? Buffer.from(BODY_CUT_NOTE, 'utf8') : undefined);
    },
  });
}

/** Transfer encodings this module decodes itself for attachments (see createNode below). */
type OwnTransferEncoding = 'base64' | 'uuencode';
const UU_ENCODINGS = new Set(['x-uuencode', 'uuencode', 'x-uue', 'uue']);
/** message/* parts that are reports or fragments, read as body text (never material). */
const REPORT_MESSAGE_TYPES = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/disposition-notification',
  'message/global-disposition-notification',
  'message/feedback-report',
  'message/rfc822-headers',
  'message/global-headers',
  'message/partial',
  'message/external-body',
]);
const VALID_CONTENT_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

/**
 * Lower-cased type/subtype. "application/pdf name=x.pdf" (a missing ';') keeps its type; an
 * invalid or missing value is text/plain (RFC 2045 5.2).
 */
function sanitizeContentType(value: string | false | undefined): string {
  const t = (value || '').trim().toLowerCase();
  if (VALID_CONTENT_TYPE.test(t)) return t;
  return /^([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)\s/.exec(t)?.[1] ?? 'text/plain';
}

/** Attachment header maps whose transfer decoding was taken over from mailparser. */
const ownTransfer = new WeakMap<Headers, OwnTransferEncoding>();

class BaosongMailParser extends MailParser {
  constructor(options: ConstructorParameters<typeof MailParser>[0]) {
    super(options);
    const self = this as unknown as { decoder: BodyDecoder };
    const original = self.decoder;
    const budget: BodyBudget = { left: MAX_BODY_TEXT_BYTES };
    self.decoder = {
      decodeStream(charset: string) {
        if (charset.startsWith(OWN_CHARSET_PREFIX)) {
          const label = charset.slice(OWN_CHARSET_PREFIX.length);
          return new BufferedDecodeStream((buf) => decodeBytes(buf, label), budget);
        }
        // charsets only libmime decodes (ISO-2022-JP, UTF-7 refused...): gate the bytes first
        const gate = budgetGate(budget);
        const decoder = original.decodeStream(charset);
        gate.on('error', (err) => decoder.emit('error', err));
        return Duplex.from({
          writable: gate,
          readable: gate.pipe(decoder as unknown as NodeJS.WritableStream) as unknown as Readable,
        }) as unknown as NodeJS.ReadWriteStream;
      },
    };
  }

  // Overrides MailParser#processHeaders (internal, not in the typings).
  processHeaders(lines: RawHeaderLine[]): Headers {
    const fixed = (lines || []).map((l) => ({ key: l.key, line: normalizeRawHeaderLine(l.line) }));
    return mailParserProto.processHeaders.call(this, fixed);
  }

  // Overrides MailParser#createNode (internal, not in the typings). Decides for every leaf part
  // whether it is body text or an attachment, with the rule Python's email package uses
  // (a part is an attachment when disposed as one, when it has a filename, or when it is not
  // text), except that text/calendar is an attachment and embedded messages are opened.
  createNode(node: unknown): InternalNode {
    const n = mailParserProto.createNode.call(this, node);
    if (!n.decoder) return n; // multipart container
    const sn = (node ?? {}) as SplitterNode;
    let ct = sanitizeContentType(n.contentType);
    // RFC 2046 5.1.5: in multipart/digest a part without Content-Type is message/rfc822
    if (
      sn.parentNode &&
      sn.parentNode.contentType === 'multipart/digest' &&
      sn.headers &&
      sn.headers.get('Content-Type').length === 0
    ) {
      ct = 'message/rfc822';
    }
    const disposition =
      typeof sn.disposition === 'string' ? sn.disposition.trim().toLowerCase() : '';
    const named = typeof sn.filename === 'string' && sn.filename.trim() !== '';

    let body: boolean;
    if (ct === 'message/rfc822' || ct === 'message/global' || ct === 'message/news') body = false;
    else if (REPORT_MESSAGE_TYPES.has(ct)) body = true;
    else if (ct.startsWith('text/') && ct !== 'text/calendar')
      body = disposition !== 'attachment' && !named;
    else body = false;

    if (body) {
      n.isAttachment = false;
      n.disposition = 'inline';
      n.contentType = ct === 'text/html' || ct === 'message/delivery-status' ? ct : 'text/plain';
      // let mailparser turn every HTML body into text when there is no plain text part
      // (it otherwise only converts a top-level HTML part or one next to plain text)
      if (n.contentType === 'text/html') n.root = true;
      // mailparser skips decoding for UTF-8/ASCII labels (invalid bytes become U+FFFD) and
      // libmime reads GB2312 as GBK; decodeBytes handles both, and unlabelled 8-bit text
      const cs = (n.charset || '').trim().replace(/^["']|["']$/g, '');
      if (canDecodeLabel(cs)) n.charset = OWN_CHARSET_PREFIX + cs;
    } else {
      n.isAttachment = true;
      n.contentType = ct;
      // Attachment bytes are decoded here rather than by mailsplit: base64 the way Python does
      // (stop at the padding, so trailing junk after it is not decoded into the file) and
      // uuencode, which mailsplit passes through undecoded.
      const enc = typeof sn.encoding === 'string' ? sn.encoding.trim().toLowerCase() : '';
      const own: OwnTransferEncoding | null =
        enc === 'base64' ? 'base64' : UU_ENCODINGS.has(enc) ? 'uuencode' : null;
      if (own) {
        const raw = new PassThrough();
        raw.on('end', () => {
          (this as unknown as MailParserInternals).decoderEnded = true;
        });
        n.decoder = raw;
        ownTransfer.set(n.headers, own);
      }
    }
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// transfer decoders

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  .split('')
  .forEach((c, i) => (B64[c.charCodeAt(0)] = i));

const MAX_PEEK = 4096;

/**
 * Streaming base64 decoder. Characters outside the alphabet are skipped and a trailing
 * incomplete quantum of 2 or 3 characters is decoded as if padded (like Python's non-strict
 * binascii.a2b_base64). Padding that completes a quantum ends the data, as in Python, unless the
 * next non-blank line is pure base64 again: then it is a concatenation of separately padded
 * blocks (some encoders flush like that) and decoding goes on. So junk after the padding (an
 * epilogue after a mangled closing boundary) is not decoded into the file, and nothing is
 * silently cut off either.
 */
export class Base64Decoder extends Transform {
  private quad = [0, 0, 0, 0];
  private pos = 0;
  private pads = 0;
  private state: 'data' | 'peek' | 'done' = 'data';
  private peeked: Buffer[] = [];
  /** Where decoded bytes go: the stream, or decodeAll's list. */
  private sink: ((b: Buffer) => void) | null = null;

  /** A whole body decoded at once, synchronously (no stream machinery). */
  static decodeAll(encoded: Buffer): Buffer {
    const d = new Base64Decoder();
    const out: Buffer[] = [];
    d.sink = (b) => out.push(b);
    d.feed(encoded);
    d.finish();
    return Buffer.concat(out);
  }

  private put(b: Buffer) {
    if (this.sink) this.sink(b);
    else this.push(b);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void) {
    this.feed(chunk);
    cb();
  }

  override _flush(cb: (err?: Error | null) => void) {
    this.finish();
    cb();
  }

  private finish() {
    if (this.state === 'peek') this.decidePeek(true);
    if (this.state === 'data' && this.pos >= 2) {
      const out = Buffer.alloc(2);
      this.put(out.subarray(0, this.emitPartial(out, 0)));
    }
  }

  private feed(chunk: Buffer) {
    if (this.state === 'done') return;
    if (this.state === 'peek') {
      this.peeked.push(chunk);
      this.decidePeek(false);
      return;
    }
    const out = Buffer.allocUnsafe(Math.ceil((chunk.length * 3) / 4) + 3);
    let o = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === 0x3d) {
        if (this.pos >= 2 && this.pos + ++this.pads >= 4) {
          o = this.emitPartial(out, o);
          this.pads = 0;
          this.state = 'peek';
          this.peeked = [chunk.subarray(i + 1)];
          break;
        }
        continue;
      }
      const v = B64[c]!;
      if (v < 0) continue;
      this.pads = 0;
      this.quad[this.pos++] = v;
      if (this.pos === 4) {
        const [a, b, d, e] = this.quad as [number, number, number, number];
        out[o++] = (a << 2) | (b >> 4);
        out[o++] = ((b & 15) << 4) | (d >> 2);
        out[o++] = ((d & 3) << 6) | e;
        this.pos = 0;
      }
    }
    if (o) this.put(out.subarray(0, o));
    if (this.state === 'peek') this.decidePeek(false);
  }

  /** After a closing pad: look at the next non-blank line to decide between more data and junk. */
  private decidePeek(final: boolean) {
    const buf = Buffer.concat(this.peeked);
    // skip the rest of the padded line (more '=' or whitespace) and blank lines
    let i = 0;
    while (
      i < buf.length &&
      (buf[i] === 0x3d || buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0d || buf[i] === 0x0a)
    )
      i++;
    let end = buf.indexOf(0x0a, i);
    if (end < 0) {
      if (!final && buf.length < MAX_PEEK) return; // wait for the whole line
      end = buf.length;
    }
    const line = buf.subarray(i, end).toString('latin1').trimEnd();
    this.peeked = [];
    if (line && /^[A-Za-z0-9+/]+=*$/.test(line)) {
      this.state = 'data';
      this.feed(buf.subarray(i));
    } else {
      this.state = 'done';
    }
  }

  private emitPartial(out: Buffer, o: number): number {
    const [a, b, d] = this.quad as [number, number, number, number];
    if (this.pos >= 2) out[o++] = (a << 2) | (b >> 4);
    if (this.pos >= 3) out[o++] = ((b & 15) << 4) | (d >> 2);
    this.pos = 0;
    return o;
  }
}

/** Base64 text that Node's own decoder reads exactly as Base64Decoder does: the alphabet and
 * line breaks, padding only at the end. */
const PLAIN_BASE64 = /^[A-Za-z0-9+/\r\n]*=*[\r\n\t ]*$/;

/**
 * A whole base64 body decoded with Base64Decoder's semantics. Well-formed text (nearly all
 * mail) goes to Node's native decoder, some ten times faster than the byte loop; anything
 * else (junk characters, padding in the middle) to Base64Decoder itself.
 */
export function decodeBase64(encoded: Buffer): Buffer {
  const text = encoded.toString('latin1');
  return PLAIN_BASE64.test(text) ? Buffer.from(text, 'base64') : Base64Decoder.decodeAll(encoded);
}

/**
 * Streaming uudecoder with the semantics of Python's email package: data starts after a
 * "begin <octal mode> <name>" line and ends at "end" (or an empty line); each line's first
 * character gives its byte count. Without a begin line (in the first MiB) the input is passed
 * through unchanged, as Python returns such a payload undecoded.
 */
export class UuDecoder extends Transform {
  private pending: Buffer[] = [];
  private state: 'search' | 'data' | 'end' | 'passthrough' = 'search';
  private seen: Buffer[] = [];
  private seenBytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void) {
    if (this.state === 'passthrough') {
      this.push(chunk);
      return cb();
    }
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0x0a) continue;
      this.pending.push(chunk.subarray(start, i + 1));
      this.line(Buffer.concat(this.pending));
      this.pending = [];
      start = i + 1;
      if (this.passingThrough()) {
        this.push(chunk.subarray(start));
        return cb();
      }
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
    cb();
  }

  private passingThrough(): boolean {
    return this.state === 'passthrough';
  }

  override _flush(cb: (err?: Error | null) => void) {
    if (this.pending.length) this.line(Buffer.concat(this.pending));
    this.pending = [];
    if (this.state === 'search') for (const b of this.seen) this.push(b);
    cb();
  }

  private line(raw: Buffer) {
    if (this.state === 'search') {
      this.seen.push(raw);
      this.seenBytes += raw.length;
      if (/^begin [0-7]+( |\r?\n?$)/.test(raw.toString('latin1'))) {
        this.state = 'data';
        this.seen = [];
      } else if (this.seenBytes > 1 << 20) {
        this.state = 'passthrough';
        for (const b of this.seen) this.push(b);
        this.seen = [];
      }
      return;
    }
    if (this.state !== 'data') return;
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
    const line = raw.subarray(0, end);
    if (!line.length || line.toString('latin1').trim() === 'end') {
      this.state = 'end';
      return;
    }
    const n = (line[0]! - 32) & 63;
    const out = Buffer.alloc(n);
    let o = 0;
    const sextet = (i: number) => ((line[i] ?? 32) - 32) & 63;
    for (let i = 1; o < n; i += 4) {
      const a = sextet(i);
      const b = sextet(i + 1);
      const c = sextet(i + 2);
      const d = sextet(i + 3);
      out[o++] = (a << 2) | (b >> 4);
      if (o < n) out[o++] = ((b & 15) << 4) | (c >> 2);
      if (o < n) out[o++] = ((c & 3) << 6) | d;
    }
    this.push(out);
  }
}

// ---------------------------------------------------------------------------------------------
// content-addressed storage

interface Stored {
  sha256: string;
  size: number;
  path: string;
  /** Over the cap: nothing kept (sha256 and path ''), size is the whole decoded size. */
  oversized?: true;
}

/** A stored part, with its bytes when they were collected in memory and asked for. */
interface StoredPart extends Stored {
  bytes?: Buffer;
}

/**
 * Streams content through sha256 into a temp file, then moves it to filesDir/<aa>/<sha256>.
 * Past `cap` bytes nothing more is written and the temp file is deleted at once; the content is
 * still read to its end (the MIME parser waits for it), and counted, and the result is oversized.
 * With `memory` (the whole message is in memory, so its parts are small) the content is
 * collected and written in one go instead: a streamed temp file costs more in file-system calls
 * than the parse of a small part.
 */
async function storeStream(
  content: Readable,
  opts: ParseOptions,
  signal: AbortSignal,
  encoding: OwnTransferEncoding | null,
  cap: number,
  memory: { keepBytes: boolean } | null,
): Promise<StoredPart> {
  if (memory) return collectAndStore(content, opts, signal, encoding, cap, memory.keepBytes);
  const decoder = transferDecoder(encoding);
  const tmp = path.join(opts.tmpDir, `part-${process.pid}-${randomUUID()}.tmp`);
  const hash = createHash('sha256');
  let size = 0;
  let over = false;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (!over && size > cap) {
        over = true;
        void rm(tmp, { force: true }).catch(() => undefined);
      }
      if (over) return done();
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    const out = createWriteStream(tmp, { flags: 'wx' });
    if (decoder) await pipeline(content, decoder, hasher, out, { signal });
    else await pipeline(content, hasher, out, { signal });
    if (over) {
      await rm(tmp, { force: true });
      return { sha256: '', size, path: '', oversized: true };
    }
    const sha256 = hash.digest('hex');
    const dest = contentPath(opts.filesDir, sha256);
    if (existsSync(dest)) {
      await rm(tmp, { force: true });
    } else {
      try {
        moveIn(tmp, dest);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        // tmpDir on another filesystem: copy under a temp name beside dest, then rename
        const near = `${dest}.${randomUUID()}.tmp`;
        await copyFile(tmp, near);
        await rename(near, dest);
        await rm(tmp, { force: true });
      }
    }
    return { sha256, size, path: dest };
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** The streaming decoder for a transfer encoding decoded here (none: mailparser decoded it). */
function transferDecoder(encoding: OwnTransferEncoding | null): Transform | undefined {
  if (encoding === 'base64') return new Base64Decoder();
  if (encoding === 'uuencode') return new UuDecoder();
  return undefined;
}

/**
 * storeStream for a part of a message held in memory: collected, hashed, written at once.
 * Base64 is decoded in one go (decodeBase64) rather than streamed.
 */
async function collectAndStore(
  content: Readable,
  opts: ParseOptions,
  signal: AbortSignal,
  encoding: OwnTransferEncoding | null,
  cap: number,
  keepBytes: boolean,
): Promise<StoredPart> {
  const whole = encoding === 'base64';
  let chunks: Buffer[] = [];
  let size = 0;
  const decoder = whole ? undefined : transferDecoder(encoding);
  await drain(
    decoder ? content.pipe(forwardErrors(content, decoder)) : content,
    signal,
    (chunk) => {
      size += chunk.length;
      // base64 is capped once decoded (the message is small, so its encoded form is too)
      if (!whole && size > cap) chunks = [];
      else chunks.push(chunk);
    },
  );
  let data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  if (whole) {
    data = decodeBase64(data);
    size = data.length;
  }
  if (size > cap) return { sha256: '', size, path: '', oversized: true };
  const sha256 = createHash('sha256').update(data).digest('hex');
  const dest = contentPath(opts.filesDir, sha256);
  if (!existsSync(dest)) {
    const tmp = path.join(opts.tmpDir, `part-${process.pid}-${randomUUID()}.tmp`);
    try {
      writeTemp(tmp, data);
      moveIn(tmp, dest);
    } catch (err) {
      rmSync(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // tmpDir on another filesystem: write beside dest instead
      const near = `${dest}.${randomUUID()}.tmp`;
      writeTemp(near, data);
      renameSync(near, dest);
    }
  }
  return { sha256, size, path: dest, ...(keepBytes ? { bytes: data } : {}) };
}

/**
 * Reads a stream to its end, chunk by chunk. Lighter than stream.pipeline into a Writable,
 * which for every part of every message also builds an AbortController and aborts it (a
 * DOMException apiece) once done.
 */
function drain(stream: Readable, signal: AbortSignal, onChunk: (b: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stream.destroy();
      reject(signal.reason as Error);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    let ended = false;
    stream.on('data', onChunk);
    stream.once('end', () => {
      ended = true;
      settle();
    });
    stream.once('error', settle);
    // destroyed without an error (the parse was given up): not the whole part
    stream.once('close', () => {
      if (!ended) settle(new Error('the part ended early'));
    });
  });
}

/** `to`, failing when `from` (piped into it) fails. */
function forwardErrors(from: Readable, to: Transform): Transform {
  from.once('error', (err) => to.destroy(err));
  return to;
}

/** Writes a new temp file, making its folder the first time. Synchronous: the parse thread
 * has nothing else to do meanwhile, and a write handed to libuv's threads measured slower. */
function writeTemp(tmp: string, data: Buffer): void {
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path.dirname(tmp), { recursive: true });
    writeFileSync(tmp, data, { flag: 'wx' });
  }
}

// ---------------------------------------------------------------------------------------------
// one level of parsing

/** An attachment of one message level, before nested messages are opened. */
interface LevelPart extends StoredPart {
  filename: string;
  contentType: string;
  disposition: string | null;
  cid: string | null;
}

interface LevelResult {
  headers: Headers;
  headerLines: HeaderLines;
  parts: LevelPart[];
  text: string;
  html: string;
}

function structured(v: HeaderValue | undefined): StructuredHeader | null {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Date) return null;
  return 'params' in v && 'value' in v ? (v as StructuredHeader) : null;
}

function paramOf(headers: Headers, header: string, param: string): string | undefined {
  const s = structured(headers.get(header));
  const v = s?.params?.[param];
  return typeof v === 'string' ? v : undefined;
}

function attachmentFilename(att: AttachmentStream): string {
  const fromHeaders =
    paramOf(att.headers, 'content-disposition', 'filename') ??
    paramOf(att.headers, 'content-type', 'name');
  return cleanFilename(fromHeaders ?? att.filename ?? '');
}

/**
 * The sender's filename as data we keep and show: control characters (a decoded name may even
 * hold a newline or NUL) become spaces, zero-width and bidi formatting characters (which make
 * "x\u202Efdp.exe" look like "xexe.pdf") are removed, and a name over MAX_FILENAME_CHARS is cut
 * short, keeping its extension after an ellipsis. Paths ("../", "C:\\") and reserved names (CON) are left
 * as written: the name is never used to name a file (files are stored under their sha256).
 */
export function cleanFilename(name: string, max = MAX_FILENAME_CHARS): string {
  const s = name.replace(FILENAME_JUNK, ' ').replace(FILENAME_INVISIBLE, '').trim();
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  const ext = /\.[\p{L}\p{N}_-]{1,10}$/u.exec(s)?.[0] ?? '';
  const keep = Math.max(1, max - Array.from(ext).length - 1);
  return `${chars.slice(0, keep).join('').trimEnd()}…${ext}`;
}

/** The part's declared type, or the one the parse settled on when the header is missing or invalid. */
function declaredType(att: AttachmentStream): string {
  const s = structured(att.headers.get('content-type'));
  const t = (s?.value || '').trim().toLowerCase();
  return VALID_CONTENT_TYPE.test(t) ? t : att.contentType || 'application/octet-stream';
}

interface Ctx {
  opts: ParseOptions;
  /** The message came whole in memory (it is small): parts are collected, not streamed. */
  memory: boolean;
  signal: AbortSignal;
  maxAttachmentBytes: number;
  maxMessageBytes: number;
  /** Bytes of attachments stored so far for this message, all levels together. */
  stored: { bytes: number };
}

/** How many bytes the next part may have: an attachment, or an embedded message to open. */
function partCap(ctx: Ctx, embeddedMessage: boolean): number {
  const left = Math.max(0, ctx.maxMessageBytes - ctx.stored.bytes);
  return embeddedMessage ? left : Math.min(ctx.maxAttachmentBytes, left);
}

/** Stores one part within the message's limits and counts what was kept. */
async function storePart(
  content: Readable,
  ctx: Ctx,
  signal: AbortSignal,
  embeddedMessage: boolean,
  encoding: OwnTransferEncoding | null,
): Promise<StoredPart> {
  const stored = await storeStream(
    content,
    ctx.opts,
    signal,
    encoding,
    partCap(ctx, embeddedMessage),
    // an embedded message's bytes are parsed next, from memory
    ctx.memory ? { keepBytes: embeddedMessage } : null,
  );
  if (!stored.oversized) ctx.stored.bytes += stored.size;
  return stored;
}

/**
 * Whether the file ends in a line starting with "--" that has no line break: a closing boundary
 * that mailsplit would otherwise read as body content (Python accepts it as a delimiter).
 */
async function endsInUnterminatedDelimiter(source: MessageSource): Promise<boolean> {
  if (source.bytes)
    return unterminatedAtEnd(source.bytes.subarray(-TAIL_BYTES), source.bytes.length);
  const fh = await open(source.path, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return unterminatedAtEnd(buf, size);
  } finally {
    await fh.close();
  }
}

const TAIL_BYTES = 4096;

/** The check on the file's last bytes (`tail`) out of `size`. */
function unterminatedAtEnd(tail: Buffer, size: number): boolean {
  const len = tail.length;
  if (!len) return false;
  const last = tail[len - 1];
  if (last === 0x0a || last === 0x0d) return false;
  const nl = Math.max(tail.lastIndexOf(0x0a), tail.lastIndexOf(0x0d));
  if (nl < 0 && size > len) return false;
  return tail.subarray(nl + 1, nl + 3).toString('latin1') === '--';
}

/** A message to parse: its file, and its content when that is in memory already. */
interface MessageSource {
  path: string;
  bytes?: Buffer;
}

/** Appends CRLF at the end of the stream. */
function appendLineBreak(): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, chunk);
    },
    flush(done) {
      done(null, Buffer.from('\r\n'));
    },
  });
}

async function parseLevel(source: MessageSource, ctx: Ctx): Promise<LevelResult> {
  const rawPath = source.path;
  const terminate = await endsInUnterminatedDelimiter(source).catch(() => false);
  return new Promise<LevelResult>((resolve, reject) => {
    let settled = false;
    let headers: Headers = new Map();
    let headerLines: HeaderLines = [];
    let text = '';
    let html = '';
    const parts: LevelPart[] = [];
    let pending: Promise<void> = Promise.resolve();
    let parserEnded = false;

    const parser = new BaosongMailParser({
      skipHtmlToText: false,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      checksumAlgo: false,
      ignoreEmbedded: true,
      maxHtmlLengthToParse: 20 * 1024 * 1024,
      // read by mailsplit (mailparser hands its options on); not in mailparser's typings
      ...({ maxChildNodes: MAX_MIME_PARTS } as object),
    });
    const input: Readable = source.bytes
      ? Readable.from([source.bytes])
      : createReadStream(rawPath);
    // aborts attachment writes still in flight when this level fails
    const local = new AbortController();

    const fail = (what: string, err: unknown) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      const msg = err instanceof Error ? err.message : String(err);
      local.abort(err);
      input.destroy();
      parser.destroy();
      const error = new Error(`${what} (${rawPath}): ${msg}`, { cause: err });
      // let aborted attachment writes remove their temp files first (bounded wait)
      const cleaned = pending.then(
        () => undefined,
        () => undefined,
      );
      void Promise.race([cleaned, delay(1000, undefined, { ref: false })]).then(() =>
        reject(error),
      );
    };
    const onAbort = () => fail('parse aborted', ctx.signal.reason ?? 'aborted');
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (settled || !parserEnded) return;
      pending.then(
        () => {
          if (settled) return;
          settled = true;
          ctx.signal.removeEventListener('abort', onAbort);
          resolve({ headers, headerLines, parts, text, html });
        },
        (err) => fail('storing attachment failed', err),
      );
    };

    parser.on('headers', (h: Headers) => {
      headers = h;
    });
    parser.on('headerLines', (l: HeaderLines) => {
      headerLines = l;
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        text = data.text ?? '';
        html = data.html ?? '';
        if (data.textConversionError && html && !text.trim()) text = roughHtmlToText(html);
        return;
      }
      const att = data;
      const part: Omit<LevelPart, keyof Stored> = {
        filename: attachmentFilename(att),
        contentType: declaredType(att),
        disposition: att.contentDisposition ? att.contentDisposition.toLowerCase() : null,
        cid: att.cid ?? null,
      };
      const slot = parts.length;
      parts.push(undefined as unknown as LevelPart);
      pending = pending.then(async () => {
        try {
          const own = ownTransfer.get(att.headers) ?? null;
          const embedded = MESSAGE_TYPES.has(part.contentType);
          const stored = await storePart(att.content, ctx, local.signal, embedded, own);
          parts[slot] = { ...part, ...stored };
        } finally {
          att.release?.();
        }
      });
      pending.catch((err) => fail('storing attachment failed', err));
    });
    parser.on('error', (err: Error & { code?: string }) =>
      fail(
        err.code === 'EMAXLEN'
          ? `MIME parse failed: structure over the parser's limits (more than ${MAX_MIME_PARTS} parts, or a header block over 1 MB)`
          : 'MIME parse failed',
        err,
      ),
    );
    parser.on('end', () => {
      parserEnded = true;
      finish();
    });
    input.on('error', (err: Error) => fail('reading message file failed', err));
    if (terminate) {
      const tail = appendLineBreak();
      tail.on('error', (err) => fail('reading message file failed', err));
      input.pipe(tail).pipe(parser);
    } else {
      input.pipe(parser);
    }
  });
}

const ENTITY: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITY[e.toLowerCase()] ?? m;
  });
}

/** Fallback when mailparser could not convert the HTML (too deep, too long). */
function roughHtmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
      .replace(/<[^>]*>/g, ' '),
  )
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n\n')
    .trim();
}

/** http(s)/ftp hrefs in the HTML, entity-decoded, in order, without duplicates. */
export function htmlLinks(html: string): string[] {
  const out: string[] = [];
  const re = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))/gi;
  for (const m of html.matchAll(re)) {
    const url = decodeEntities((m[1] ?? m[2] ?? m[3] ?? '').trim());
    if (/^(https?|ftp):\/\//i.test(url) && !out.includes(url)) out.push(url);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// assembling ParsedMail

function headerString(v: HeaderValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length ? headerString(v[0] as HeaderValue) : '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && 'text' in v && typeof (v as AddressObject).text === 'string') {
    return (v as AddressObject).text;
  }
  return '';
}

function firstAddressObject(v: HeaderValue | undefined): AddressObject | null {
  if (!v || typeof v !== 'object' || v instanceof Date) return null;
  const first = Array.isArray(v) ? v[0] : v;
  if (first && typeof first === 'object' && 'value' in first && Array.isArray(first.value)) {
    return first as AddressObject;
  }
  return null;
}

function rawHeaderValue(line: string): string {
  const unfolded = line.replace(/\r?\n[ \t]*/g, ' ');
  const colon = unfolded.indexOf(':');
  return decodeBinaryStringGuess(colon >= 0 ? unfolded.slice(colon + 1).trim() : unfolded.trim());
}

function buildHeaders(headerLines: HeaderLines, processed: Headers): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const { key, line } of headerLines) {
    if (!key || key in out) continue;
    if (ADDRESS_HEADERS.has(key) && processed.has(key)) out[key] = headerString(processed.get(key));
    else if (key === 'subject') out[key] = headerString(processed.get('subject'));
    else out[key] = rawHeaderValue(line);
  }
  return { ...out };
}

interface MessageSummary {
  messageId: string | null;
  fromAddress: string | null;
  fromName: string | null;
  returnPath: string | null;
  subject: string;
  headers: Record<string, string>;
  contentType: string;
}

function summarize(level: LevelResult): MessageSummary {
  const h = level.headers;
  const from = firstAddressObject(h.get('from'));
  const mailboxes = (from?.value ?? []).flatMap((a) => (a.group ? a.group : [a]));
  const mailbox = mailboxes.find((a) => a.address) ?? mailboxes[0];
  let returnPath: string | null = null;
  if (h.has('return-path')) {
    const rp = firstAddressObject(h.get('return-path'));
    returnPath = (rp?.value[0]?.address ?? '').trim().toLowerCase();
  }
  // a Message-ID or address never holds white space or control characters; an encoded word
  // can smuggle CR LF into either, and both end up in headers we write (In-Reply-To, To)
  const mid = headerString(h.get('message-id'))
    .trim()
    .replace(/^<|>$/g, '')
    .replace(/[\s\x00-\x1f\x7f<>]+/g, '');
  const ct = structured(h.get('content-type'));
  return {
    messageId: mid || null,
    fromAddress: mailboxAddress(mailbox?.address),
    fromName: from ? (mailbox?.name ?? '') : null,
    returnPath,
    subject: headerString(h.get('subject')).replace(/[\r\n\x00]+/g, ' '),
    headers: buildHeaders(level.headerLines, h),
    contentType: sanitizeContentType(ct?.value),
  };
}

/**
 * A From address we can record and answer: local@domain, without white space or control
 * characters (an encoded word can smuggle CR LF in). "moderator" or "undisclosed-recipients:"
 * are not addresses: null (the display name is kept, the raw mail too).
 */
function mailboxAddress(address: string | undefined): string | null {
  const a = (address ?? '').replace(/[\s\x00-\x1f\x7f]+/g, '').toLowerCase();
  return /^[^@]+@[^@]+$/.test(a) ? a : null;
}

function isReferencedCid(html: string, cid: string | null): boolean {
  if (!cid || !html) return false;
  const lower = html.toLowerCase();
  const c = cid.toLowerCase();
  return lower.includes(`cid:${c}`) || lower.includes(`cid:${encodeURIComponent(c).toLowerCase()}`);
}

async function parseTree(source: MessageSource, ctx: Ctx, depth: number): Promise<ParsedMail> {
  const level = await parseLevel(source, ctx);
  const summary = summarize(level);
  const maxDepth = ctx.opts.maxDepth ?? MAX_FORWARD_DEPTH;

  const attachments: ParsedAttachment[] = [];
  const nestedTexts: string[] = [];
  for (const p of level.parts) {
    let nested: ParsedMail | null = null;
    if (MESSAGE_TYPES.has(p.contentType) && depth < maxDepth && !p.oversized) {
      // the embedded message's own attachments count against the limit instead of it
      ctx.stored.bytes -= p.size;
      try {
        nested = await parseTree({ path: p.path, bytes: p.bytes }, ctx, depth + 1);
      } catch (err) {
        // an unreadable embedded message stays listed as the message/rfc822 file it is
        if (ctx.signal.aborted) throw err;
        ctx.stored.bytes += p.size;
      }
    }
    if (nested) {
      const label = nested.subject.trim() || '(no subject)';
      for (const a of nested.attachments) {
        attachments.push({
          ...a,
          forwardedFrom: a.forwardedFrom ? `${label} > ${a.forwardedFrom}` : label,
        });
      }
      nestedTexts.push(
        `\n\n---------- Forwarded message ----------\n` +
          (nested.fromAddress
            ? `From: ${nested.fromName ? `${nested.fromName} ` : ''}<${nested.fromAddress}>\n`
            : '') +
          `Subject: ${nested.subject}\n\n${nested.text}`,
      );
      continue;
    }
    let filename = p.filename;
    if (!filename && TNEF_TYPES.has(p.contentType)) filename = 'winmail.dat';
    if (!p.oversized && isTnefPart(p.contentType, filename)) {
      const inner = await openTnef(p, ctx);
      if (inner) {
        attachments.push(...inner);
        continue;
      }
    }
    attachments.push({
      filename,
      contentType: p.contentType,
      size: p.size,
      sha256: p.sha256,
      path: p.path,
      inline: p.disposition === 'inline' || isReferencedCid(level.html, p.cid),
      forwardedFrom: '',
      ...(p.oversized ? { oversized: true as const } : {}),
    });
  }

  let text = level.text;
  const links = htmlLinks(level.html).filter((u) => !text.includes(u));
  if (links.length)
    text = `${text}${text && !text.endsWith('\n') ? '\n' : ''}\n${links.join('\n')}\n`;
  text += nestedTexts.join('');

  return { ...summary, text, attachments };
}

/**
 * The files inside a stored winmail.dat, stored in its place within the message's limits; null
 * (keep winmail.dat as it is) when it cannot be decoded or holds no file.
 */
async function openTnef(p: LevelPart, ctx: Ctx): Promise<ParsedAttachment[] | null> {
  const files = await extractTnef(p.path, ctx.signal);
  if (!files || files.length === 0) return null;
  ctx.stored.bytes -= p.size; // the files inside count instead of the container
  const out: ParsedAttachment[] = [];
  for (const f of files) {
    const stored = await storePart(Readable.from([f.data]), ctx, ctx.signal, false, null);
    out.push({
      filename: cleanFilename(f.filename),
      contentType: f.contentType,
      size: stored.size,
      sha256: stored.sha256,
      path: stored.path,
      inline: false,
      forwardedFrom: '',
      ...(stored.oversized ? { oversized: true as const } : {}),
    });
  }
  return out;
}

/**
 * Parses one raw RFC 5322 message file. Attachments are streamed to
 * `filesDir/<first 2 hex of sha256>/<sha256>` (via a temp file in tmpDir); embedded messages are
 * opened recursively up to maxDepth and their attachments listed with `forwardedFrom`.
 * Never throws synchronously; rejects with a descriptive Error on unreadable input, parser
 * failure, storage failure or timeout. `bytes`, when the caller holds the file's content
 * already, is parsed instead of reading the file, and the parts are written in one go each.
 */
export async function parseMessageFile(
  rawPath: string,
  opts: ParseOptions,
  bytes?: Buffer,
): Promise<ParsedMail> {
  if (!internalsAvailable()) {
    throw new Error(
      'mailparser internals (processHeaders/createNode) missing: mailparser version unsupported',
    );
  }
  // streamed parts need the temp folder (parts of a message in memory make it when missing)
  if (!bytes) await mkdir(opts.tmpDir, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? PARSE_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const ctx: Ctx = {
      opts,
      memory: bytes !== undefined,
      signal: controller.signal,
      maxAttachmentBytes: opts.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_MB * MB,
      maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_MB * MB,
      stored: { bytes: 0 },
    };
    return await parseTree({ path: rawPath, bytes }, ctx, 0);
  } catch (err) {
    if (controller.signal.aborted) {
      throw new Error(`parsing ${rawPath} timed out after ${timeoutMs} ms`, { cause: err });
    }
    throw err instanceof Error ? err : new Error(`parsing ${rawPath} failed: ${String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
