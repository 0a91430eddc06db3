import { CronExpressionParser } from 'cron-parser';
import './pin-cron-defaults.js';
import type { CronExpression } from 'cron-parser';
import { DigestError } from '../model/errors.js';
import type { ParsedSchedule } from './parse-schedule.js';
import { addDays, instantOfWallTime, isValidTimeZone, offsetMinutesAt, wallTimeAt } from './zone-time.js';

export { isValidTimeZone } from './zone-time.js';

/*
 * Schedule windows are the instants a schedule fires at, computed per local calendar day:
 * cron-parser parses the expression and decides which days match (day-of-month/day-of-week rules, L, #),
 * and every matching day contributes its hour x minute wall times, each turned into ONE instant:
 *   - fall-back night (a wall time occurs twice): only the first occurrence fires (02:30 CEST, not again at 02:30 CET);
 *   - spring-forward night (a wall time does not exist): it fires once, shifted forward by the gap (02:30 -> 03:30);
 *     wall times that land on the same instant fire once.
 * cron-parser's own prev()/next() are not used for the instants because they disagree with each other on DST nights
 * (prev() skips the spring-forward day and returns the fall-back time twice), and latestWindow must be the exact
 * mirror of nextWindow.
 */

/** Options of isDue. */
export interface DueOptions {
  /** A subscriber never served is due only when the latest window is less than this many minutes old (default 1). */
  graceMinutes?: number;
}

/** Result of isDue: whether to send now, and the window being served (store it as lastWindow after serving). */
export interface DueResult {
  due: boolean;
  /** The most recent window <= now, when the schedule has one. */
  window?: Date;
}

interface CompiledSchedule {
  hours: number[];
  minutes: number[];
  months: ReadonlySet<number>;
  /** "0 12 dom month dow" in UTC: asked about a local calendar date written as a UTC date. */
  days: CronExpression;
}

const DAY_MS = 86_400_000;
// "0 0 29 2 *" can skip 8 years (2096 -> 2104); nothing valid waits longer.
const MAX_DAYS = 8 * 366 + 2;
const compiled = new Map<string, CompiledSchedule>();

function compile(cron: string): CompiledSchedule {
  let c = compiled.get(cron);
  if (!c) {
    const fields = cron.trim().split(/\s+/);
    if (fields.length !== 5) throw new DigestError('CONFIG_INVALID', `schedule cron "${cron}" must have 5 fields`);
    const [, , dom, month, dow] = fields as [string, string, string, string, string];
    let full: CronExpression;
    let days: CronExpression;
    try {
      full = CronExpressionParser.parse(cron, { tz: 'UTC' });
      days = CronExpressionParser.parse(`0 12 ${dom} ${month} ${dow}`, { tz: 'UTC' });
    } catch (error) {
      throw new DigestError('CONFIG_INVALID', `schedule cron "${cron}" is invalid: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    c = {
      hours: [...full.fields.hour.values].map(Number),
      minutes: [...full.fields.minute.values].map(Number),
      months: new Set(full.fields.month.values.map(Number)),
      days,
    };
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(cron, c);
  }
  return c;
}

function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) {
    throw new DigestError('CONFIG_INVALID', `"${timeZone}" is not an IANA time zone`, { hint: 'Use a name such as Europe/Berlin, America/New_York or UTC.' });
  }
}

function dayMatches(c: CompiledSchedule, date: { year: number; month: number; day: number }): boolean {
  if (!c.months.has(date.month)) return false;
  return c.days.includesDate(new Date(Date.UTC(date.year, date.month - 1, date.day, 12)));
}

/** The instants (ms) a schedule fires at on one local calendar day, following the DST rules above. */
function windowsOn(c: CompiledSchedule, timeZone: string, date: { year: number; month: number; day: number }): number[] {
  const midnight = Date.UTC(date.year, date.month - 1, date.day);
  const offset = offsetMinutesAt(timeZone, midnight - DAY_MS);
  // Fast path: no offset change anywhere near this day, so wall time minus offset is exact.
  const steady = offset === offsetMinutesAt(timeZone, midnight + DAY_MS / 2) && offset === offsetMinutesAt(timeZone, midnight + 2 * DAY_MS);
  const out = new Set<number>();
  for (const hour of c.hours) {
    for (const minute of c.minutes) {
      out.add(
        steady
          ? midnight + (hour * 60 + minute - offset) * 60_000
          : instantOfWallTime(timeZone, date.year, date.month, date.day, hour, minute),
      );
    }
  }
  return [...out];
}

// Windows per (cron, zone, local day); a daemon asks about the same few days every minute.
const dayCache = new Map<string, number[]>();

function cachedWindowsOn(cron: string, c: CompiledSchedule, timeZone: string, date: { year: number; month: number; day: number }): number[] {
  const key = `${cron}\u0000${timeZone}\u0000${date.year}-${date.month}-${date.day}`;
  let windows = dayCache.get(key);
  if (!windows) {
    windows = dayMatches(c, date) ? windowsOn(c, timeZone, date) : [];
    if (dayCache.size >= 10_000) dayCache.clear();
    dayCache.set(key, windows);
  }
  return windows;
}

function scan(schedule: ParsedSchedule, timeZone: string, now: Date, direction: 1 | -1): Date | undefined {
  assertTimeZone(timeZone);
  const c = compile(schedule.cron);
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new TypeError('now is an invalid Date');
  const today = wallTimeAt(timeZone, nowMs);
  let best: number | undefined;
  let foundAt: number | undefined;
  // Start one day "behind" so a gap-shifted time spilling over midnight is still seen; after the first hit look one day
  // further for the same reason, then stop.
  for (let i = -direction; Math.abs(i) <= MAX_DAYS; i += direction) {
    if (foundAt !== undefined && Math.abs(i - foundAt) > 1) break;
    const date = addDays(today, i);
    if (!c.months.has(date.month)) continue;
    for (const t of cachedWindowsOn(schedule.cron, c, timeZone, date)) {
      if (direction === -1 ? t <= nowMs && (best === undefined || t > best) : t > nowMs && (best === undefined || t < best)) best = t;
    }
    if (best !== undefined && foundAt === undefined) foundAt = i;
  }
  return best === undefined ? undefined : new Date(best);
}

/** The most recent instant <= now the schedule fires at in the zone, or undefined when it never fired within 8 years. Throws CONFIG_INVALID for an unknown zone. */
export function latestWindow(schedule: ParsedSchedule, timezone: string, now: Date): Date | undefined {
  return scan(schedule, timezone, now, -1);
}

/** The first instant strictly after now the schedule fires at in the zone (undefined when none within 8 years). */
export function nextWindow(schedule: ParsedSchedule, timezone: string, now: Date): Date | undefined {
  return scan(schedule, timezone, now, 1);
}

/**
 * Whether a subscriber's digest is due now. With a lastWindow (the window last served) it is due when the latest window
 * <= now is later than it: after downtime only the latest missed window counts, so the catch-up happens once. A subscriber
 * never served (no or unreadable lastWindow) is due only within graceMinutes after a window, so a new subscriber waits for
 * its first window instead of getting a digest at an arbitrary time.
 */
export function isDue(schedule: ParsedSchedule, timezone: string, now: Date, lastWindow?: Date, options: DueOptions = {}): DueResult {
  const window = latestWindow(schedule, timezone, now);
  if (!window) return { due: false };
  if (lastWindow && !Number.isNaN(lastWindow.getTime())) return { due: window.getTime() > lastWindow.getTime(), window };
  const graceMs = (options.graceMinutes ?? 1) * 60_000;
  return { due: now.getTime() - window.getTime() < graceMs, window };
}
