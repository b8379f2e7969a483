// Writes TNEF (winmail.dat) the way Outlook does (MS-OXTNEF): signature, key, then a run of
// attributes (level, id with its type in the high 16 bits, length, data, 16-bit checksum).
// Only what the tests need: attachments with an 8.3-style title, data and, optionally, the long
// filename and MIME type as MAPI properties, and the OEM code page.

export interface TnefFileSpec {
  /** attAttachTitle bytes (8-bit, in the OEM code page); a NUL is appended. */
  title: Buffer;
  data: Buffer;
  /** PR_ATTACH_LONG_FILENAME as PT_UNICODE. */
  longName?: string;
  /** PR_ATTACH_MIME_TAG as PT_STRING8. */
  mimeTag?: string;
}

export function tnefAttribute(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = level;
  head.writeUInt32LE(id >>> 0, 1);
  head.writeUInt32LE(data.length, 5);
  let sum = 0;
  for (const b of data) sum = (sum + b) & 0xffff;
  const check = Buffer.alloc(2);
  check.writeUInt16LE(sum);
  return Buffer.concat([head, data, check]);
}

const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

/** A MAPI property list of string properties (PT_UNICODE 0x1f or PT_STRING8 0x1e). */
export function mapiStrings(props: { type: 0x1e | 0x1f; id: number; value: string }[]): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32LE(props.length);
  parts.push(count);
  for (const p of props) {
    const head = Buffer.alloc(12);
    head.writeUInt16LE(p.type, 0);
    head.writeUInt16LE(p.id, 2);
    const value = Buffer.from(`${p.value}\0`, p.type === 0x1f ? 'utf16le' : 'latin1');
    head.writeUInt32LE(1, 4); // one value
    head.writeUInt32LE(value.length, 8);
    parts.push(head, value, pad4(value.length));
  }
  return Buffer.concat(parts);
}

export function buildTnef(files: TnefFileSpec[], opts: { codepage?: number } = {}): Buffer {
  const sig = Buffer.alloc(6);
  sig.writeUInt32LE(0x223e9f78, 0);
  sig.writeUInt16LE(0x1234, 4);
  const cp = Buffer.alloc(8);
  cp.writeUInt32LE(opts.codepage ?? 936, 0);
  const parts = [
    sig,
    tnefAttribute(1, 0x00089006, Buffer.from([0, 0, 1, 0])), // attTnefVersion
    tnefAttribute(1, 0x00069007, cp), // attOemCodepage
    tnefAttribute(1, 0x00078008, Buffer.from('IPM.Microsoft Mail.Note\0', 'latin1')),
  ];
  for (const f of files) {
    parts.push(tnefAttribute(2, 0x00069002, Buffer.alloc(14))); // attAttachRendData
    parts.push(tnefAttribute(2, 0x00018010, Buffer.concat([f.title, Buffer.from([0])])));
    parts.push(tnefAttribute(2, 0x0006800f, f.data)); // attAttachData
    const props: { type: 0x1e | 0x1f; id: number; value: string }[] = [];
    if (f.longName) props.push({ type: 0x1f, id: 0x3707, value: f.longName });
    if (f.mimeTag) props.push({ type: 0x1e, id: 0x370e, value: f.mimeTag });
    if (props.length) parts.push(tnefAttribute(2, 0x00069005, mapiStrings(props)));
  }
  return Buffer.concat(parts);
}
