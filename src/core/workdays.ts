// Calendar days in the campaign's zone, and China's working-day calendar. A reminder planned
// for a public holiday moves to the next working day: nobody reads the office mailbox on
// 国庆节, and a Monday reminder that arrives during the Golden Week is buried by Thursday.
// Make-up workdays (调休, e.g. Saturday 2015-10-10) count as working days, as they do for the
// clerks. The holiday data comes from the chinese-days package: data, not I/O, but it must
// be kept current (`npm update chinese-days`) since the State Council publishes each year's
// schedule only in the autumn before; a year it does not know falls back to Monday-Friday.
import chineseDays from 'chinese-days';

/** Says whether a calendar day ('YYYY-MM-DD') is a working day. */
export interface WorkCalendar {
  isWorkday(day: string): boolean;
}

/** China's official calendar: public holidays off, make-up Saturdays and Sundays on. */
export const CHINESE_WORKDAYS: WorkCalendar = {
  isWorkday: (day) => chineseDays.isWorkday(day),
};

/** Plain Monday-Friday, for tests and for offices that want no holiday moves. */
export const WEEKDAYS_ONLY: WorkCalendar = {
  isWorkday: (day) => {
    const dow = new Date(`${day}T00:00:00Z`).getUTCDay();
    return dow !== 0 && dow !== 6;
  },
};

const DAY_MS = 86_400_000;

// Building an Intl.DateTimeFormat costs ~50 µs; the status matrix asks for thousands of days.
const dayFormats = new Map<string, Intl.DateTimeFormat>();
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** 'YYYY-MM-DD' of an instant as the wall calendar in `timeZone` shows it. */
export function localDay(at: Date, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, f);
  }
  return f.format(at);
}

/** The zone's offset from UTC at that instant, in ms (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(at: Date, timeZone: string): number {
  let f = offsetFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(at)) p[part.type] = Number(part.value);
  const wall = Date.UTC(
    p.year ?? 0,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * A running count of calendar days in the zone (days since 1970-01-01 there). The difference
 * of two is "days left" or "days late" the way a clerk counts them: a deadline of 31 May seen
 * on 30 May at 23:00 is 1 day away, not 0.04.
 */
export function dayIndex(at: Date, timeZone: string): number {
  return Math.floor((at.getTime() + zoneOffsetMs(at, timeZone)) / DAY_MS);
}

/** 'YYYY-MM-DD' plus n days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The day itself when it is a working day, else the next one. Bounded: no calendar has a
 * month of holidays, so a calendar that says "never" is a bug, reported as one.
 */
export function nextWorkday(day: string, calendar: WorkCalendar): string {
  for (let i = 0; i < 31; i++) {
    const d = addDays(day, i);
    if (calendar.isWorkday(d)) return d;
  }
  throw new Error(`no working day in the 31 days from ${day}: the work calendar is broken`);
}

/** The same wall-clock time on the next working day, or `at` itself on a working day. */
export function moveToWorkday(at: Date, timeZone: string, calendar: WorkCalendar): Date {
  const day = localDay(at, timeZone);
  const target = nextWorkday(day, calendar);
  if (target === day) return at;
  const days = Math.round(
    (Date.parse(`${target}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`)) / DAY_MS,
  );
  const moved = new Date(at.getTime() + days * DAY_MS);
  // Zones with summer time shift the wall clock; keep 09:00 at 09:00.
  return new Date(moved.getTime() + zoneOffsetMs(at, timeZone) - zoneOffsetMs(moved, timeZone));
}

/** "5月31日" in the zone. Same text as deadlines.formatDay, with a cached formatter: a
 * province-sized summary formats a hundred thousand dates. */
export function monthDayText(at: Date, timeZone: string): string {
  const d = localDay(at, timeZone);
  return `${Number(d.slice(5, 7))}月${Number(d.slice(8, 10))}日`;
}

/** "2015-05-20 14:32" in the zone; same text as deadlines.formatDateTime, cached likewise. */
export function dateTimeText(at: Date, timeZone: string): string {
  return new Date(at.getTime() + zoneOffsetMs(at, timeZone))
    .toISOString()
    .slice(0, 16)
    .replace('T', ' ');
}
