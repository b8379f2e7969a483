import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Base64Decoder, UuDecoder, decodeBase64, parseMessageFile } from '../../src/intake/mime.js';
import { parseBothWays } from '../support/parse.js';
import type { ParseOptions } from '../../src/intake/mime.js';
import { decodeBytes, decodeBytesGuess } from '../../src/core/charset.js';
import type { ParsedMail } from '../../src/core/types.js';

// ---------------------------------------------------------------------------------------------
// helpers to compose raw messages (Buffers, so raw 8-bit bytes can be written as they travel)

type Piece = string | Buffer;
const gb = (s: string) => iconv.encode(s, 'gb18030');
const b64 = (b: Buffer | string) =>
  (typeof b === 'string' ? Buffer.from(b, 'utf8') : b)
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const pctEncode = (b: Buffer) => [...b].map((x) => `%${x.toString(16).toUpperCase()}`).join('');

/** Joins lines with CRLF; strings are written as UTF-8, Buffers as the raw bytes they hold. */
function mail(...lines: Piece[]): Buffer {
  const out: Buffer[] = [];
  for (const l of lines) {
    out.push(typeof l === 'string' ? Buffer.from(l, 'utf8') : l, Buffer.from('\r\n'));
  }
  return Buffer.concat(out);
}

function uuencode(data: Buffer, name: string): string {
  const enc = (n: number) => String.fromCharCode(n === 0 ? 0x60 : n + 32);
  const lines = [`begin 644 ${name}`];
  for (let i = 0; i < data.length; i += 45) {
    const chunk = data.subarray(i, i + 45);
    let line = enc(chunk.length);
    for (let j = 0; j < chunk.length; j += 3) {
      const [a = 0, b = 0, c = 0] = [chunk[j], chunk[j + 1], chunk[j + 2]];
      line +=
        enc(a >> 2) +
        enc(((a & 3) << 4) | (b >> 4)) +
        enc(((b & 15) << 2) | (c >> 6)) +
        enc(c & 63);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return lines.join('\r\n');
}

async function collect(stream: NodeJS.ReadWriteStream, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => out.push(c));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  Readable.from(chunks).pipe(stream as unknown as NodeJS.WritableStream);
  await done;
  return Buffer.concat(out);
}

let tmp = '';
let opts: ParseOptions;
let counter = 0;

async function parse(raw: Buffer, extra: Partial<ParseOptions> = {}): Promise<ParsedMail> {
  const file = path.join(tmp, `msg-${counter++}.eml`);
  await writeFile(file, raw);
  return parseBothWays(file, { ...opts, ...extra });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'baosong-mime-'));
  opts = { filesDir: path.join(tmp, 'files'), tmpDir: path.join(tmp, 'tmp') };
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// messages

// GBK-only characters (not in GB2312): 镕 喆 堃; a GB18030 four-byte character: 𠀀 (U+20000)
const GBK_ONLY_SUBJECT = '关于朱镕基、张喆、李堃报送材料𠀀';
const PDF = Buffer.from('%PDF-1.4 fake pdf 报告 content\n');
const DOCX = Buffer.from('PK\u0003\u0004 fake docx bytes');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5]);
const QQ_URL = 'https://wx.mail.qq.com/ftn/download?func=3&k=5a4b3c&key=0123abcd&code=7xk2';

const GB2312_SUBJECT = mail(
  'From: =?gb2312?B?' + gb('大河路街道办').toString('base64') + '?= <DHL@Example.GOV.cn>',
  'To: baosong@example.gov.cn',
  'Return-Path: <>',
  'Message-ID: <abc.123@example.gov.cn>',
  'Subject: =?GB2312?B?' + gb(GBK_ONLY_SUBJECT).toString('base64') + '?=',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=gb2312',
  'Content-Transfer-Encoding: 8bit',
  '',
  gb('正文：朱镕基同志的材料见附件。'),
);

