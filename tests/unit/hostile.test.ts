// Hostile mail of our own making, at the parse stage: attachment names that try to escape the data
// folder or confuse whoever shows them, absurd nesting and part counts, broken base64, oversized
// parts and bodies. Whatever comes in, parsing ends (resolves, or rejects with a reason), stored
// files are named by their sha256 inside filesDir, and no temp file is left behind. The whole-
// intake side (records, receipts, the 200 MB attachment) is in tests/integration/hostile-intake.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_TEXT_BYTES, MAX_FILENAME_CHARS } from '../../src/core/limits.js';
import { cleanFilename, parseMessageFile, type ParseOptions } from '../../src/intake/mime.js';
import { parseBothWays } from '../support/parse.js';
import type { ParsedMail } from '../../src/core/types.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const b64 = (b: Buffer | string) =>
  (typeof b === 'string' ? Buffer.from(b) : b).toString('base64').replace(/.{76}/g, '$&\r\n');
const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');

let tmp = '';
let opts: ParseOptions;
let counter = 0;
/** Every input tried, for the log line at the end (the "hostile inputs tried"). */
const tried: string[] = [];

async function parse(raw: Buffer | string, extra: Partial<ParseOptions> = {}): Promise<ParsedMail> {
  const file = path.join(tmp, `h${counter++}.eml`);
  await writeFile(file, raw);
  return parseBothWays(file, { ...opts, ...extra });
}

function multipart(parts: string[], headers: string[] = []): string {
  return [
    'From: x@example.com',
    'Subject: hostile',
    ...headers,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="HB"',
    '',
    ...parts.flatMap((p) => ['--HB', p]),
    '--HB--',
    '',
  ].join('\r\n');
}

