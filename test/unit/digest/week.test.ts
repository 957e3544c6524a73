import { describe, expect, it } from 'vitest';
import {
  dayIndex,
  digestScheduleDrift,
  localTime,
  parseWeek,
  previousWeek,
  WeekFormatError,
  weekContaining,
} from '../../../shared/digest/week.ts';

const H = 3_600_000;

describe('ISO weeks in a time zone', () => {
  it('starts 2026-W48 on Monday 23 November at local midnight', () => {
    expect(new Date(parseWeek('2026-W48', 'UTC').startMs).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(new Date(parseWeek('2026-W48', 'America/New_York').startMs).toISOString()).toBe('2026-11-23T05:00:00.000Z');
    expect(new Date(parseWeek('2026-W48', 'Asia/Tokyo').startMs).toISOString()).toBe('2026-11-22T15:00:00.000Z');
    expect(parseWeek('2026-w48', 'UTC').days.map((d) => d.label)).toEqual([
      'Mon 23 Nov',
      'Tue 24 Nov',
      'Wed 25 Nov',
      'Thu 26 Nov',
      'Fri 27 Nov',
      'Sat 28 Nov',
      'Sun 29 Nov',
    ]);
  });

  it('gives the day clocks go forward 23 hours and the week 167', () => {
    // Europe/London: Sunday 29 March 2026, 01:00 GMT → 02:00 BST (ISO week 2026-W13)
    const w = parseWeek('2026-W13', 'Europe/London');
    expect(w.days[6]!.endMs - w.days[6]!.startMs).toBe(23 * H);
    expect(w.endMs - w.startMs).toBe(167 * H);
    expect(new Date(w.endMs).toISOString()).toBe('2026-03-29T23:00:00.000Z');
  });

  it('handles week 1 that starts in the previous year and week 53', () => {
    expect(parseWeek('2026-W01', 'UTC').days[0]!.date).toBe('2025-12-29');
    expect(parseWeek('2026-W53', 'UTC').days[6]!.date).toBe('2027-01-03');
  });

  it('refuses what is not an ISO week, naming the form', () => {
    expect(() => parseWeek('2026-48', 'UTC')).toThrow(WeekFormatError);
    expect(() => parseWeek('2026-48', 'UTC')).toThrow('write the ISO week as YYYY-Www, e.g. 2026-W48');
    expect(() => parseWeek('2025-W53', 'UTC')).toThrow('2025 has weeks 1 to 52');
    expect(() => parseWeek('2026-W00', 'UTC')).toThrow('out of range');
  });

  it('takes the last complete week before now as the default', () => {
    const now = Date.parse('2026-11-23T08:00:00Z'); // a Monday morning
    expect(previousWeek(now, 'Europe/London').id).toBe('2026-W47');
    expect(weekContaining(now, 'Europe/London').id).toBe('2026-W48');
    // 23:30 on Sunday in New York is already Monday in UTC: the local week decides
    expect(weekContaining(Date.parse('2026-11-30T04:30:00Z'), 'America/New_York').id).toBe('2026-W48');
  });

  it('places instants on their local day and prints local times', () => {
    const w = parseWeek('2026-W48', 'America/New_York');
    expect(dayIndex(w, Date.parse('2026-11-23T04:59:59Z'))).toBe(-1);
    expect(dayIndex(w, Date.parse('2026-11-23T05:00:00Z'))).toBe(0);
    expect(dayIndex(w, Date.parse('2026-11-30T04:59:59Z'))).toBe(6);
    expect(dayIndex(w, w.endMs)).toBe(-1);
    expect(localTime(Date.parse('2026-11-23T05:07:00Z'), 'America/New_York')).toBe('2026-11-23 00:07');
  });
});

describe('the digest schedule against the document', () => {
  const berlin = { day: 'monday', time: '08:00', timeZone: 'Europe/Berlin' };
  it('agrees at the document day and time in its zone, in winter and in summer time', () => {
    expect(digestScheduleDrift(Date.parse('2026-11-23T07:00:00Z'), berlin)).toBeNull();
    expect(digestScheduleDrift(Date.parse('2026-06-22T06:00:00Z'), berlin)).toBeNull();
  });
  it('names both readings in the document zone when the hour or the day differs', () => {
    expect(digestScheduleDrift(Date.parse('2026-11-23T08:00:00Z'), berlin)).toEqual({
      expected: 'monday 08:00',
      actual: 'monday 09:00',
    });
    expect(digestScheduleDrift(Date.parse('2026-11-22T07:00:00Z'), berlin)).toEqual({
      expected: 'monday 08:00',
      actual: 'sunday 08:00',
    });
  });
});