const RFC2231 = mail(
  'From: clerk@qq.com',
  'Subject: =?utf-8?B?' + Buffer.from('（二）1 典型案例').toString('base64') + '?=',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'see attached',
  '--b1',
  'Content-Type: application/pdf',
  'Content-Transfer-Encoding: base64',
  "Content-Disposition: attachment; filename*=gb2312''" + pctEncode(gb('长兴路分局调研报告镕.pdf')),
  '',
  b64(PDF),
  '--b1',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment;',
  " filename*0*=UTF-8''" + pctEncode(Buffer.from('推行行政指导')) + ';',
  ' filename*1*=' + pctEncode(Buffer.from('情况.docx')),
  '',
  b64(DOCX),
  '--b1--',
);

const RAW_8BIT = mail(
  'From: "' + '张三' + '" <zhang@163.com>',
  Buffer.concat([Buffer.from('Subject: '), gb('报送材料 镕')]),
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b2"',
  '',
  '--b2',
  'Content-Type: text/plain',
  'Content-Transfer-Encoding: 8bit',
  '',
  gb('没有字符集标签的正文'),
  '--b2',
  Buffer.concat([
    Buffer.from('Content-Type: application/msword; name="'),
    gb('朱镕基同志讲话.doc'),
    Buffer.from('"'),
  ]),
  'Content-Transfer-Encoding: base64',
  Buffer.concat([
    Buffer.from('Content-Disposition: attachment; filename="'),
    gb('朱镕基同志讲话.doc'),
    Buffer.from('"'),
  ]),
  '',
  b64(DOCX),
  '--b2--',
);

const INNER = mail(
  'From: =?utf-8?B?' + Buffer.from('司法局').toString('base64') + '?= <sfj@example.gov.cn>',
  'Subject: =?gbk?B?' + gb('二-1 调研报告').toString('base64') + '?=',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'inner body with link https://pan.example.com/s/abc',
  '--inner',
  'Content-Type: application/pdf; name="=?utf-8?B?' +
    Buffer.from('调研报告.pdf').toString('base64') +
    '?="',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment',
  '',
  b64(PDF),
  '--inner--',
);

const FORWARDED = mail(
  'From: office@example.gov.cn',
  'Subject: Fw: 二-1',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: text/plain; charset=utf-8',
  '',
  '转发',
  '--outer',
  'Content-Type: message/rfc822',
  'Content-Disposition: attachment; filename="fwd.eml"',
  '',
  INNER,
  '--outer',
  'Content-Type: message/rfc822',
  'Content-Transfer-Encoding: base64',
  '',
  b64(INNER),
  '--outer',
  'Content-Type: application/ms-tnef',
  'Content-Transfer-Encoding: base64',
  '',
  b64('TNEF\u0000data'),
  '--outer--',
);

const CID = mail(
  'From: a@example.com',
  'Subject: logo',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="m"',
  '',
  '--m',
  'Content-Type: multipart/related; boundary="r"',
  '',
  '--r',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>见附件</p><img src="cid:logo.123@example.com">',
  '--r',
  'Content-Type: image/png; name="logo.png"',
  'Content-ID: <logo.123@example.com>',
  'Content-Transfer-Encoding: base64',
  '',
  b64(PNG),
  '--r--',
  '--m',
  'Content-Type: image/png; name="photo.png"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="photo.png"',
  '',
  b64(Buffer.concat([PNG, Buffer.from('x')])),
  '--m',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  b64('unnamed bytes'),
  '--m',
  'Content-Type: text/calendar; method=REQUEST; charset=utf-8',
  '',
  'BEGIN:VCALENDAR',
  'END:VCALENDAR',
  '--m--',
);

const QQ_HTML = `<div>从QQ邮箱发来的超大附件</div><div><a href="${QQ_URL.replace(/&/g, '&amp;')}" target="_blank">8.2 宣传视频.mp4</a> (150M, 2025年06月01日 10:00 到期)</div><div>提取码：7xk2</div>`;

