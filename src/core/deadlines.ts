// Deadlines written as the notice writes them, resolved against the campaign year in the
// campaign's time zone. 上旬 = days 1-10, 中旬 = 11-20, 下旬 = 21-end, 月底 = end of month;
// 之前/前 include that day.
import { dateTimeText, monthDayText, zoneOffsetMs } from './workdays.js';

export type Deadline =
  | { kind: 'date'; /** last instant that still counts as on time */ due: Date; text: string }
  | { kind: 'ongoing'; text: string }
  | { kind: 'flexible'; text: string }
  | { kind: 'onsite'; text: string };

export class DeadlineError extends Error {
  readonly code = 'DEADLINE_UNKNOWN';
}

const CN: Record<string, number> = {
  一: 1,
  二: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
  十: 10,
  十一: 11,
  十二: 12,
};

function month(s: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : (CN[s] ?? NaN);
  if (!(n >= 1 && n <= 12)) throw new DeadlineError(`month "${s}" is not 1-12`);
  return n;
}

function daysIn(year: number, m: number): number {
  return new Date(Date.UTC(year, m, 0)).getUTCDate();
}

/** The UTC instant of `y-m-d 23:59:59.999` wall time in `timeZone`. */
export function endOfDay(year: number, m: number, d: number, timeZone: string): Date {
  const guess = Date.UTC(year, m - 1, d, 23, 59, 59, 999);
  return new Date(guess - offsetMs(new Date(guess), timeZone));
}

/**
 * Parses a deadline text. Throws DeadlineError for words it does not know, so a typo in the
 * config stops the start-up instead of silently never reminding anyone.
 */
export function parseDeadline(text: string, year: number, timeZone: string): Deadline {
  const t = text.trim().replace(/\s+/g, '');
  if (/^及时报送$|^随时报送$|^及时$/.test(t)) return { kind: 'ongoing', text };
  if (/^灵活安排(时间)?$/.test(t)) return { kind: 'flexible', text };
  if (/现场检查/.test(t)) return { kind: 'onsite', text };

  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo))
      throw new DeadlineError(`"${text}" is not a date`);
    return { kind: 'date', due: endOfDay(y, mo, d, timeZone), text };
  }
  m =
    /^(\d{1,2}|十[一二]?|[一二三四五六七八九])月(底|末|上旬|中旬|下旬|(\d{1,2})日)?(之前|以前|前)?$/.exec(
      t,
    );
  if (m) {
    const mo = month(m[1] ?? '');
    const which = m[2];
    let d: number;
    if (which === undefined || which === '底' || which === '末' || which === '下旬')
      d = daysIn(year, mo);
    else if (which === '上旬') d = 10;
    else if (which === '中旬') d = 20;
    else {
      d = Number(m[3]);
      if (d < 1 || d > daysIn(year, mo))
        throw new DeadlineError(`"${text}": day ${d} is not in month ${mo}`);
    }
    return { kind: 'date', due: endOfDay(year, mo, d, timeZone), text };
  }
  throw new DeadlineError(
    `deadline "${text}" is not understood; write it like 5月底之前, 9月上旬, 6月30日前, 2015-06-30, 及时报送, 灵活安排时间 or 现场检查时抽查`,
  );
}

// Zone arithmetic and date texts live in workdays.ts, with cached formatters (building an
// Intl.DateTimeFormat costs ~50 µs, and every receipt lists the outstanding deadlines).
/** The zone's offset from UTC at that instant, in ms (Asia/Shanghai: +8 h). */
export const offsetMs = zoneOffsetMs;
/** "5月31日" in the campaign's zone, for mails. */
export const formatDay = monthDayText;
/** "2015-05-20 14:32" in the campaign's zone. */
export const formatDateTime = dateTimeText;
