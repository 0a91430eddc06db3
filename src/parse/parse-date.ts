/**
 * Lenient feed date parsing: RFC 822/1123 (RSS), W3C-DTF / ISO 8601 (Atom, dc:date, JSON Feed) and the common ways
 * real feeds get them wrong. Never throws; anything that does not give a real calendar date yields undefined.
 *
 * Choices (documented because they change results):
 * - A missing zone means UTC (RSS 2.0 requires a zone; when it is absent, UTC is the least surprising guess).
 * - Two-digit years follow RFC 5322 §4.3: 00–49 → 20xx, 50–99 → 19xx; three-digit years add 1900.
 * - Single-letter military zones follow the RFC 822 table literally (A = -0100 … M = -1200, N = +0100 … Y = +1200,
 *   Z = UTC), as feedparser does; RFC 5322 calls them ambiguous, but this keeps results comparable.
 * - The weekday is ignored (a wrong weekday is common and harmless).
 * - Years outside 1000–9999 are rejected (Go's zero time "0001-01-01" and similar sentinels mean "no date").
 */

const MONTHS: Record<string, number> = {};
const monthNames: Array<[number, string[]]> = [
  [1, ['jan', 'january', 'janv', 'janvier', 'januar', 'jänner', 'enero', 'ene', 'janeiro', 'gennaio', 'gen', 'januari']],
  [2, ['feb', 'february', 'févr', 'fevr', 'février', 'fevrier', 'februar', 'febrero', 'fev', 'fevereiro', 'febbraio', 'februari']],
  [3, ['mar', 'march', 'mars', 'märz', 'maerz', 'mär', 'marzo', 'março', 'marco', 'maart', 'mrt']],
  [4, ['apr', 'april', 'avr', 'avril', 'abril', 'abr', 'aprile']],
  [5, ['may', 'mai', 'mayo', 'maio', 'maggio', 'mag', 'mei']],
  [6, ['jun', 'june', 'juin', 'juni', 'junio', 'junho', 'giugno', 'giu']],
  [7, ['jul', 'july', 'juil', 'juillet', 'juli', 'julio', 'julho', 'luglio', 'lug']],
  [8, ['aug', 'august', 'août', 'aout', 'agosto', 'ago', 'augustus']],
  [9, ['sep', 'sept', 'september', 'septembre', 'septiembre', 'set', 'setembro', 'settembre']],
  [10, ['oct', 'october', 'octobre', 'oktober', 'okt', 'octubre', 'outubro', 'out', 'ottobre', 'ott']],
  [11, ['nov', 'november', 'novembre', 'noviembre', 'novembro']],
  [12, ['dec', 'december', 'déc', 'décembre', 'decembre', 'dezember', 'dez', 'diciembre', 'dic', 'dezembro', 'dicembre']],
];
for (const [n, names] of monthNames) for (const name of names) MONTHS[name] = n;

const WEEKDAYS = new Set([
  'mon', 'monday', 'tue', 'tues', 'tuesday', 'wed', 'wednesday', 'thu', 'thur', 'thurs', 'thursday', 'fri', 'friday',
  'sat', 'saturday', 'sun', 'sunday',
  // a few non-English abbreviations seen in feeds
  'lun', 'mar.', 'mer', 'jeu', 'ven', 'sam', 'dim', 'mo', 'di', 'mi', 'do', 'fr', 'sa', 'so', 'seg', 'ter', 'qua', 'qui', 'sex', 'sáb', 'dom',
]);

/** Named zones, offsets in minutes east of UTC. */
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, wet: 0, zulu: 0,
  est: -300, edt: -240, et: -300, cst: -360, cdt: -300, ct: -360, mst: -420, mdt: -360, mt: -420, pst: -480, pdt: -420, pt: -480,
  ast: -240, adt: -180, at: -240, akst: -540, akdt: -480, hst: -600, hast: -600, hadt: -540, nst: -210, ndt: -150,
  bst: 60, ist: 330, cet: 60, cest: 120, met: 60, mest: 120, mez: 60, mesz: 120, eet: 120, eest: 180, west: 60, msk: 180,
  jst: 540, kst: 540, hkt: 480, sgt: 480, awst: 480, acst: 570, acdt: 630, aest: 600, aedt: 660, nzst: 720, nzdt: 780,
};
// RFC 822 military zones, as written in RFC 822 (see the file comment).
'abcdefghi'.split('').forEach((c, i) => (ZONES[c] = -(i + 1) * 60));
'klm'.split('').forEach((c, i) => (ZONES[c] = -(i + 10) * 60));
'nopqrstuvwxy'.split('').forEach((c, i) => (ZONES[c] = (i + 1) * 60));

const MAX_INPUT = 200;