const QQ_HTML_ONLY = mail(
  'From: "clerk" <12345@qq.com>',
  'Subject: =?gb18030?B?' + gb('8.2 视频').toString('base64') + '?=',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="q"',
  '',
  '--q',
  'Content-Type: multipart/related; boundary="qr"',
  '',
  '--qr',
  'Content-Type: text/html; charset="gb18030"',
  'Content-Transfer-Encoding: base64',
  '',
  b64(gb(QQ_HTML)),
  '--qr--',
  '--q--',
);

const QQ_ALTERNATIVE = mail(
  'From: 12345@qq.com',
  'Subject: video',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="a"',
  '',
  '--a',
  'Content-Type: text/plain; charset="gb18030"',
  'Content-Transfer-Encoding: base64',
  '',
  b64(gb('从QQ邮箱发来的超大附件\n8.2 宣传视频.mp4\n提取码：7xk2')),
  '--a',
  'Content-Type: text/html; charset="gb18030"',
  'Content-Transfer-Encoding: base64',
  '',
  b64(gb(QQ_HTML)),
  '--a--',
);

// ---------------------------------------------------------------------------------------------

interface Case {
  name: string;
  raw: Buffer;
  subject: string;
  fromAddress?: string | null;
  fromName?: string | null;
  attachments: Array<{
    filename: string;
    sha256: string;
    contentType?: string;
    inline?: boolean;
    forwardedFrom?: string;
  }>;
  textIncludes?: string[];
}

const cases: Case[] = [
  {
    name: 'GB2312-labelled subject with GBK-only and GB18030 four-byte characters',
    raw: GB2312_SUBJECT,
    subject: GBK_ONLY_SUBJECT,
    fromAddress: 'dhl@example.gov.cn',
    fromName: '大河路街道办',
    attachments: [],
    textIncludes: ['正文：朱镕基同志的材料见附件。'],
  },
  {
    name: 'RFC 2231 Chinese filenames (GB2312 label with a GBK-only char; UTF-8 continuations)',
    raw: RFC2231,
    subject: '（二）1 典型案例',
    attachments: [
      { filename: '长兴路分局调研报告镕.pdf', sha256: sha(PDF), contentType: 'application/pdf' },
      { filename: '推行行政指导情况.docx', sha256: sha(DOCX) },
    ],
  },
  {
    name: 'raw 8-bit GBK filename and subject, unlabelled GBK body',
    raw: RAW_8BIT,
    subject: '报送材料 镕',
    fromName: '张三',
    attachments: [{ filename: '朱镕基同志讲话.doc', sha256: sha(DOCX), inline: false }],
    textIncludes: ['没有字符集标签的正文'],
  },
  {
    name: 'forwarded message/rfc822 (literal and base64) and an unnamed TNEF part',
    raw: FORWARDED,
    subject: 'Fw: 二-1',
    attachments: [
      { filename: '调研报告.pdf', sha256: sha(PDF), forwardedFrom: '二-1 调研报告' },
      { filename: '调研报告.pdf', sha256: sha(PDF), forwardedFrom: '二-1 调研报告' },
      {
        filename: 'winmail.dat',
        sha256: sha('TNEF\u0000data'),
        contentType: 'application/ms-tnef',
        forwardedFrom: '',
      },
    ],
    textIncludes: ['转发', 'https://pan.example.com/s/abc', 'Subject: 二-1 调研报告'],
  },
  {
    name: 'inline cid image, attached image, unnamed octet-stream, text/calendar',
    raw: CID,
    subject: 'logo',
    attachments: [
      { filename: 'logo.png', sha256: sha(PNG), inline: true, contentType: 'image/png' },
      { filename: 'photo.png', sha256: sha(Buffer.concat([PNG, Buffer.from('x')])), inline: false },
      {
        filename: '',
        sha256: sha('unnamed bytes'),
        contentType: 'application/octet-stream',
        inline: false,
      },
      {
        filename: '',
        sha256: sha('BEGIN:VCALENDAR\r\nEND:VCALENDAR'),
        contentType: 'text/calendar',
      },
    ],
    textIncludes: ['见附件'],
  },
  {
    name: 'QQ-style HTML-only body (inside multipart/mixed) with the link only in <a href>',
    raw: QQ_HTML_ONLY,
    subject: '8.2 视频',
    fromName: 'clerk',
    attachments: [],
    textIncludes: ['从QQ邮箱发来的超大附件', '提取码：7xk2', QQ_URL],
  },
  {
    name: 'QQ-style alternative whose text part lacks the URL',
    raw: QQ_ALTERNATIVE,
    subject: 'video',
    attachments: [],
    textIncludes: ['8.2 宣传视频.mp4', QQ_URL],
  },
];

