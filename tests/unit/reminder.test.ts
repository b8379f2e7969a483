// Who is reminded, what the digest and the summary say, and when the weekly run happens
// (holidays, missed runs). Pure functions with an injected clock; the scheduler is driven by
// check(now) calls, never by waiting for a real minute.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { FixedClock } from '../../src/core/clock.js';
import {
  digestText,
  digestWriter,
  lateUnits,
  matrixCsv,
  mostlyLateItems,
  planReminders,
  reminderKey,
  subjectExample,
  summaryKey,
  summaryText,
  weekKey,
  ZoneCalendar,
  type UnitReminder,
} from '../../src/core/reminder.js';
import { statusMatrix, type SubmissionRow } from '../../src/core/status.js';
import {
  CHINESE_WORKDAYS,
  dayIndex,
  monthDayText,
  moveToWorkday,
  nextWorkday,
  WEEKDAYS_ONLY,
} from '../../src/core/workdays.js';
import { createLogger } from '../../src/log.js';
import { CronScheduler, ScheduleError, type WeeklyJob } from '../../src/schedule/cron.js';

const TZ = 'Asia/Shanghai';
const config = loadConfig(DEFAULT_CONFIG_PATH, {});
const { units } = config;
const items = config.checklist.items;
const sh = (s: string) => new Date(`${s}+08:00`);
const log = createLogger('silent', false);

const DUE_31_MAY = ['1', '2.1', '2.2', '2.3', '7.1'];
const MEDIATION = units.filter((u) => u.tags.includes('mediation')).map((u) => u.code);

function matrixAt(now: string, rows: SubmissionRow[] = []) {
  return statusMatrix(units, items, rows, sh(now), { year: 2015, timeZone: TZ, dueSoonDays: 14 });
}
const sent = (unit: string, item: string, at: string, confirmed = true): SubmissionRow => ({
  unit,
  item,
  receivedAt: sh(at),
  confirmed,
});
const summary = (plan: UnitReminder[]) =>
  Object.fromEntries(
    plan.map((r) => [
      r.unit.code,
      { overdue: r.overdue.map((c) => c.item), dueSoon: r.dueSoon.map((c) => c.item) },
    ]),
  );

describe('weekKey: ISO weeks on the Shanghai calendar', () => {
  it.each([
    ['2015-06-01T09:00:00+08:00', '2015-W23'],
    // Sunday evening in Shanghai is still the old week...
    ['2015-05-31T23:30:00+08:00', '2015-W22'],
    // ...and Monday 00:30 in Shanghai is the new one, although it is Sunday in UTC.
    ['2015-05-31T16:30:00Z', '2015-W23'],
    ['2015-12-31T12:00:00+08:00', '2015-W53'],
    ['2016-01-03T12:00:00+08:00', '2015-W53'],
    ['2016-01-04T12:00:00+08:00', '2016-W01'],
  ])('%s is %s', (at, week) => expect(weekKey(new Date(at), TZ)).toBe(week));

  it('makes the dedupe keys', () => {
    expect(reminderKey('dahelu', '2015-W23')).toBe('reminder:dahelu:2015-W23');
    expect(summaryKey('2015-W23')).toBe('summary:2015-W23');
  });
});

