import { describe, expect, it } from 'vitest';
import { parseDate } from '../../src/parse/parse-date.js';

// Cases after feedparser's date-handling tests (RFC 822 misspellings, W3C-DTF variants) and real feeds in the corpus.
describe('parseDate: RFC 822 / 1123 and misspellings', () => {
  it.each([
    ['Thu, 01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'],
    ['Thu, 01 Jan 04 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // two-digit year, 00–49 → 20xx
    ['Mon, 15 Aug 99 15:52:01 +0000', '1999-08-15T15:52:01.000Z'], // two-digit year, 50–99 → 19xx
    ['01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // no weekday
    ['Fri, 01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // wrong weekday (it was a Thursday)
    ['Thu, 01 Jan 2004 19:48 GMT', '2004-01-01T19:48:00.000Z'], // no seconds
    ['Thu, 05 Sep 2002 0:00:01 GMT', '2002-09-05T00:00:01.000Z'], // one-digit hour
    ['Thu, 01 Jan 2004 19:48:21', '2004-01-01T19:48:21.000Z'], // no zone → UTC
    ['Thu, 01 Jan 2004', '2004-01-01T00:00:00.000Z'], // no time
    ['thu, 01 jan 2004 19:48:21 gmt', '2004-01-01T19:48:21.000Z'], // lower case
    ['Wed, 03 Sept 2008 10:00:00 GMT', '2008-09-03T10:00:00.000Z'], // "Sept"
    ['Thu, 01 January 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // full month name
    ['Thu,  01  Jan  2004   19:48:21  GMT', '2004-01-01T19:48:21.000Z'], // extra spaces
    ['Thu 01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // no comma
    ['Thu,01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // no space after comma
    ['Thu, 01 Jan, 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'], // stray comma
    ['Wednesday, 05-Jan-2011 09:12:00 GMT', '2011-01-05T09:12:00.000Z'], // RFC 850 style
    ['Thu, 01 Jan 2004 19:48:21 UT', '2004-01-01T19:48:21.000Z'],
    ['Thu, 01 Jan 2004 19:48:21 Z', '2004-01-01T19:48:21.000Z'],
    ['Fri, 24 Nov 2006 12:00:00 EST', '2006-11-24T17:00:00.000Z'],
    ['Thu, 01 Jan 2004 19:48:21 PDT', '2004-01-02T02:48:21.000Z'],
    ['Thu, 01 Jan 2004 19:48:21 A', '2004-01-01T20:48:21.000Z'], // military A = -0100 (RFC 822 table)
    ['Thu, 01 Jan 2004 19:48:21 N', '2004-01-01T18:48:21.000Z'], // military N = +0100
    ['Mon, 26 Jan 2004 16:31:00 -0800', '2004-01-27T00:31:00.000Z'],
    ['Fri, 7 Jan 2011 12:00:00 +0100', '2011-01-07T11:00:00.000Z'],
    ['Thu, 01 Jan 2004 19:48:21 +01:00', '2004-01-01T18:48:21.000Z'], // colon in the offset
    ['Thu, 01 Jan 2004 19:48:21 GMT+01:00', '2004-01-01T18:48:21.000Z'],
    ['Thu, 01 Jan 2004 19:48:21 -0800 (PST)', '2004-01-02T03:48:21.000Z'], // comment after the zone
    ['Sun Jan  4 16:29:06 PST 2004', '2004-01-05T00:29:06.000Z'], // asctime
    ['January 4, 2004 4:29 PM', '2004-01-04T16:29:00.000Z'],
    ['December 31, 2003', '2003-12-31T00:00:00.000Z'],
  ])('%j → %s', (input, expected) => {
    expect(parseDate(input)).toBe(expected);
  });
});

// The canonical RSS form has its own fast path; its results must be the general parser's, quirks included.
describe('parseDate: canonical RFC 1123 (read by the fast path)', () => {
  it.each([
    ['Tue, 30 Apr 2024 19:06:40 GMT', '2024-04-30T19:06:40.000Z'],
    ['tue, 1 apr 2024 00:00:00 +0200', '2024-03-31T22:00:00.000Z'],
    ['Wed, 02 Oct 2002 13:00:00 EST', '2002-10-02T18:00:00.000Z'],
    ['Tue, 30 Apr 2024 24:00:00 Z', '2024-05-01T00:00:00.000Z'],
    ['Fri, 29 Feb 2008 12:00:60 UT', '2008-02-29T12:00:59.000Z'], // leap second clamped
    ['Tue, 30 Apr 2024 19:06:40 +9900', '2024-04-30T19:06:40.000Z'], // impossible zone: ignored, as the general parser does
    ['Mon, 31 Jun 2024 10:00:00 GMT', undefined], // no 31 June
    ['Sat, 29 Feb 2025 12:00:00 GMT', undefined], // not a leap year
  ])('%j → %j', (input, expected) => {
    expect(parseDate(input)).toBe(expected);
  });
});

describe('parseDate: W3C-DTF / ISO 8601', () => {
  it.each([
    ['2004-01-01T19:48:21Z', '2004-01-01T19:48:21.000Z'],
    ['2004-01-01T19:48:21+00:00', '2004-01-01T19:48:21.000Z'],
    ['2003-12-31T18:14:55+08:00', '2003-12-31T10:14:55.000Z'],
    ['2003-12-31T10:14:55.1234-08:00', '2003-12-31T18:14:55.123Z'], // fractional seconds
    ['2004-01-01T19:48:21.5Z', '2004-01-01T19:48:21.500Z'],
    ['2010-12-01T08:00:00+0100', '2010-12-01T07:00:00.000Z'], // offset without colon
    ['2004-01-01T19:48Z', '2004-01-01T19:48:00.000Z'], // no seconds
    ['2004-01-01T19:48:21', '2004-01-01T19:48:21.000Z'], // no zone → UTC
    ['2004-01-01 19:48:21', '2004-01-01T19:48:21.000Z'], // space instead of T
    ['2004-01-01', '2004-01-01T00:00:00.000Z'], // date only
    ['2004-01', '2004-01-01T00:00:00.000Z'], // W3C-DTF year-month
    ['2004', '2004-01-01T00:00:00.000Z'], // W3C-DTF year
    ['20040101T194821Z', '2004-01-01T19:48:21.000Z'], // basic format
    ['2003-335', '2003-12-01T00:00:00.000Z'], // ordinal date
    ['2004-01-01T24:00:00Z', '2004-01-02T00:00:00.000Z'], // 24:00 is the end of the day
    ['1998-12-31T23:59:60Z', '1998-12-31T23:59:59.000Z'], // leap second clamped
    ['  2004-01-01T19:48:21Z \n', '2004-01-01T19:48:21.000Z'], // surrounding whitespace
  ])('%j → %s', (input, expected) => {
    expect(parseDate(input)).toBe(expected);
  });
});

describe('parseDate: not a date', () => {
  it.each([
    [undefined],
    [''],
    ['   '],
    ['garbage'],
    ['foo bar baz 2004'],
    ['1'],
    ['12345'],
    ['Thu, 31 Jun 2004 19:48:21 GMT'], // June has 30 days
    ['Thu, 99 Jan 2004'],
    ['2004-13-01'],
    ['2004-02-30'],
    ['Thu, 01 Jan 2004 25:00:00 GMT'],
    ['2004-01-01T19:48:21+25:00'], // impossible offset
    ['0001-01-01T00:00:00Z'], // Go's zero time: a sentinel, not a date
    ['01/02/2004'], // ambiguous (US or European order)
    ['x'.repeat(500)],
  ])('%j → undefined', (input) => {
    expect(parseDate(input)).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    for (const v of [null, 42, {}, '\u0000', 'Mon, 32 Foo 2004 99:99:99 +9999', '-'.repeat(100)]) {
      expect(() => parseDate(v as unknown as string)).not.toThrow();
    }
  });
});
