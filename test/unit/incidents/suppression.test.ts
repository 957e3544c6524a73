import { describe, expect, it } from 'vitest';
import {
  inWeeklyWindow,
  isSuppressed,
  parseClock,
  suppressionProblems,
  type TenantSuppression,
  type WeeklyWindow,
} from '../../../shared/incidents/suppression.ts';

const saturdayNight: WeeklyWindow = { days: ['sat'], start: '22:00', end: '06:00', timeZone: 'Europe/London' };

describe('weekly maintenance windows', () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    // Winter (GMT = UTC).
    ['Sat 21:59 GMT', '2026-01-10T21:59:00Z', false],
    ['Sat 22:00 GMT', '2026-01-10T22:00:00Z', true],
    ['Sun 05:59 GMT', '2026-01-11T05:59:00Z', true],
    ['Sun 06:00 GMT', '2026-01-11T06:00:00Z', false],
    ['Fri 23:00 GMT (not a window day)', '2026-01-09T23:00:00Z', false],
    ['Sun 23:00 GMT (after the window)', '2026-01-11T23:00:00Z', false],
    // Summer (BST = UTC+1).
    ['Sat 21:59 BST', '2026-07-11T20:59:00Z', false],
    ['Sat 22:00 BST', '2026-07-11T21:00:00Z', true],
    ['Sun 05:59 BST', '2026-07-12T04:59:00Z', true],
    ['Sun 06:00 BST', '2026-07-12T05:00:00Z', false],
    // Spring forward (Sun 29 March 2026, 01:00 GMT → 02:00 BST): starts at 22:00 GMT, ends at 06:00 BST.
    ['Sat 21:59 GMT before spring forward', '2026-03-28T21:59:00Z', false],
    ['Sat 22:00 GMT before spring forward', '2026-03-28T22:00:00Z', true],
    ['Sun 00:59 GMT, just before the change', '2026-03-29T00:59:00Z', true],
    ['Sun 02:00 BST, just after the change', '2026-03-29T01:00:00Z', true],
    ['Sun 05:59 BST', '2026-03-29T04:59:00Z', true],
    ['Sun 06:00 BST (05:00 UTC)', '2026-03-29T05:00:00Z', false],
    ['Sun 06:30 BST (still before 06:00 UTC)', '2026-03-29T05:30:00Z', false],
    // Fall back (Sun 25 October 2026, 02:00 BST → 01:00 GMT): starts at 22:00 BST, ends at 06:00 GMT.
    ['Sat 21:59 BST before fall back', '2026-10-24T20:59:00Z', false],
    ['Sat 22:00 BST before fall back', '2026-10-24T21:00:00Z', true],
    ['Sun 01:30 BST (first time)', '2026-10-25T00:30:00Z', true],
    ['Sun 01:30 GMT (second time)', '2026-10-25T01:30:00Z', true],
    ['Sun 05:59 GMT', '2026-10-25T05:59:00Z', true],
    ['Sun 06:00 GMT', '2026-10-25T06:00:00Z', false],
  ];
  it.each(cases)('%s → %s', (_name, at, inside) => {
    expect(inWeeklyWindow(saturdayNight, new Date(at))).toBe(inside);
  });

  it('starts a window whose start does not exist on the spring-forward night at the first time after it', () => {
    const w: WeeklyWindow = { days: ['sun'], start: '01:30', end: '03:00', timeZone: 'Europe/London' };
    expect(inWeeklyWindow(w, new Date('2026-03-29T00:59:00Z'))).toBe(false);
    expect(inWeeklyWindow(w, new Date('2026-03-29T01:00:00Z'))).toBe(true);
    expect(inWeeklyWindow(w, new Date('2026-03-29T01:59:00Z'))).toBe(true);
    expect(inWeeklyWindow(w, new Date('2026-03-29T02:00:00Z'))).toBe(false);
  });

  it('uses the window’s own zone', () => {
    const ny: WeeklyWindow = { days: ['mon', 'tue'], start: '09:00', end: '17:00', timeZone: 'America/New_York' };
    expect(inWeeklyWindow(ny, new Date('2026-03-02T13:59:00Z'))).toBe(false);
    expect(inWeeklyWindow(ny, new Date('2026-03-02T14:00:00Z'))).toBe(true);
    expect(inWeeklyWindow(ny, new Date('2026-03-03T21:59:00Z'))).toBe(true);
    expect(inWeeklyWindow(ny, new Date('2026-03-04T14:00:00Z'))).toBe(false);
  });

  it('treats equal start and end as a whole day', () => {
    const w: WeeklyWindow = { days: ['wed'], start: '00:00', end: '00:00', timeZone: 'UTC' };
    expect(inWeeklyWindow(w, new Date('2026-03-04T00:00:00Z'))).toBe(true);
    expect(inWeeklyWindow(w, new Date('2026-03-04T23:59:00Z'))).toBe(true);
    expect(inWeeklyWindow(w, new Date('2026-03-05T00:00:00Z'))).toBe(false);
  });
});

