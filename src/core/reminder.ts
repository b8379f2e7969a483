// The weekly reminders: who gets one, and what the unit digest and the office summary say.
// Pure: the matrix, the clock and the wording come in; mail text (and CSV) comes out. The
// outbox, the schedule and the dedupe keys' storage are the use case's business.
import { displayCode } from './codes.js';
import type { MailText } from './receipt.js';
import { oneLine } from './receipt.js';
import {
  cellMark,
  CELL_STATES,
  countStates,
  STATE_LABEL,
  STATE_MARK,
  type Cell,
  type CellState,
  type StatusMatrix,
} from './status.js';
import type { Item, Unit } from './types.js';
import { dateTimeText, dayIndex, localDay, zoneOffsetMs } from './workdays.js';

/** Settings of the reminder schedule. Proposed YAML: the `reminders:` block (see the report). */
export interface ReminderSettings {
  /** Cron expression (campaign zone) of the unit digests. */
  unitSchedule: string;
  /** Cron expression of the office summary; after the digests, so it counts them. */
  summarySchedule: string;
  /** A unit is reminded of items due within this many calendar days (and of overdue ones). */
  dueSoonDays: number;
  /** Reminders are spread out at this rate: providers rate-limit bursts from one account
   * (GUIDE §2), and a refused send only costs a retry later. 0 = no spacing. */
  sendsPerMinute: number;
  /** Move a run that falls on a public holiday to the next working day. */
  skipHolidays: boolean;
}

export const DEFAULT_REMINDER_SETTINGS: Readonly<ReminderSettings> = Object.freeze({
  unitSchedule: '0 9 * * 1',
  summarySchedule: '30 9 * * 1',
  dueSoonDays: 14,
  // The district's 22 digests leave in a little over two minutes.
  sendsPerMinute: 10,
  skipHolidays: true,
});

/** A file sent with a mail (the summary's CSV). */
export interface MailAttachment {
  filename: string;
  contentType: string;
  /** base64 */
  content: string;
}

// ---------------------------------------------------------------------------------------
// Periods and dedupe keys