function attachmentPart(dispositionParams: string, content: string | Buffer): string {
  return [
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; ${dispositionParams}`,
    '',
    b64(content),
  ].join('\r\n');
}

/** The stored file is filesDir/<aa>/<sha256>, really inside filesDir, with the right bytes. */
async function expectSafelyStored(mail: ParsedMail, contents: (Buffer | string)[]) {
  const root = await realpath(opts.filesDir);
  for (const a of mail.attachments) {
    expect(a.path).toBe(path.join(opts.filesDir, a.sha256.slice(0, 2), a.sha256));
    const real = await realpath(a.path);
    expect(real.startsWith(root + path.sep)).toBe(true);
    expect(sha(await readFile(real))).toBe(a.sha256);
  }
  expect(mail.attachments.map((a) => a.sha256).sort()).toEqual(contents.map(sha).sort());
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'baosong-hostile-'));
  opts = { filesDir: path.join(tmp, 'files'), tmpDir: path.join(tmp, 'tmp') };
});
afterEach(async () => {
  // nothing is ever left in the temp folder, whatever the outcome
  expect(await readdir(opts.tmpDir).catch(() => [])).toEqual([]);
});
afterAll(async () => {
  console.log(`hostile parse inputs tried: ${tried.length}\n  ${tried.join('\n  ')}`);
  await rm(tmp, { recursive: true, force: true });
});

describe('hostile attachment names', () => {
  // [what, Content-Disposition params, expected cleaned name]
  const NAMES: [string, string, string][] = [
    ['parent traversal', 'filename="../../../../etc/passwd"', '../../../../etc/passwd'],
    ['Windows traversal', 'filename="..\\\\..\\\\Windows\\\\win.ini"', '..\\..\\Windows\\win.ini'],
    ['absolute path', 'filename="/etc/shadow"', '/etc/shadow'],
    ['drive path', 'filename="C:\\\\boot.ini"', 'C:\\boot.ini'],
    [
      'NUL byte (RFC 2231)',
      `filename*=utf-8''${pct('report')}%00${pct('.exe.pdf')}`,
      'report .exe.pdf',
    ],
    ['CR LF (RFC 2231)', `filename*=utf-8''a%0D%0ABcc:%20x@y.z.doc`, 'a Bcc: x@y.z.doc'],
    ['terminal escape', `filename*=utf-8''%1B%5B31mred%1B%5B0m.doc`, '[31mred [0m.doc'],
    ['C1 control', `filename*=utf-8''${pct('a\u0085b\u009bc.doc')}`, 'a b c.doc'],
    ['bidi override', `filename*=utf-8''${pct('invoice\u202Efdp.exe')}`, 'invoicefdp.exe'],
    ['zero-width', `filename*=utf-8''${pct('报\u200b告\ufeff.docx')}`, '报告.docx'],
    ['reserved CON', 'filename="CON"', 'CON'],
    ['reserved NUL.txt', 'filename="NUL.txt"', 'NUL.txt'],
    ['reserved com1.doc', 'filename="com1.doc"', 'com1.doc'],
    ['only dots', 'filename=".."', '..'],
    ['encoded-word traversal', 'filename="=?utf-8?B?Li4vLi4v5oql5ZGKLmRvYw==?="', '../../报告.doc'],
  ];

  it.each(NAMES)(
    '%s: stored by sha256 inside the data folder, name kept as data',
    async (what, params, want) => {
      tried.push(`name: ${what}`);
      const content = `content of ${what}`;
      const mail = await parse(multipart([attachmentPart(params, content)]));
      expect(mail.attachments).toHaveLength(1);
      expect(mail.attachments[0]?.filename).toBe(want);
      await expectSafelyStored(mail, [content]);
    },
  );

  it('a raw NUL and raw control bytes in the header itself', async () => {
    tried.push('name: raw NUL/ESC/BEL bytes in the header');
    const raw = multipart([attachmentPart('filename="a\x00b\x07c\x1b.pdf"', 'raw ctl')]);
    const mail = await parse(raw);
    expect(mail.attachments[0]?.filename).toMatch(/^a ?b ?c ?\.pdf$/);
    expect(mail.attachments[0]?.filename).not.toMatch(/[\x00-\x1f]/);
    await expectSafelyStored(mail, ['raw ctl']);
  });

  it('a 5,000-character name is cut to the cap, keeping its extension', async () => {
    tried.push('name: 5,000 characters (RFC 2231 continuations)');
    const long = `${'很长的文件名'.repeat(833)}xx.docx`; // 5,005 characters
    const chunks = long.match(/.{1,60}/gsu) ?? [];
    const params = chunks.map((c, i) => `filename*${i}*=${i === 0 ? "utf-8''" : ''}${pct(c)}`);
    const raw = multipart([
      [
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment;\r\n ${params.join(';\r\n ')}`,
        '',
        b64('long name'),
      ].join('\r\n'),
    ]);
    const mail = await parse(raw);
    const name = mail.attachments[0]?.filename ?? '';
    expect(Array.from(name)).toHaveLength(MAX_FILENAME_CHARS);
    expect(name.startsWith('很长的文件名很长的文件名')).toBe(true);
    expect(name.endsWith('….docx')).toBe(true);
    await expectSafelyStored(mail, ['long name']);
  });

  it('a 5,000-character name in one unfolded header line', async () => {
    tried.push('name: 5,000 characters on one line');
    const mail = await parse(
      multipart([attachmentPart(`filename="${'A'.repeat(5000)}.pdf"`, 'x')]),
    );
    expect(mail.attachments[0]?.filename).toBe(`${'A'.repeat(MAX_FILENAME_CHARS - 5)}….pdf`);
  });

  it('cleanFilename keeps short names exactly and never splits a surrogate pair', () => {
    expect(cleanFilename('  报送材料.docx ')).toBe('报送材料.docx');
    const emoji = '😀'.repeat(300);
    const cut = cleanFilename(emoji);
    expect(Array.from(cut)).toHaveLength(MAX_FILENAME_CHARS);
    expect(cut.includes('\ufffd')).toBe(false);
    expect(cleanFilename('a\u0000\u0001b')).toBe('a b');
  });
});

