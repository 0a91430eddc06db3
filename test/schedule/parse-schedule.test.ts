import { describe, expect, it } from 'vitest';
import { DigestError } from '../../src/model/errors.js';
import { parseSchedule } from '../../src/schedule/parse-schedule.js';

describe('parseSchedule: accepted forms', () => {
  it.each([
    ['daily 07:00', '0 7 * * *'],
    ['daily 7:05', '5 7 * * *'],
    ['  Daily   23:59 ', '59 23 * * *'],
    ['daily 00:00', '0 0 * * *'],
    ['weekdays 09:00', '0 9 * * 1-5'],
    ['weekly mon 08:00', '0 8 * * 1'],
    ['weekly Sunday 18:30', '30 18 * * 0'],
    ['weekly sun 18:30', '30 18 * * 0'],
    ['weekly thursday 06:15', '15 6 * * 4'],
    ['weekly fri,mon 08:00', '0 8 * * 1,5'],
    ['hourly', '0 * * * *'],
    ['HOURLY', '0 * * * *'],
    ['twice-daily 07:00,19:00', '0 7,19 * * *'],
    ['twice-daily 19:30, 07:30', '30 7,19 * * *'],
    ['30 6 * * 1-5', '30 6 * * 1-5'],
    ['*/15   * * * *', '*/15 * * * *'],
    ['0 8 * * MON', '0 8 * * MON'],
    ['0 0 L * *', '0 0 L * *'],
    ['0 9 * * 1#1', '0 9 * * 1#1'],
    ['0 0 29 2 *', '0 0 29 2 *'],
    ['@daily', '0 0 * * *'],
    ['@weekly', '0 0 * * 0'],
  ])('%s -> %s', (text, cron) => {
    expect(parseSchedule(text)).toEqual({ text, cron });
  });
});

describe('parseSchedule: rejected with CONFIG_INVALID and the accepted forms', () => {
  it.each([
    ['', /empty/],
    ['daily', /time is missing/],
    ['daily 24:00', /"24:00" is not a 24-hour time/],
    ['daily 7:60', /not a 24-hour time/],
    ['daily 7pm', /not a 24-hour time/],
    ['weekly 08:00', /needs a day and a time/],
    ['weekly funday 08:00', /"funday" is not a day of the week/],
    ['weekly mon 08:00 extra', /needs a day and a time/],
    ['hourly 15', /takes no time/],
    ['twice-daily 07:00', /needs two times/],
    ['twice-daily 07:00,19:30', /must share the minute/],
    ['twice-daily 07:00,07:00', /two different hours/],
    ['every day at 7', /not a 5-field cron expression/],
    ['0 0 7 * * *', /no seconds field/],
    ['61 7 * * *', /not a valid cron expression/],
    ['0 0 31 4 *', /not a valid cron expression/],
    ['0 0 30 2 *', /not a valid cron expression/],
    ['H 7 * * *', /hashed/],
    ['0 7 ? * MON', /hashed/],
  ])('%j', (text, reason) => {
    let error: unknown;
    try {
      parseSchedule(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DigestError);
    expect((error as DigestError).code).toBe('CONFIG_INVALID');
    expect((error as DigestError).message).toMatch(reason);
    expect((error as DigestError).message).toContain('Accepted forms: "daily 07:00"');
    expect((error as DigestError).message).toContain('"weekly mon 08:00"');
    expect((error as DigestError).message).toContain(`schedule "${text}"`);
  });
});
