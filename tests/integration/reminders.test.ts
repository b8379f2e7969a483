// The weekly reminders across the 2015 campaign, end to end: mail goes in through the real
// intake pipeline, the reminder job runs at simulated dates, the outbox sends to a real SMTP
// server, and we check exactly who received which digest.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAt, registerStatusCommands } from '../../src/cli/status.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { FixedClock } from '../../src/core/clock.js';
import { cellOf } from '../../src/core/status.js';
import { CHINESE_WORKDAYS } from '../../src/core/workdays.js';
import { DEFAULT_REMINDER_SETTINGS } from '../../src/core/reminder.js';
import { composeMail, fakeDoc } from '../../src/demo/compose.js';
import { demoSamples } from '../../src/demo/samples.js';
import { createLogger } from '../../src/log.js';
import { buildApp, type App } from '../../src/main.js';
import { CronScheduler } from '../../src/schedule/cron.js';
import { reminderJobs, RemindersJob } from '../../src/schedule/reminders.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { startSmtpServer, type CapturedMail, type SmtpCapture } from '../support/smtp.js';

const log = createLogger('silent', false);
const sh = (s: string) => new Date(`${s}+08:00`);
const SETTINGS = { ...DEFAULT_REMINDER_SETTINGS, sendsPerMinute: 10 };
const OFFICE = 'hifz9199@sina.com';

