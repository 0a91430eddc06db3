import { describe, expect, it } from 'vitest';
import { formatJsonPath, validateSubscribersDocument } from '../../src/admin/edit-subscribers-file.js';
import { SUBSCRIBERS_JSON } from './subscribers-file.js';
import type { LooseJson } from './subscribers-file.js';

type Doc = LooseJson;
const valid = (): Doc => JSON.parse(SUBSCRIBERS_JSON) as Doc;

describe('validateSubscribersDocument', () => {
  it('accepts the sample file and returns it with defaults applied', () => {
    const result = validateSubscribersDocument(valid(), 'subscribers.json');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.subscribers[0]?.paused).toBe(false);
    expect(result.value.settings.maxPerSource).toBe(5);
    expect(result.value.feeds[1]?.id).toBe('rust');
  });

  it.each<[string, (d: Doc) => void, string, RegExp]>([
    ['duplicate feed id', (d) => void (d.feeds[2].id = 'python'), 'feeds[2].id', /duplicate feed id "python" \(also feeds\[0\]\)/],
    ['duplicate subscriber id', (d) => void (d.subscribers[1].id = 'alice'), 'subscribers[1].id', /duplicate subscriber id "alice"/],
    ['unknown feed id, with suggestion', (d) => void (d.subscribers[0].feeds = ['pyhton']), 'subscribers[0].feeds[0]', /unknown feed "pyhton"; did you mean "python"\?/],
    ['unknown tag', (d) => void (d.subscribers[0].feeds = ['tag:sytems']), 'subscribers[0].feeds[0]', /no feed has the tag "sytems"; did you mean "systems"\?/],
    ['unknown feed in excludeFeeds', (d) => void (d.subscribers[1].excludeFeeds = ['nope']), 'subscribers[1].excludeFeeds[0]', /unknown feed "nope"/],
    ['both email and slack', (d) => void (d.subscribers[0].slack = { channel: '#x' }), 'subscribers[0]', /both "email" and "slack"/],
    ['neither email nor slack', (d) => void delete d.subscribers[0].email, 'subscribers[0]', /needs an "email" address or a "slack" channel/],
    ['invalid time zone', (d) => void (d.subscribers[0].timezone = 'Europe/Berln'), 'subscribers[0].timezone', /"Europe\/Berln" is not an IANA time zone/],
    ['invalid settings time zone', (d) => void (d.settings.timezone = 'Mars/Olympus'), 'settings.timezone', /not an IANA time zone/],
    ['invalid schedule', (d) => void (d.subscribers[1].schedule = 'weekly funday 08:00'), 'subscribers[1].schedule', /"funday" is not a day of the week/],
    ['invalid settings schedule', (d) => void (d.settings.schedule = 'daily 25:00'), 'settings.schedule', /not a 24-hour time/],
    ['bad email (schema)', (d) => void (d.subscribers[0].email = 'alice-at-example'), 'subscribers[0].email', /not an email address/],
    ['unknown key, with suggestion', (d) => void (d.subscribers[0].emial = 'x@example.org'), 'subscribers[0].emial', /unknown key "emial"; did you mean "email"\?/],
    ['unknown top-level key', (d) => void (d.subscriber = []), 'subscriber', /unknown key "subscriber"; did you mean "subscribers"\?/],
    ['missing name', (d) => void delete d.subscribers[1].name, 'subscribers[1].name', /missing \(expected string\)/],
    ['bad keywords shape', (d) => void (d.subscribers[0].keywords = 'asyncio'), 'subscribers[0].keywords', /expected a list of keywords/],
    ['bad feed id', (d) => void (d.feeds[0].id = 'has space'), 'feeds[0].id', /letters, digits/],
  ])('%s -> %s', (_name, mutate, path, message) => {
    const doc = valid();
    mutate(doc);
    const result = validateSubscribersDocument(doc, 'subscribers.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue?.message).toMatch(message);
  });

  it('reports every problem at once, grouped by entry in document order', () => {
    const doc = valid();
    doc.subscribers[1].schedule = 'sometimes';
    doc.subscribers[0].email = 'nope';
    doc.subscribers[0].timezone = 'Nowhere/Town';
    doc.feeds[1].id = 'python';
    doc.settings.firstPollEntries = -1;
    const result = validateSubscribersDocument(doc, 'subscribers.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual([
      'settings.firstPollEntries',
      'feeds[1].id',
      'subscribers[0].email',
      'subscribers[0].timezone',
      'subscribers[1].schedule',
    ]);
  });

  it('cross-checks even when the schema fails elsewhere, and survives non-object input', () => {
    const doc = valid();
    doc.subscribers.push('not an object');
    doc.subscribers[0].feeds = ['ghost'];
    const result = validateSubscribersDocument(doc, 'f');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['subscribers[2]', 'subscribers[0].feeds[0]']));
    for (const input of [null, [], 'x', 42]) {
      const r = validateSubscribersDocument(input, 'f');
      expect(r.ok).toBe(false);
    }
  });
});

describe('formatJsonPath', () => {
  it.each<[PropertyKey[], string]>([
    [[], ''],
    [['subscribers', 2, 'email'], 'subscribers[2].email'],
    [['settings', 'my key'], 'settings["my key"]'],
    [['$schema'], '$schema'],
  ])('%j -> %s', (path, expected) => {
    expect(formatJsonPath(path)).toBe(expected);
  });
});
