import { CronExpressionParser } from 'cron-parser';
import './pin-cron-defaults.js';
import { DigestError } from '../model/errors.js';

/** A digest schedule: the text as configured and the equivalent 5-field cron expression (minute hour day-of-month month day-of-week). */
export interface ParsedSchedule {
  text: string;
  cron: string;
}

/** The forms parseSchedule accepts, for error messages and docs. */
export const SCHEDULE_FORMS = [
  '"daily 07:00"',
  '"weekdays 09:00"',
  '"weekly mon 08:00" (mon..sun or monday..sunday; several days as "mon,thu")',
  '"twice-daily 07:00,19:00" (both times on the same minute)',
  '"hourly"',
  'a 5-field cron expression such as "30 6 * * 1-5" (minute hour day-of-month month day-of-week)',
] as const;

const DAY_NUMBERS: Record<string, number> = {
  sun: 0, sunday: 0,
  mon: 1, monday: 1,
  tue: 2, tues: 2, tuesday: 2,
  wed: 3, wednesday: 3,
  thu: 4, thur: 4, thurs: 4, thursday: 4,
  fri: 5, friday: 5,
  sat: 6, saturday: 6,
};

// Macros cron users know; "@reboot" has no meaning for a digest.
const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const cache = new Map<string, ParsedSchedule>();
const CACHE_LIMIT = 1000;

/**
 * Parses a schedule ("daily 07:00", "weekly mon 08:00", "hourly", "twice-daily 07:00,19:00", "weekdays 09:00" or a 5-field cron
 * expression). Throws DigestError('CONFIG_INVALID') naming the accepted forms when the text is none of them.
 */
export function parseSchedule(text: string): ParsedSchedule {
  const cached = cache.get(text);
  if (cached) return cached;
  const parsed = { text, cron: toCron(text) };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

function toCron(text: string): string {
  const normalized = text.trim().replace(/\s+/g, ' ').toLowerCase();
  if (normalized === '') fail(text, 'the schedule is empty');
  const [word = '', ...rest] = normalized.split(' ');
  const args = rest.join(' ');
  switch (word) {
    case 'hourly':
      if (args !== '') fail(text, '"hourly" takes no time (it fires at minute 0 of every hour); use a cron expression such as "15 * * * *" for another minute');
      return '0 * * * *';
    case 'daily': {
      const { hour, minute } = parseTime(text, args);
      return `${minute} ${hour} * * *`;
    }
    case 'weekdays': {
      const { hour, minute } = parseTime(text, args);
      return `${minute} ${hour} * * 1-5`;
    }
    case 'weekly': {
      const [days = '', time = '', ...extra] = args.split(' ');
      if (extra.length > 0 || time === '') fail(text, '"weekly" needs a day and a time, e.g. "weekly mon 08:00"');
      const numbers = days.split(',').map((day) => {
        const n = DAY_NUMBERS[day];
        if (n === undefined) fail(text, `"${day}" is not a day of the week (use mon, tue, wed, thu, fri, sat, sun or full names)`);
        return n;
      });
      const { hour, minute } = parseTime(text, time);
      return `${minute} ${hour} * * ${[...new Set(numbers)].sort((a, b) => a - b).join(',')}`;
    }
    case 'twice-daily': {
      const parts = args.split(/\s*,\s*|\s+/).filter((p) => p !== '');
      if (parts.length !== 2) fail(text, '"twice-daily" needs two times, e.g. "twice-daily 07:00,19:00"');
      const times = parts.map((p) => parseTime(text, p));
      const [a, b] = times as [{ hour: number; minute: number }, { hour: number; minute: number }];
      // One 5-field cron line cannot say "07:00 and 19:30" without also firing at 07:30 and 19:00.
      if (a.minute !== b.minute) fail(text, '"twice-daily" times must share the minute (e.g. 07:00,19:00 or 07:30,19:30)');
      if (a.hour === b.hour) fail(text, '"twice-daily" needs two different hours');
      return `${a.minute} ${Math.min(a.hour, b.hour)},${Math.max(a.hour, b.hour)} * * *`;
    }
    default:
      return parseCron(text, MACROS[normalized] ?? text.trim().replace(/\s+/g, ' '));
  }
}

function parseTime(text: string, value: string): { hour: number; minute: number } {
  const match = /^(\d{1,2}):(\d{2})$/.exec(value);
  const hour = match ? Number(match[1]) : NaN;
  const minute = match ? Number(match[2]) : NaN;
  if (!(hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59)) {
    fail(text, value === '' ? 'a time is missing (24-hour HH:MM, e.g. 07:00)' : `"${value}" is not a 24-hour time HH:MM between 00:00 and 23:59`);
  }
  return { hour, minute };
}

function parseCron(text: string, cron: string): string {
  const fields = cron.split(' ');
  if (fields.length !== 5) {
    fail(text, fields.length === 6 ? 'cron expressions here have 5 fields (no seconds field)' : 'not one of the schedule forms and not a 5-field cron expression');
  }
  // "H" (hashed) fields depend on a seed and would move between processes; "?" is Quartz syntax.
  if (/[h?]/i.test(cron.replace(/jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat/gi, ''))) {
    fail(text, 'hashed "H" and "?" fields are not supported');
  }
  try {
    const expression = CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: new Date(Date.UTC(2000, 0, 1)) });
    // Rejects expressions that parse but never fire, such as "0 0 31 4 *" (April has 30 days).
    expression.next();
  } catch (error) {
    fail(text, `not a valid cron expression (${error instanceof Error ? error.message : String(error)})`, error);
  }
  return cron;
}

function fail(text: string, reason: string, cause?: unknown): never {
  throw new DigestError('CONFIG_INVALID', `schedule "${text}": ${reason}. Accepted forms: ${SCHEDULE_FORMS.join('; ')}.`, {
    cause,
    hint: 'Fix the "schedule" of the subscriber (or in settings / DIGEST_CRON); times are 24-hour HH:MM in the subscriber\'s time zone.',
  });
}
