import { ConfigError } from '../model/errors.js';

/**
 * Default locale for dates: en-GB gives an unambiguous day-month order and a 24-hour clock
 * ("12 May 2025, 14:03"), which reads well for an international audience. Callers may pass any BCP 47 tag.
 */
export const DEFAULT_LOCALE = 'en-GB';

/** Formats the dates a digest shows, in the subscriber's time zone. */
export interface DateFormatter {
  /** Entry date and time; the year is left out when it is the current year ("12 May, 14:03"). */
  entry(iso: string | undefined): string;
  /** A day ("12 May 2025"), for subjects. */
  day(iso: string): string;
  /** The period covered, with the zone's abbreviation ("12 May 2025, 07:00 – 13 May 2025, 07:00 CEST"). */
  period(startIso: string | undefined, endIso: string): string;
  /** Identifies what the output depends on besides the input (locale, zone, current year): equal keys format alike. */
  readonly key: string;
}

/** ICU puts thin and narrow no-break spaces around range dashes and before AM/PM; plain spaces read the same everywhere, including the text part. */
function plainSpaces(text: string): string {
  return text.replace(/[\u2009\u202F]/g, ' ');
}

function parse(iso: string | undefined): Date | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

interface Formats {
  year: Intl.DateTimeFormat;
  sameYear: Intl.DateTimeFormat;
  otherYear: Intl.DateTimeFormat;
  day: Intl.DateTimeFormat;
  period: Intl.DateTimeFormat;
  /** Formatted periods by "start\0end": every digest of a cycle shows the same few periods, and formatRange is slow (~0.2 ms). */
  periods: Map<string, string>;
  /** The current year by now (ms), for the last few `now`s. */
  years: Map<number, string>;
}

const MEMO_LIMIT = 1024;

function remember<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= MEMO_LIMIT) map.clear();
  map.set(key, value);
  return value;
}

// Constructing Intl.DateTimeFormat costs ~0.2 ms each; a digest run uses a handful of zones, so memoize.
const cache = new Map<string, Formats>();
const CACHE_LIMIT = 256;

function formatsFor(locale: string, timezone: string): Formats {
  const key = `${locale}\0${timezone}`;
  let formats = cache.get(key);
  if (formats) return formats;
  try {
    const time = { hour: '2-digit', minute: '2-digit' } as const;
    formats = {
      year: new Intl.DateTimeFormat(locale, { timeZone: timezone, year: 'numeric' }),
      sameYear: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', ...time }),
      otherYear: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric', ...time }),
      day: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric' }),
      period: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric', ...time, timeZoneName: 'short' }),
      periods: new Map(),
      years: new Map(),
    };
  } catch (err) {
    throw new ConfigError(undefined, [{ path: 'timezone', message: `unknown time zone "${timezone}" or locale "${locale}": use an IANA zone such as Europe/Berlin and a BCP 47 locale such as en-GB` }], { cause: err });
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, formats);
  return formats;
}

/** Formatters for one zone and locale; throws ConfigError for an unknown zone or locale. */
export function createDateFormatter(timezone: string, options: { locale?: string; now: Date }): DateFormatter {
  const locale = options.locale ?? DEFAULT_LOCALE;
  const formats = formatsFor(locale, timezone);
  const { year: yearFmt, sameYear, otherYear, day: dayFmt, period: periodFmt, periods, years } = formats;
  const nowMs = options.now.getTime();
  const currentYear = years.get(nowMs) ?? remember(years, nowMs, yearFmt.format(options.now));
  return {
    key: `${locale}\0${timezone}\0${currentYear}`,
    entry(iso) {
      const d = parse(iso);
      if (!d) return '';
      return plainSpaces((yearFmt.format(d) === currentYear ? sameYear : otherYear).format(d));
    },
    day(iso) {
      const d = parse(iso);
      return d ? plainSpaces(dayFmt.format(d)) : '';
    },
    period(startIso, endIso) {
      const memoKey = `${startIso ?? ''}\0${endIso}`;
      const known = periods.get(memoKey);
      if (known !== undefined) return known;
      return remember(periods, memoKey, formatPeriod(periodFmt, startIso, endIso));
    },
  };
}

function formatPeriod(periodFmt: Intl.DateTimeFormat, startIso: string | undefined, endIso: string): string {
  const end = parse(endIso);
  if (!end) return '';
  const start = parse(startIso);
  if (!start || start.getTime() >= end.getTime()) return plainSpaces(periodFmt.format(end));
  return plainSpaces(periodFmt.formatRange(start, end));
}
