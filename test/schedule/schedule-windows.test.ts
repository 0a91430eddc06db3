import { describe, expect, it } from 'vitest';
import { DigestError } from '../../src/model/errors.js';
import { parseSchedule } from '../../src/schedule/parse-schedule.js';
import { isDue, isValidTimeZone, latestWindow, nextWindow } from '../../src/schedule/schedule-windows.js';

const iso = (d: Date | undefined): string | undefined => d?.toISOString();
const at = (s: string): Date => new Date(s);

/** Every window in (from, to], walking nextWindow. */
function windowsBetween(schedule: string, tz: string, from: string, to: string): string[] {
  const parsed = parseSchedule(schedule);
  const out: string[] = [];
  let cursor = at(from);
  const end = at(to).getTime();
  for (;;) {
    const next = nextWindow(parsed, tz, cursor);
    if (!next || next.getTime() > end) return out;
    out.push(next.toISOString());
    cursor = next;
  }
}

/** Every window in (from, to], walking latestWindow backwards: must mirror windowsBetween exactly. */
function windowsBetweenBackwards(schedule: string, tz: string, from: string, to: string): string[] {
  const parsed = parseSchedule(schedule);
  const out: string[] = [];
  let cursor = at(to);
  const start = at(from).getTime();
  for (;;) {
    const latest = latestWindow(parsed, tz, cursor);
    if (!latest || latest.getTime() <= start) return out.reverse();
    out.push(latest.toISOString());
    cursor = new Date(latest.getTime() - 1);
  }
}

