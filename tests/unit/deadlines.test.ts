import { describe, expect, it } from 'vitest';
import { DeadlineError, formatDateTime, parseDeadline } from '../../src/core/deadlines.js';

const TZ = 'Asia/Shanghai';
// End of day in Shanghai = 15:59:59.999 UTC the same day.
const eod = (d: string) => new Date(`${d}T15:59:59.999Z`).toISOString();

describe('parseDeadline: every form in the notice, and the usual variants', () => {
  it.each([
    ['5月底之前', eod('2015-05-31')],
    ['9月上旬', eod('2015-09-10')],
    ['8月上旬', eod('2015-08-10')],
    ['8月中旬', eod('2015-08-20')],
    ['2月下旬', eod('2015-02-28')],
    ['6月底之前', eod('2015-06-30')],
    ['7月底之前', eod('2015-07-31')],
    ['9月底之前', eod('2015-09-30')],
    ['10月上旬', eod('2015-10-10')],
    ['6月30日前', eod('2015-06-30')],
    ['7月底', eod('2015-07-31')],
    ['十月上旬', eod('2015-10-10')],
    ['2015-06-30', eod('2015-06-30')],
  ])('%s', (text, due) => {
    const d = parseDeadline(text, 2015, TZ);
    expect(d.kind).toBe('date');
    expect(d.kind === 'date' && d.due.toISOString()).toBe(due);
  });

  it.each([
    ['及时报送', 'ongoing'],
    ['灵活安排时间', 'flexible'],
    ['现场检查时抽查', 'onsite'],
  ])('%s is %s', (text, kind) => expect(parseDeadline(text, 2015, TZ).kind).toBe(kind));

  it.each(['13月底', '下个月', '2月30日前', '2015-02-30', '', '五月中'])('rejects %s', (text) => {
    expect(() => parseDeadline(text, 2015, TZ)).toThrow(DeadlineError);
  });

  it('leap years are read from the campaign year', () => {
    const d = parseDeadline('2月底', 2016, TZ);
    expect(d.kind === 'date' && d.due.toISOString()).toBe(eod('2016-02-29'));
  });

  it('formats in the campaign zone', () => {
    expect(formatDateTime(new Date('2015-05-31T16:30:00Z'), TZ)).toBe('2015-06-01 00:30');
  });
});