describe('planReminders: who gets a digest, for what', () => {
  it('three weeks before the first deadline, nobody', () => {
    expect(planReminders(matrixAt('2015-05-11T09:00'), sh('2015-05-11T09:00'), 14)).toEqual([]);
  });

  it('within 14 days of 31 May, every unit, for the five items due then', () => {
    const plan = planReminders(matrixAt('2015-05-18T09:00'), sh('2015-05-18T09:00'), 14);
    expect(plan.map((r) => r.unit.code)).toEqual(units.map((u) => u.code));
    for (const r of plan) {
      expect(r.overdue).toEqual([]);
      expect(r.dueSoon.map((c) => c.item)).toEqual(DUE_31_MAY);
    }
  });

  it('what a unit sent is not asked for again; a unit that sent everything gets nothing', () => {
    const rows = [
      ...DUE_31_MAY.map((i) => sent('dahelu', i, '2015-05-15T10:00')),
      sent('guxing', '1', '2015-05-12T10:00'),
      // An unconfirmed sender still counts: the reminder must not ask for it again.
      sent('yingbinlu', '2.1', '2015-05-13T10:00', false),
    ];
    const plan = summary(
      planReminders(matrixAt('2015-05-18T09:00', rows), sh('2015-05-18T09:00'), 14),
    );
    expect(plan.dahelu).toBeUndefined();
    expect(plan.guxing?.dueSoon).toEqual(['2.1', '2.2', '2.3', '7.1']);
    expect(plan.yingbinlu?.dueSoon).toEqual(['1', '2.2', '2.3', '7.1']);
  });

  it('after the deadline the missing items are overdue; the next deadline is not yet in the window', () => {
    const rows = [
      sent('guxing', '1', '2015-05-27T09:05'),
      sent('guxing', '2.2', '2015-05-27T09:05'),
    ];
    const plan = summary(
      planReminders(matrixAt('2015-06-01T09:00', rows), sh('2015-06-01T09:00'), 14),
    );
    expect(plan.guxing).toEqual({ overdue: ['2.1', '2.3', '7.1'], dueSoon: [] });
    expect(plan.huayuankou).toEqual({ overdue: DUE_31_MAY, dueSoon: [] });
  });

  it('items apply by tags: item 6 only to units with mediation duties', () => {
    const all = units.flatMap((u) => DUE_31_MAY.map((i) => sent(u.code, i, '2015-05-20T10:00')));
    const plan = summary(
      planReminders(matrixAt('2015-06-16T09:00', all), sh('2015-06-16T09:00'), 14),
    );
    for (const u of units) {
      expect(plan[u.code]?.dueSoon).toEqual(MEDIATION.includes(u.code) ? ['5', '6.1'] : ['5']);
    }
  });

  it('never asks for what is checked on site, ongoing or flexible', () => {
    for (const day of ['2015-05-18', '2015-07-27', '2015-09-07', '2015-12-28']) {
      const plan = planReminders(matrixAt(`${day}T09:00`), sh(`${day}T09:00`), 14);
      const asked = plan.flatMap((r) => [...r.overdue, ...r.dueSoon].map((c) => c.item));
      expect(asked).not.toContain('4.2');
      expect(asked).not.toContain('4.3');
      expect(asked).not.toContain('9');
    }
    const cgzf = summary(
      planReminders(matrixAt('2015-07-27T09:00'), sh('2015-07-27T09:00'), 14),
    ).cgzf;
    expect(cgzf?.dueSoon).toEqual(['4.1']);
  });

  it('a late run counts the window from the planned time: nobody new mid-week', () => {
    // Planned Monday 15 June: 30 June is 15 days away, outside the window. Run on Wednesday
    // after a restart, it must not add item 5 (13 days from Wednesday).
    const all = units.flatMap((u) => DUE_31_MAY.map((i) => sent(u.code, i, '2015-05-20T10:00')));
    const m = matrixAt('2015-06-17T14:00', all);
    expect(planReminders(m, sh('2015-06-17T14:00'), 14, sh('2015-06-15T09:00'))).toEqual([]);
    expect(planReminders(m, sh('2015-06-17T14:00'), 14)).toHaveLength(units.length);
  });

  it('lists what was already received', () => {
    const rows = [
      sent('dahelu', '2.1', '2015-05-20T14:32'),
      sent('dahelu', '9', '2015-05-22T10:00'),
    ];
    const [r] = planReminders(
      matrixAt('2015-06-01T09:00', rows),
      sh('2015-06-01T09:00'),
      14,
    ).filter((x) => x.unit.code === 'dahelu');
    expect(r?.received.map((c) => c.item)).toEqual(['2.1', '9']);
  });
});

