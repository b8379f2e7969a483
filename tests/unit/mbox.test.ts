// mbox splitting: the separators real exporters write, >From unescaping, the blank line that
// belongs to the format, the header peek the backfill uses, and memory that stays flat.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  forEachMboxMessage,
  fromLineDate,
  looksLikeMbox,
  looksLikeMessage,
  peekHeaders,
} from '../../src/intake/mbox.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-mbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: string | Buffer): string {
  const p = path.join(dir, `f${++n}`);
  writeFileSync(p, content);
  return p;
}

async function split(p: string): Promise<{ from: string; body: string }[]> {
  const out: { from: string; body: string }[] = [];
  await forEachMboxMessage(p, async (m) => {
    const chunks: Buffer[] = [];
    for await (const c of m.source) chunks.push(c as Buffer);
    out.push({ from: m.fromLine, body: Buffer.concat(chunks).toString('utf8') });
  });
  return out;
}

const A = 'From: a@x.example\nSubject: one\nMessage-ID: <one@x>\n\nhello\n';
const B = 'From: b@x.example\nSubject: two\n\nFrom the start, a line that looks like a separator\n';

describe('forEachMboxMessage', () => {
  it('GIVEN Thunderbird-style separators WHEN split THEN each message is returned exactly, without the mbox blank line', async () => {
    const p = file(
      `From - Wed May 20 14:32:00 2015\n${A}\nFrom - Thu May 21 09:00:00 2015\n${A.replace('one', 'two')}\n`,
    );
    const got = await split(p);
    expect(got.map((m) => m.body)).toEqual([A, A.replace('one', 'two')]);
    expect(got[0]?.from).toBe('From - Wed May 20 14:32:00 2015');
  });

  it('a "From " line in a body is not a separator unless it follows a blank line and looks like one; >From is unescaped once', async () => {
    const body =
      'From: c@x.example\n\nline\nFrom here on, plain text\n>From quoted\n>>From twice\n';
    const p = file(
      `From c@x.example Wed May 20 14:32:00 2015\n${body}\nFrom x Fri Jul  8 12:08:34 2011\n${B}`,
    );
    const got = await split(p);
    expect(got).toHaveLength(2);
    expect(got[0]?.body).toBe(
      'From: c@x.example\n\nline\nFrom here on, plain text\nFrom quoted\n>From twice\n',
    );
    expect(got[1]?.body).toBe(B);
  });

  it('CRLF line ends stay CRLF (the bytes that are hashed are the message’s)', async () => {
    const crlf = A.replace(/\n/g, '\r\n');
    const p = file(
      `From - Wed May 20 14:32:00 2015\r\n${crlf}\r\nFrom - Wed May 20 14:33:00 2015\r\n${crlf}`,
    );
    const got = await split(p);
    expect(got.map((m) => m.body)).toEqual([crlf, crlf]);
  });

  it('a large message streams through in slices (the splitter never holds it whole)', async () => {
    const line = `${'x'.repeat(75)}\n`;
    const big = `From: big@x.example\nSubject: big\n\n${line.repeat(80_000)}`; // ~6 MB
    const p = file(
      `From - Wed May 20 14:32:00 2015\n${big}\nFrom - Wed May 20 14:33:00 2015\n${A}`,
    );
    let sizes: number[] = [];
    let chunks = 0;
    await forEachMboxMessage(p, async (m) => {
      let size = 0;
      for await (const c of m.source) {
        size += (c as Buffer).length;
        chunks++;
      }
      sizes.push(size);
    });
    expect(sizes).toEqual([Buffer.byteLength(big), Buffer.byteLength(A)]);
    expect(chunks).toBeGreaterThan(50);
    sizes = [];
  });

  it('a handler that fails stops the split with its error', async () => {
    const p = file(`From - Wed May 20 14:32:00 2015\n${A}\nFrom - Wed May 20 14:33:00 2015\n${A}`);
    let calls = 0;
    await expect(
      forEachMboxMessage(p, async (m) => {
        calls++;
        m.source.resume();
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(calls).toBe(1);
  });

  it('a handler may leave a message unread (already recorded): the next one still comes', async () => {
    const p = file(
      `From - Wed May 20 14:32:00 2015\n${B.repeat(2000)}\nFrom - Wed May 20 14:33:00 2015\n${A}`,
    );
    const seen: string[] = [];
    await forEachMboxMessage(p, async (m) => {
      seen.push(m.headers.messageId ?? '-');
      if (m.index === 1) {
        m.source.destroy();
        return;
      }
      for await (const _ of m.source) void _;
    });
    expect(seen).toEqual(['-', 'one@x']);
  });
});

describe('header peek and sniffing', () => {
  it('Message-ID without brackets; the top Received header’s date (folded, with a comment)', () => {
    const h = peekHeaders(
      'Received: from mx.sina.net (unknown [1.2.3.4])\r\n\tby mail.sina.com; Wed, 20 May 2015 14:32:11 +0800 (CST)\r\nReceived: from older; Wed, 20 May 2015 14:30:00 +0800\r\nMessage-ID:\r\n <abc@x.example>\r\n',
    );
    expect(h.messageId).toBe('abc@x.example');
    expect(h.received?.toISOString()).toBe('2015-05-20T06:32:11.000Z');
    expect(peekHeaders('Subject: x\n')).toEqual({ messageId: null, received: null });
  });

  it('the envelope line’s date, with a zone when given', () => {
    expect(fromLineDate('From - Wed May 20 14:32:00 2015')?.toISOString()).toBe(
      '2015-05-20T14:32:00.000Z',
    );
    expect(fromLineDate('From 1@x Wed May 20 06:32:00 +0800 2015')?.toISOString()).toBe(
      '2015-05-19T22:32:00.000Z',
    );
    expect(fromLineDate('From nobody')).toBeNull();
  });

  it('tells an mbox from a message from anything else', () => {
    expect(looksLikeMbox(file(`From - Wed May 20 14:32:00 2015\n${A}`))).toBe(true);
    expect(looksLikeMbox(file(A))).toBe(false);
    expect(looksLikeMessage(file(A))).toBe(true);
    expect(looksLikeMessage(file(Buffer.from([0x50, 0x4b, 3, 4, 0, 0])))).toBe(false);
  });
});
