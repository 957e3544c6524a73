/**
 * Maintenance windows and mutes: when a tenant's notifications are held back. Pure: `now` is a parameter.
 *
 * Suppression only holds notifications back. Counters still advance and incidents still open and resolve in the
 * store; whatever is still due when the window or mute ends is sent then (see `pendingNotifications`): an incident
 * that opened during a window and is still open gets its `opened` notification after the window, one that opened
 * and resolved inside it is never announced.
 *
 * Weekly windows are wall-clock times in an IANA time zone (read with `Intl.DateTimeFormat`, so daylight saving time
 * is handled by the zone database): `{ days: ['sat'], start: '22:00', end: '06:00', timeZone: 'Europe/London' }`
 * starts every Saturday at 22:00 local time and ends at 06:00 local time on the Sunday, whatever the UTC offset did in
 * between. A window belongs to the day it starts on; `end` at or before `start` means it ends on the next day (equal
 * times make a 24-hour window). A start that does not exist on a spring-forward night begins at the first local time
 * after it (01:30 on a 01:00→02:00 night begins at 02:00).
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A window that recurs every week on the listed days. */
export interface WeeklyWindow {
  readonly days: readonly Weekday[];
  /** `HH:MM`, 24-hour local time. */
  readonly start: string;
  /** `HH:MM`; at or before `start` means the next day. */
  readonly end: string;
  /** IANA zone, e.g. `Europe/London`. */
  readonly timeZone: string;
  /** Only these checks (`probe-relay`, `blocklist`…); all checks when absent. */
  readonly checks?: readonly string[];
  readonly note?: string;
}

/** A one-off window: `from` (inclusive) to `until` (exclusive), ISO 8601 with an offset or `Z`. */
export interface OneOffWindow {
  readonly from: string;
  readonly until: string;
  readonly checks?: readonly string[];
  readonly note?: string;
}

export type MaintenanceWindow = WeeklyWindow | OneOffWindow;

/** Silences a tenant (or one check, or one subject of a check) until a time. */
export interface Mute {
  /** ISO 8601; the mute ends at this instant. */
  readonly until: string;
  readonly check?: string;
  readonly subject?: string;
  readonly reason?: string;
}

/** The per-tenant settings (`tenants[].maintenance`, `tenants[].mutes`). */
export interface TenantSuppression {
  readonly maintenance?: readonly MaintenanceWindow[];
  readonly mutes?: readonly Mute[];
}

