// Mail loops: what must never be answered, bounces of our own mail, and the per-sender cap
// as the last line of defence when every other signal is missing.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { buildApp, type App } from '../../src/main.js';
import type { MailSender } from '../../src/outbox/senders.js';
import type { OutboxRow } from '../../src/store/sqlite.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
const apps: App[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function instance(from: string, sender?: MailSender): App {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-loop-'));
  dirs.push(dir);
  const config = loadConfig(DEFAULT_CONFIG_PATH, { BAOSONG_DATA_DIR: dir, BAOSONG_FROM: from });
  const app = buildApp(config, {
    log,
    clock: new FixedClock(new Date('2015-06-05T10:00:00+08:00')),
    outboxToFolder: sender ? undefined : path.join(dir, 'sent'),
    sender,
  });
  apps.push(app);
  return app;
}

const render = nodemailer.createTransport({ streamTransport: true, buffer: true });

/**
 * The worst peer imaginable: an auto-responder that strips every loop header and echoes
 * each mail back with an attachment, so it looks like a fresh submission every time.
 */
class EchoingPeer implements MailSender {
  target: App | null = null;
  delivered = 0;
  constructor(private readonly from: string) {}
  async send(m: OutboxRow): Promise<void> {
    this.delivered++;
    const info = (await render.sendMail({
      from: this.from,
      to: m.to,
      subject: `Re: ${m.subject}`,
      text: m.text,
      messageId: `<echo-${this.delivered}-${m.id}@peer.example>`,
      attachments: [
        { filename: '材料.doc', content: fakeDoc(`echo-${this.from}-${this.delivered}`) },
      ],
    })) as { message: Buffer };
    await this.target?.intake.ingest({ source: Readable.from([info.message]) });
  }
  close(): void {}
}

describe('loops', () => {
  it('GIVEN two baosong instances whose mail reaches each other with every loop signal stripped THEN they exchange at most a handful of mails', async () => {
    const toA = new EchoingPeer('b@peer-b.example');
    const toB = new EchoingPeer('a@peer-a.example');
    const a = instance('a@peer-a.example', toB);
    const b = instance('b@peer-b.example', toA);
    toA.target = a;
    toB.target = b;

    // One submission to A starts it.
    await a.intake.ingest({
      source: Readable.from([
        composeMail({
          from: 'b@peer-b.example',
          subject: '大河路街道 五',
          text: '见附件',
          attachments: [{ filename: '调研报告.doc', content: fakeDoc('start') }],
        }),
      ]),
    });
    for (let round = 0; round < 50; round++) {
      const r = await Promise.all([a.outbox.flush(), b.outbox.flush()]);
      if (r.every((x) => x.sent === 0)) break;
    }
    const cap = a.config.receipts.perSenderPerHour;
    const exchanged = toA.delivered + toB.delivered;
    console.log(
      `two instances pointed at each other exchanged ${exchanged} mails (cap ${cap} per sender per hour)`,
    );
    expect(exchanged).toBeLessThanOrEqual(2 * cap);
    expect(exchanged).toBeGreaterThan(0);
  });

  it('GIVEN our own receipt comes back (forwarded, redirected) THEN it is not a submission and not answered', async () => {
    const a = instance('office@huiji.example');
    const r = await a.intake.ingest({
      source: Readable.from([
        composeMail({
          from: 'dahelu@huiji.example',
          subject: '回执：已收到大河路街道办事处报送材料1件',
          messageId: 'receipt.0123456789abcdef@huiji.example',
          text: '登记如下',
          attachments: [{ filename: '行政指导意见.doc', content: fakeDoc('x') }],
        }),
      ]),
    });
    expect(r).toMatchObject({ kind: 'not_submission' });
    expect(r.reason).toContain('本系统发出的邮件');
  });

  it('GIVEN a receipt bounces THEN the bounce is matched to it, the address is marked failing and no further receipt goes there', async () => {
    const a = instance('hifz9199@sina.com');
    const send = (n: number) =>
      a.intake.ingest({
        source: Readable.from([
          composeMail({
            from: 'typo@huiji.example',
            subject: `大河路街道 五 ${n}`,
            text: '见附件',
            attachments: [{ filename: `调研报告${n}.doc`, content: fakeDoc(`bounce-${n}`) }],
          }),
        ]),
      });
    await send(1);
    await a.outbox.flush();
    const ours = a.store.db.prepare('SELECT mail_message_id FROM outbox').get() as {
      mail_message_id: string;
    };

    const dsn = [
      'From: Mail Delivery System <MAILER-DAEMON@sina.com>',
      'To: hifz9199@sina.com',
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <dsn-1@sina.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'This is the mail system. Your message could not be delivered.',
      '--b1',
      'Content-Type: message/delivery-status',
      '',
      'Final-Recipient: rfc822; typo@huiji.example',
      'Action: failed',
      'Status: 5.1.1',
      '--b1',
      'Content-Type: text/rfc822-headers',
      '',
      'From: hifz9199@sina.com',
      'To: typo@huiji.example',
      `Message-ID: ${ours.mail_message_id}`,
      'Subject: =?UTF-8?B?5Zue5omn?=',
      '--b1--',
      '',
    ].join('\r\n');
    const r = await a.intake.ingest({ source: Readable.from([Buffer.from(dsn)]) });
    expect(r.kind).toBe('not_submission');
    expect(a.store.isFailing('typo@huiji.example')).toBe(true);
    expect(a.store.db.prepare('SELECT address FROM bounces').all()).toEqual([
      { address: 'typo@huiji.example' },
    ]);

    await send(2);
    const replies = a.store.db
      .prepare('SELECT reply FROM messages WHERE kind = ? ORDER BY id')
      .all('submission') as { reply: string }[];
    expect(replies.map((x) => x.reply)).toEqual([
      'queued',
      'suppressed: 发往 typo@huiji.example 的邮件曾被退回',
    ]);
  });
});