describe('structure', () => {
  it('1,000-level nested multipart: set aside with the parser limit as the reason', async () => {
    tried.push('1,000-level nested multipart');
    const depth = 1000;
    const lines: string[] = ['From: x@example.com', 'Subject: deep', 'MIME-Version: 1.0'];
    for (let i = 0; i < depth; i++) {
      lines.push(`Content-Type: multipart/mixed; boundary="d${i}"`, '', `--d${i}`);
    }
    lines.push('Content-Type: application/pdf; name="deep.pdf"', '', 'deep');
    for (let i = depth - 1; i >= 0; i--) lines.push(`--d${i}--`);
    const t0 = Date.now();
    await expect(parse(lines.join('\r\n'))).rejects.toThrow(/more than 1000 parts/);
    console.log(`1,000-level multipart: rejected in ${Date.now() - t0} ms`);
  });

  it('300-level nested multipart (under the part limit): the deep file is found', async () => {
    tried.push('300-level nested multipart');
    const depth = 300;
    const lines: string[] = ['From: x@example.com', 'Subject: deep', 'MIME-Version: 1.0'];
    for (let i = 0; i < depth; i++) {
      lines.push(`Content-Type: multipart/mixed; boundary="d${i}"`, '', `--d${i}`);
    }
    lines.push('Content-Type: application/pdf; name="deep.pdf"', '', 'deep');
    for (let i = depth - 1; i >= 0; i--) lines.push(`--d${i}--`);
    const mail = await parse(lines.join('\r\n'));
    expect(mail.attachments.map((a) => a.filename)).toEqual(['deep.pdf']);
  });

  it('1,000-level nested message/rfc822: opened 5 levels deep, the rest kept as one file', async () => {
    tried.push('1,000-level nested message/rfc822');
    let inner = [
      'From: leaf@example.com',
      'Subject: level 1000',
      'Content-Type: multipart/mixed; boundary="L"',
      '',
      '--L',
      'Content-Type: application/pdf; name="leaf.pdf"',
      '',
      'leaf',
      '--L--',
      '',
    ].join('\r\n');
    for (let i = 999; i >= 1; i--) {
      inner = [
        `From: l${i}@example.com`,
        `Subject: level ${i}`,
        'MIME-Version: 1.0',
        'Content-Type: message/rfc822',
        '',
        inner,
      ].join('\r\n');
    }
    const t0 = Date.now();
    const mail = await parse(inner);
    console.log(`1,000-level message/rfc822: ${Date.now() - t0} ms`);
    expect(mail.subject).toBe('level 1');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]?.contentType).toBe('message/rfc822');
    expect(mail.attachments[0]?.forwardedFrom?.split(' > ')).toHaveLength(5);
  });

  it('10,000 parts: set aside with the parser limit as the reason, quickly', async () => {
    tried.push('10,000 parts');
    const parts = Array.from(
      { length: 10_000 },
      (_, i) => `Content-Type: application/octet-stream; name="p${i}.bin"\r\n\r\npart ${i}`,
    );
    const t0 = Date.now();
    await expect(parse(multipart(parts))).rejects.toThrow(/more than 1000 parts/);
    console.log(`10,000 parts: rejected in ${Date.now() - t0} ms`);
  });

  it('a 2 MB header block: set aside with the parser limit as the reason', async () => {
    tried.push('2 MB header block');
    const folded = Array.from({ length: 30_000 }, (_, i) => ` word${i} padding padding padding`);
    const raw = ['From: x@example.com', `Subject: huge${folded.join('\r\n')}`, '', 'body'].join(
      '\r\n',
    );
    expect(Buffer.byteLength(raw)).toBeGreaterThan(1024 * 1024);
    await expect(parse(raw)).rejects.toThrow(/header block over 1 MB/);
  });

  it('900 parts (under the limit): all listed', async () => {
    tried.push('900 parts');
    const parts = Array.from(
      { length: 900 },
      (_, i) => `Content-Type: application/octet-stream; name="p${i}.bin"\r\n\r\npart ${i % 10}`,
    );
    const mail = await parse(multipart(parts));
    expect(mail.attachments).toHaveLength(900);
  });
});

describe('broken base64', () => {
  const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256));
  const good = data.toString('base64');
  const CASES: [string, string, Buffer | null][] = [
    ['junk characters sprinkled in', good.replace(/(.{10})/g, '$1!*~ '), data],
    ['no padding, cut mid-quantum', good.slice(0, 4001), null],
    ['padding in the middle, then more data', `${good.slice(0, 8)}==\r\n${good.slice(8)}`, null],
    ['raw 8-bit bytes and NULs', `${good.slice(0, 100)}\x00\xff\xfe${good.slice(100)}`, data],
    ['nothing but garbage', '%%%% !!!! ~~~~ ....', Buffer.alloc(0)],
    ['a single character', 'Q', Buffer.alloc(0)],
    [
      'one 4 MB line without breaks',
      Buffer.alloc(3 * 1024 * 1024, 7).toString('base64'),
      Buffer.alloc(3 * 1024 * 1024, 7),
    ],
  ];
  it.each(CASES)('%s: parses, stores what decodes', async (what, body, want) => {
    tried.push(`base64: ${what}`);
    const raw = multipart([
      [
        'Content-Type: application/pdf; name="b.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        body,
      ].join('\r\n'),
    ]);
    const mail = await parse(Buffer.from(raw, 'latin1'));
    expect(mail.attachments).toHaveLength(1);
    if (want) expect(mail.attachments[0]?.sha256).toBe(sha(want));
    await expectSafelyStored(mail, [await readFile(mail.attachments[0]!.path)]);
  });

  it('broken quoted-printable and an unknown transfer encoding', async () => {
    tried.push('broken quoted-printable, unknown transfer encoding');
    const mail = await parse(
      multipart([
        [
          'Content-Type: application/pdf; name="q.pdf"',
          'Content-Transfer-Encoding: quoted-printable',
          '',
          'a=ZZb=\r\n=0',
          '',
        ].join('\r\n'),
        [
          'Content-Type: application/pdf; name="x.pdf"',
          'Content-Transfer-Encoding: x-evil',
          '',
          'raw',
        ].join('\r\n'),
      ]),
    );
    expect(mail.attachments.map((a) => a.filename)).toEqual(['q.pdf', 'x.pdf']);
  });
});