describe('weekly reminders against a real SMTP server', () => {
  let smtp: SmtpCapture;
  let dataDir: string;
  let config: Config;
  let app: App;
  let clock: FixedClock;
  let job: RemindersJob;
  let seen = 0;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => smtp?.stop());
  beforeEach(() => {
    smtp.clear();
    seen = 0;
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'baosong-reminders-'));
    config = loadConfig(DEFAULT_CONFIG_PATH, {
      BAOSONG_SMTP_HOST: smtp.host,
      BAOSONG_SMTP_PORT: String(smtp.port),
      BAOSONG_SMTP_TLS: 'false',
      BAOSONG_SMTP_PASSWORD: 'secret',
      BAOSONG_DATA_DIR: dataDir,
    });
    clock = new FixedClock(sh('2015-05-01T09:00'));
    // Receipts off: this test is about what the reminder job sends.
    app = buildApp(config, { log, clock, intake: { sendReceipts: false } });
    job = new RemindersJob({ store: app.store, config, clock, log, settings: SETTINGS });
  });
  afterEach(() => {
    app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const unit = (code: string) => config.units.find((u) => u.code === code)!;
  const allBut = (...codes: string[]) =>
    config.units.filter((u) => !codes.includes(u.code)).map((u) => u.code);

  /** A unit's clerk mails files; the server receives it at `receivedAt` (Shanghai). */
  async function submit(
    from: string,
    subject: string,
    files: string[],
    receivedAt: string,
    date?: string,
  ) {
    const r = await app.intake.ingest({
      source: Readable.from([
        composeMail({
          from,
          subject,
          date: date ? sh(date) : sh(receivedAt),
          messageId: `${receivedAt}.${from}`,
          text: '见附件',
          attachments: files.map((f) => ({ filename: f, content: fakeDoc(`${from}/${f}`) })),
        }),
      ]),
      receivedAt: sh(receivedAt),
    });
    expect(r.status).toBe('recorded');
  }

  /** Everything the outbox holds goes out (the clock passes the paced send times). */
  async function deliver(): Promise<CapturedMail[]> {
    clock.set(new Date(clock.now().getTime() + 3600_000));
    const before = seen;
    const r = await app.outbox.flush();
    expect(r.failed + r.retry).toBe(0);
    if (r.sent > 0) await smtp.waitFor(before + r.sent);
    seen = smtp.messages.length;
    return smtp.messages.slice(before);
  }

  /** Runs the job "by hand" at a Shanghai wall time and sends what it queued. */
  async function runAt(when: string) {
    clock.set(sh(when));
    const result = job.run(clock.now());
    return { result, mails: await deliver() };
  }

  const digests = (mails: CapturedMail[]) =>
    mails.filter((m) =>
      m.headers
        .get('subject')
        ?.toString()
        .match(/^(催报|提醒)：/),
    );
  /** Unit code → the item codes its digest asks for, read back from the mail text. */
  function byUnit(mails: CapturedMail[]): Record<string, string[]> {
    const addressOf = new Map(config.units.flatMap((u) => u.addresses.map((a) => [a, u.code])));
    const out: Record<string, string[]> = {};
    for (const m of digests(mails)) {
      const codes = new Set(m.to.map((a) => addressOf.get(a)));
      expect(codes.size).toBe(1);
      const code = [...codes][0]!;
      expect(out[code]).toBeUndefined();
      const asked = (m.parsed.text ?? '').split('\n已收到：')[0]!;
      out[code] = [...asked.matchAll(/^· (\S+) /gm)].map((x) => x[1]!);
    }
    return out;
  }

  it('GIVEN the 2015 campaign WHEN the job runs on Mondays THEN exactly the units that owe something get a digest, once a week', async () => {
    // 11 May: the first deadline (31 May) is 20 days away. Nobody is reminded; the office
    // still gets its weekly summary.
    let run = await runAt('2015-05-11T09:00');
    expect(run.result.period).toBe('2015-W20');
    expect(digests(run.mails)).toEqual([]);
    expect(run.mails.map((m) => m.to)).toEqual([[OFFICE]]);

    // 大河路 sends all five items due on 31 May in one mail, before the next Monday.
    await submit(
      'dahelu@huiji.example',
      '大河路街道 报送材料',
      [
        '一 年度方案.doc',
        '二-1 行政指导意见.doc',
        '二-2 行政指导文书.doc',
        '二-3 典型案例.doc',
        '七-1 督导体系.doc',
      ],
      '2015-05-15T10:00',
    );
    expect(app.store.submittedItems('dahelu')).toEqual(new Set(['1', '2.1', '2.2', '2.3', '7.1']));

    // 18 May: 13 days to go. Everyone but 大河路 is reminded of the five items.
    run = await runAt('2015-05-18T09:00');
    let got = byUnit(run.mails);
    expect(Object.keys(got).sort()).toEqual(allBut('dahelu').sort());
    for (const items of Object.values(got))
      expect(items).toEqual(['一', '二-1', '二-2', '二-3', '七-1']);
    // A unit with two known addresses gets one digest, to both.
    const police = digests(run.mails).find((m) => m.to.includes('ga-dahelu@police.example'))!;
    expect(police.to.sort()).toEqual(['dhlfj_fzk@police.example', 'ga-dahelu@police.example']);
    expect(police.headers.get('subject')).toBe(
      '提醒：市公安局大河路分局有5项材料将于5月31日前截止',
    );
    expect(police.parsed.text).toContain('5月31日截止，还有13天');
    expect(police.headers.get('auto-submitted')).toBe('auto-generated');
    expect(police.headers.get('precedence')).toBe('bulk');
    expect(police.headers.get('x-auto-response-suppress')).toBe('All');
    expect(police.parsed.messageId).toBe('<reminder.ga-dahelu.2015-W21@sina.com>');
    expect(run.mails.filter((m) => m.to.includes(OFFICE))).toHaveLength(1);

    // 古荥 and 工商 send something mid-week; a second run the same week sends nothing new.
    await submit(
      'gxzfb@huiji.example',
      '报送材料',
      ['古荥镇2015年推进服务型行政执法建设年度方案.doc'],
      '2015-05-20T09:05',
    );
    await submit(
      'gongshang@huiji.example',
      '二-3 典型案例',
      ['行政指导案例汇编.doc'],
      '2015-05-29T11:20',
    );
    const outboxRows = app.store.outboxCounts();
    run = await runAt('2015-05-20T15:00');
    expect(run.result.queued).toBe(0);
    expect(run.mails).toEqual([]);
    expect(app.store.outboxCounts()).toEqual(outboxRows);

    // 花园口's clerk mails item 1 on 2 June with a PC clock that says 31 May: late, by the
    // server's receipt time.
    await submit(
      'huayuankou@huiji.example',
      '花园口镇 一 年度方案',
      ['年度方案.doc'],
      '2015-06-02T08:10',
      '2015-05-31T18:00',
    );

    // 1 June: the items of 31 May are overdue for whoever has not sent them.
    run = await runAt('2015-06-01T09:00');
    got = byUnit(run.mails);
    expect(Object.keys(got).sort()).toEqual(allBut('dahelu').sort());
    expect(got.guxing).toEqual(['二-1', '二-2', '二-3', '七-1']);
    expect(got.gongshang).toEqual(['一', '二-1', '二-2', '七-1']);
    expect(got.huayuankou).toEqual(['一', '二-1', '二-2', '二-3', '七-1']);
    const gs = digests(run.mails).find((m) => m.to.includes('gongshang@huiji.example'))!;
    expect(gs.headers.get('subject')).toBe('催报：工商惠济分局有4项材料逾期未报');
    expect(gs.parsed.text).toContain('5月31日截止，已逾期1天');
    expect(gs.parsed.text).toMatch(/已收到：\n· 二-3 典型案例：5月29日收到/);
    // The summary names the late units.
    const summary = run.mails.find((m) => m.to.includes(OFFICE))!;
    expect(summary.headers.get('subject')).toBe(
      `${config.campaign.name}报送进度周报（2015-W23）：21个单位有逾期未报材料`,
    );
    expect(summary.parsed.text).toContain('通报名单（有逾期未报材料的单位，共21个）');
    expect(summary.parsed.html).toContain('<table');

    const m = job.matrix(sh('2015-06-05T09:00'));
    expect(cellOf(m, 'huayuankou', '1')?.state).toBe('submitted_late');
    expect(cellOf(m, 'guxing', '1')?.state).toBe('submitted_on_time');
    expect(cellOf(m, 'dahelu', '7.1')?.state).toBe('submitted_on_time');

    // Every mail has its dedupe key: one per unit and week, one summary per week.
    const keys = app.store.db
      .prepare('SELECT dedupe_key FROM outbox ORDER BY id')
      .pluck()
      .all() as string[];
    expect(keys.filter((k) => k.startsWith('summary:'))).toEqual([
      'summary:2015-W20',
      'summary:2015-W21',
      'summary:2015-W23',
    ]);
    expect(keys).toContain('reminder:guxing:2015-W21');
    expect(keys).toContain('reminder:guxing:2015-W23');
    expect(keys).not.toContain('reminder:dahelu:2015-W23');
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('GIVEN the campaign year is over WHEN the job runs THEN nobody is chased any more', async () => {
    const run = await runAt('2016-01-04T09:00');
    expect(run.result.mails).toEqual([]);
    expect(run.mails).toEqual([]);
  });

  it('GIVEN 22 reminders WHEN queued THEN they are paced by send time, not sent in one burst', async () => {
    clock.set(sh('2015-05-18T09:00'));
    const r = job.run(clock.now());
    expect(r.queued).toBe(config.units.length + 1);
    const due = app.store.db
      .prepare(`SELECT next_attempt_at FROM outbox ORDER BY id`)
      .pluck()
      .all() as string[];
    // sendsPerMinute 10: one every 6 s, the summary last.
    expect(due[0]).toBe(sh('2015-05-18T09:00').toISOString());
    expect(due[1]).toBe(sh('2015-05-18T09:00:06').toISOString());
    expect(due.at(-1)).toBe(new Date(sh('2015-05-18T09:00').getTime() + 22 * 6000).toISOString());
    // At 09:00 only the first is due.
    expect(await app.outbox.flush()).toEqual({ sent: 1, retry: 0, failed: 0 });
  });

  it('GIVEN the daemon scheduler WHEN Monday is a public holiday (端午, 22 June) THEN the digests go out on Tuesday', async () => {
    // Everyone sent the May items on time.
    for (const u of config.units) {
      await submit(
        u.addresses[0]!,
        `${u.shortNames[0]} 报送材料`,
        [
          '一 年度方案.doc',
          '二-1 行政指导意见.doc',
          '二-2 行政指导文书.doc',
          '二-3 典型案例.doc',
          '七-1 督导体系.doc',
        ],
        '2015-05-25T10:00',
      );
    }
    const scheduler = new CronScheduler({
      clock,
      log,
      timeZone: 'Asia/Shanghai',
      calendar: CHINESE_WORKDAYS,
    });
    for (const j of reminderJobs(job, SETTINGS)) scheduler.add(j);
    try {
      clock.set(sh('2015-06-22T09:00'));
      await scheduler.check();
      expect(await deliver()).toEqual([]);

      clock.set(sh('2015-06-23T09:00'));
      await scheduler.check();
      const mails = await deliver();
      const got = byUnit(mails);
      // 30 June is 7 days away: item 5 for everyone, 6.1 for units with mediation duties.
      for (const u of config.units) {
        expect(got[u.code]).toEqual(u.tags.includes('mediation') ? ['五', '六-1'] : ['五']);
      }
      expect(mails.some((m) => m.to.includes(OFFICE))).toBe(false);
      expect(digests(mails)[0]?.parsed.text).toContain('6月30日截止，还有7天');

      clock.set(sh('2015-06-23T09:30'));
      await scheduler.check();
      const later = await deliver();
      expect(later.map((m) => m.to)).toEqual([[OFFICE]]);
      expect(later[0]?.parsed.messageId).toBe('<summary.2015-W26@sina.com>');
    } finally {
      await scheduler.stop();
    }
  });

  it('GIVEN a daemon that was down at 09:00 Monday WHEN it comes back on Wednesday THEN it sends the missed run once, as planned for Monday', async () => {
    await submit(
      'cgzf@huiji.example',
      '城管执法局 四-1 培训照片',
      ['城管执法规范培训通知.doc'],
      '2015-08-04T08:40',
    );
    const start = (at: string) => {
      clock.set(sh(at));
      const s = new CronScheduler({
        clock,
        log,
        timeZone: 'Asia/Shanghai',
        calendar: CHINESE_WORKDAYS,
      });
      for (const j of reminderJobs(job, SETTINGS)) s.add(j);
      return s;
    };
    // Monday 7 September was missed; the daemon starts on Wednesday 9 September.
    let scheduler = start('2015-09-09T14:00');
    await scheduler.check();
    await scheduler.stop();
    const mails = await deliver();
    const got = byUnit(mails);
    // 3.1 and 3.2 (10 September) were due soon on Monday; everything else of the year that is
    // past is overdue. Nobody is asked for 4.2, 4.3 or 9.
    expect(Object.keys(got).sort()).toEqual(config.units.map((u) => u.code).sort());
    expect(got.cgzf).toEqual(['一', '二-1', '二-2', '二-3', '七-1', '五', '三-1', '三-2']);
    expect(mails.filter((m) => m.to.includes(OFFICE))).toHaveLength(1);
    expect(digests(mails)[0]?.parsed.messageId).toMatch(/\.2015-W37@sina\.com>$/);

    // A restart later the same week sends nothing again.
    scheduler = start('2015-09-10T16:00');
    await scheduler.check();
    await scheduler.stop();
    expect(await deliver()).toEqual([]);
  });

  it('GIVEN a dry run THEN it says who would get what and queues nothing', () => {
    clock.set(sh('2015-06-01T09:00'));
    const r = job.run(clock.now(), { dryRun: true });
    expect(r.queued).toBe(0);
    expect(r.mails.filter((m) => m.outcome === 'would_queue')).toHaveLength(
      config.units.length + 1,
    );
    expect(r.mails.find((m) => m.unit === 'dahelu')).toMatchObject({
      kind: 'reminder',
      to: 'dahelu@huiji.example',
      overdue: ['1', '2.1', '2.2', '2.3', '7.1'],
      dueSoon: [],
    });
    expect(app.store.outboxCounts()).toEqual({});
  });

  describe('the status and remind commands on the demo data', () => {
    async function cli(...args: string[]): Promise<string> {
      let out = '';
      const program = new Command().exitOverride();
      program.addOption(new Option('--no-color', 'plain output'));
      registerStatusCommands(program, {
        loadConfig: () => config,
        buildApp,
        logger: () => log,
        out: { write: (s: string) => (out += s), isTTY: false },
      });
      await program.parseAsync(['node', 'baosong', ...args]);
      return out;
    }

    beforeEach(async () => {
      for (const s of demoSamples()) {
        await app.intake.ingest({ source: Readable.from([s.raw]), receivedAt: s.receivedAt });
      }
    });

    it('status --json: for each unit and item, the state, first and latest time, count', async () => {
      const json = JSON.parse(await cli('status', '--json', '--at', '2015-06-05')) as {
        at: string;
        units: Record<string, { name: string; items: Record<string, Record<string, unknown>> }>;
      };
      expect(json.at).toBe('2015-06-05T15:59:59.999Z');
      expect(Object.keys(json.units)).toEqual(config.units.map((u) => u.code));
      expect(json.units.dahelu?.items['2.1']).toEqual({
        state: 'submitted_on_time',
        due: '2015-05-31T15:59:59.999Z',
        first: sh('2015-05-20T14:32').toISOString(),
        latest: sh('2015-05-20T14:32').toISOString(),
        count: 1,
        unconfirmed: false,
      });
      expect(json.units.dahelu?.items['1']?.state).toBe('overdue');
      expect(json.units.dahelu?.items['4.1']?.state).toBe('not_applicable');
      expect(json.units.cgzf?.items['4.3']?.state).toBe('onsite');
      // The QQ clerk of 迎宾路: counted, marked unconfirmed.
      expect(json.units.yingbinlu?.items['3.1']).toMatchObject({
        state: 'submitted_on_time',
        unconfirmed: true,
      });
      // 长兴路分局's report arrived on 2 June: item 5 is due 30 June, so on time.
      expect(json.units['ga-changxinglu']?.items['5']?.state).toBe('submitted_on_time');
      // As of an earlier day, later mail does not count yet.
      const before = JSON.parse(
        await cli('status', '--json', '--at', '2015-05-19', '--unit', 'dahelu'),
      ) as typeof json;
      expect(Object.keys(before.units)).toEqual(['dahelu']);
      expect(before.units.dahelu?.items['2.1']).toMatchObject({ state: 'due_soon', count: 0 });
    });

    it('status: the matrix with Chinese labels; --unit: one unit item by item', async () => {
      const text = await cli('status', '--at', '2015-06-05');
      const lines = text.split('\n');
      expect(lines[0]).toBe(`${config.campaign.name} 报送状态（截至 2015-06-05 23:59）`);
      expect(lines[2]).toMatch(/^单位 +一 +二-1 +二-2 +二-3 +三-1/);
      expect(lines.find((l) => l.startsWith('大河路街道办事处'))).toMatch(
        /^大河路街道办事处 +✗ +✓ +✗/,
      );
      expect(lines.find((l) => l.startsWith('迎宾路街道办事处'))).toContain('✓?');
      expect(text).toContain('图例：✓ 按时报送');
      expect(text).not.toContain('\u001b[');
      const unit = await cli('status', '--at', '2015-06-05', '--unit', 'dahelu');
      expect(unit).toMatch(
        /二-1 本单位推行行政指导的意见 +按时报送 +5月31日 +首次 2015-05-20 14:32/,
      );
      expect(unit).toMatch(/一 本单位推进服务型行政执法建设年度 +逾期未报 +5月31日 +已逾期5天/);
    });

    it('remind --dry-run explains who would get what, and who gets nothing and why', async () => {
      const all = [
        '一 年度方案.doc',
        '二-1 行政指导意见.doc',
        '二-2 行政指导文书.doc',
        '二-3 典型案例.doc',
        '七-1 督导体系.doc',
      ];
      await submit('jiaoyun@huiji.example', '交运局 报送材料', all, '2015-05-28T10:00');
      const text = await cli('remind', '--dry-run', '--at', '2015-06-08 09:00');
      expect(text).toContain('提醒周期 2015-W24（演练，不发送；按 2015-06-08 09:00 的状态）');
      expect(text).toContain(
        '将发送  大河路街道办事处 <dahelu@huiji.example>  逾期未报：一、二-2、二-3、七-1',
      );
      expect(text).toContain('不提醒（没有逾期或14天内到期的未报事项）：区交通运输局');
      expect(text).toContain('将发送  办公室周报 <hifz9199@sina.com>');
      expect(app.store.outboxCounts()).toEqual({});
    });

    it('--at takes a day (its end), a wall time, or an ISO time; nothing else', () => {
      expect(parseAt('2015-06-01', 'Asia/Shanghai')).toEqual(new Date('2015-06-01T15:59:59.999Z'));
      expect(parseAt('2015-06-01 09:30', 'Asia/Shanghai')).toEqual(sh('2015-06-01T09:30'));
      expect(parseAt('2015-06-01T01:00:00Z', 'Asia/Shanghai')).toEqual(sh('2015-06-01T09:00'));
      for (const bad of ['2015-02-30', '2015-06-01 25:00', 'next monday', '6/1']) {
        expect(() => parseAt(bad, 'Asia/Shanghai')).toThrow(/is not a date/);
      }
    });
  });

  it('GIVEN the weekly summary THEN it carries the status matrix as a CSV attachment', async () => {
    const run = await runAt('2015-06-01T09:00');
    const summary = run.mails.find((m) => m.to.includes(OFFICE))!;
    const csv = summary.parsed.attachments.find((a) => a.filename === '报送进度-2015-W23.csv');
    expect(csv?.contentType).toBe('text/csv');
    const text = csv!.content.toString('utf8');
    expect(text.startsWith('\uFEFF单位代码,单位,')).toBe(true);
    expect(text).toContain('\r\ndahelu,大河路街道办事处,逾期未报,');
  });
});
