// Writes raw mail the way Chinese webmail and Outlook do (GBK subjects in RFC 2047 words,
// RFC 2231 filenames, raw 8-bit names), for the demo and the tests. Not used by intake.
import iconv from 'iconv-lite';
import { createHash } from 'node:crypto';

export interface ComposeAttachment {
  filename: string;
  content: Buffer | string;
  contentType?: string;
  /** How the filename is written: RFC 2047 word (Foxmail, QQ), RFC 2231 (Thunderbird), raw bytes. */
  nameStyle?: 'rfc2047' | 'rfc2231' | 'raw';
  inline?: boolean;
  cid?: string;
}

export interface ComposeInput {
  from: string;
  fromName?: string;
  to?: string;
  subject: string;
  date?: Date;
  messageId?: string;
  /** gbk for most Chinese desktop clients, utf-8 for newer webmail. */
  charset?: 'gbk' | 'gb2312' | 'utf-8';
  text?: string;
  html?: string;
  attachments?: ComposeAttachment[];
  headers?: Record<string, string>;
  /** A forwarded message (message/rfc822 part). */
  forwarded?: Buffer;
}

function word(s: string, charset: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const bytes = charset === 'utf-8' ? Buffer.from(s, 'utf8') : iconv.encode(s, 'gbk');
  return `=?${charset.toUpperCase()}?B?${bytes.toString('base64')}?=`;
}

function b64lines(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export function composeMail(m: ComposeInput): Buffer {
  const cs = m.charset ?? 'gbk';
  const enc = (s: string) => (cs === 'utf-8' ? Buffer.from(s, 'utf8') : iconv.encode(s, 'gbk'));
  const boundary = `----=_Part_${createHash('md5')
    .update(m.subject + (m.messageId ?? ''))
    .digest('hex')
    .slice(0, 16)}`;
  const date = m.date ?? new Date('2015-05-20T06:32:00Z');
  const head: (string | Buffer)[] = [
    `From: ${m.fromName ? `"${word(m.fromName, cs)}" ` : ''}<${m.from}>`,
    `To: ${m.to ?? 'hifz9199@sina.com'}`,
    `Subject: ${word(m.subject, cs)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${
      m.messageId ??
      createHash('sha1')
        .update(m.from + m.subject + date.toISOString())
        .digest('hex')
        .slice(0, 20) + '@demo.example'
    }>`,
    'MIME-Version: 1.0',
    ...Object.entries(m.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  const parts: Buffer[] = [];
  const textPart = (type: string, body: string) =>
    Buffer.from(
      `Content-Type: ${type}; charset="${cs}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64lines(enc(body))}\r\n`,
    );
  if (m.text !== undefined) parts.push(textPart('text/plain', m.text));
  if (m.html !== undefined) parts.push(textPart('text/html', m.html));
  for (const a of m.attachments ?? []) {
    const type = a.contentType ?? 'application/octet-stream';
    const style = a.nameStyle ?? 'rfc2047';
    let name: Buffer;
    if (style === 'rfc2231') {
      const pct = [...Buffer.from(a.filename, 'utf8')]
        .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
        .join('');
      name = Buffer.from(`; filename*=UTF-8''${pct}`);
    } else if (style === 'raw') {
      name = Buffer.concat([
        Buffer.from('; filename="'),
        iconv.encode(a.filename, 'gbk'),
        Buffer.from('"'),
      ]);
    } else name = Buffer.from(`; filename="${word(a.filename, cs)}"`);
    const disp = a.inline ? 'inline' : 'attachment';
    parts.push(
      Buffer.concat([
        Buffer.from(`Content-Type: ${type}\r\nContent-Transfer-Encoding: base64\r\n`),
        a.cid ? Buffer.from(`Content-ID: <${a.cid}>\r\n`) : Buffer.alloc(0),
        Buffer.from(`Content-Disposition: ${disp}`),
        name,
        Buffer.from(
          `\r\n\r\n${b64lines(Buffer.isBuffer(a.content) ? a.content : Buffer.from(a.content, 'utf8'))}\r\n`,
        ),
      ]),
    );
  }
  if (m.forwarded) {
    parts.push(
      Buffer.concat([
        Buffer.from('Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n'),
        m.forwarded,
        Buffer.from('\r\n'),
      ]),
    );
  }
  const headBuf = Buffer.concat(
    head.map((h) => Buffer.concat([Buffer.isBuffer(h) ? h : Buffer.from(h), Buffer.from('\r\n')])),
  );
  if (parts.length === 1 && !m.attachments?.length && !m.forwarded) {
    return Buffer.concat([headBuf, parts[0] ?? Buffer.alloc(0)]);
  }
  const body = Buffer.concat([
    ...parts.flatMap((p) => [Buffer.from(`--${boundary}\r\n`), p]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return Buffer.concat([
    headBuf,
    Buffer.from(`Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`),
    body,
  ]);
}

/** A small fake document: the bytes only need to be distinct and realistic in size. */
export function fakeDoc(label: string, bytes = 24_000): Buffer {
  const seed = createHash('sha256').update(label).digest();
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (seed[i % 32] ?? 0) ^ ((i * 31) % 251);
  return out;
}