describe('parseMessageFile', () => {
  it.each(cases)('$name', async (c) => {
    const m = await parse(c.raw);
    expect(m.subject).toBe(c.subject);
    if (c.fromAddress !== undefined) expect(m.fromAddress).toBe(c.fromAddress);
    if (c.fromName !== undefined) expect(m.fromName).toBe(c.fromName);
    expect(m.attachments.map((a) => ({ filename: a.filename, sha256: a.sha256 }))).toEqual(
      c.attachments.map((a) => ({ filename: a.filename, sha256: a.sha256 })),
    );
    c.attachments.forEach((want, i) => {
      const got = m.attachments[i]!;
      if (want.contentType !== undefined) expect(got.contentType).toBe(want.contentType);
      if (want.inline !== undefined) expect(got.inline).toBe(want.inline);
      if (want.forwardedFrom !== undefined) expect(got.forwardedFrom).toBe(want.forwardedFrom);
    });
    for (const a of m.attachments) {
      // content-addressed: filesDir/<2 hex>/<sha256>, holding exactly the decoded bytes
      expect(a.path).toBe(path.join(opts.filesDir, a.sha256.slice(0, 2), a.sha256));
      const bytes = await readFile(a.path);
      expect(sha(bytes)).toBe(a.sha256);
      expect(bytes.length).toBe(a.size);
    }
    for (const t of c.textIncludes ?? []) expect(m.text).toContain(t);
  });

  it('fills the envelope fields', async () => {
    const m = await parse(GB2312_SUBJECT);
    expect(m.returnPath).toBe('');
    expect(m.messageId).toBe('abc.123@example.gov.cn');
    expect(m.contentType).toBe('text/plain');
    expect(m.headers['subject']).toBe(GBK_ONLY_SUBJECT);
    expect(m.headers['from']).toBe('"大河路街道办" <DHL@Example.GOV.cn>');
    expect(m.headers['content-type']).toBe('text/plain; charset=gb2312');
    const other = await parse(CID);
    expect(other.returnPath).toBeNull();
    expect(other.messageId).toBeNull();
    expect(other.contentType).toBe('multipart/mixed');
  });

  it('keeps a message/rfc822 below maxDepth as a plain attachment', async () => {
    const m = await parse(FORWARDED, { maxDepth: 0 });
    expect(m.attachments.map((a) => a.contentType)).toEqual([
      'message/rfc822',
      'message/rfc822',
      'application/ms-tnef',
    ]);
    expect(m.attachments[0]!.sha256).toBe(sha(INNER));
    expect(m.attachments[0]!.filename).toBe('fwd.eml');
  });

  it('reads UTF-8 sent under a GB2312 label as UTF-8', async () => {
    const m = await parse(
      mail(
        'Subject: x',
        'Content-Type: text/plain; charset="GB2312"',
        'Content-Transfer-Encoding: 8bit',
        '',
        '你好！我公司可代开各类发票',
      ),
    );
    expect(m.text).toContain('你好！我公司可代开各类发票');
  });

  it('decodes x-uuencode attachments', async () => {
    const data = Buffer.from(Array.from({ length: 200 }, (_, i) => i % 256));
    const m = await parse(
      mail(
        'Subject: uu',
        'Content-Type: multipart/mixed; boundary="u"',
        '',
        '--u',
        'Content-Type: application/zip; name="a.zip"',
        'Content-Transfer-Encoding: x-uuencode',
        '',
        uuencode(data, 'a.zip'),
        '--u--',
      ),
    );
    expect(m.attachments.map((a) => [a.filename, a.sha256])).toEqual([['a.zip', sha(data)]]);
  });

  it('treats a named text part as an attachment, not as body text', async () => {
    const m = await parse(
      mail(
        'Subject: t',
        'Content-Type: multipart/mixed; boundary="t"',
        '',
        '--t',
        'Content-Type: text/plain',
        '',
        'body',
        '--t',
        'Content-Type: text/plain; name="notes.txt"',
        'Content-Disposition: inline',
        '',
        'file content',
        '--t--',
      ),
    );
    expect(m.attachments.map((a) => [a.filename, a.sha256, a.inline])).toEqual([
      ['notes.txt', sha('file content'), true],
    ]);
    expect(m.text).not.toContain('file content');
  });

  describe('malformed input never throws synchronously nor hangs', () => {
    const bad: Array<[string, Buffer]> = [
      ['empty file', Buffer.alloc(0)],
      ['binary garbage', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))],
      ['headers only, no body', Buffer.from('Subject: x\r\nFrom: a@b')],
      [
        'multipart without closing boundary',
        mail(
          'Content-Type: multipart/mixed; boundary="x"',
          '',
          '--x',
          'Content-Type: application/pdf',
          'Content-Transfer-Encoding: base64',
          '',
          'JVBER',
        ),
      ],
      ['boundary missing', mail('Content-Type: multipart/mixed', '', 'text')],
      [
        'nested too deep',
        Buffer.concat([
          ...Array.from({ length: 30 }, () => Buffer.from('Content-Type: message/rfc822\r\n\r\n')),
          Buffer.from('Subject: deep\r\n\r\nbody'),
        ]),
      ],
    ];
    it.each(bad)('%s', async (_name, raw) => {
      const m = await parse(raw);
      expect(Array.isArray(m.attachments)).toBe(true);
      expect(typeof m.text).toBe('string');
    });

    it('parses from the bytes it is given, without reading the file, and forwarded mail too', async () => {
      const inner = mail(
        'From: a@example.com',
        'Subject: inner',
        'Content-Type: multipart/mixed; boundary="i"',
        '',
        '--i',
        'Content-Type: application/pdf; name="3.1.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        b64('%PDF inner'),
        '--i--',
      );
      const raw = mail(
        'From: b@example.com',
        'Subject: outer',
        'Content-Type: multipart/mixed; boundary="o"',
        '',
        '--o',
        'Content-Type: message/rfc822',
        '',
        inner,
        '--o--',
      );
      const m = await parseMessageFile(path.join(tmp, 'never-written.eml'), opts, raw);
      expect(m.attachments.map((a) => [a.filename, a.sha256, a.forwardedFrom])).toEqual([
        ['3.1.pdf', sha('%PDF inner'), 'inner'],
      ]);
      expect(await readFile(m.attachments[0]!.path, 'utf8')).toBe('%PDF inner');
    });

    it('rejects with a descriptive Error for a missing file', async () => {
      await expect(parseMessageFile(path.join(tmp, 'nope.eml'), opts)).rejects.toThrow(/nope\.eml/);
    });

    it('rejects on timeout and leaves no temp files', async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 0x41);
      const raw = mail(
        'Content-Type: multipart/mixed; boundary="z"',
        '',
        '--z',
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: base64',
        '',
        b64(big),
        '--z--',
      );
      await expect(parse(raw, { timeoutMs: 1 })).rejects.toThrow(/timed out/);
      await new Promise((r) => setTimeout(r, 50));
      expect(await readdir(opts.tmpDir)).toEqual([]);
    });
  });
});

