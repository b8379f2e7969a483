// The review queue against a database filled by the real intake pipeline, with a real SMTP
// server on loopback: each decision changes the status, is audited, and sends the unit one
// corrected receipt; a confirmed sender is credited directly next time.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { cellOf, statusMatrix } from '../../src/core/status.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { demoSamples } from '../../src/demo/samples.js';
import { createLogger } from '../../src/log.js';
import { Intake } from '../../src/intake/pipeline.js';
import { buildApp, type App } from '../../src/main.js';
import { ReviewDesk, ReviewError, parseTarget } from '../../src/review/desk.js';
import { ReviewStore } from '../../src/store/review-store.js';
import { loadSubmissions } from '../../src/store/status-queries.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

const log = createLogger('silent', false);
const at = (s: string) => new Date(`${s}+08:00`);
const NOW = at('2015-06-05T10:00:00');

/** Mail that lands in the queue for the two reasons the demo does not show. */
function extraSamples() {
  return [
    {
      // A town sends item 4 material: item 4 is for urban management only.
      raw: composeMail({
        from: 'guxing@huiji.example',
        subject: '古荥镇 城管论坛资料',
        date: at('2015-06-04T09:00:00'),
        text: '见附件',
        attachments: [{ filename: '城管论坛活动资料.doc', content: fakeDoc('gx-4.2') }],
      }),
      receivedAt: at('2015-06-04T09:00:00'),
    },
    {
      // Two codes in one file name: a tie.
      raw: composeMail({
        from: 'xincheng@huiji.example',
        subject: '新城街道报送',
        date: at('2015-06-04T10:00:00'),
        text: '见附件',
        attachments: [{ filename: '三-1 三-2 材料.doc', content: fakeDoc('xc-3') }],
      }),
      receivedAt: at('2015-06-04T10:00:00'),
    },
  ];
}