describe('isSuppressed', () => {
  const settings: TenantSuppression = {
    maintenance: [
      saturdayNight,
      { from: '2026-03-04T10:00:00+01:00', until: '2026-03-04T12:00:00+01:00', note: 'firewall swap' },
      { days: ['mon'], start: '08:00', end: '09:00', timeZone: 'UTC', checks: ['probe-relay'] },
    ],
    mutes: [
      { until: '2026-03-03T00:00:00Z', check: 'blocklist', subject: '203.0.113.10@zen', reason: 'known, delisting' },
      { until: '2026-03-02T12:00:00Z', check: 'spf' },
      { until: '2026-02-01T00:00:00Z' },
    ],
  };
  const cases: ReadonlyArray<readonly [string, string, string, string, string | null]> = [
    ['quiet time', 'spf', 'contoso.com', '2026-03-05T12:00:00Z', null],
    ['weekly window', 'spf', 'contoso.com', '2026-03-07T23:00:00Z', 'maintenance Sat 22:00–06:00 Europe/London'],
    [
      'one-off window',
      'mx',
      'contoso.com',
      '2026-03-04T09:00:00Z',
      'maintenance until 2026-03-04T11:00:00.000Z (firewall swap)',
    ],
    ['one-off window, end excluded', 'mx', 'contoso.com', '2026-03-04T11:00:00Z', null],
    ['window for one check only', 'probe-relay', 'relay', '2026-03-02T08:30:00Z', 'maintenance Mon 08:00–09:00 UTC'],
    ['window for another check', 'spf', 'x.com', '2026-03-02T08:30:00Z', 'muted until 2026-03-02T12:00:00.000Z'],
    [
      'subject mute',
      'blocklist',
      '203.0.113.10@zen',
      '2026-03-02T20:00:00Z',
      'muted until 2026-03-03T00:00:00.000Z: known, delisting',
    ],
    ['subject mute, other subject', 'blocklist', '203.0.113.11@zen', '2026-03-02T20:00:00Z', null],
    ['check mute ended (until excluded)', 'spf', 'x.com', '2026-03-02T12:00:00Z', null],
    ['expired tenant mute', 'mx', 'x.com', '2026-03-02T20:00:00Z', null],
  ];
  it.each(cases)('%s', (_name, check, subject, at, reason) => {
    const s = isSuppressed(settings, check, subject, new Date(at));
    expect(s.suppressed).toBe(reason !== null);
    expect(s.reason).toBe(reason);
  });

  it('suppresses nothing without settings', () => {
    expect(isSuppressed(undefined, 'spf', 'a', new Date())).toEqual({ suppressed: false, reason: null, until: null });
  });

  it('mutes a whole tenant', () => {
    const s = isSuppressed({ mutes: [{ until: '2026-03-02T12:00:00Z' }] }, 'mx', 'x', new Date('2026-03-02T11:00:00Z'));
    expect(s).toEqual({
      suppressed: true,
      reason: 'muted until 2026-03-02T12:00:00.000Z',
      until: '2026-03-02T12:00:00.000Z',
    });
  });
});

describe('suppression settings', () => {
  it('parses clock times', () => {
    expect(['00:00', '23:59', '06:30', '24:00', '6:30', '12:60'].map(parseClock)).toEqual([
      0,
      1439,
      390,
      null,
      null,
      null,
    ]);
  });

  it('reports invalid settings with their path', () => {
    expect(
      suppressionProblems({
        maintenance: [
          { days: [], start: '25:00', end: '06:00', timeZone: 'Mars/Olympus' },
          { from: '2026-03-04T12:00:00Z', until: '2026-03-04T10:00:00Z' },
        ],
        mutes: [{ until: 'tomorrow' }],
      }),
    ).toEqual([
      'maintenance[0].days: must list at least one day',
      'maintenance[0].start: must be HH:MM (00:00–23:59)',
      'maintenance[0].timeZone: unknown time zone "Mars/Olympus"',
      'maintenance[1].until: must be after from',
      'mutes[0].until: must be an ISO 8601 time',
    ]);
    expect(suppressionProblems({ maintenance: [saturdayNight] })).toEqual([]);
  });
});