describe('Base64Decoder', () => {
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 31 + 7) % 256));

  it('decodes base64 split at arbitrary chunk boundaries', async () => {
    const enc = Buffer.from(b64(data));
    const chunks: Buffer[] = [];
    for (let i = 0, n = 1; i < enc.length; i += n, n = (n * 7 + 3) % 97 || 1)
      chunks.push(enc.subarray(i, i + n));
    expect(await collect(new Base64Decoder(), chunks)).toEqual(data);
  });

  it('ignores junk after the closing padding', async () => {
    const out = await collect(new Base64Decoder(), [
      Buffer.from('PGh0bWw+Cg==\r\n\r\n--b-->\r\nPotentially malicious content\r\n'),
    ]);
    expect(out.toString()).toBe('<html>\n');
  });

  it('continues across separately padded blocks', async () => {
    const out = await collect(new Base64Decoder(), [Buffer.from('YQ==\r\nYmM=\r\nZGVm\r\n')]);
    expect(out.toString()).toBe('abcdef');
  });
});

describe('decodeBase64 (whole bodies, native decoder when well-formed)', () => {
  const bytes = (n: number) =>
    Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 17) % 256));
  const cases: [string, string][] = [
    ['empty', ''],
    ['one byte, padded', 'QQ==\r\n'],
    ['one byte, unpadded', 'QQ'],
    ['a lone character', 'Q'],
    ['a lone character, padded', 'Q==='],
    ['two bytes, one pad', 'QUI='],
    ['76-column lines', b64(bytes(1000))],
    ['no line breaks', bytes(999).toString('base64')],
    ['LF line ends', b64(bytes(500)).replace(/\r\n/g, '\n')],
    ['trailing blank lines and spaces', `${b64(bytes(10))}\r\n\r\n  \r\n`],
    ['extra padding', 'QUJDRA===='],
    ['cut mid-quantum', bytes(10).toString('base64').slice(0, 9)],
    ['junk after the padding', 'PGh0bWw+Cg==\r\n\r\n--b-->\r\nPotentially malicious\r\n'],
    ['separately padded blocks', 'YQ==\r\nYmM=\r\nZGVm\r\n'],
    ['junk characters inside', 'QU*JD\r\nR!A=='],
    ['spaces inside lines', 'QUJD RA==\r\n'],
    ['8-bit bytes inside', 'QUJD\xe4RA=='],
    ['padding in the middle', 'QUI=QUJD'],
  ];
  it.each(cases)('%s: as Base64Decoder streams it', async (_name, text) => {
    const encoded = Buffer.from(text, 'latin1');
    expect(decodeBase64(encoded)).toEqual(await collect(new Base64Decoder(), [encoded]));
  });
});

