import { describe, expect, it } from 'vitest';
import { isValidTimeZone, offsetMinutesAt, wallTimeAt } from '../../src/schedule/zone-time.js';

/** What Intl says about an instant in a zone: the reference the UTC shortcut must agree with. */
function intlWallTime(timeZone: string, ms: number) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' }).formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
  };
}

describe('zone-time in UTC (answered without Intl)', () => {
  // Leap day, year ends, midnight and the last minute of a day, and a spread of instants over 40 years.
  const instants = [
    Date.UTC(2024, 1, 29, 12, 30),
    Date.UTC(2025, 11, 31, 23, 59),
    Date.UTC(2026, 0, 1, 0, 0),
    Date.UTC(2026, 2, 29, 1, 30),
    Date.UTC(2026, 9, 25, 0, 59),
    ...Array.from({ length: 200 }, (_, i) => Date.UTC(2000, 0, 1) + i * 6_311_234_567),
  ];

  it.each(instants.map((ms) => [new Date(ms).toISOString(), ms]))('wallTimeAt and offsetMinutesAt at %s agree with Intl', (_iso, ms) => {
    expect(wallTimeAt('UTC', ms)).toEqual(intlWallTime('UTC', ms));
    expect(offsetMinutesAt('UTC', ms)).toBe(0);
  });

  it.each([
    ['UTC', true],
    ['Europe/Berlin', true],
    ['Not/A_Zone', false],
    ['+01:00', false],
    ['', false],
  ])('isValidTimeZone(%j) is %s', (zone, valid) => {
    expect(isValidTimeZone(zone)).toBe(valid);
  });
});