describe('latestWindow / nextWindow across zones', () => {
  it.each([
    // Europe/Berlin: CET +1 in winter, CEST +2 in summer.
    { tz: 'Europe/Berlin', schedule: 'daily 07:00', now: '2025-01-15T10:00:00Z', latest: '2025-01-15T06:00:00.000Z', next: '2025-01-16T06:00:00.000Z' },
    { tz: 'Europe/Berlin', schedule: 'daily 07:00', now: '2025-07-15T04:00:00Z', latest: '2025-07-14T05:00:00.000Z', next: '2025-07-15T05:00:00.000Z' },
    { tz: 'Europe/Berlin', schedule: 'daily 07:00', now: '2025-07-15T05:00:00Z', latest: '2025-07-15T05:00:00.000Z', next: '2025-07-16T05:00:00.000Z' },
    { tz: 'Europe/Berlin', schedule: 'weekly mon 08:00', now: '2025-07-16T12:00:00Z', latest: '2025-07-14T06:00:00.000Z', next: '2025-07-21T06:00:00.000Z' },
    { tz: 'Europe/Berlin', schedule: '0 0 L * *', now: '2025-03-15T00:00:00Z', latest: '2025-02-27T23:00:00.000Z', next: '2025-03-30T22:00:00.000Z' },
    // America/New_York: EST -5, EDT -4.
    { tz: 'America/New_York', schedule: 'twice-daily 07:00,19:00', now: '2025-11-02T15:00:00Z', latest: '2025-11-02T12:00:00.000Z', next: '2025-11-03T00:00:00.000Z' },
    { tz: 'America/New_York', schedule: 'weekdays 09:00', now: '2025-03-08T15:00:00Z', latest: '2025-03-07T14:00:00.000Z', next: '2025-03-10T13:00:00.000Z' },
    { tz: 'America/New_York', schedule: '0 9 * * 1#1', now: '2025-03-08T15:00:00Z', latest: '2025-03-03T14:00:00.000Z', next: '2025-04-07T13:00:00.000Z' },
    // Pacific/Auckland: NZDT +13 in southern summer (January), NZST +12 in winter; local weekday is a day ahead of UTC.
    { tz: 'Pacific/Auckland', schedule: 'daily 07:00', now: '2025-01-15T00:00:00Z', latest: '2025-01-14T18:00:00.000Z', next: '2025-01-15T18:00:00.000Z' },
    { tz: 'Pacific/Auckland', schedule: 'daily 07:00', now: '2025-07-15T00:00:00Z', latest: '2025-07-14T19:00:00.000Z', next: '2025-07-15T19:00:00.000Z' },
    { tz: 'Pacific/Auckland', schedule: 'weekly mon 08:00', now: '2025-01-12T20:00:00Z', latest: '2025-01-12T19:00:00.000Z', next: '2025-01-19T19:00:00.000Z' },
    { tz: 'Pacific/Auckland', schedule: 'hourly', now: '2025-01-12T20:30:00Z', latest: '2025-01-12T20:00:00.000Z', next: '2025-01-12T21:00:00.000Z' },
    // Pacific/Honolulu: -10 all year.
    { tz: 'Pacific/Honolulu', schedule: 'daily 07:00', now: '2025-03-09T20:00:00Z', latest: '2025-03-09T17:00:00.000Z', next: '2025-03-10T17:00:00.000Z' },
    { tz: 'Pacific/Honolulu', schedule: 'daily 07:00', now: '2025-07-01T20:00:00Z', latest: '2025-07-01T17:00:00.000Z', next: '2025-07-02T17:00:00.000Z' },
    { tz: 'Pacific/Honolulu', schedule: 'hourly', now: '2025-03-09T20:17:00Z', latest: '2025-03-09T20:00:00.000Z', next: '2025-03-09T21:00:00.000Z' },
    { tz: 'Pacific/Honolulu', schedule: '30 6 * * 1-5', now: '2025-03-08T20:00:00Z', latest: '2025-03-07T16:30:00.000Z', next: '2025-03-10T16:30:00.000Z' },
    { tz: 'Pacific/Honolulu', schedule: '0 0 1 * *', now: '2025-03-15T00:00:00Z', latest: '2025-03-01T10:00:00.000Z', next: '2025-04-01T10:00:00.000Z' },
    { tz: 'Pacific/Honolulu', schedule: '0 0 29 2 *', now: '2025-03-15T00:00:00Z', latest: '2024-02-29T10:00:00.000Z', next: '2028-02-29T10:00:00.000Z' },
    { tz: 'UTC', schedule: 'daily 00:00', now: '2025-03-15T00:00:00Z', latest: '2025-03-15T00:00:00.000Z', next: '2025-03-16T00:00:00.000Z' },
  ])('$tz $schedule at $now', ({ tz, schedule, now, latest, next }) => {
    const parsed = parseSchedule(schedule);
    expect(iso(latestWindow(parsed, tz, at(now)))).toBe(latest);
    expect(iso(nextWindow(parsed, tz, at(now)))).toBe(next);
  });
});