/** Parses a feed date (RFC 822 family or ISO 8601 family) into an ISO 8601 UTC string; undefined when it is not a date. */
export function parseDate(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.replace(/[\s\u00a0]+/g, ' ').trim();
  if (!s || s.length > MAX_INPUT) return undefined;
  try {
    return parseRfc1123(s) ?? parseIso(s) ?? parseLoose(s);
  } catch {
    return undefined;
  }
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
  millis?: number;
  /** Minutes east of UTC. */
  offset?: number;
}

function build(p: Parts): string | undefined {
  const { year, month, day } = p;
  const hour = p.hour ?? 0;
  const minute = p.minute ?? 0;
  let second = p.second ?? 0;
  if (!(year >= 1000 && year <= 9999)) return undefined;
  if (!(month >= 1 && month <= 12)) return undefined;
  if (!(day >= 1 && day <= daysInMonth(year, month))) return undefined;
  if (!(hour >= 0 && hour <= 24) || !(minute >= 0 && minute <= 59) || !(second >= 0 && second <= 60)) return undefined;
  if (hour === 24 && (minute !== 0 || second !== 0)) return undefined;
  if (second === 60) second = 59; // leap second: clamp rather than roll over
  const offset = p.offset ?? 0;
  if (Number.isNaN(offset) || Math.abs(offset) > 18 * 60) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, p.millis ?? 0) - offset * 60_000;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return undefined;
  const y = d.getUTCFullYear();
  if (y < 1000 || y > 9999) return undefined;
  return d.toISOString();
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function fractionToMillis(frac: string | undefined): number | undefined {
  if (!frac) return undefined;
  return Math.round(Number('0.' + frac) * 1000) % 1000;
}

