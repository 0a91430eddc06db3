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

/** What this module uses of an Intl.DateTimeFormat. */
interface DateFormat {
  format(date: Date): string;
  formatRange(start: Date, end: Date): string;
}

interface Formats {
  year: DateFormat;
  sameYear: DateFormat;
  otherYear: DateFormat;
  day: DateFormat;
  period: DateFormat;
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

function intlFormats(locale: string, timezone: string): Omit<Formats, 'periods' | 'years'> {
  const time = { hour: '2-digit', minute: '2-digit' } as const;
  return {
    year: new Intl.DateTimeFormat(locale, { timeZone: timezone, year: 'numeric' }),
    sameYear: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', ...time }),
    otherYear: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric', ...time }),
    day: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric' }),
    period: new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric', ...time, timeZoneName: 'short' }),
  };
}

// ICU's en-GB short month names (CLDR: "Sept", not "Sep").
const EN_GB_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];

/**
 * intlFormats('en-GB', 'UTC') without Intl: the defaults (DEFAULT_LOCALE, and UTC when no zone is configured). The
 * first Intl.DateTimeFormat of a process loads ICU's locale and zone data: 3-6 MB of peak RSS in a cycle that sends
 * one digest of 250 entries (100-101 against 94-97 MB, 3 A/B pairs). Same output as ICU, strings and ranges alike
 * (test/render/create-date-formatter.test.ts compares them on Node's ICU); years outside 1000-9999 go to Intl.
 */
function utcEnGbFormats(): Omit<Formats, 'periods' | 'years'> {
  let intl: Omit<Formats, 'periods' | 'years'> | undefined;
  const fallback = () => (intl ??= intlFormats('en-GB', 'UTC'));
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  const plain = (d: Date) => d.getUTCFullYear() >= 1000 && d.getUTCFullYear() <= 9999;
  const dayMonth = (d: Date) => `${d.getUTCDate()} ${EN_GB_MONTHS[d.getUTCMonth()]!}`;
  const time = (d: Date) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  const withFallback = (pick: (f: Omit<Formats, 'periods' | 'years'>) => DateFormat, format: (d: Date) => string): DateFormat => ({
    format: (d) => (plain(d) ? format(d) : pick(fallback()).format(d)),
    formatRange: (a, b) => pick(fallback()).formatRange(a, b),
  });
  const day = (d: Date) => `${dayMonth(d)} ${d.getUTCFullYear()}`;
  const period = (d: Date) => `${day(d)}, ${time(d)} UTC`;
  return {
    year: withFallback((f) => f.year, (d) => String(d.getUTCFullYear())),
    sameYear: withFallback((f) => f.sameYear, (d) => `${dayMonth(d)}, ${time(d)}`),
    otherYear: withFallback((f) => f.otherYear, (d) => `${day(d)}, ${time(d)}`),
    day: withFallback((f) => f.day, day),
    period: {
      ...withFallback((f) => f.period, period),
      formatRange(a, b) {
        if (!plain(a) || !plain(b)) return fallback().period.formatRange(a, b);
        const sameDay = a.getUTCFullYear() === b.getUTCFullYear() && a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() === b.getUTCDate();
        if (!sameDay) return `${period(a)} – ${period(b)}`;
        // ICU shows a range within one day once, the times joined by an en dash; equal minutes as one time.
        return time(a) === time(b) ? period(a) : `${day(a)}, ${time(a)}–${time(b)} UTC`;
      },
    },
  };
}

function formatsFor(locale: string, timezone: string): Formats {
  const key = `${locale}\0${timezone}`;
  let formats = cache.get(key);
  if (formats) return formats;
  try {
    const base = locale === DEFAULT_LOCALE && timezone === 'UTC' ? utcEnGbFormats() : intlFormats(locale, timezone);
    formats = { ...base, periods: new Map(), years: new Map() };
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

function formatPeriod(periodFmt: DateFormat, startIso: string | undefined, endIso: string): string {
  const end = parse(endIso);
  if (!end) return '';
  const start = parse(startIso);
  if (!start || start.getTime() >= end.getTime()) return plainSpaces(periodFmt.format(end));
  return plainSpaces(periodFmt.formatRange(start, end));
}
