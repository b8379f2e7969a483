// Intake against a real Dovecot and a real SMTP server on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { demoSamples } from '../../src/demo/samples.js';
import { createLogger } from '../../src/log.js';
import { buildApp, type App } from '../../src/main.js';
import {
  cleanupDovecot,
  requireDovecot,
  startDovecot,
  type DovecotServer,
} from '../support/dovecot.js';
import { serverEnv } from '../support/env.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

const log = createLogger('silent', false);

describe.skipIf(!requireDovecot())('intake from a real IMAP mailbox', () => {
  let imap: DovecotServer;
  let smtp: SmtpCapture;
  let dataDir: string;
  let config: Config;
  const apps: App[] = [];

  beforeAll(async () => {
    [imap, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
  });
  afterAll(async () => {
    await Promise.all([cleanupDovecot(imap), smtp?.stop()]);
  });

  beforeEach(async () => {
    await imap.recreateInbox();
    smtp.clear();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'baosong-it-'));
    config = loadConfig(DEFAULT_CONFIG_PATH, {
      ...serverEnv(imap, smtp, dataDir),
    });
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      await app.imap.stop();
      app.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  function start(): App {
    const app = buildApp(config, {
      log,
      clock: new FixedClock(new Date('2015-06-05T10:00:00+08:00')),
    });
    apps.push(app);
    return app;
  }

  async function runOnce(): Promise<App> {
    const app = start();
    await app.imap.once();
    await app.outbox.flush();
    return app;
  }

  it('GIVEN the demo mail in the mailbox WHEN intake runs THEN each material is credited and each submission answered once', async () => {
    const samples = demoSamples();
    for (const s of samples) await imap.append(s.raw, { internalDate: s.receivedAt });

    const app = await runOnce();
    const rows = app.store.materials();
    const credit = (name: string) => rows.find((r) => r.filename === name);
    expect(credit('大河路街道推行行政指导的意见.doc')).toMatchObject({
      unit: 'dahelu',
      item: '2.1',
      status: 'credited',
      confirmed: true,
    });
    expect(credit('古荥镇2015年推进服务型行政执法建设年度方案.doc')).toMatchObject({
      unit: 'guxing',
      item: '1',
    });
    expect(credit('古荥镇行政指导文书.pdf')).toMatchObject({ unit: 'guxing', item: '2.2' });
    expect(credit('长兴路分局调研报告.docx')).toMatchObject({
      unit: 'ga-changxinglu',
      item: '5',
      status: 'credited',
    });
    expect(credit('调解案例3则.doc')).toMatchObject({
      unit: 'gongshang',
      item: '6.3',
      status: 'credited',
    });
    expect(credit('培训现场2.jpg')).toMatchObject({
      unit: 'cgzf',
      item: '4.1',
      status: 'credited',
    });
    expect(credit('老鸦陈街道基层执法调研.docx')).toMatchObject({ unit: 'laoyachen', item: '5' });
    expect(credit('服务型行政执法学习会议纪要.doc')).toMatchObject({
      unit: 'yingbinlu',
      item: '3.1',
      status: 'review',
      confirmed: false,
    });
    expect(credit('scan0001.pdf')).toMatchObject({ unit: 'jiaoyun', item: null, status: 'review' });
    expect(rows.find((r) => r.kind === 'link')).toMatchObject({
      unit: 'renshe',
      item: '8.2',
      accessCode: '7xk2',
    });
    expect(rows.some((r) => r.filename === 'logo.png')).toBe(false);
    expect(rows).toHaveLength(14);

    // On time is judged by INTERNALDATE, not the Date header.
    expect(credit('长兴路分局调研报告.docx')?.receivedAt).toBe(
      new Date('2015-06-02T17:48:00+08:00').toISOString(),
    );

    // 13 messages: one duplicate, one auto-reply, one thank-you → 10 receipts.
    const receipts = await smtp.waitFor(10);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages).toHaveLength(10);
    expect(smtp.messages.map((m) => m.to[0]).sort()).toEqual(
      [
        '3021887465@qq.com',
        'cgzf@huiji.example',
        'dahelu@huiji.example',
        'ga-changxinglu@police.example',
        'gongshang@huiji.example',
        'gxzfb@huiji.example',
        'huayuankou@huiji.example',
        'jiaoyun@huiji.example',
        'laoyachen@huiji.example',
        'renshe@huiji.example',
      ].sort(),
    );
    const toDahelu = receipts.find((m) => m.to[0] === 'dahelu@huiji.example');
    expect(toDahelu?.headers.get('auto-submitted')).toBe('auto-replied');
    expect(toDahelu?.headers.get('x-auto-response-suppress')).toBe('All');
    const original = samples[0]?.raw.toString('latin1').match(/^Message-ID: (<[^>]+>)/m)?.[1];
    expect(toDahelu?.headers.get('in-reply-to')).toBe(original);
    expect(toDahelu?.parsed.subject).toBe('回执：已收到大河路街道办事处报送材料1件');
    expect(toDahelu?.parsed.text).toContain('二-1 本单位推行行政指导的意见');
    expect(toDahelu?.parsed.html).toContain('二-1');
    expect(smtp.messages.some((m) => m.to[0] === 'xincheng@huiji.example')).toBe(false);
  });

  it('GIVEN processed mail WHEN the service restarts and runs again THEN nothing is reprocessed or answered twice', async () => {
    for (const s of demoSamples().slice(0, 4))
      await imap.append(s.raw, { internalDate: s.receivedAt });
    const first = await runOnce();
    const before = first.store.materials().length;
    await smtp.waitFor(4);
    await first.imap.stop();
    first.close();
    apps.length = 0;

    const second = await runOnce();
    await new Promise((r) => setTimeout(r, 300));
    expect(second.store.materials()).toHaveLength(before);
    expect(smtp.messages).toHaveLength(4);
  });

  it('GIVEN the same message appended twice and the mailbox recreated WHEN intake runs THEN it is recorded once', async () => {
    const [s] = demoSamples();
    if (!s) throw new Error('no sample');
    await imap.append(s.raw, { internalDate: s.receivedAt });
    await imap.append(s.raw, { internalDate: s.receivedAt });
    const app = await runOnce();
    expect(app.store.materials()).toHaveLength(1);

    // UIDVALIDITY changes: UIDs start again, but the content is known.
    await imap.recreateInbox();
    await imap.append(s.raw, { internalDate: s.receivedAt });
    await app.imap.once();
    await app.outbox.flush();
    expect(app.store.materials()).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    const sources = app.store.db.prepare('SELECT status FROM message_sources ORDER BY rowid').all();
    expect(sources).toEqual([
      { status: 'recorded' },
      { status: 'duplicate' },
      { status: 'duplicate' },
    ]);
  });

  it('GIVEN a clerk already read a mail in webmail WHEN intake runs THEN it is still processed, and intake sets no flags', async () => {
    const raw = composeMail({
      from: 'liuzhai@huiji.example',
      subject: '刘寨街道 五 调研报告',
      text: '见附件',
      attachments: [{ filename: '刘寨街道调研报告.doc', content: fakeDoc('lz-5') }],
    });
    const seenUid = await imap.append(raw, {
      internalDate: new Date('2015-06-10T09:00:00+08:00'),
      flags: ['\\Seen'],
    });
    const other = composeMail({
      from: 'minzheng@huiji.example',
      subject: '民政局 一',
      text: '见附件',
      attachments: [{ filename: '方案.doc', content: fakeDoc('mz-1') }],
    });
    const unseenUid = await imap.append(other, {
      internalDate: new Date('2015-05-10T09:00:00+08:00'),
    });
    const app = await runOnce();
    expect(app.store.materials().map((m) => [m.unit, m.item])).toEqual([
      ['minzheng', '1'],
      ['liuzhai', '5'],
    ]);

    const client = await imap.client();
    await client.mailboxOpen('INBOX');
    const flags = new Map<number, string[]>();
    for await (const m of client.fetch('1:*', { uid: true, flags: true }, { uid: true }))
      flags.set(
        m.uid,
        [...(m.flags ?? [])].filter((f) => f !== '\\Recent'),
      );
    await client.logout();
    expect(flags.get(seenUid)).toEqual(['\\Seen']);
    expect(flags.get(unseenUid)).toEqual([]);
  });

  it('GIVEN the daemon idling WHEN a unit mails THEN the receipt arrives within seconds', async () => {
    const app = start();
    const running = app.imap.run();
    await new Promise((r) => setTimeout(r, 500));
    const sent = Date.now();
    await imap.append(
      composeMail({
        from: 'jiaoti@huiji.example',
        subject: '教体局 八-1 法律顾问制度',
        text: '见附件',
        attachments: [{ filename: '法律顾问制度.doc', content: fakeDoc('jt-8.1') }],
      }),
    );
    const [receipt] = await smtp.waitFor(1, 10_000);
    const latency = Date.now() - sent;
    expect(receipt?.to).toEqual(['jiaoti@huiji.example']);
    expect(latency).toBeLessThan(10_000);
    expect(app.store.materials()[0]).toMatchObject({
      unit: 'jiaoti',
      item: '8.1',
      status: 'credited',
    });
    await app.imap.stop();
    await running;
  });
});
