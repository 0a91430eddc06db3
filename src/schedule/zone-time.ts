/**
 * Wall-clock arithmetic in IANA time zones on top of Intl (the same tz data luxon and cron-parser use).
 * Kept small and explicit so the DST rules of schedule windows are ours to state and test.
 */

/** A local calendar date and time in some zone (month 1-12, weekday 0 = Sunday). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
// UTC, the default zone, needs no Intl: the first Intl.DateTimeFormat of a process loads ICU's zone and locale data
// (15-45 ms and several MB of RSS measured on a 220-feed cycle), so UTC is answered from Date's UTC getters instead.
const UTC = 'UTC';
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const DAY_MS = 86_400_000;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * True for a time zone name Intl knows as an IANA zone ("Europe/Berlin", "UTC", "Etc/GMT+5").
 * Offset strings such as "+01:00" are refused: they have no DST rules and newer runtimes accept them inconsistently.
 */
export function isValidTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone)) return false;
  if (timeZone === UTC) return true;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Local wall-clock time of an instant in a zone. */
export function wallTimeAt(timeZone: string, ms: number): WallTime {
  if (timeZone === UTC) {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: d.getUTCDay() };
  }
  const parts = formatterFor(timeZone).formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    weekday: WEEKDAYS[get('weekday')] ?? 0,
  };
}

/** UTC offset of a zone at an instant, in minutes (Berlin in summer: 120). */
export function offsetMinutesAt(timeZone: string, ms: number): number {
  if (timeZone === UTC) return 0;
  const parts = formatterFor(timeZone).formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/**
 * The instant a local wall-clock time denotes. The two DST cases are resolved so that every wall time maps to exactly one instant:
 * - a time that occurs twice (fall-back night) is its FIRST occurrence (the earlier instant, still on summer time);
 * - a time that does not exist (spring-forward gap) is shifted forward by the gap length, e.g. 02:30 becomes 03:30
 *   (the offset before the change is applied; this is also what luxon and cron-parser's next() do).
 */
export function instantOfWallTime(timeZone: string, year: number, month: number, day: number, hour: number, minute: number): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Offsets a day either side bracket any single transition near this wall time.
  const before = offsetMinutesAt(timeZone, wall - DAY_MS);
  const after = offsetMinutesAt(timeZone, wall + DAY_MS);
  const candidates: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    const t = wall - offset * 60_000;
    if (offsetMinutesAt(timeZone, t) === offset) candidates.push(t);
  }
  if (candidates.length === 0) {
    // In the gap: the offset before the change pushes the time past the gap.
    return wall - before * 60_000;
  }
  return Math.min(...candidates);
}

/** Calendar date `days` days after (or before) the given one, with its weekday. */
export function addDays(date: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}
