// winmail.dat (TNEF): Outlook's wrapping of a rich-text mail. The files inside become the
// message's attachments; when that cannot be done, winmail.dat stays the attachment it is.
//
// The decoding is done by node-tnef (ISC), the only TNEF package on npm; it is run in a worker
// thread because it is not fit to run on hostile input inside the daemon: it replaces
// String.prototype.replaceAll for the whole process, logs to stdout through bunyan, copies the
// whole file into a JS array for each attribute (16 MB took 1 GB and 7 s), and trusts every
// length field in the file. So, before it sees a byte:
//  - files over MAX_TNEF_BYTES are not opened;
//  - scanTnef() walks the attribute framing itself (MS-OXTNEF 2.1.3) with bounds checks, so a
//    length pointing past the end never reaches node-tnef; the scan also reads what node-tnef
//    does not: the long filename and MIME type from each attachment's MAPI properties (its
//    attAttachTitle is an 8.3 name in the sender's code page) and the OEM code page;
//  - the worker has a heap limit, a timeout and its own stdout; whatever it does, the daemon
//    goes on, and its result is only used when it agrees with the scan (count and sizes).
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import iconv from 'iconv-lite';
import { decodeBytesGuess } from '../core/charset.js';
import { MAX_TNEF_BYTES, TNEF_TIMEOUT_MS, TNEF_WORKER_HEAP_MB } from '../core/limits.js';

export interface TnefFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

const TNEF_CONTENT_TYPES = new Set(['application/ms-tnef', 'application/vnd.ms-tnef']);

/** Whether a part is a TNEF blob: by its type, or by the name Outlook always gives it. */
export function isTnefPart(contentType: string, filename: string): boolean {
  return TNEF_CONTENT_TYPES.has(contentType.toLowerCase()) || /^winmail\.dat$/i.test(filename);
}

// ---------------------------------------------------------------------------------------------
// framing scan (our own code: bounds-checked, never trusts a length)

const TNEF_SIGNATURE = 0x223e9f78;
const LVL_MESSAGE = 0x01;
const LVL_ATTACHMENT = 0x02;
/** Attribute ids (low 16 bits; the high 16 bits are the type). */
const ATT_ATTACH_RENDDATA = 0x9002;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACHMENT = 0x9005;
const ATT_OEM_CODEPAGE = 0x9007;
/** MAPI property ids of an attachment. */
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_ATTACH_MIME_TAG = 0x370e;
const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;

export interface TnefScan {
  /** OEM code page of 8-bit strings (attOemCodepage), e.g. 936 for GBK; null if not given. */
  codepage: number | null;
  attachments: {
    title: Buffer | null;
    longName: string | null;
    mimeTag: string | null;
    /** Size of attAttachData, null when the attachment has none (an embedded OLE object...). */
    dataSize: number | null;
  }[];
}

/**
 * Walks the attributes of a TNEF stream. Returns null when it is not TNEF or an attribute runs
 * past the end of the data (truncated or hostile).
 */
export function scanTnef(buf: Buffer): TnefScan | null {
  if (buf.length < 6 || buf.readUInt32LE(0) !== TNEF_SIGNATURE) return null;
  const scan: TnefScan = { codepage: null, attachments: [] };
  let off = 6;
  while (off < buf.length) {
    if (off + 9 > buf.length) return null;
    const level = buf[off]!;
    const id = buf.readUInt16LE(off + 1);
    const len = buf.readUInt32LE(off + 5);
    const start = off + 9;
    if (len > buf.length - start - 2) return null; // data and its 2-byte checksum must fit
    if (level !== LVL_MESSAGE && level !== LVL_ATTACHMENT) return null;
    const data = buf.subarray(start, start + len);
    off = start + len + 2;

    if (level === LVL_MESSAGE) {
      if (id === ATT_OEM_CODEPAGE && len >= 4) scan.codepage = data.readUInt32LE(0);
      continue;
    }
    if (id === ATT_ATTACH_RENDDATA) {
      scan.attachments.push({ title: null, longName: null, mimeTag: null, dataSize: null });
      continue;
    }
    const att = scan.attachments[scan.attachments.length - 1];
    if (!att) return null; // attachment attributes before the first attAttachRendData
    if (id === ATT_ATTACH_TITLE) att.title = data;
    else if (id === ATT_ATTACH_DATA) att.dataSize = len;
    else if (id === ATT_ATTACHMENT) {
      const props = readMapiStrings(data, [PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG]);
      att.longName = props.get(PR_ATTACH_LONG_FILENAME) ?? null;
      att.mimeTag = props.get(PR_ATTACH_MIME_TAG) ?? null;
    }
  }
  return scan;
}