describe('size limits', () => {
  it('an attachment over maxAttachmentBytes is listed as oversized, not stored, its size counted', async () => {
    tried.push('attachment over the per-attachment limit (parse level)');
    const big = Buffer.alloc(50_000, 1);
    const small = Buffer.from('small file');
    const before = (await readdir(opts.filesDir).catch(() => [])).length;
    const mail = await parse(
      multipart([
        attachmentPart('filename="big.mp4"', big),
        attachmentPart('filename="ok.pdf"', small),
      ]),
      { maxAttachmentBytes: 10_000 },
    );
    expect(
      mail.attachments.map((a) => [a.filename, a.size, a.sha256, a.path, !!a.oversized]),
    ).toEqual([
      ['big.mp4', 50_000, '', '', true],
      [
        'ok.pdf',
        small.length,
        sha(small),
        path.join(opts.filesDir, sha(small).slice(0, 2), sha(small)),
        false,
      ],
    ]);
    // only the small file's folder may be new; the big one's content address does not exist
    const big256 = sha(big);
    await expect(readFile(path.join(opts.filesDir, big256.slice(0, 2), big256))).rejects.toThrow();
    expect((await readdir(opts.filesDir)).length).toBeGreaterThanOrEqual(before);
  });

  it('maxMessageBytes: parts are stored until the message budget is spent, the rest oversized', async () => {
    tried.push('attachments over the per-message limit');
    const parts = [1, 2, 3].map((i) => Buffer.alloc(6_000, i));
    const mail = await parse(
      multipart(parts.map((p, i) => attachmentPart(`filename="f${i}.bin"`, p))),
      { maxAttachmentBytes: 10_000, maxMessageBytes: 15_000 },
    );
    expect(mail.attachments.map((a) => !!a.oversized)).toEqual([false, false, true]);
    expect(mail.attachments[2]?.size).toBe(6_000);
  });

  it('a forwarded message is measured by its attachments, not by its own size', async () => {
    tried.push('forwarded message larger than the attachment limit');
    const file = Buffer.alloc(8_000, 9);
    const inner = multipart([attachmentPart('filename="inner.pdf"', file)]);
    const mail = await parse(
      multipart([['Content-Type: message/rfc822', '', inner].join('\r\n')]),
      { maxAttachmentBytes: 10_000, maxMessageBytes: 20_000 },
    );
    expect(Buffer.byteLength(inner)).toBeGreaterThan(10_000);
    expect(mail.attachments.map((a) => [a.filename, a.sha256, !!a.oversized])).toEqual([
      ['inner.pdf', sha(file), false],
    ]);
  });

  it('a 20 MB text body is cut at the body limit with a note', async () => {
    tried.push('20 MB text body');
    const line = '这是一段很长的正文。'.repeat(10) + '\r\n';
    const body = line.repeat(Math.ceil((20 * 1024 * 1024) / Buffer.byteLength(line)));
    const raw = [
      'From: x@example.com',
      'Subject: long body',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      body,
    ].join('\r\n');
    const mail = await parse(raw);
    expect(Buffer.byteLength(mail.text)).toBeLessThanOrEqual(MAX_BODY_TEXT_BYTES + 1024);
    expect(mail.text).toContain('[正文过长，其余部分未读取]');
  });

  it('a 20 MB body in a charset only libmime decodes (ISO-2022-JP) is cut too', async () => {
    tried.push('20 MB ISO-2022-JP body');
    const body = 'plain ascii text in a japanese label\r\n'.repeat(550_000);
    const raw = [
      'From: x@example.com',
      'Subject: long body',
      'Content-Type: text/plain; charset=iso-2022-jp',
      '',
      body,
    ].join('\r\n');
    const mail = await parse(raw);
    expect(Buffer.byteLength(mail.text)).toBeLessThanOrEqual(MAX_BODY_TEXT_BYTES + 1024);
    expect(mail.text).toContain('[正文过长，其余部分未读取]');
  });
});

describe('header injection at the parse stage', () => {
  it('CR LF smuggled into Subject, Message-ID and From by encoded words never survive', async () => {
    tried.push('CR LF in Subject / Message-ID / From encoded words');
    const enc = (s: string) => `=?utf-8?B?${Buffer.from(s).toString('base64')}?=`;
    const raw = [
      `From: ${enc('Evil')} <evil@example.com>`,
      `Subject: ${enc('报送\r\nBcc: victim@example.org\r\n\r\nbody')}`,
      `Message-ID: <${enc('x\r\nBcc: victim@example.org')}@example.com>`,
      'Content-Type: text/plain',
      '',
      'hi',
    ].join('\r\n');
    const mail = await parse(raw);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.messageId ?? '').not.toMatch(/[\s\r\n]/);
    expect(mail.fromAddress).toBe('evil@example.com');
  });
});
