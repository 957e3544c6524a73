/**
 * ISO 8601 weeks (`2026-W48`: Monday to Sunday) cut in an IANA time zone, so that "Monday" and the 7-day strip's
 * days are the reader's days, not UTC's. Pure: the time zone database is the runtime's (`Intl`).
 *
 * A day starts at local midnight; on a daylight-saving change a day is 23 or 25 hours long, and the week is still
 * seven days.
 */

export interface WeekDay {
  /** Local date, `2026-11-23`. */
  readonly date: string;
  /** `Mon 23 Nov`. */
  readonly label: string;
  /** UTC milliseconds of local midnight (inclusive) and the next local midnight (exclusive). */
  readonly startMs: number;
  readonly endMs: number;
}

export interface Week {
  /** `2026-W48`. */
  readonly id: string;
  readonly timeZone: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly days: readonly WeekDay[];
}

/** A `--week` value that is not an ISO week. */
export class WeekFormatError extends Error {
  constructor(value: string, why: string) {
    super(`--week ${JSON.stringify(value)} ${why}; write the ISO week as YYYY-Www, e.g. 2026-W48`);
    this.name = 'WeekFormatError';
  }
}

const DAY_MS = 86_400_000;
const WEEKDAY = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local calendar fields of an instant in a zone. */
export function localParts(ms: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  };
}

/** Offset of the zone at an instant, in ms (local = UTC + offset). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const seconds = new Date(ms).getUTCSeconds();
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, seconds) - (ms - (ms % 1000));
}

/** UTC ms of local midnight starting the given local date. */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day);
  let t = guess - offsetAt(guess, timeZone);
  t = guess - offsetAt(t, timeZone);
  return t;
}

/** Monday (UTC date arithmetic on calendar dates) of ISO week `week` of ISO year `year`. */
function isoWeekMonday(year: number, week: number): { y: number; m: number; d: number } {
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Dow = (new Date(jan4).getUTCDay() + 6) % 7;
  const monday = new Date(jan4 - jan4Dow * DAY_MS + (week - 1) * 7 * DAY_MS);
  return { y: monday.getUTCFullYear(), m: monday.getUTCMonth() + 1, d: monday.getUTCDate() };
}

function weeksInYear(year: number): number {
  // A year has 53 ISO weeks when 28 December falls in week 53.
  const dec28 = Date.UTC(year, 11, 28);
  const dow = (new Date(dec28).getUTCDay() + 6) % 7;
  const thursday = dec28 - dow * DAY_MS + 3 * DAY_MS;
  const firstThursday = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
  return Math.floor((thursday - firstThursday) / (7 * DAY_MS)) + 1;
}

/** The ISO week (year, number) of a calendar date. */
function isoWeekOf(y: number, m: number, d: number): { year: number; week: number } {
  const date = Date.UTC(y, m - 1, d);
  const dow = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = date - dow * DAY_MS + 3 * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return { year, week };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** The week `year`-W`week` in `timeZone`. */
export function isoWeek(year: number, week: number, timeZone: string): Week {
  const monday = isoWeekMonday(year, week);
  const days: WeekDay[] = [];
  for (let i = 0; i < 7; i++) {
    const cal = new Date(Date.UTC(monday.y, monday.m - 1, monday.d + i));
    const next = new Date(Date.UTC(monday.y, monday.m - 1, monday.d + i + 1));
    const y = cal.getUTCFullYear();
    const m = cal.getUTCMonth() + 1;
    const d = cal.getUTCDate();
    days.push({
      date: `${y}-${pad(m)}-${pad(d)}`,
      label: `${WEEKDAY[i]} ${d} ${MONTH[m - 1]}`,
      startMs: localMidnight(y, m, d, timeZone),
      endMs: localMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
    });
  }
  return {
    id: `${year}-W${pad(week)}`,
    timeZone,
    startMs: days[0]!.startMs,
    endMs: days[6]!.endMs,
    days,
  };
}

/**
 * A `--week` value: `YYYY-Www` (`2026-W48`; lower-case `w` accepted).
 * @throws WeekFormatError naming what is wrong.
 */
export function parseWeek(value: string, timeZone: string): Week {
  const m = /^(\d{4})-?[Ww](\d{1,2})$/.exec(value.trim());
  if (!m) throw new WeekFormatError(value, 'is not an ISO week');
  const year = Number(m[1]);
  const week = Number(m[2]);
  const max = weeksInYear(year);
  if (week < 1 || week > max) throw new WeekFormatError(value, `is out of range: ${year} has weeks 1 to ${max}`);
  return isoWeek(year, week, timeZone);
}

/** The week that contains `now` (local date in `timeZone`). */
export function weekContaining(nowMs: number, timeZone: string): Week {
  const p = localParts(nowMs, timeZone);
  const w = isoWeekOf(p.year, p.month, p.day);
  return isoWeek(w.year, w.week, timeZone);
}

/** The last complete week before `now`: what a Monday-morning digest reports. */
export function previousWeek(nowMs: number, timeZone: string): Week {
  const current = weekContaining(nowMs, timeZone);
  return weekContaining(current.startMs - 1, timeZone);
}

/** Index 0..6 of the day an instant falls on, or -1 outside the week. */
export function dayIndex(week: Week, ms: number): number {
  if (ms < week.startMs || ms >= week.endMs) return -1;
  for (let i = 0; i < 7; i++) if (ms < week.days[i]!.endMs) return i;
  return -1;
}

/** `2026-11-23 14:05` in the week's zone. */
export function localTime(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** When the config document says the digest goes out: `digest.day`, `digest.time` (HH:MM), `digest.timeZone`. */
export interface DigestWhen {
  readonly day: string;
  readonly time: string;
  readonly timeZone: string;
}

/**
 * Whether an instant (a schedule's `scheduledTime`) is not the document's digest day and time in its zone, and how:
 * `null` when it is, else both readings (`monday 08:00` expected, `tuesday 07:00` actual, in the document's zone).
 * The deployed schedule comes from the stage config (cdk), the wanted one from the document: they can disagree.
 */
export function digestScheduleDrift(ms: number, when: DigestWhen): { expected: string; actual: string } | null {
  const p = localParts(ms, when.timeZone);
  const weekday = WEEKDAYS[new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()] ?? 'sunday';
  const actual = `${weekday} ${pad(p.hour)}:${pad(p.minute)}`;
  const expected = `${when.day} ${when.time}`;
  return actual === expected ? null : { expected, actual };
}