export interface Suppression {
  readonly suppressed: boolean;
  /** Why, for logs and the report: `maintenance Sat 22:00–06:00 Europe/London`, `muted until …: reason`. */
  readonly reason: string | null;
  /** When the first matching window or mute ends (ISO), when it can be told; null otherwise. */
  readonly until: string | null;
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight for `HH:MM` (00:00–23:59), or null. */
export function parseClock(value: string): number | null {
  const m = CLOCK.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** True when `Intl` knows the zone (for the config schema). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** What is wrong with the settings, one message per problem with its path (`maintenance[0].start`); empty when fine. */
export function suppressionProblems(settings: TenantSuppression): string[] {
  const problems: string[] = [];
  (settings.maintenance ?? []).forEach((w, i) => {
    const at = `maintenance[${i}]`;
    if (isWeekly(w)) {
      if (w.days.length === 0) problems.push(`${at}.days: must list at least one day`);
      for (const d of w.days) if (!WEEKDAYS.includes(d)) problems.push(`${at}.days: unknown day ${JSON.stringify(d)}`);
      if (parseClock(w.start) === null) problems.push(`${at}.start: must be HH:MM (00:00–23:59)`);
      if (parseClock(w.end) === null) problems.push(`${at}.end: must be HH:MM (00:00–23:59)`);
      if (!isValidTimeZone(w.timeZone))
        problems.push(`${at}.timeZone: unknown time zone ${JSON.stringify(w.timeZone)}`);
    } else {
      const from = Date.parse(w.from);
      const until = Date.parse(w.until);
      if (Number.isNaN(from)) problems.push(`${at}.from: must be an ISO 8601 time`);
      if (Number.isNaN(until)) problems.push(`${at}.until: must be an ISO 8601 time`);
      if (!Number.isNaN(from) && !Number.isNaN(until) && until <= from)
        problems.push(`${at}.until: must be after from`);
    }
  });
  (settings.mutes ?? []).forEach((m, i) => {
    if (Number.isNaN(Date.parse(m.until))) problems.push(`mutes[${i}].until: must be an ISO 8601 time`);
  });
  return problems;
}

function isWeekly(w: MaintenanceWindow): w is WeeklyWindow {
  return 'days' in w;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const SHORT_DAYS: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** The wall clock in a zone: weekday index (0 = Monday) and minutes after midnight. */
export function wallClock(instant: Date, timeZone: string): { readonly day: number; readonly minutes: number } {
  let day = -1;
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type === 'weekday') day = SHORT_DAYS[part.value] ?? -1;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (day < 0) throw new RangeError(`cannot read the weekday in ${timeZone}`);
  return { day, minutes: hour * 60 + minute };
}

/** True when `now` falls in the weekly window (invalid windows never match; `suppressionProblems` reports them). */
export function inWeeklyWindow(w: WeeklyWindow, now: Date): boolean {
  const start = parseClock(w.start);
  const end = parseClock(w.end);
  if (start === null || end === null || !isValidTimeZone(w.timeZone)) return false;
  const { day, minutes } = wallClock(now, w.timeZone);
  const on = (d: number) => w.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (end > start) return on(day) && minutes >= start && minutes < end;
  // Crosses midnight (or lasts 24 h when end === start): the part on the start day, then the part on the next day.
  return (on(day) && minutes >= start) || (on(day - 1) && minutes < end);
}

function appliesTo(checks: readonly string[] | undefined, check: string): boolean {
  return checks === undefined || checks.length === 0 || checks.includes(check);
}

function describeWeekly(w: WeeklyWindow): string {
  const days = w.days.map((d) => d.charAt(0).toUpperCase() + d.slice(1)).join(',');
  return `maintenance ${days} ${w.start}–${w.end} ${w.timeZone}${w.note ? ` (${w.note})` : ''}`;
}

/**
 * Whether notifications about `check`/`subject` of the tenant are held back at `now`: during a maintenance window
 * that covers the check, or while a mute that matches (tenant-wide, the check, or the check's subject) runs.
 * `subject` may list every name of the subject (a listing is `203.0.113.50@<zone id>` in the store and
 * `203.0.113.50@<zone name>` in the alert text: a mute may use either); names compare case-insensitively.
 */
export function isSuppressed(
  settings: TenantSuppression | undefined,
  check: string,
  subject: string | readonly string[],
  now: Date,
): Suppression {
  const t = now.getTime();
  if (Number.isNaN(t)) throw new RangeError('now is not a valid date');
  const names = new Set((typeof subject === 'string' ? [subject] : subject).map((x) => x.toLowerCase()));
  for (const m of settings?.mutes ?? []) {
    const until = Date.parse(m.until);
    if (Number.isNaN(until) || t >= until) continue;
    if (m.check !== undefined && m.check !== check) continue;
    if (m.subject !== undefined && !names.has(m.subject.toLowerCase())) continue;
    const iso = new Date(until).toISOString();
    return { suppressed: true, reason: `muted until ${iso}${m.reason ? `: ${m.reason}` : ''}`, until: iso };
  }
  for (const w of settings?.maintenance ?? []) {
    if (!appliesTo(w.checks, check)) continue;
    if (isWeekly(w)) {
      if (inWeeklyWindow(w, now)) return { suppressed: true, reason: describeWeekly(w), until: null };
    } else {
      const from = Date.parse(w.from);
      const until = Date.parse(w.until);
      if (Number.isNaN(from) || Number.isNaN(until) || t < from || t >= until) continue;
      const iso = new Date(until).toISOString();
      return { suppressed: true, reason: `maintenance until ${iso}${w.note ? ` (${w.note})` : ''}`, until: iso };
    }
  }
  return { suppressed: false, reason: null, until: null };
}