describe('digestText: one short Chinese mail per unit', () => {
  const dahelu = units.find((u) => u.code === 'dahelu')!;
  const input = (now: string, rows: SubmissionRow[]) => {
    const r = planReminders(matrixAt(now, rows), sh(now), 14).find(
      (x) => x.unit.code === 'dahelu',
    )!;
    return digestText({
      campaign: config.campaign.name,
      office: config.campaign.office,
      mailbox: config.from,
      timeZone: TZ,
      items,
      reminder: r,
      now: sh(now),
    });
  };

  it('before the deadline: what is due, by when, days left, and how to send', () => {
    const d = input('2015-05-18T09:00', [sent('dahelu', '2.1', '2015-05-15T10:00')]);
    expect(d.subject).toBe('提醒：大河路街道办事处有4项材料将于5月31日前截止');
    expect(d.text).toContain('大河路街道办事处：');
    expect(d.text).toContain(
      '即将到期：\n· 一 本单位推进服务型行政执法建设年度方案\n  5月31日截止，还有13天',
    );
    // Long titles are cut to fit a phone line.
    expect(d.text).toContain('· 二-2 所属行政执法部门在行政管理、行政执…\n');
    expect(d.text).toContain('已收到：\n· 二-1 本单位推行行政指导的意见：5月15日收到');
    expect(d.text).toContain('发送至 hifz9199@sina.com');
    expect(d.text).toContain('“大河路街道 一 年度方案”');
    expect(d.text).not.toMatch(/四-3|九 /);
    expect(d.html).toContain(
      '<li>一 本单位推进服务型行政执法建设年度方案<br><small>5月31日截止，还有13天</small></li>',
    );
  });

  it('after it: overdue first, in red, with days late; the subject says 催报', () => {
    const d = input('2015-06-16T09:00', [sent('dahelu', '1', '2015-06-02T10:00')]);
    expect(d.subject).toBe('催报：大河路街道办事处有4项材料逾期未报，1项即将到期');
    expect(d.text).toMatch(/已逾期，请尽快报送：\n· 二-1 [^\n]+\n {2}5月31日截止，已逾期16天/);
    expect(d.text).toMatch(/即将到期：\n· 五 [^\n]+\n {2}6月30日截止，还有14天/);
    expect(d.text).toContain('6月2日收到（逾期）');
    expect(d.html).toContain('<li style="color:#b00">二-1');
  });

  it('on the deadline day it says so', () => {
    expect(input('2015-05-31T09:00', []).text).toContain('5月31日截止，今天截止');
  });

  it('subject examples use words that classification recognises', () => {
    const byCode = new Map(items.map((i) => [i.code, i]));
    expect(subjectExample(dahelu, byCode.get('2.1'))).toBe('大河路街道 二-1 行政指导的意见');
    expect(subjectExample(dahelu, byCode.get('5'))).toBe('大河路街道 五 调研报告');
  });

  it('escapes HTML from names in the config', () => {
    const odd = { ...dahelu, name: '<b>大河路</b>' };
    const r = planReminders(matrixAt('2015-06-01T09:00'), sh('2015-06-01T09:00'), 14)[0]!;
    const d = digestText({
      campaign: 'x',
      office: 'y',
      mailbox: 'z@example.com',
      timeZone: TZ,
      items,
      reminder: { ...r, unit: odd },
      now: sh('2015-06-01T09:00'),
    });
    expect(d.html).not.toContain('<b>大河路');
    expect(d.html).toContain('&#60;b&#62;大河路');
  });
});

describe('digestWriter: the digests of one run share their item lines and dates', () => {
  it('writes for every unit what digestText writes for it alone', () => {
    const rows: SubmissionRow[] = units.flatMap((u, n) => [
      sent(u.code, '1', `2015-05-${String(10 + (n % 20)).padStart(2, '0')}T10:00`, n % 3 > 0),
      ...(n % 2
        ? [sent(u.code, '1', '2015-06-03T10:00'), sent(u.code, '2.1', '2015-06-02T23:59')]
        : []),
    ]);
    for (const now of ['2015-05-25T09:00', '2015-06-08T09:00', '2015-06-29T09:00']) {
      const ctx = {
        campaign: config.campaign.name,
        office: config.campaign.office,
        mailbox: config.from,
        timeZone: TZ,
        items,
        now: sh(now),
      };
      const plan = planReminders(matrixAt(now, rows), sh(now), 14);
      expect(plan.length).toBeGreaterThan(0);
      const write = digestWriter(ctx);
      for (const r of plan) expect(write(r)).toEqual(digestText({ ...ctx, reminder: r }));
    }
  });
});

