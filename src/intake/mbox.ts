// mbox files (what Thunderbird keeps and webmail exports) split into messages, streaming:
// each message flows through as it is read, so a 2 GB mailbox with 300 MB videos needs no
// more memory than a line. Also what the backfill needs from a message before it is
// ingested: its Message-ID (to skip what is already recorded) and the time the server
// received it (the top Received header), read from the header block only.
import { once } from 'node:events';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';

/** A header block longer than this is not waited for: the message starts flowing anyway. */
const HEADER_PEEK_MAX = 256 * 1024;
/** Body lines are passed on in slices of about this size, not one write per line. */
const FLUSH_BYTES = 64 * 1024;

export interface HeaderPeek {
  /** Message-ID without <>, as the parser records it; null when absent. */
  messageId: string | null;
  /** Date of the topmost Received header: when the mailbox's server took the message. */
  received: Date | null;
}

export interface MboxMessage {
  /** 1-based position in the file. */
  index: number;
  /** The message's bytes, without the "From " line and with ">From " unescaped. */
  source: Readable;
  /** The envelope line ("From sender date"); its date is the last fallback for the time. */
  fromLine: string;
  fromLineDate: Date | null;
  headers: HeaderPeek;
}

/** True when the file starts like an mbox ("From " at the very start). */
export function looksLikeMbox(file: string): boolean {
  return readHead(file, 5).toString('latin1') === 'From ';
}

/** True when the file starts like a single message (a header line). */
export function looksLikeMessage(file: string): boolean {
  const head = readHead(file, 512).toString('latin1');
  return /^[A-Za-z0-9-]+:[ \t]?\S/.test(head);
}

function readHead(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

// "From sender Wed May 20 14:32:00 2015", "From - Wed May 20 ...", "From x@y Wed Jan  1 ..."
const SEPARATOR = /^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{1,2}:\d{2}/;

/** asctime in the envelope line; a zone when given (Gmail), else UTC as a last resort. */
export function fromLineDate(line: string): Date | null {
  const m = /([A-Z][a-z]{2}) +(\d{1,2}) (\d{1,2}:\d{2}(?::\d{2})?)(?: ([+-]\d{4}))? (\d{4})/.exec(
    line,
  );
  if (!m) return null;
  const d = new Date(`${m[2]} ${m[1]} ${m[5]} ${m[3]} ${m[4] ?? '+0000'}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Message-ID and the top Received date from a raw header block. */
export function peekHeaders(block: string): HeaderPeek {
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  let messageId: string | null = null;
  let received: Date | null = null;
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] ?? '';
    if (name === 'message-id' && messageId === null) {
      messageId = value.trim().replace(/^<|>$/g, '').trim() || null;
    } else if (name === 'received' && received === null) {
      const when = value
        .slice(value.lastIndexOf(';') + 1)
        .replace(/\([^)]*\)/g, '')
        .trim();
      const d = new Date(when);
      if (value.includes(';') && !Number.isNaN(d.getTime())) received = d;
    }
  }
  return { messageId, received };
}

const isBlank = (line: Buffer) =>
  line.length === 1 ? line[0] === 0x0a : line.length === 2 && line[0] === 0x0d && line[1] === 0x0a;
const startsWith = (line: Buffer, s: string) =>
  line.length >= s.length && line.toString('latin1', 0, s.length) === s;

interface Current {
  stream: PassThrough;
  done: Promise<void>;
  settled: boolean;
  error: unknown;
  header: Buffer[] | null;
  headerBytes: number;
  out: Buffer[];
  outBytes: number;
  fromLine: string;
  index: number;
}

/**
 * Calls `handler` for each message of the mbox, one at a time, in order; the handler must
 * read (or may abandon) `source`. Resolves with the number of messages; rejects with the
 * first error a handler threw. `onBytes` reports progress in bytes read.
 */
export async function forEachMboxMessage(
  file: string,
  handler: (m: MboxMessage) => Promise<void>,
  onBytes?: (bytes: number) => void,
): Promise<number> {
  let cur: Current | null = null;
  let count = 0;
  let first = true;
  // The blank line before a "From " separator belongs to the mbox, not the message: hold it
  // back until the next line shows which it is.
  let heldBlank: Buffer | null = null;

  const start = (fromLine: string): Current => {
    count++;
    return {
      stream: new PassThrough(),
      done: Promise.resolve(),
      settled: false,
      error: undefined,
      header: [],
      headerBytes: 0,
      out: [],
      outBytes: 0,
      fromLine,
      index: count,
    };
  };

  const begin = (c: Current) => {
    const headerText = Buffer.concat(c.header ?? []).toString('utf8');
    c.out.unshift(...(c.header ?? []));
    c.outBytes += c.headerBytes;
    c.header = null;
    c.done = handler({
      index: c.index,
      source: c.stream,
      fromLine: c.fromLine,
      fromLineDate: fromLineDate(c.fromLine),
      headers: peekHeaders(headerText),
    }).then(
      () => {
        c.settled = true;
      },
      (err: unknown) => {
        c.settled = true;
        c.error = err;
      },
    );
  };

  const flush = async (c: Current) => {
    if (c.header !== null) return;
    const data = c.out.length === 1 ? c.out[0]! : Buffer.concat(c.out);
    c.out = [];
    c.outBytes = 0;
    if (c.settled || c.stream.destroyed || data.length === 0) return;
    if (!c.stream.write(data)) {
      await Promise.race([once(c.stream, 'drain'), c.done]);
    }
  };

  const push = async (c: Current, line: Buffer) => {
    if (c.header !== null) {
      c.header.push(line);
      c.headerBytes += line.length;
      if (isBlank(line) || c.headerBytes > HEADER_PEEK_MAX) begin(c);
      return;
    }
    c.out.push(line);
    c.outBytes += line.length;
    if (c.outBytes >= FLUSH_BYTES) await flush(c);
  };

  const finish = async (c: Current) => {
    if (c.header !== null) begin(c);
    await flush(c);
    if (!c.stream.destroyed) c.stream.end();
    await c.done;
    if (!c.stream.destroyed) c.stream.destroy();
    if (c.error !== undefined) throw c.error;
  };

  let carry: Buffer = Buffer.alloc(0);
  const onLine = async (line: Buffer) => {
    if (startsWith(line, 'From ') && (first || heldBlank !== null)) {
      const text = line.toString('latin1').replace(/\r?\n$/, '');
      if (first || SEPARATOR.test(text)) {
        heldBlank = null;
        if (cur) await finish(cur);
        cur = start(text);
        first = false;
        return;
      }
    }
    first = false;
    if (!cur) return; // bytes before the first separator: not a message
    if (heldBlank) {
      await push(cur, heldBlank);
      heldBlank = null;
    }
    if (isBlank(line)) {
      heldBlank = line;
      return;
    }
    // mboxrd: a body line ">From " (any number of ">") was escaped once on the way in.
    if (line[0] === 0x3e && /^>+From /.test(line.toString('latin1', 0, Math.min(line.length, 64))))
      line = line.subarray(1);
    await push(cur, line);
  };

  for await (const chunk of createReadStream(file, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    let data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, at);
      if (nl < 0) break;
      await onLine(data.subarray(at, nl + 1));
      if ((cur as Current | null)?.error !== undefined) break;
      at = nl + 1;
    }
    const failed = (cur as Current | null)?.error;
    if (failed !== undefined) throw failed;
    // Copy the tail: the chunk it points into is about to be released.
    carry = Buffer.from(data.subarray(at));
    data = Buffer.alloc(0);
  }
  if (carry.length) await onLine(carry);
  if (cur) await finish(cur);
  return count;
}