describe('DST nights: each wall time fires exactly once', () => {
  it.each([
    // Spring forward: 02:30 does not exist; it fires once, shifted forward by the gap (03:30 local).
    { tz: 'Europe/Berlin', schedule: 'daily 02:30', from: '2025-03-28T12:00:00Z', to: '2025-04-01T12:00:00Z', expected: ['2025-03-29T01:30:00.000Z', '2025-03-30T01:30:00.000Z', '2025-03-31T00:30:00.000Z', '2025-04-01T00:30:00.000Z'] },
    // Fall back: 02:30 happens twice; only the first (summer time) fires.
    { tz: 'Europe/Berlin', schedule: 'daily 02:30', from: '2025-10-24T12:00:00Z', to: '2025-10-28T12:00:00Z', expected: ['2025-10-25T00:30:00.000Z', '2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z', '2025-10-28T01:30:00.000Z'] },
    { tz: 'America/New_York', schedule: 'daily 02:30', from: '2025-03-07T12:00:00Z', to: '2025-03-10T12:00:00Z', expected: ['2025-03-08T07:30:00.000Z', '2025-03-09T07:30:00.000Z', '2025-03-10T06:30:00.000Z'] },
    { tz: 'America/New_York', schedule: 'daily 01:30', from: '2025-10-31T12:00:00Z', to: '2025-11-03T12:00:00Z', expected: ['2025-11-01T05:30:00.000Z', '2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z'] },
    { tz: 'America/New_York', schedule: 'weekly sun 02:30', from: '2025-03-01T00:00:00Z', to: '2025-03-17T00:00:00Z', expected: ['2025-03-02T07:30:00.000Z', '2025-03-09T07:30:00.000Z', '2025-03-16T06:30:00.000Z'] },
    { tz: 'America/New_York', schedule: 'twice-daily 01:30,13:30', from: '2025-11-01T00:00:00Z', to: '2025-11-03T12:00:00Z', expected: ['2025-11-01T05:30:00.000Z', '2025-11-01T17:30:00.000Z', '2025-11-02T05:30:00.000Z', '2025-11-02T18:30:00.000Z', '2025-11-03T06:30:00.000Z'] },
    // Auckland springs forward on 2025-09-28 02:00 -> 03:00 and falls back on 2025-04-06 03:00 -> 02:00.
    { tz: 'Pacific/Auckland', schedule: 'daily 02:30', from: '2025-09-26T12:00:00Z', to: '2025-09-29T12:00:00Z', expected: ['2025-09-26T14:30:00.000Z', '2025-09-27T14:30:00.000Z', '2025-09-28T13:30:00.000Z'] },
    { tz: 'Pacific/Auckland', schedule: 'daily 02:30', from: '2025-04-04T12:00:00Z', to: '2025-04-07T12:00:00Z', expected: ['2025-04-04T13:30:00.000Z', '2025-04-05T13:30:00.000Z', '2025-04-06T14:30:00.000Z'] },
    // A time just before the gap is untouched, one in the gap moves to the same instant as the first time after it.
    { tz: 'Europe/Berlin', schedule: '59,0 1,2,3 30 3 *', from: '2025-03-29T12:00:00Z', to: '2025-03-31T00:00:00Z', expected: ['2025-03-30T00:00:00.000Z', '2025-03-30T00:59:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-30T01:59:00.000Z'] },
  ])('$tz $schedule', ({ tz, schedule, from, to, expected }) => {
    expect(windowsBetween(schedule, tz, from, to)).toEqual(expected);
    expect(windowsBetweenBackwards(schedule, tz, from, to)).toEqual(expected);
  });

  it.each([
    { tz: 'Europe/Berlin', day: '2025-03-30', from: '2025-03-29T23:00:00Z', to: '2025-03-30T22:00:00Z', count: 23 },
    { tz: 'Europe/Berlin', day: '2025-10-26', from: '2025-10-25T22:00:00Z', to: '2025-10-26T23:00:00Z', count: 24 },
    { tz: 'Europe/Berlin', day: '2025-07-01', from: '2025-06-30T22:00:00Z', to: '2025-07-01T22:00:00Z', count: 24 },
    { tz: 'America/New_York', day: '2025-03-09', from: '2025-03-09T05:00:00Z', to: '2025-03-10T04:00:00Z', count: 23 },
    { tz: 'America/New_York', day: '2025-11-02', from: '2025-11-02T04:00:00Z', to: '2025-11-03T05:00:00Z', count: 24 },
    { tz: 'Pacific/Honolulu', day: '2025-03-09', from: '2025-03-09T10:00:00Z', to: '2025-03-10T10:00:00Z', count: 24 },
  ])('hourly on $tz $day: $count firings, none twice', ({ tz, from, to, count }) => {
    // (from, to] covers the local day's 00:00 .. next day's 00:00 exclusive of the first midnight.
    const list = windowsBetween('hourly', tz, new Date(at(from).getTime() - 1).toISOString(), new Date(at(to).getTime() - 1).toISOString());
    expect(list).toHaveLength(count);
    expect(new Set(list).size).toBe(list.length);
  });
});