/** ISO week of the instant in the zone, e.g. "2015-W23": a reminder period. */
export function weekKey(at: Date, timeZone: string): string {
  const day = localDay(at, timeZone);
  const d = new Date(`${day}T00:00:00Z`);
  const dow = d.getUTCDay() || 7;
  // The ISO week belongs to the year of its Thursday.
  d.setUTCDate(d.getUTCDate() + 4 - dow);
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export const reminderKey = (unit: string, week: string): string => `reminder:${unit}:${week}`;
export const summaryKey = (week: string): string => `summary:${week}`;

// ---------------------------------------------------------------------------------------
// Calendar days of many instants

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * dayIndex() and monthDayText() of workdays.ts for one zone, for tens of thousands of instants
 * (a province's digests name ~40,000 days of receipt): asking Intl costs 1-5 µs a call, so the
 * zone's offset is asked once per UTC day and reused for every instant of that day. A UTC day
 * where the offset is not the same every six hours (a summer-time change) is never reused:
 * each of its instants is asked for, as workdays.ts would. Same answers, exactly, since no
 * zone changes its offset and back within six hours.
 */
export class ZoneCalendar {
  /** UTC day number → the zone's offset all that day, or NaN when it changes within it. */
  private readonly offsets = new Map<number, number>();
  /** Day index → "5月31日". */
  private readonly texts = new Map<number, string>();

  constructor(readonly timeZone: string) {}

  /** The zone's offset at `ms`, as zoneOffsetMs() gives it. */
  offsetAt(ms: number): number {
    const day = Math.floor(ms / DAY_MS);
    let off = this.offsets.get(day);
    if (off === undefined) {
      const start = day * DAY_MS;
      off = zoneOffsetMs(new Date(start), this.timeZone);
      for (let h = 6; h <= 24; h += 6) {
        // The day's last whole second, not the next day's first.
        const at = h === 24 ? start + DAY_MS - 1000 : start + h * HOUR_MS;
        if (zoneOffsetMs(new Date(at), this.timeZone) !== off) off = NaN;
      }
      this.offsets.set(day, off);
    }
    return Number.isNaN(off) ? zoneOffsetMs(new Date(ms), this.timeZone) : off;
  }

  /** Days since 1970-01-01 on the zone's calendar: dayIndex(at, timeZone). */
  dayIndex(at: Date): number {
    const ms = at.getTime();
    return Math.floor((ms + this.offsetAt(ms)) / DAY_MS);
  }

  /** "5月31日": monthDayText(at, timeZone). */
  monthDay(at: Date): string {
    const day = this.dayIndex(at);
    let text = this.texts.get(day);
    if (text === undefined) {
      const wall = new Date(day * DAY_MS);
      text = `${wall.getUTCMonth() + 1}月${wall.getUTCDate()}日`;
      this.texts.set(day, text);
    }
    return text;
  }
}

// ---------------------------------------------------------------------------------------
// Who gets a digest

export interface UnitReminder {
  unit: Unit;
  /** Nothing received and past the deadline, oldest deadline first. */
  overdue: Cell[];
  /** Nothing received, deadline within the window, nearest first. */
  dueSoon: Cell[];
  /** Items the unit has sent something for, so the digest can say what already arrived. */
  received: Cell[];
}

/**
 * Units that owe something: an item with nothing received that is overdue or due within
 * `windowDays` calendar days. Units with nothing pending are left out, and items without a
 * date (ongoing, flexible, checked on site) are never asked for.
 *
 * `plannedFor` is when this week's run was planned (a run that was missed or moved off a
 * holiday happens later): the window is counted from it, so a late run reminds the same
 * units the planned run would have, minus those who have sent in the meantime, and never a
 * unit whose item only entered the window mid-week.
 */
export function planReminders(
  matrix: StatusMatrix,
  now: Date,
  windowDays: number,
  plannedFor: Date = now,
): UnitReminder[] {
  const tz = matrix.options.timeZone;
  const nowMs = now.getTime();
  const plannedDay = dayIndex(plannedFor, tz);
  const plannedMs = plannedFor.getTime();
  // Each item's deadline day, once.
  const dueDay = matrix.items.map((_, i) => {
    const due = matrix.rows[0]?.[i]?.due;
    return due ? dayIndex(due, tz) : NaN;
  });
  const out: UnitReminder[] = [];
  matrix.units.forEach((unit, u) => {
    const r: UnitReminder = { unit, overdue: [], dueSoon: [], received: [] };
    (matrix.rows[u] ?? []).forEach((c, i) => {
      if (c.state === 'not_applicable') return;
      if (c.count > 0) {
        r.received.push(c);
        return;
      }
      if (!c.due) return;
      const dueMs = c.due.getTime();
      const pending = dueMs < plannedMs || (dueDay[i] ?? NaN) - plannedDay <= windowDays;
      if (!pending) return;
      (dueMs < nowMs ? r.overdue : r.dueSoon).push(c);
    });
    if (r.overdue.length + r.dueSoon.length === 0) return;
    const byDue = (a: Cell, b: Cell) => (a.due?.getTime() ?? 0) - (b.due?.getTime() ?? 0);
    r.overdue.sort(byDue);
    r.dueSoon.sort(byDue);
    out.push(r);
  });
  return out;
}

// ---------------------------------------------------------------------------------------
// Wording shared by the digest and the summary

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "二-1 本单位推行行政指导的意见", shortened for a phone line. */
function itemLine(item: Item | undefined, code: string, max = 18): string {
  return `${displayCode(code)} ${item ? oneLine(item.title, max) : ''}`.trim();
}

/** How units should write a subject: unit, code, a few words (what classify reads best). */
export function subjectExample(unit: Unit, item: Item | undefined): string {
  const who = unit.shortNames[0] ?? unit.name;
  if (!item) return `${who} 二-1 行政指导意见`;
  const words = item.keywords[0] ?? oneLine(item.title, 10);
  return `${who} ${displayCode(item.code)} ${words}`;
}

function daysText(daysLeft: number): string {
  if (daysLeft < 0) return `已逾期${-daysLeft}天`;
  if (daysLeft === 0) return '今天截止';
  return `还有${daysLeft}天`;
}

// ---------------------------------------------------------------------------------------
// The unit digest

/** What every digest of one run shares: the campaign, the checklist, the instant. */
export interface DigestContext {
  campaign: string;
  office: string;
  /** Where material is sent: the mailbox's own address. */
  mailbox: string;
  timeZone: string;
  items: readonly Item[];
  now: Date;
}

export interface DigestInput extends DigestContext {
  reminder: UnitReminder;
}

/** One short mail per unit: what is late, what is due soon, what arrived, how to send. */
export function digestText(d: DigestInput): MailText {
  return digestWriter(d)(d.reminder);
}

type Line = { text: string; html: string };

/**
 * digestText() for many units at one instant: the item lines, deadline texts and calendar
 * days are worked out once per run instead of once per unit (2,000 digests name the same 50
 * items and the same few deadlines), and the days of receipt come from a ZoneCalendar.
 */
export function digestWriter(d: DigestContext): (reminder: UnitReminder) => MailText {
  const days = new ZoneCalendar(d.timeZone);
  const byCode = new Map(d.items.map((i) => [i.code, i]));
  const today = days.dayIndex(d.now);
  const nowText = days.monthDay(d.now);
  const footer = `${d.office}\n（系统每周自动提醒，请勿直接回复；报送的材料会收到回执。）`;
  const footerHtml = `<p style="color:#666">${escapeHtml(footer).replace('\n', '<br>')}</p>`;
  const how2 =
    '一封邮件可报送多项材料，文件名中写上事项编号更便于登记；视频等大文件可用超大附件或网盘链接，请在正文写明提取码。';

  // "5月31日截止，还有13天" of a deadline, by its instant (the cells of an item share it).
  const dueTexts = new Map<number, string>();
  const dueText = (c: Cell): string => {
    const key = c.due ? c.due.getTime() : NaN;
    let t = dueTexts.get(key);
    if (t === undefined) {
      const left = c.due ? days.dayIndex(c.due) - today : 0;
      t = `${days.monthDay(c.due ?? d.now)}截止，${daysText(left)}`;
      dueTexts.set(key, t);
    }
    return t;
  };
  const owedLines = new Map<string, Line>();
  const owedLine = (c: Cell, late: boolean): Line => {
    const when = dueText(c);
    const key = `${late ? 1 : 0}${c.item}\u0000${when}`;
    let line = owedLines.get(key);
    if (!line) {
      const what = itemLine(byCode.get(c.item), c.item);
      line = {
        text: `· ${what}\n  ${when}`,
        html: `<li${late ? ' style="color:#b00"' : ''}>${escapeHtml(what)}<br><small>${escapeHtml(when)}</small></li>`,
      };
      owedLines.set(key, line);
    }
    return line;
  };
  // The item part of "已收到" lines, as text and as HTML.
  const receivedWhat = new Map<string, Line>();
  const receivedWhatOf = (c: Cell): Line => {
    let what = receivedWhat.get(c.item);
    if (!what) {
      const text = itemLine(byCode.get(c.item), c.item, 12);
      what = { text, html: escapeHtml(text) };
      receivedWhat.set(c.item, what);
    }
    return what;
  };
  const head = (title: string) =>
    `<p style="margin-bottom:0"><b>${escapeHtml(title)}</b></p><ul style="padding-left:1.2em;margin-top:0">`;
  const OVERDUE = '已逾期，请尽快报送：';
  const DUE_SOON = '即将到期：';
  const RECEIVED = '已收到：';
  const overdueHead = head(OVERDUE);
  const dueSoonHead = head(DUE_SOON);
  const receivedHead = head(RECEIVED);
  const how2Html = escapeHtml(how2);

  return (reminder) => {
    const { unit, overdue, dueSoon, received } = reminder;
    const subject =
      overdue.length > 0
        ? `催报：${unit.name}有${overdue.length}项材料逾期未报${dueSoon.length ? `，${dueSoon.length}项即将到期` : ''}`
        : `提醒：${unit.name}有${dueSoon.length}项材料将于${days.monthDay(dueSoon[0]?.due ?? d.now)}前截止`;
    const intro = `${unit.name}：\n截至${nowText}，${d.campaign}工作中，贵单位尚有以下材料未报送。`;
    const text = [intro];
    const html = [
      '<div style="font-size:15px;line-height:1.6;max-width:600px">',
      `<p>${escapeHtml(intro).replace('\n', '<br>')}</p>`,
    ];
    const owed = (title: string, titleHtml: string, cells: readonly Cell[], late: boolean) => {
      if (!cells.length) return;
      text.push('', title);
      let items = titleHtml;
      for (const c of cells) {
        const line = owedLine(c, late);
        text.push(line.text);
        items += line.html;
      }
      html.push(`${items}</ul>`);
    };
    owed(OVERDUE, overdueHead, overdue, true);
    owed(DUE_SOON, dueSoonHead, dueSoon, false);
    if (received.length) {
      text.push('', RECEIVED);
      let items = receivedHead;
      for (const c of received) {
        const what = receivedWhatOf(c);
        const when = c.first
          ? `${days.monthDay(c.first)}收到${c.state === 'submitted_late' ? '（逾期）' : ''}${c.count > 1 ? `，共${c.count}次` : ''}`
          : '';
        // `when` and the note are our own words and digits: nothing in them to escape.
        const rest = `：${when}${c.unconfirmed ? '，发件地址待确认' : ''}`;
        text.push(`· ${what.text}${rest}`);
        items += `<li>${what.html}${rest}</li>`;
      }
      html.push(`${items}</ul>`);
    }

    const first = overdue[0] ?? dueSoon[0];
    const example = subjectExample(unit, first ? byCode.get(first.item) : undefined);
    const how1 = `请将材料作为附件发送至 ${d.mailbox}，主题写明单位和事项编号，如“${example}”。`;
    text.push('', '报送方式：', how1, how2, '', footer, '');
    html.push(
      `<p><b>报送方式：</b><br>${escapeHtml(how1)}<br>${how2Html}</p>`,
      footerHtml,
      '</div>',
    );
    return { subject: oneLine(subject, 80), text: text.join('\n'), html: html.join('\n') };
  };
}

// ---------------------------------------------------------------------------------------
// The office summary

/** Background colour of a matrix cell: green done, orange late, red owed, yellow soon. */
const STATE_COLOUR: Readonly<Record<CellState, string>> = {
  submitted_on_time: '#c8e6c9',
  submitted_late: '#ffe0b2',
  overdue: '#ef9a9a',
  due_soon: '#fff59d',
  not_yet_due: '#ffffff',
  ongoing: '#e3f2fd',
  flexible: '#e3f2fd',
  onsite: '#eeeeee',
  not_applicable: '#f5f5f5',
};

/** Above this many cells the summary leaves the HTML matrix out (the CSV has it): a
 * province-sized table (2,000 × 50) is ~10 MB of HTML, far more than a mail should carry and
 * more than webmail renders. A district is ~400 cells. Belongs in limits.ts. */
export const SUMMARY_HTML_MAX_CELLS = 20_000;

export interface LateUnit {
  unit: Unit;
  /** Overdue cells, oldest deadline first. */
  owed: Cell[];
}

export interface LateItem {
  item: Item;
  /** Units the item applies to. */
  applicable: number;
  /** Units that missed the deadline: still owe it, or sent it late. */
  late: number;
  /** Of those, units that still owe it. */
  owing: number;
}

/** The 通报 list: units with something overdue, most overdue first, then roster order. */
export function lateUnits(m: StatusMatrix): LateUnit[] {
  const out = m.units
    .map((unit, u) => ({
      unit,
      owed: (m.rows[u] ?? [])
        .filter((c) => c.state === 'overdue')
        .sort((a, b) => (a.due?.getTime() ?? 0) - (b.due?.getTime() ?? 0)),
    }))
    .filter((x) => x.owed.length > 0);
  return out.sort((a, b) => b.owed.length - a.owed.length);
}

/** Past-deadline items where more than half of the units it applies to were late. */
export function mostlyLateItems(m: StatusMatrix): LateItem[] {
  const out: LateItem[] = [];
  m.items.forEach((item, i) => {
    let applicable = 0;
    let late = 0;
    let owing = 0;
    for (const row of m.rows) {
      const c = row[i];
      if (!c || c.state === 'not_applicable') continue;
      applicable++;
      if (c.state === 'overdue') {
        late++;
        owing++;
      } else if (c.state === 'submitted_late') late++;
    }
    if (applicable > 0 && late * 2 > applicable) out.push({ item, applicable, late, owing });
  });
  return out.sort((a, b) => b.late / b.applicable - a.late / a.applicable);
}

function csvField(s: string): string {
  // Excel runs a cell that starts with = + - @ as a formula; unit names come from config,
  // but a future free-text column must not become one.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The matrix as CSV for Excel: a BOM (Excel reads UTF-8 only with it), CRLF lines. */
export function matrixCsv(m: StatusMatrix): string {
  const tz = m.options.timeZone;
  const header = ['单位代码', '单位', ...m.items.map((i) => `${displayCode(i.code)} ${i.title}`)];
  const lines = [header.map(csvField).join(',')];
  m.units.forEach((unit, u) => {
    const cells = (m.rows[u] ?? []).map((c) => {
      const when = c.first ? ` ${localDay(c.first, tz)}` : '';
      const times = c.count > 1 ? ` 共${c.count}次` : '';
      return `${STATE_LABEL[c.state]}${c.count > 0 && (c.state === 'ongoing' || c.state === 'flexible' || c.state === 'onsite') ? ' 已报送' : ''}${when}${times}${c.unconfirmed ? ' 待确认' : ''}`;
    });
    lines.push([unit.code, unit.name, ...cells].map(csvField).join(','));
  });
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** The matrix as an HTML table with inline styles (webmail drops <style> blocks). */
export function matrixHtml(m: StatusMatrix): string {
  const tz = m.options.timeZone;
  const th = 'style="border:1px solid #999;padding:2px 4px;background:#f0f0f0;white-space:nowrap"';
  const head = `<tr><th ${th}>单位</th>${m.items
    .map((i) => `<th ${th} title="${escapeHtml(i.title)}">${escapeHtml(displayCode(i.code))}</th>`)
    .join('')}</tr>`;
  const body = m.units
    .map((unit, u) => {
      const tds = (m.rows[u] ?? [])
        .map((c) => {
          const tip = `${STATE_LABEL[c.state]}${c.first ? ` ${dateTimeText(c.first, tz)}` : ''}${c.unconfirmed ? ' 发件地址待确认' : ''}`;
          return `<td style="border:1px solid #999;text-align:center;background:${STATE_COLOUR[c.state]}" title="${escapeHtml(tip)}">${escapeHtml(cellMark(c))}</td>`;
        })
        .join('');
      return `<tr><td style="border:1px solid #999;padding:2px 4px;white-space:nowrap">${escapeHtml(unit.name)}</td>${tds}</tr>`;
    })
    .join('\n');
  const legend = CELL_STATES.map(
    (s) =>
      `<span style="background:${STATE_COLOUR[s]};border:1px solid #999;padding:0 4px">${escapeHtml(`${STATE_MARK[s]} ${STATE_LABEL[s]}`)}</span>`,
  ).join(' ');
  return [
    '<table style="border-collapse:collapse;font-size:13px">',
    head,
    body,
    '</table>',
    `<p style="font-size:12px">${legend} <span>?=发件地址待确认</span></p>`,
  ].join('\n');
}

/** "3项：二-2、二-3、七-1（最长逾期15天）": one line per unit, however much it owes. */
function owedText(x: LateUnit): string {
  const longest = Math.max(...x.owed.map((c) => -(c.daysLeft ?? 0)));
  return `${x.owed.length}项：${x.owed.map((c) => displayCode(c.item)).join('、')}（最长逾期${longest}天）`;
}

export interface SummaryInput {
  campaign: string;
  office: string;
  timeZone: string;
  matrix: StatusMatrix;
  /** The period, e.g. "2015-W23": names the attachment. */
  week: string;
  /** Digests queued this week, to tell the office who was reminded. */
  reminded: number;
  /** Addresses our mail could not reach (refused with 5xx, or bounced), with why. */
  undeliverable?: { address: string; reason: string }[];
}

export interface SummaryMail extends MailText {
  attachment: MailAttachment;
}

/** The weekly mail to the office: totals, the 通报 list, the worst items, the matrix. */
export function summaryText(s: SummaryInput): SummaryMail {
  const m = s.matrix;
  const tz = s.timeZone;
  const all = m.rows.flat();
  const n = countStates(all);
  const dueDone = n.submitted_on_time + n.submitted_late + n.overdue;
  const late = lateUnits(m);
  const worst = mostlyLateItems(m);
  const byCode = new Map(m.items.map((i) => [i.code, i]));

  const subject = `${s.campaign}报送进度周报（${s.week}）：${late.length}个单位有逾期未报材料`;
  const totals = [
    `截至${dateTimeText(m.at, tz)}，报送单位${m.units.length}个，已到截止日期的应报材料${dueDone}项：按时报送${n.submitted_on_time}项，逾期报送${n.submitted_late}项，逾期未报${n.overdue}项。`,
    `另有${n.due_soon}项在${m.options.dueSoonDays}天内到期；本周已向${s.reminded}个单位发出催报提醒。`,
  ];
  const lateLines = late.map((x, i) => `${i + 1}. ${x.unit.name}：${owedText(x)}`);
  const worstLines = worst.map(
    (w) =>
      `· ${itemLine(byCode.get(w.item.code), w.item.code, 14)}：${w.applicable}个单位中${w.late}个逾期（${w.owing}个仍未报送）`,
  );
  // A unit whose address refuses our mail never sees its receipts or reminders: the office
  // has to phone it, so say so.
  const undeliverable = (s.undeliverable ?? []).map(
    (u) => `· ${u.address}：${oneLine(u.reason, 60)}`,
  );
  const filename = `报送进度-${s.week}.csv`;
  const footer = `${s.office}\n（系统每周自动生成）`;

  const text = [
    ...totals,
    '',
    late.length
      ? `通报名单（有逾期未报材料的单位，共${late.length}个）：`
      : '没有逾期未报材料的单位。',
    ...lateLines,
    ...(worstLines.length ? ['', '多数单位逾期的事项：', ...worstLines] : []),
    ...(undeliverable.length ? ['', '以下地址收不到系统邮件，请电话联系：', ...undeliverable] : []),
    '',
    `完整状态表见附件 ${filename}（HTML 邮件中也有）。`,
    '',
    footer,
    '',
  ].join('\n');

  const html = [
    '<div style="font-size:14px;line-height:1.6">',
    ...totals.map((t) => `<p>${escapeHtml(t)}</p>`),
    late.length
      ? `<p><b>通报名单（有逾期未报材料的单位，共${late.length}个）：</b></p><ol>${late
          .map((x) => `<li>${escapeHtml(`${x.unit.name}：${owedText(x)}`)}</li>`)
          .join('')}</ol>`
      : '<p>没有逾期未报材料的单位。</p>',
    worstLines.length
      ? `<p><b>多数单位逾期的事项：</b></p><ul>${worstLines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('')}</ul>`
      : '',
    undeliverable.length
      ? `<p><b>以下地址收不到系统邮件，请电话联系：</b></p><ul>${undeliverable.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('')}</ul>`
      : '',
    m.units.length * m.items.length <= SUMMARY_HTML_MAX_CELLS
      ? matrixHtml(m)
      : `<p>状态表共${m.units.length}个单位、${m.items.length}个事项，见附件 ${escapeHtml(filename)}。</p>`,
    `<p style="color:#666">${escapeHtml(footer).replace('\n', '<br>')}</p>`,
    '</div>',
  ].join('\n');

  return {
    subject: oneLine(subject, 90),
    text,
    html,
    attachment: {
      filename,
      contentType: 'text/csv; charset=utf-8',
      content: Buffer.from(matrixCsv(m), 'utf8').toString('base64'),
    },
  };
}
