import { Settings } from 'luxon';

/**
 * cron-parser does its date arithmetic with luxon, whose defaults are the system's locale and time zone: their first
 * use calls `new Intl.DateTimeFormat().resolvedOptions()`, which loads ICU's data (~40 ms of a cycle that finds
 * nothing new, measured for issue 7). Schedules never format text and src/schedule always passes `tz: 'UTC'` (zones
 * are handled in zone-time.ts), and their meaning must not depend on the host's LANG or TZ, so luxon gets fixed
 * defaults. Imported for its effect by the modules that call cron-parser; nothing else here uses luxon.
 *
 * The bundle (scripts/build-bundle.mjs) gives cron-parser and this module one luxon. Run from the TypeScript sources,
 * Node's ESM import here and cron-parser's require() load two copies of luxon, and this pins the unused one: same
 * results, only the first call is slower.
 */
export function pinCronDefaults(): void {
  Settings.defaultLocale = 'en-US';
  Settings.defaultZone = 'utc';
}

pinCronDefaults();