describe('isDue', () => {
  const daily = parseSchedule('daily 07:00');
  const tz = 'Europe/Berlin';

  it.each([
    { name: 'never served, exactly at the window', now: '2025-07-15T05:00:00.000Z', last: undefined, due: true, window: '2025-07-15T05:00:00.000Z' },
    { name: 'never served, 59 s after', now: '2025-07-15T05:00:59.000Z', last: undefined, due: true, window: '2025-07-15T05:00:00.000Z' },
    { name: 'never served, 1 min after: waits for the next window', now: '2025-07-15T05:01:00.000Z', last: undefined, due: false, window: '2025-07-15T05:00:00.000Z' },
    { name: 'never served, 1 ms before', now: '2025-07-15T04:59:59.999Z', last: undefined, due: false, window: '2025-07-14T05:00:00.000Z' },
    { name: 'served yesterday: due at today\'s window', now: '2025-07-15T05:00:00.000Z', last: '2025-07-14T05:00:00.000Z', due: true, window: '2025-07-15T05:00:00.000Z' },
    { name: 'served today: not due again the same day', now: '2025-07-15T18:00:00.000Z', last: '2025-07-15T05:00:00.000Z', due: false, window: '2025-07-15T05:00:00.000Z' },
    { name: 'down for three days: due once, for the latest window', now: '2025-07-18T12:00:00.000Z', last: '2025-07-15T05:00:00.000Z', due: true, window: '2025-07-18T05:00:00.000Z' },
    { name: 'down, restarted before today\'s window: yesterday\'s window is caught up', now: '2025-07-18T04:00:00.000Z', last: '2025-07-15T05:00:00.000Z', due: true, window: '2025-07-17T05:00:00.000Z' },
    { name: 'unreadable lastWindow counts as never served', now: '2025-07-15T12:00:00.000Z', last: 'garbage', due: false, window: '2025-07-15T05:00:00.000Z' },
  ])('$name', ({ now, last, due, window }) => {
    const result = isDue(daily, tz, at(now), last === undefined ? undefined : at(last));
    expect(result).toEqual({ due, window: at(window) });
  });

  it('graceMinutes widens the first-window grace', () => {
    expect(isDue(daily, tz, at('2025-07-15T05:09:00Z'), undefined, { graceMinutes: 10 }).due).toBe(true);
    expect(isDue(daily, tz, at('2025-07-15T05:10:00Z'), undefined, { graceMinutes: 10 }).due).toBe(false);
  });

  it('catch-up after downtime happens once: serving the window makes the next ticks not due', () => {
    let last: Date | undefined = at('2025-07-10T05:00:00Z');
    const fired: string[] = [];
    // The daemon comes back on the 14th at 12:00 and ticks every minute until the 15th 12:00.
    for (let t = at('2025-07-14T12:00:00Z').getTime(); t <= at('2025-07-15T12:00:00Z').getTime(); t += 60_000) {
      const result = isDue(daily, tz, new Date(t), last);
      if (result.due) {
        fired.push(`${new Date(t).toISOString()} for ${result.window!.toISOString()}`);
        last = result.window;
      }
    }
    expect(fired).toEqual(['2025-07-14T12:00:00.000Z for 2025-07-14T05:00:00.000Z', '2025-07-15T05:00:00.000Z for 2025-07-15T05:00:00.000Z']);
  });
});

describe('time zones', () => {
  it.each([
    ['Europe/Berlin', true],
    ['America/New_York', true],
    ['Pacific/Auckland', true],
    ['Pacific/Honolulu', true],
    ['UTC', true],
    ['Etc/GMT+5', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    ['+01:00', false],
    ['Europe/Berlin; rm -rf /', false],
    [undefined, false],
  ])('isValidTimeZone(%j) = %s', (tz, valid) => {
    expect(isValidTimeZone(tz)).toBe(valid);
  });

  it('an unknown zone is a CONFIG_INVALID error naming it', () => {
    expect(() => latestWindow(parseSchedule('daily 07:00'), 'Mars/Olympus_Mons', new Date())).toThrow(DigestError);
    expect(() => isDue(parseSchedule('daily 07:00'), 'Mars/Olympus_Mons', new Date())).toThrow(/"Mars\/Olympus_Mons" is not an IANA time zone/);
  });
});