/** Parses a numeric zone ("+0100", "-05:00", "+1", "GMT+2") or a named one; undefined when not a zone. */
function parseZone(token: string): number | undefined {
  let t = token.trim().toLowerCase().replace(/^\((.*)\)$/, '$1');
  if (t in ZONES) return ZONES[t];
  const prefixed = /^(?:gmt|utc|ut)([+-].*)$/.exec(t);
  if (prefixed?.[1]) t = prefixed[1];
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(t);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = m[3] ? Number(m[3]) : 0;
  if (hours > 18 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/** A zone given in an ISO date: undefined when absent, NaN when present but invalid (so the date is rejected). */
function zoneOf(token: string | undefined): number | undefined {
  if (!token) return undefined;
  return parseZone(token) ?? Number.NaN;
}

const ISO_EXTENDED =
  /^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:(?:T|t|\s+)(\d{1,2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;
const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const ISO_ORDINAL = /^(\d{4})-?(\d{3})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const YEAR_ONLY = /^(\d{4})$/;
const SLASHED = /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** W3C-DTF and the ISO 8601 profiles feeds use (extended, basic, ordinal, date only, no seconds, no zone). */
function parseIso(s: string): string | undefined {
  let m = ISO_EXTENDED.exec(s);
  if (m) {
    // A time without a zone is taken as UTC.
    return build({
      year: Number(m[1]),
      month: Number(m[2]),
      day: m[3] ? Number(m[3]) : 1,
      hour: m[4] ? Number(m[4]) : undefined,
      minute: m[5] ? Number(m[5]) : undefined,
      second: m[6] ? Number(m[6]) : undefined,
      millis: fractionToMillis(m[7]),
      offset: zoneOf(m[8]),
    });
  }
  m = SLASHED.exec(s);
  if (m) {
    return build({
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: m[4] ? Number(m[4]) : undefined,
      minute: m[5] ? Number(m[5]) : undefined,
      second: m[6] ? Number(m[6]) : undefined,
      offset: zoneOf(m[7]),
    });
  }
  m = ISO_BASIC.exec(s);
  if (m) {
    return build({
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: m[4] ? Number(m[4]) : undefined,
      minute: m[5] ? Number(m[5]) : undefined,
      second: m[6] ? Number(m[6]) : undefined,
      millis: fractionToMillis(m[7]),
      offset: zoneOf(m[8]),
    });
  }
  m = ISO_ORDINAL.exec(s);
  if (m) {
    const year = Number(m[1]);
    const dayOfYear = Number(m[2]);
    const daysInYear = daysInMonth(year, 2) === 29 ? 366 : 365;
    if (dayOfYear < 1 || dayOfYear > daysInYear) return undefined;
    const date = new Date(Date.UTC(year, 0, dayOfYear));
    return build({
      year,
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: m[3] ? Number(m[3]) : undefined,
      minute: m[4] ? Number(m[4]) : undefined,
      second: m[5] ? Number(m[5]) : undefined,
      offset: zoneOf(m[6]),
    });
  }
  m = YEAR_ONLY.exec(s);
  if (m) return build({ year: Number(m[1]), month: 1, day: 1 });
  return undefined;
}

/** The canonical RSS form, "Tue, 30 Apr 2024 19:06:40 GMT" (most feeds): read directly, as parseLoose would read it. */
const RFC1123 = /^(?:(?:mon|tue|wed|thu|fri|sat|sun), )?(\d{1,2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([a-z]{1,3}|[+-]\d{4})$/i;

/** Fast path for RFC1123; undefined (not a verdict) when the string is anything else, so the general parsers decide. */
function parseRfc1123(s: string): string | undefined {
  const m = RFC1123.exec(s);
  if (!m) return undefined;
  const month = MONTHS[(m[2] as string).toLowerCase()];
  const offset = parseZone(m[7] as string);
  if (month === undefined || offset === undefined) return undefined;
  return build({ year: Number(m[3]), month, day: Number(m[1]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), offset });
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(.*)$/;

/**
 * RFC 822 / 1123 and its misspellings, asctime ("Sun Jan  4 16:29:06 PST 2004") and "Month day, year" forms:
 * tokens are classified (weekday, month, day, year, time, zone, AM/PM) so their order does not matter much.
 */
function parseLoose(input: string): string | undefined {
  const s = input.replace(/,/g, ' ').replace(/\s+/g, ' ').trim();
  const raw = s.split(' ');
  const tokens: string[] = [];
  for (const t of raw) {
    // "01-Jan-2004" / "Jan-01-2004" / "4-Jan-04": split hyphenated day-month-year tokens (not zones like "-0800").
    if (/^[0-9a-zA-Zéûä]+(?:-[0-9a-zA-Zéûä]+){1,2}$/.test(t) && /[a-zA-Z]/.test(t) && /\d/.test(t)) tokens.push(...t.split('-'));
    else if (/^\d{1,2}[./]\d{1,2}[./]\d{2,4}$/.test(t)) return undefined; // 01/02/2004 is ambiguous (US vs. EU): refuse
    else tokens.push(t);
  }
  let month: number | undefined;
  let year: number | undefined;
  let day: number | undefined;
  let hour: number | undefined;
  let minute: number | undefined;
  let second: number | undefined;
  let millis: number | undefined;
  let offset: number | undefined;
  let ampm: 'am' | 'pm' | undefined;
  const numbers: string[] = [];
  let unknown = 0;

  for (const token of tokens) {
    const lower = token.toLowerCase().replace(/\.$/, '');
    const time = hour === undefined ? TIME.exec(token) : null;
    if (time) {
      hour = Number(time[1]);
      minute = Number(time[2]);
      second = time[3] ? Number(time[3]) : undefined;
      millis = fractionToMillis(time[4]);
      const rest = (time[5] ?? '').trim().toLowerCase();
      if (rest === 'am' || rest === 'pm') ampm = rest;
      else if (rest) {
        const z = parseZone(rest);
        if (z === undefined) return undefined;
        offset = z;
      }
      continue;
    }
    if (lower === 'am' || lower === 'pm') {
      ampm = lower;
      continue;
    }
    if (month === undefined && lower in MONTHS) {
      month = MONTHS[lower];
      continue;
    }
    if (WEEKDAYS.has(lower) || isWeekdayWord(lower)) continue;
    if (/^\d{1,2}(?:st|nd|rd|th)$/i.test(token)) {
      day = Number(token.replace(/\D/g, ''));
      continue;
    }
    if (/^\d+$/.test(token)) {
      numbers.push(token);
      continue;
    }
    const z = offset === undefined ? parseZone(token) : undefined;
    if (z !== undefined && (hour !== undefined || numbers.length > 0)) {
      offset = z;
      continue;
    }
    if (offset !== undefined && /^\(.*\)$/.test(token)) continue; // "-0800 (PST)"
    unknown++;
    if (unknown > 1) return undefined;
  }
  if (month === undefined) return undefined;
  for (const n of numbers) {
    if (n.length >= 3 && year === undefined) year = Number(n) + (n.length === 3 ? 1900 : 0);
    else if (day === undefined && n.length <= 2) day = Number(n);
    else if (year === undefined && n.length <= 2) year = twoDigitYear(Number(n));
    else return undefined;
  }
  if (year === undefined || day === undefined) return undefined;
  if (hour !== undefined && ampm) {
    if (hour < 1 || hour > 12) return undefined;
    if (ampm === 'pm' && hour < 12) hour += 12;
    if (ampm === 'am' && hour === 12) hour = 0;
  }
  return build({ year, month, day, hour, minute, second, millis, offset });
}

function isWeekdayWord(lower: string): boolean {
  return /^(mon|tues?|wed(nes)?|thu(rs)?|fri|satur|sun)(day)?$/.test(lower);
}

function twoDigitYear(y: number): number {
  return y < 50 ? 2000 + y : 1900 + y;
}