describe('review queue: decisions on a database filled by the intake pipeline', () => {
  let smtp: SmtpCapture;
  let dataDir: string;
  let config: Config;
  let app: App;
  let desk: ReviewDesk;
  let reviews: ReviewStore;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp?.stop();
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'baosong-review-'));
    config = loadConfig(DEFAULT_CONFIG_PATH, {
      BAOSONG_SMTP_HOST: smtp.host,
      BAOSONG_SMTP_PORT: String(smtp.port),
      BAOSONG_SMTP_TLS: 'false',
      BAOSONG_SMTP_PASSWORD: 'x',
      BAOSONG_DATA_DIR: dataDir,
    });
    app = buildApp(config, { log, clock: new FixedClock(NOW) });
    for (const s of [...demoSamples(), ...extraSamples()])
      await app.intake.ingest({ source: Readable.from(s.raw), receivedAt: s.receivedAt });
    await app.outbox.flush();
    await smtp.waitFor(12);
    smtp.clear();
    reviews = new ReviewStore(app.store.db);
    desk = new ReviewDesk({ store: app.store, reviews, config, clock: app.clock, log });
  });
  afterEach(() => {
    app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const material = (name: string) => {
    const m = app.store.materials().find((x) => x.filename === name);
    if (!m) throw new Error(`no material ${name}`);
    return m;
  };
  const cell = (unit: string, item: string) =>
    cellOf(
      statusMatrix(config.units, config.checklist.items, loadSubmissions(app.store.db), NOW, {
        year: 2015,
        timeZone: 'Asia/Shanghai',
        dueSoonDays: 14,
      }),
      unit,
      item,
    );
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('GIVEN the pipeline’s output WHEN the queue is listed THEN each waiting material says why, in the four kinds', () => {
    const list = desk.list();
    const why = Object.fromEntries(list.map((e) => [e.filename, e.why]));
    expect(why).toEqual({
      'scan0001.pdf': ['no_item'],
      '服务型行政执法学习会议纪要.doc': ['unknown_sender'],
      '城管论坛活动资料.doc': ['not_applicable'],
      '三-1 三-2 材料.doc': ['item_tie'],
    });
    const qq = list.find((e) => e.from === '3021887465@qq.com');
    expect(qq).toMatchObject({
      kind: 'material',
      unit: 'yingbinlu',
      item: '3.1',
      subject: '迎宾路街道 学习会议纪要',
    });
    expect(qq?.whyText).toEqual(['发件人未登记']);
  });

  it('GIVEN mail from an unknown QQ address WHEN the clerk confirms the sender THEN it is credited, audited, ONE corrected receipt goes out, and the next mail from it is credited directly', async () => {
    const m = material('服务型行政执法学习会议纪要.doc');
    expect(cell('yingbinlu', '3.1')).toMatchObject({
      state: 'submitted_on_time',
      unconfirmed: true,
    });

    const r = desk.confirmSender(parseTarget(String(m.id)), 'yingbinlu', { by: '王敏' });
    expect(r.changed).toHaveLength(1);
    expect(r.learned).toEqual({ address: '3021887465@qq.com', unit: 'yingbinlu', previous: null });

    // Status: credited, and the cell no longer rests on an unconfirmed sender.
    expect(material('服务型行政执法学习会议纪要.doc')).toMatchObject({
      status: 'credited',
      confirmed: true,
      unit: 'yingbinlu',
    });
    expect(cell('yingbinlu', '3.1')).toMatchObject({
      state: 'submitted_on_time',
      unconfirmed: false,
    });

    // Audit: who, when, before, after.
    const [d] = reviews.decisions();
    expect(d).toMatchObject({
      decidedBy: '王敏',
      action: 'confirm_sender',
      material: m.id,
      decidedAt: NOW.toISOString(),
    });
    expect(d?.before).toMatchObject({
      address: '3021887465@qq.com',
      unit: null,
      materials: [{ id: m.id, status: 'review', confirmed: false }],
    });
    expect(d?.after).toMatchObject({
      address: '3021887465@qq.com',
      unit: 'yingbinlu',
      materials: [{ id: m.id, status: 'credited', confirmed: true }],
    });
    expect(d?.receipts).toHaveLength(1);

    // One corrected receipt, threaded to the original, through the outbox.
    const sent = await app.outbox.flush();
    expect(sent.sent).toBe(1);
    await smtp.waitFor(1);
    await settle();
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0];
    expect(mail?.to).toEqual(['3021887465@qq.com']);
    expect(mail?.parsed.subject).toBe('更正回执：迎宾路街道办事处报送材料1件已核对');
    expect(mail?.headers.get('auto-submitted')).toBe('auto-replied');
    const original = demoSamples()
      .find((s) => s.name === '06-unknown-qq-sender')
      ?.raw.toString('latin1')
      .match(/^Message-ID: (<[^>]+>)/m)?.[1];
    expect(mail?.headers.get('in-reply-to')).toBe(original);
    expect(mail?.parsed.text).toContain('三-1 领导干部学习服务型行政执法的会议纪要');
    expect(mail?.parsed.text).toContain('3021887465@qq.com 已登记为迎宾路街道办事处的报送地址');

    // Retrying the flush sends nothing more.
    expect((await app.outbox.flush()).sent).toBe(0);

    // The daemon's classifier picks the learned address up without a restart.
    const next = composeMail({
      from: '3021887465@qq.com',
      subject: '培训考试材料',
      date: at('2015-06-05T09:00:00'),
      text: '',
      attachments: [{ filename: '执法人员培训考试试卷.doc', content: fakeDoc('ybl-3.2') }],
    });
    await app.intake.ingest({ source: Readable.from(next), receivedAt: at('2015-06-05T09:00:00') });
    expect(material('执法人员培训考试试卷.doc')).toMatchObject({
      unit: 'yingbinlu',
      item: '3.2',
      status: 'credited',
      confirmed: true,
    });
    expect(desk.list().some((e) => e.from === '3021887465@qq.com')).toBe(false);
  });

  it('GIVEN a scan with no item WHEN assigned THEN the cell turns on time and the unit gets one corrected receipt; --quiet sends none', async () => {
    const scan = material('scan0001.pdf');
    expect(cell('jiaoyun', '2.1')?.state).toBe('overdue');
    desk.assign(parseTarget(String(scan.id)), 'jiaoyun', '二-1', { by: 'clerk' });
    expect(material('scan0001.pdf')).toMatchObject({
      status: 'credited',
      item: '2.1',
      confirmed: true,
    });
    expect(cell('jiaoyun', '2.1')?.state).toBe('submitted_on_time');
    await app.outbox.flush();
    await smtp.waitFor(1);
    await settle();
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]?.to).toEqual(['jiaoyun@huiji.example']);
    expect(smtp.messages[0]?.parsed.text).toContain(
      'scan0001.pdf\n   → 二-1 本单位推行行政指导的意见',
    );

    // A second decision on the same mail is a new receipt (a new dedupe key), unless quiet.
    const tie = material('三-1 三-2 材料.doc');
    const quiet = desk.assign(parseTarget(String(tie.id)), 'xincheng', '3.1', {
      by: 'clerk',
      quiet: true,
    });
    expect(quiet.receipts).toEqual([
      { message: expect.any(Number), to: 'xincheng@huiji.example', outcome: 'quiet' },
    ]);
    expect((await app.outbox.flush()).sent).toBe(0);
  });

  it('GIVEN a material WHEN rejected THEN it stops counting, and the receipt gives the clerk’s reason', async () => {
    const t = material('三-1 三-2 材料.doc');
    desk.assign(parseTarget(String(t.id)), 'xincheng', '3.1', { by: 'clerk', quiet: true });
    expect(cell('xincheng', '3.1')?.count).toBe(1);
    const r = desk.reject(parseTarget(String(t.id)), '材料与事项不符，请按事项分别报送', {
      by: 'clerk',
    });
    expect(r.changed[0]?.after.status).toBe('rejected');
    expect(cell('xincheng', '3.1')?.count).toBe(0);
    expect(desk.list().some((e) => e.filename === '三-1 三-2 材料.doc')).toBe(false);
    await app.outbox.flush();
    await smtp.waitFor(1);
    await settle();
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]?.parsed.subject).toBe(
      '更正回执：新城街道办事处报送材料1件已核对，其中1件未计入',
    );
    expect(smtp.messages[0]?.parsed.text).toContain('→ 未计入：材料与事项不符，请按事项分别报送');
    expect(reviews.decisions().map((d) => d.action)).toEqual(['assign', 'reject']);
  });

  it('GIVEN a message the parser could not read WHEN listed THEN it waits as m<id>; rejecting it sets it aside', async () => {
    // The pipeline with a parser that fails, as on a truncated or hostile message.
    const broken = new Intake(
      {
        store: app.store,
        data: app.data,
        classifier: app.classifier,
        config,
        clock: app.clock,
        log,
        parse: () => Promise.reject(new Error('unexpected end of MIME part')),
      },
      { sendReceipts: true },
    );
    const r = await broken.ingest({
      source: Readable.from(Buffer.from('Subject: x\r\n\r\ncut')),
      receivedAt: NOW,
    });
    expect(r.status).toBe('failed');
    const entry = desk.list().find((e) => e.kind === 'message');
    expect(entry).toMatchObject({
      id: `m${r.message}`,
      why: ['unreadable'],
      whyText: ['邮件无法解析'],
    });
    const d = desk.reject(parseTarget(`m${r.message}`), '无法打开，已请发件单位重发', {
      by: 'clerk',
    });
    expect(d.receipts[0]).toMatchObject({ outcome: 'skipped' });
    expect(desk.list().some((e) => e.kind === 'message')).toBe(false);
    expect(reviews.decisions()[0]).toMatchObject({
      action: 'reject',
      material: null,
      message: r.message,
    });
  });

  it('refuses what it cannot do, in words that say what to do instead', () => {
    const town = material('城管论坛活动资料.doc');
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as ReviewError;
      }
      throw new Error('no error');
    };
    expect(
      err(() => desk.assign(parseTarget(String(town.id)), 'guxing', '4.2', { by: 'c' })).code,
    ).toBe('NOT_APPLICABLE');
    expect(
      err(() => desk.assign(parseTarget(String(town.id)), 'guxing', '2', { by: 'c' })).message,
    ).toMatch(/2\.1, 2\.2, 2\.3/);
    expect(
      err(() => desk.assign(parseTarget(String(town.id)), 'nobody', '1', { by: 'c' })).code,
    ).toBe('UNKNOWN_UNIT');
    expect(
      err(() => desk.confirmSender(parseTarget(String(town.id)), 'cgzf', { by: 'c' })).code,
    ).toBe('ADDRESS_IN_CONFIG');
    expect(err(() => desk.reject(parseTarget('99999'), 'x', { by: 'c' })).code).toBe('NOT_FOUND');
    expect(err(() => parseTarget('abc')).code).toBe('BAD_ID');
    // Nothing was changed or audited by the refusals.
    expect(reviews.decisions()).toEqual([]);
    expect(material('城管论坛活动资料.doc').status).toBe('review');
  });
});
