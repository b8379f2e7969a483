import iconv from 'iconv-lite';
import type { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDovecot,
  requireDovecot,
  startDovecot,
  type DovecotServer,
} from '../support/dovecot.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

const GBK_SUBJECT = '关于报送2024年度统计数据的通知';

function gbkMessage(): Buffer {
  const head = Buffer.from(
    'From: sender@example.gov.cn\r\nTo: desk@example.gov.cn\r\nSubject: ',
    'latin1',
  );
  const rest = Buffer.from(
    '\r\nDate: Mon, 1 Jul 2024 09:00:00 +0800\r\nMessage-ID: <gbk-1@example.gov.cn>\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=GBK\r\n' +
      'Content-Transfer-Encoding: 8bit\r\n\r\n',
    'latin1',
  );
  // raw 8-bit GBK in the header, as some real clients send it
  const subject = iconv.encode(GBK_SUBJECT, 'gbk');
  const body = iconv.encode('请于本周五前报送。\r\n', 'gbk');
  return Buffer.concat([head, subject, rest, body]);
}

const plainMessage =
  'From: a@example.com\r\nTo: desk@example.gov.cn\r\nSubject: plain one\r\n' +
  'Message-ID: <plain-1@example.com>\r\n\r\nhello\r\n';

async function inboxStatus(client: ImapFlow) {
  const st = await client.status('INBOX', { uidValidity: true, messages: true });
  if (!st) throw new Error('STATUS INBOX failed');
  return st;
}

describe.skipIf(!requireDovecot())('Dovecot harness', () => {
  let srv: DovecotServer;

  beforeAll(async () => {
    srv = await startDovecot();
  });
  afterAll(async () => {
    await cleanupDovecot(srv);
  });

  it('appends with INTERNALDATE, fetches back, recreateInbox changes UIDVALIDITY', async () => {
    const d1 = new Date('2024-07-01T01:00:00Z');
    const d2 = new Date('2024-07-02T02:30:15Z');
    const uid1 = await srv.append(plainMessage, { internalDate: d1 });
    const uid2 = await srv.append(gbkMessage(), { internalDate: d2, flags: ['\\Seen'] });
    expect(uid1).toBe(1);
    expect(uid2).toBe(2);

    const client = await srv.client();
    let uidValidity: bigint;
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        uidValidity = (client.mailbox as { uidValidity: bigint }).uidValidity;
        const got = [];
        for await (const m of client.fetch(
          '1:*',
          { uid: true, internalDate: true, flags: true, source: true },
          { uid: true },
        )) {
          got.push(m);
        }
        expect(got.map((m) => m.uid)).toEqual([1, 2]);
        expect(new Date(got[0]!.internalDate!).getTime()).toBe(d1.getTime());
        expect(new Date(got[1]!.internalDate!).getTime()).toBe(d2.getTime());
        expect(got[1]!.flags?.has('\\Seen')).toBe(true);
        // raw bytes survive untouched
        expect(Buffer.compare(got[1]!.source!, gbkMessage())).toBe(0);
        expect(got[1]!.source!.includes(iconv.encode(GBK_SUBJECT, 'gbk'))).toBe(true);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }

    await srv.recreateInbox();
    const client2 = await srv.client();
    try {
      const st = await inboxStatus(client2);
      expect(st.uidValidity).not.toBe(uidValidity);
      expect(st.messages).toBe(0);
    } finally {
      await client2.logout();
    }
    expect(await srv.append(plainMessage)).toBe(1);
  });

  it('appends into another mailbox, creating it', async () => {
    expect(await srv.append(plainMessage, { mailbox: 'Archive' })).toBe(1);
    expect(await srv.append(plainMessage, { mailbox: 'Archive' })).toBe(2);
  });

  it('restarts on the same port with the same mail', async () => {
    const port = srv.port;
    await srv.stop();
    await expect(srv.client()).rejects.toThrow();
    await srv.start();
    expect(srv.port).toBe(port);
    const client = await srv.client();
    try {
      const st = await inboxStatus(client);
      expect(st.messages).toBe(1);
    } finally {
      await client.logout();
    }
  });
});

describe('SMTP capture harness', () => {
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp.stop();
  });

  const transport = () =>
    nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'desk@example.gov.cn', pass: 'anything' },
    });

  it('captures a message sent with nodemailer', async () => {
    smtp.setMode('accept');
    await transport().sendMail({
      from: 'desk@example.gov.cn',
      to: 'unit@example.com',
      subject: '回执：已收到',
      text: 'ok',
      headers: { 'X-Baosong-Test': 'yes' },
    });
    const [mail] = await smtp.waitFor(1);
    expect(mail!.from).toBe('desk@example.gov.cn');
    expect(mail!.to).toEqual(['unit@example.com']);
    expect(mail!.authUser).toBe('desk@example.gov.cn');
    expect(mail!.parsed.subject).toBe('回执：已收到');
    expect(mail!.headers.get('x-baosong-test')).toBe('yes');
    expect(mail!.raw.toString('latin1')).toContain('X-Baosong-Test: yes');
  });

  it('tempfail makes the send reject with a 4xx code; permfail with 5xx', async () => {
    smtp.setMode('tempfail');
    await expect(
      transport().sendMail({ from: 'desk@example.gov.cn', to: 'x@example.com', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 451 });
    smtp.setMode((rcpt) => (rcpt.startsWith('bad') ? 'permfail' : 'accept'));
    await expect(
      transport().sendMail({ from: 'desk@example.gov.cn', to: 'bad@example.com', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 550 });
    smtp.setMode('accept');
    expect(smtp.messages).toHaveLength(1);
    await expect(smtp.waitFor(2, 100)).rejects.toThrow(/timed out/);
  });

  it('restarts on the same port', async () => {
    const port = smtp.port;
    await smtp.stop();
    await smtp.start();
    expect(smtp.port).toBe(port);
    await transport().sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'again' });
    await smtp.waitFor(2);
  });
});
