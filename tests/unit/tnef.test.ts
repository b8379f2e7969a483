// winmail.dat (TNEF): the files inside become the attachments; anything that cannot be decoded
// keeps winmail.dat as the attachment. The TNEF is written here (tests/support/tnef.ts): the
// corpus's only winmail.dat (m4006) is a PNG under that name, which must stay as it is.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessageFile, type ParseOptions } from '../../src/intake/mime.js';
import { extractTnef, readMapiStrings, scanTnef } from '../../src/intake/tnef.js';
import { buildTnef, mapiStrings, tnefAttribute } from '../support/tnef.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpusDir = path.resolve(repoRoot, '../shared/corpus');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n');

const DOCX = Buffer.from('PK\u0003\u0004 docx: 长兴路分局调研报告');
const PDF = Buffer.from('%PDF-1.4 行政指导意见');

function outlookMail(tnef: Buffer, subject = 'Outlook RTF mail'): Buffer {
  return Buffer.from(
    [
      'From: "Clerk" <clerk@huiji.example>',
      'To: baosong@example.gov.cn',
      `Subject: ${subject}`,
      'Message-ID: <tnef.1@huiji.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="tn"',
      '',
      '--tn',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'See attached.',
      '--tn',
      'Content-Type: application/ms-tnef; name="winmail.dat"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="winmail.dat"',
      '',
      b64(tnef),
      '--tn--',
      '',
    ].join('\r\n'),
  );
}

let tmp = '';
let opts: ParseOptions;
let n = 0;
async function parseRaw(raw: Buffer) {
  const file = path.join(tmp, `m${n++}.eml`);
  await writeFile(file, raw);
  return parseMessageFile(file, opts);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'baosong-tnef-'));
  opts = { filesDir: path.join(tmp, 'files'), tmpDir: path.join(tmp, 'tmp') };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('winmail.dat (TNEF)', () => {
  it('GIVEN Outlook TNEF with two files THEN they are the attachments, named from the MAPI long name or the GBK title', async () => {
    const tnef = buildTnef([
      {
        title: Buffer.from('CHANGX~1.DOC'),
        data: DOCX,
        longName: '长兴路分局调研报告.docx',
        mimeTag: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      },
      { title: iconv.encode('行政指导意见.pdf', 'gbk'), data: PDF },
    ]);
    const mail = await parseRaw(outlookMail(tnef));
    expect(mail.attachments.map((a) => [a.filename, a.sha256, a.size])).toEqual([
      ['长兴路分局调研报告.docx', sha(DOCX), DOCX.length],
      ['行政指导意见.pdf', sha(PDF), PDF.length],
    ]);
    expect(mail.attachments[0]?.contentType).toMatch(/wordprocessingml/);
    expect(mail.attachments[1]?.contentType).toBe('application/pdf');
    for (const a of mail.attachments) {
      expect(path.basename(a.path)).toBe(a.sha256);
      expect(await readFile(a.path)).toEqual(a.sha256 === sha(DOCX) ? DOCX : PDF);
    }
    expect(mail.text).toContain('See attached.');
  });

  it('GIVEN a winmail.dat cut short THEN winmail.dat itself is the attachment', async () => {
    const tnef = buildTnef([{ title: Buffer.from('a.pdf'), data: PDF }]);
    const cut = tnef.subarray(0, tnef.length - 10);
    const mail = await parseRaw(outlookMail(cut));
    expect(mail.attachments.map((a) => [a.filename, a.sha256])).toEqual([
      ['winmail.dat', sha(cut)],
    ]);
  });

  it('GIVEN a length field pointing far past the end (hostile) THEN it is not handed to the decoder', async () => {
    const tnef = buildTnef([{ title: Buffer.from('a.pdf'), data: PDF }]);
    const evil = Buffer.from(tnef);
    // the attAttachData length of the first attachment: 0x7fffffff
    const at = evil.indexOf(Buffer.from([0x02, 0x0f, 0x80, 0x06, 0x00]));
    evil.writeUInt32LE(0x7fffffff, at + 5);
    expect(scanTnef(evil)).toBeNull();
    const mail = await parseRaw(outlookMail(evil));
    expect(mail.attachments.map((a) => a.filename)).toEqual(['winmail.dat']);
  });

  it('GIVEN TNEF with a rich-text body only THEN winmail.dat stays (nothing inside to list)', async () => {
    const tnef = buildTnef([]);
    expect(await extractTnefOf(tnef)).toEqual([]);
    const mail = await parseRaw(outlookMail(tnef));
    expect(mail.attachments.map((a) => a.filename)).toEqual(['winmail.dat']);
  });

  it('GIVEN the decoder and the scan disagree THEN winmail.dat stays', async () => {
    // an attAttachRendData at message level: node-tnef opens an attachment, the spec does not
    const base = buildTnef([{ title: Buffer.from('a.pdf'), data: PDF }]);
    const odd = Buffer.concat([base, tnefAttribute(1, 0x00069002, Buffer.alloc(14))]);
    expect(scanTnef(odd)?.attachments).toHaveLength(1);
    expect(await extractTnefOf(odd)).toBeNull();
  });

  it('GIVEN the corpus winmail.dat (m4006, really a PNG) THEN it is kept as winmail.dat', async () => {
    const mail = await parseMessageFile(
      path.join(corpusDir, 'zbateson-mail-mime-parser/tests___data__emails__m4006.txt.eml'),
      opts,
    );
    expect(mail.attachments.map((a) => [a.filename, a.sha256])).toEqual([
      ['winmail.dat', '68aa843030f8c6ad625450054732fe0f3a680496d98f957d578192fa4469cec2'],
    ]);
  });

  it('leaves String.prototype.replaceAll alone in this process (node-tnef replaces it in its worker)', async () => {
    const before = String.prototype.replaceAll;
    await extractTnefOf(buildTnef([{ title: Buffer.from('a.pdf'), data: PDF }]));
    expect(String.prototype.replaceAll).toBe(before);
    expect('a.b.c'.replaceAll('.', '')).toBe('abc');
  });

  it('GIVEN a 6 MB file inside THEN it is extracted in a bounded worker (time and memory logged)', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024, 0x5a);
    const t0 = Date.now();
    const files = await extractTnefOf(
      buildTnef([{ title: Buffer.from('VIDEO~1.MP4'), data: big, longName: '法律顾问视频.mp4' }]),
    );
    console.log(
      `TNEF 6 MB: ${Date.now() - t0} ms, main-thread RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
    );
    expect(files?.map((f) => [f.filename, f.contentType, sha(f.data)])).toEqual([
      ['法律顾问视频.mp4', 'video/mp4', sha(big)],
    ]);
  });

  it('readMapiStrings stops at a truncated property instead of reading past the end', () => {
    const props = mapiStrings([{ type: 0x1f, id: 0x3707, value: '报告.docx' }]);
    expect(readMapiStrings(props, [0x3707]).get(0x3707)).toBe('报告.docx');
    expect(readMapiStrings(props.subarray(0, props.length - 8), [0x3707]).size).toBe(0);
    const huge = Buffer.from(props);
    huge.writeUInt32LE(0xffffffff, 0); // count
    expect(readMapiStrings(huge, [0x3707]).get(0x3707)).toBe('报告.docx');
  });

  it('leaves no temp files behind', async () => {
    expect(await readdir(opts.tmpDir)).toEqual([]);
  });
});

async function extractTnefOf(tnef: Buffer) {
  const file = path.join(tmp, `t${n++}.dat`);
  await writeFile(file, tnef);
  return extractTnef(file);
}