describe('UuDecoder', () => {
  it('decodes between begin and end', async () => {
    const data = Buffer.from('hello uuencode 中文 \u0000\u0001');
    expect(await collect(new UuDecoder(), [Buffer.from(uuencode(data, 'x.bin'))])).toEqual(data);
  });
});

describe('charset helpers', () => {
  it.each([
    ['valid UTF-8', Buffer.from('报送材料.docx'), '报送材料.docx'],
    ['GBK bytes', gb('长兴路分局调研报告.docx'), '长兴路分局调研报告.docx'],
    ['GBK with ASCII trail byte (镕 = E9 46)', gb('朱镕基.doc'), '朱镕基.doc'],
    [
      'Windows-1252 Latin text',
      iconv.encode('Die Hasen und die Frösche', 'windows-1252'),
      'Die Hasen und die Frösche',
    ],
    [
      'UTF-8 cut inside the last character',
      Buffer.from('Картинка').subarray(0, 15),
      'Картинк\ufffd',
    ],
  ])('decodeBytesGuess: %s', (_n, bytes, want) => {
    expect(decodeBytesGuess(bytes)).toBe(want);
  });

  it('decodeBytes reads GB2312/GBK labels as GB18030', () => {
    expect(decodeBytes(gb('𠀀镕'), 'GB2312')).toBe('𠀀镕');
    expect(decodeBytes(gb('𠀀镕'), 'x-gbk')).toBe('𠀀镕');
  });
});