describe('ZoneCalendar: the days of workdays.ts, without asking Intl for each instant', () => {
  // Zones with summer time, half- and quarter-hour offsets, a 30-minute summer shift (Lord
  // Howe) and changes at local midnight (Beirut, Asunción: a day's offset taken from its
  // start would be wrong for an hour), around their 2015 changes and at random instants.
  const zones = [
    'Asia/Shanghai',
    'America/New_York',
    'Europe/London',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'America/St_Johns',
    'Pacific/Chatham',
    'Asia/Beirut',
    'America/Asuncion',
    'UTC',
  ];
  const changes = [
    '2015-03-08T07:00:00Z',
    '2015-03-22T03:00:00Z',
    '2015-03-28T22:00:00Z',
    '2015-03-29T01:00:00Z',
    '2015-04-04T15:00:00Z',
    '2015-10-03T15:30:00Z',
    '2015-10-24T21:00:00Z',
    '2015-10-25T01:00:00Z',
    '2015-11-01T06:00:00Z',
  ].map((s) => Date.parse(s));

  it.each(zones)('%s', (tz) => {
    const cal = new ZoneCalendar(tz);
    const instants: number[] = [];
    for (const c of changes)
      for (let d = -3 * 3_600_000; d <= 3 * 3_600_000; d += 15 * 60_000)
        instants.push(c + d - 1, c + d, c + d + 1);
    let x = 12345;
    for (let n = 0; n < 2000; n++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      instants.push(Date.UTC(2014, 0, 1) + Math.floor((x / 2 ** 31) * 3 * 365 * 86_400_000));
    }
    for (const ms of instants) {
      const at = new Date(ms);
      expect([cal.dayIndex(at), cal.monthDay(at)]).toEqual([
        dayIndex(at, tz),
        monthDayText(at, tz),
      ]);
    }
  });
});