/** Padded size of the fixed-size MAPI property types (MS-OXTNEF 2.1.3.4). */
const FIXED_SIZE: Record<number, number> = {
  0x0001: 4, // PT_NULL
  0x0002: 4, // PT_SHORT, padded
  0x0003: 4, // PT_LONG
  0x0004: 4, // PT_FLOAT
  0x0005: 8, // PT_DOUBLE
  0x0006: 8, // PT_CURRENCY
  0x0007: 8, // PT_APPTIME
  0x000a: 4, // PT_ERROR
  0x000b: 4, // PT_BOOLEAN, padded
  0x0014: 8, // PT_I8
  0x0040: 8, // PT_SYSTIME
  0x0048: 16, // PT_CLSID
};
const VARIABLE = new Set([PT_STRING8, PT_UNICODE, 0x0102 /* PT_BINARY */, 0x000d /* PT_OBJECT */]);
const MV_FLAG = 0x1000;

/**
 * The string values of the wanted properties in a MAPI property list. Stops (keeping what it
 * found) at the first thing it cannot read: an unknown type or a length past the end.
 */
export function readMapiStrings(buf: Buffer, wanted: number[]): Map<number, string> {
  const out = new Map<number, string>();
  const u32 = (o: number) => (o + 4 <= buf.length ? buf.readUInt32LE(o) : -1);
  let off = 0;
  const count = u32(off);
  off += 4;
  for (let i = 0; i < count && off + 4 <= buf.length; i++) {
    const type = buf.readUInt16LE(off);
    const id = buf.readUInt16LE(off + 2);
    off += 4;
    if (id >= 0x8000) {
      // named property: GUID, kind, then a number or a name
      off += 16;
      const kind = u32(off);
      off += 4;
      if (kind === 0) off += 4;
      else if (kind === 1) {
        const n = u32(off);
        if (n < 0) return out;
        off += 4 + n + ((4 - (n % 4)) % 4);
      } else return out;
    }
    const base = type & ~MV_FLAG;
    const multi = (type & MV_FLAG) !== 0;
    let values = 1;
    if (multi || VARIABLE.has(base)) {
      values = u32(off);
      off += 4;
      if (values < 0 || values > buf.length) return out;
    }
    for (let v = 0; v < values; v++) {
      let size = FIXED_SIZE[base];
      let value: Buffer | null = null;
      if (VARIABLE.has(base)) {
        const n = u32(off);
        if (n < 0 || off + 4 + n > buf.length) return out;
        value = buf.subarray(off + 4, off + 4 + n);
        size = 4 + n + ((4 - (n % 4)) % 4);
      }
      if (size === undefined || off + size > buf.length) return out;
      if (v === 0 && value && wanted.includes(id) && !out.has(id)) {
        const s =
          base === PT_UNICODE
            ? value.toString('utf16le')
            : base === PT_STRING8
              ? decodeBytesGuess(value)
              : null;
        if (s !== null) out.set(id, s.replace(/\0+$/, ''));
      }
      off += size;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// node-tnef in a worker thread

const require = createRequire(import.meta.url);

/** CommonJS run by the worker: node-tnef's parseBuffer, files handed back as bytes. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const tnef = require(workerData.modulePath);
tnef.parseBuffer(Buffer.from(workerData.bytes), (failed, res) => {
  if (failed || !res) {
    parentPort.postMessage({ ok: false, error: String((res && res.message) || 'not decodable') });
    return;
  }
  const files = (res.Attachments || []).map((a) => ({
    title: typeof a.Title === 'string' ? a.Title : '',
    data: Uint8Array.from(Array.isArray(a.Data) ? a.Data : []),
  }));
  parentPort.postMessage({ ok: true, files }, files.map((f) => f.data.buffer));
});
`;

interface WorkerFile {
  title: string;
  data: Uint8Array;
}
type WorkerReply = { ok: true; files: WorkerFile[] } | { ok: false; error: string };

function decodeInWorker(bytes: Buffer, signal?: AbortSignal): Promise<WorkerFile[] | null> {
  return new Promise((resolve) => {
    let done = false;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath: require.resolve('node-tnef'), bytes },
      stdout: true, // node-tnef's bunyan log stays out of ours
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: TNEF_WORKER_HEAP_MB },
    });
    worker.stdout.resume();
    worker.stderr.resume();
    const finish = (files: WorkerFile[] | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      resolve(files);
    };
    const onAbort = () => finish(null);
    const timer = setTimeout(() => finish(null), TNEF_TIMEOUT_MS);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerReply) => finish(m.ok ? m.files : null));
    worker.on('error', () => finish(null)); // out of memory, a throw inside node-tnef
    worker.on('exit', () => finish(null));
  });
}

// ---------------------------------------------------------------------------------------------
// names and types

const BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  wps: 'application/vnd.ms-works',
  txt: 'text/plain',
  rtf: 'application/rtf',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  zip: 'application/zip',
  rar: 'application/vnd.rar',
  '7z': 'application/x-7z-compressed',
  mp4: 'video/mp4',
};

function contentTypeFor(name: string, mimeTag: string | null): string {
  const tag = (mimeTag ?? '').trim().toLowerCase();
  if (/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(tag)) return tag;
  const ext = /\.([a-z0-9]{1,5})$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}

/** An 8-bit name in the sender's OEM code page (936 = GBK), else guessed like raw headers. */
function decodeTitle(bytes: Buffer, codepage: number | null): string {
  const b = bytes.subarray(0, bytes.indexOf(0) >= 0 ? bytes.indexOf(0) : bytes.length);
  const cp = codepage === 936 || codepage === 54936 ? 'gb18030' : codepage ? `cp${codepage}` : '';
  if (cp && iconv.encodingExists(cp) && b.some((x) => x >= 0x80)) return iconv.decode(b, cp);
  return decodeBytesGuess(b);
}

// ---------------------------------------------------------------------------------------------

/**
 * The files inside a winmail.dat: [] when it holds none (a rich-text body only, a read receipt),
 * null when it cannot be decoded (not TNEF, truncated, too big, or node-tnef failed or
 * disagreed with the scan). Never rejects.
 */
export async function extractTnef(file: string, signal?: AbortSignal): Promise<TnefFile[] | null> {
  try {
    const st = await stat(file);
    if (st.size > MAX_TNEF_BYTES) return null;
    const bytes = await readFile(file);
    const scan = scanTnef(bytes);
    if (!scan) return null;
    const wanted = scan.attachments.filter((a) => a.dataSize !== null);
    if (wanted.length === 0) return [];
    const decoded = await decodeInWorker(bytes, signal);
    if (!decoded) return null;
    // node-tnef lists every attachment (attAttachRendData); keep those with data, as the scan
    const withData = scan.attachments
      .map((a, i) => ({ a, f: decoded[i] }))
      .filter(({ a }) => a.dataSize !== null);
    if (decoded.length !== scan.attachments.length) return null;
    const files: TnefFile[] = [];
    for (const { a, f } of withData) {
      if (!f || f.data.length !== a.dataSize) return null;
      const name =
        a.longName?.trim() ||
        (a.title ? decodeTitle(a.title, scan.codepage) : '') ||
        decodeTitle(Buffer.from(f.title, 'latin1'), scan.codepage);
      files.push({
        filename: name,
        contentType: contentTypeFor(name, a.mimeTag),
        data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      });
    }
    return files;
  } catch {
    return null;
  }
}