describe('summaryText: the office weekly mail', () => {
  // All but one unit sent 1 on time, four sent 2.1 late, one sent all five on time, one
  // sent 2.2 from an address not yet known.
  const rows: SubmissionRow[] = [
    ...units.filter((u) => u.code !== 'dahelu').map((u) => sent(u.code, '1', '2015-05-25T10:00')),
    ...['guxing', 'huayuankou', 'xincheng', 'changxinglu'].map((u) =>
      sent(u, '2.1', '2015-06-03T10:00'),
    ),
    ...DUE_31_MAY.map((i) => sent('dahelu', i, '2015-05-20T10:00')),
    sent('yingbinlu', '2.2', '2015-05-21T10:00', false),
  ];
  const m = matrixAt('2015-06-08T09:30', rows);
  const s = summaryText({
    campaign: config.campaign.name,
    office: config.campaign.office,
    timeZone: TZ,
    matrix: m,
    week: '2015-W24',
    reminded: 21,
  });

  it('names the late units, most owed first, with what they owe', () => {
    const late = lateUnits(m);
    expect(late).toHaveLength(units.length - 1);
    expect(late.map((x) => x.unit.code)).not.toContain('dahelu');
    expect(late[0]?.owed.map((c) => c.item)).toEqual(['2.1', '2.2', '2.3', '7.1']);
    expect(late[0]?.owed[0]?.daysLeft).toBe(-8);
    expect(s.subject).toBe(
      `${config.campaign.name}报送进度周报（2015-W24）：21个单位有逾期未报材料`,
    );
    expect(s.text).toContain('通报名单（有逾期未报材料的单位，共21个）：');
    // Most owed first, then roster order: 刘寨 is the first unit that owes all four.
    expect(s.text).toMatch(/\n1\. 刘寨街道办事处：4项：二-1、二-2、二-3、七-1（最长逾期8天）\n/);
    expect(s.text).toContain('迎宾路街道办事处：3项：二-1、二-3、七-1（最长逾期8天）');
    expect(s.text).toContain('古荥镇人民政府：3项：二-2、二-3、七-1（最长逾期8天）');
    expect(s.text).toContain('本周已向21个单位发出催报提醒');
  });

  it('totals', () => {
    // 22 units × 5 items due 31 May = 110 cells past their deadline.
    expect(s.text).toContain(
      '已到截止日期的应报材料110项：按时报送27项，逾期报送4项，逾期未报79项。',
    );
  });

  it('items where most units are late', () => {
    const worst = mostlyLateItems(m).map((w) => [w.item.code, w.late, w.owing]);
    expect(worst).toEqual([
      ['2.1', 21, 17],
      ['2.3', 21, 21],
      ['7.1', 21, 21],
      ['2.2', 20, 20],
    ]);
    expect(s.text).toContain('二-1 本单位推行行政指导的意见：22个单位中21个逾期（17个仍未报送）');
  });

  it('an HTML matrix: a row per unit, a column per item, colour and a mark per cell', () => {
    expect(s.html.match(/<tr>/g)).toHaveLength(units.length + 1);
    expect(s.html).toContain(
      '<th style="border:1px solid #999;padding:2px 4px;background:#f0f0f0;white-space:nowrap" title="本单位推行行政指导的意见">二-1</th>',
    );
    // dahelu's row: five on time (green), ongoing item 9 untouched.
    const row = (name: string) =>
      s.html
        .split('\n')
        .find((l) =>
          l.startsWith(
            `<tr><td style="border:1px solid #999;padding:2px 4px;white-space:nowrap">${name}<`,
          ),
        )!;
    const dahelu = row('大河路街道办事处');
    expect(dahelu.match(/background:#c8e6c9[^>]*>✓</g)).toHaveLength(5);
    // An unconfirmed credit is marked.
    const ybl = row('迎宾路街道办事处');
    expect(ybl).toContain('>✓?</td>');
    expect(s.html).toMatch(/background:#ef9a9a[^>]*>✗</);
    expect(s.html).toMatch(/background:#ffe0b2[^>]*>迟</);
  });

  it('a CSV for Excel: BOM, a header of items, a row per unit', () => {
    const csv = Buffer.from(s.attachment.content, 'base64').toString('utf8');
    expect(s.attachment).toMatchObject({
      filename: '报送进度-2015-W24.csv',
      contentType: 'text/csv; charset=utf-8',
    });
    expect(csv).toBe(matrixCsv(m));
    expect(csv.startsWith('\uFEFF单位代码,单位,一 本单位推进服务型行政执法建设年度方案,')).toBe(
      true,
    );
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(units.length + 1);
    expect(lines.find((l) => l.startsWith('dahelu,'))).toMatch(
      /^dahelu,大河路街道办事处,按时报送 2015-05-20,按时报送 2015-05-20,/,
    );
    expect(lines.find((l) => l.startsWith('yingbinlu,'))).toContain(',按时报送 2015-05-21 待确认,');
  });
});

describe('working days: reminders move off Chinese public holidays', () => {
  it.each([
    ['2015-06-22T09:00', '2015-06-23T09:00', '端午 Monday → Tuesday'],
    ['2015-10-05T09:00', '2015-10-08T09:00', '国庆 Golden Week Monday → Thursday'],
    ['2015-09-03T09:00', '2015-09-06T09:00', '抗战胜利纪念日 → the make-up Sunday'],
    ['2016-02-08T09:30', '2016-02-14T09:30', '春节 → the make-up Sunday'],
    ['2015-10-10T09:00', '2015-10-10T09:00', 'a make-up Saturday is a working day'],
    ['2015-05-04T09:00', '2015-05-04T09:00', 'an ordinary Monday stays'],
  ])('%s → %s (%s)', (from, to) => {
    expect(moveToWorkday(sh(from), TZ, CHINESE_WORKDAYS)).toEqual(sh(to));
  });

  it('without the holiday calendar only weekends move', () => {
    expect(nextWorkday('2015-06-20', WEEKDAYS_ONLY)).toBe('2015-06-22');
    expect(nextWorkday('2015-06-22', WEEKDAYS_ONLY)).toBe('2015-06-22');
  });

  it('a calendar without working days is reported, not looped on', () => {
    expect(() => nextWorkday('2015-06-20', { isWorkday: () => false })).toThrow(/work calendar/);
  });
});

describe('CronScheduler: when the weekly run happens', () => {
  const schedulers: CronScheduler[] = [];
  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  });

  function setup(opts: { calendar?: typeof CHINESE_WORKDAYS | null; run?: WeeklyJob['run'] } = {}) {
    const clock = new FixedClock(sh('2015-06-01T08:00'));
    const runs: { at: Date; plannedFor: Date }[] = [];
    const scheduler = new CronScheduler({
      clock,
      log,
      timeZone: TZ,
      calendar: opts.calendar === undefined ? CHINESE_WORKDAYS : opts.calendar,
    });
    scheduler.add({
      name: 'reminders',
      schedule: '0 9 * * 1',
      run: opts.run ?? ((at, plannedFor) => void runs.push({ at, plannedFor })),
    });
    scheduler.add({ name: 'summary', schedule: '30 9 * * 1', run: () => undefined });
    schedulers.push(scheduler);
    return { clock, runs, scheduler };
  }

  it('plans Monday 09:00, moved off holidays', () => {
    const { scheduler } = setup();
    expect(scheduler.plannedRun('reminders', sh('2015-06-03T12:00'))).toEqual(
      sh('2015-06-01T09:00'),
    );
    expect(scheduler.plannedRun('reminders', sh('2015-06-24T12:00'))).toEqual(
      sh('2015-06-23T09:00'),
    );
    expect(scheduler.plannedRun('summary', sh('2015-06-24T12:00'))).toEqual(sh('2015-06-23T09:30'));
    expect(scheduler.plannedRun('reminders', sh('2015-10-05T00:10'))).toEqual(
      sh('2015-10-08T09:00'),
    );
    const plain = setup({ calendar: null }).scheduler;
    expect(plain.plannedRun('reminders', sh('2015-06-24T12:00'))).toEqual(sh('2015-06-22T09:00'));
  });

  it('runs once at the planned time, not before, not twice', async () => {
    const { runs, scheduler } = setup();
    await scheduler.check(sh('2015-06-01T08:59'));
    expect(runs).toEqual([]);
    await scheduler.check(sh('2015-06-01T09:00'));
    await scheduler.check(sh('2015-06-01T09:01'));
    await scheduler.check(sh('2015-06-04T09:00'));
    expect(runs).toEqual([{ at: sh('2015-06-01T09:00'), plannedFor: sh('2015-06-01T09:00') }]);
    await scheduler.check(sh('2015-06-08T09:00'));
    expect(runs.map((r) => r.plannedFor)).toEqual([sh('2015-06-01T09:00'), sh('2015-06-08T09:00')]);
  });

  it('on a holiday Monday it waits for Tuesday', async () => {
    const { runs, scheduler } = setup();
    await scheduler.check(sh('2015-06-22T09:00'));
    expect(runs).toEqual([]);
    await scheduler.check(sh('2015-06-23T09:00'));
    expect(runs).toEqual([{ at: sh('2015-06-23T09:00'), plannedFor: sh('2015-06-23T09:00') }]);
  });

  it('catch-up: a daemon down at 09:00 runs the missed week once when it comes back', async () => {
    const { runs, scheduler, clock } = setup();
    clock.set(sh('2015-06-03T14:00'));
    await scheduler.check();
    await scheduler.check(sh('2015-06-03T14:01'));
    expect(runs).toEqual([{ at: sh('2015-06-03T14:00'), plannedFor: sh('2015-06-01T09:00') }]);
  });

  it('a week missed entirely is not sent the week after: that week has its own run', async () => {
    const { runs, scheduler } = setup();
    await scheduler.check(sh('2015-06-09T10:00'));
    expect(runs.map((r) => r.plannedFor)).toEqual([sh('2015-06-08T09:00')]);
  });

  it('start() checks at once (catch-up) and stop() ends the ticking', async () => {
    const { runs, scheduler, clock } = setup();
    clock.set(sh('2015-06-02T10:00'));
    scheduler.start();
    await scheduler.stop();
    expect(runs).toEqual([{ at: sh('2015-06-02T10:00'), plannedFor: sh('2015-06-01T09:00') }]);
  });

  it('a tick never overlaps a run still going', async () => {
    let release!: () => void;
    let started = 0;
    const { scheduler } = setup({
      run: () => {
        started++;
        return new Promise<void>((r) => (release = r));
      },
    });
    const first = scheduler.check(sh('2015-06-01T09:00'));
    const second = scheduler.check(sh('2015-06-01T09:01'));
    expect(started).toBe(1);
    release();
    await Promise.all([first, second]);
    await scheduler.check(sh('2015-06-01T09:02'));
    expect(started).toBe(1);
  });

  it('a failed run is tried again at the next tick', async () => {
    let calls = 0;
    const { scheduler } = setup({
      run: () => {
        calls++;
        if (calls === 1) throw new Error('database is locked');
      },
    });
    await scheduler.check(sh('2015-06-01T09:00'));
    await scheduler.check(sh('2015-06-01T09:01'));
    await scheduler.check(sh('2015-06-01T09:02'));
    expect(calls).toBe(2);
  });

  it('rejects an expression that is not cron, naming the job', () => {
    const { scheduler } = setup();
    expect(() => scheduler.add({ name: 'oops', schedule: 'every monday', run: () => 0 })).toThrow(
      ScheduleError,
    );
    expect(() => scheduler.add({ name: 'oops', schedule: '0 25 * * 1', run: () => 0 })).toThrow(
      /oops: "0 25 \* \* 1" is not a cron expression/,
    );
  });
});
