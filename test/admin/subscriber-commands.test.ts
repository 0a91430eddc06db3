import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminError } from '../../src/admin/admin-error.js';
import {
  addSubscriber,
  formatSubscriberDetails,
  formatSubscriberRows,
  listSubscribers,
  pauseSubscriber,
  removeSubscriber,
  resumeSubscriber,
  setSubscriberField,
  showSubscriber,
} from '../../src/admin/subscriber-commands.js';
import { ConfigError } from '../../src/model/errors.js';
import { SUBSCRIBERS_JSON, tempSubscribers } from './subscribers-file.js';
import type { TempSubscribers } from './subscribers-file.js';

let temp: TempSubscribers;
beforeEach(async () => {
  temp = await tempSubscribers();
});
afterEach(async () => {
  await temp.cleanup();
});

/** The file's text must be unchanged and no backup written. */
async function expectUntouched(): Promise<void> {
  expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
  expect(await temp.others()).toEqual([]);
}

describe('listSubscribers / showSubscriber', () => {
  it('lists rows with channel, target, feeds and inherited schedule / time zone', () => {
    const rows = listSubscribers(JSON.parse(SUBSCRIBERS_JSON));
    expect(rows).toEqual([
      { id: 'alice', name: 'Alice', channel: 'email', target: 'alice@example.org', feeds: ['python', 'tag:systems'], excludeFeeds: [], schedule: 'daily 07:00', timezone: 'Europe/Berlin', paused: false },
      { id: 'news-channel', name: '#news', channel: 'slack', target: '#news', feeds: ['*'], excludeFeeds: ['lwn'], schedule: 'weekly mon 08:00', timezone: 'Europe/Berlin', paused: false },
    ]);
    const table = formatSubscriberRows(rows).split('\n');
    expect(table[0]).toMatch(/^ID\s+NAME\s+CHANNEL\s+FEEDS\s+SCHEDULE\s+TIMEZONE\s+STATUS$/);
    expect(table[2]).toMatch(/^news-channel\s+#news\s+slack:#news\s+\* -lwn\s+weekly mon 08:00\s+Europe\/Berlin\s+active$/);
  });

  it('shows the feeds a subscriber actually receives (tags, "*" and exclusions resolved)', () => {
    const doc = JSON.parse(SUBSCRIBERS_JSON);
    expect(showSubscriber(doc, 'alice').resolvedFeeds).toEqual(['python', 'rust', 'lwn']);
    const details = showSubscriber(doc, 'news-channel');
    expect(details.resolvedFeeds).toEqual(['python', 'rust']);
    expect(formatSubscriberDetails(details)).toContain('receives 2 feeds: python, rust');
  });

  it('names close matches for an unknown id', () => {
    expect(() => showSubscriber(JSON.parse(SUBSCRIBERS_JSON), 'alcie')).toThrow(/no subscriber with id "alcie"\. did you mean "alice"\?/);
  });
});

describe('addSubscriber', () => {
  it('appends the subscriber in the file style, writing only what was given', async () => {
    const result = await addSubscriber(temp.file, { id: 'bob', name: 'Bob', email: 'bob@example.org', feeds: 'python,rust', keywords: 'rust, "machine learning, ai"', timezone: 'America/New_York' });
    expect(result.message).toBe('Added subscriber "bob" (Bob, email bob@example.org).');
    const text = await temp.read();
    expect(text).toContain(
      '        {\n            "id": "bob",\n            "name": "Bob",\n            "email": "bob@example.org",\n            "feeds": ["python", "rust"],\n            "keywords": ["rust", "\\"machine learning, ai\\""],\n            "timezone": "America/New_York"\n        }\n    ]\n}\n',
    );
    expect(text.startsWith(SUBSCRIBERS_JSON.slice(0, SUBSCRIBERS_JSON.lastIndexOf('        }\n    ]')))).toBe(true);
  });

  it('adds a Slack subscriber with a token variable and derives a unique id from the name', async () => {
    await addSubscriber(temp.file, { name: 'Alice', slack: 'C0123456789', slackTokenEnv: 'OTHER_WORKSPACE_TOKEN', excludeKeywords: 'hiring' });
    const added = (await temp.readJson()).subscribers[2];
    expect(added).toEqual({ id: 'alice-2', name: 'Alice', slack: { channel: 'C0123456789', tokenEnv: 'OTHER_WORKSPACE_TOKEN' }, keywords: { include: [], exclude: ['hiring'] } });
  });

  it.each<[string, Parameters<typeof addSubscriber>[1], RegExp]>([
    ['duplicate id', { id: 'alice', name: 'Alice 2', email: 'a2@example.org' }, /a subscriber with id "alice" already exists \(Alice, alice@example.org\)/],
    ['no channel', { id: 'x', name: 'X' }, /needs an email address or a Slack channel/],
    ['both channels', { id: 'x', name: 'X', email: 'x@example.org', slack: '#x' }, /either an email address or a Slack channel, not both/],
  ])('refuses %s with an AdminError; file untouched', async (_name, input, message) => {
    const error = await addSubscriber(temp.file, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as Error).message).toMatch(message);
    await expectUntouched();
  });

  it.each<[string, Parameters<typeof addSubscriber>[1], string]>([
    ['unknown feed', { id: 'x', name: 'X', email: 'x@example.org', feeds: 'pyhton' }, 'subscribers[2].feeds[0]'],
    ['bad email', { id: 'x', name: 'X', email: 'x@' }, 'subscribers[2].email'],
    ['bad time zone', { id: 'x', name: 'X', email: 'x@example.org', timezone: 'CEST' }, 'subscribers[2].timezone'],
    ['bad schedule', { id: 'x', name: 'X', email: 'x@example.org', schedule: 'every day' }, 'subscribers[2].schedule'],
    ['bad id', { id: 'no spaces please', name: 'X', email: 'x@example.org' }, 'subscribers[2].id'],
  ])('refuses an invalid subscriber (%s) with a ConfigError at %s; file untouched', async (_name, input, path) => {
    const error = await addSubscriber(temp.file, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual([path]);
    await expectUntouched();
  });
});

describe('removeSubscriber', () => {
  it('removes the entry and leaves the rest of the file as it was', async () => {
    const result = await removeSubscriber(temp.file, 'alice');
    expect(result.subscriber.name).toBe('Alice');
    const text = await temp.read();
    const aliceStart = SUBSCRIBERS_JSON.indexOf('        {\n            "name": "Alice"');
    const bobStart = SUBSCRIBERS_JSON.indexOf('        {\n            "id": "news-channel"');
    expect(text).toBe(SUBSCRIBERS_JSON.slice(0, aliceStart) + SUBSCRIBERS_JSON.slice(bobStart));
  });

  it('refuses an unknown id, listing close matches', async () => {
    const error = await removeSubscriber(temp.file, 'news-chanel').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as AdminError).kind).toBe('not-found');
    expect((error as Error).message).toMatch(/no subscriber with id "news-chanel" in .*subscribers\.json\. did you mean "news-channel"\?/);
    await expectUntouched();
  });

  it('lists known ids when nothing is close', async () => {
    const error = await removeSubscriber(temp.file, 'zzzzzzzz').catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Known ids: alice, news-channel\./);
  });
});

describe('pauseSubscriber / resumeSubscriber', () => {
  it('pause adds "paused": true; resume sets it false and mentions the resume cap', async () => {
    const paused = await pauseSubscriber(temp.file, 'alice');
    expect(paused.edit.changed).toBe(true);
    expect(await temp.read()).toContain('            "keywords": ["asyncio", "\\"type hints\\""],\n            "paused": true\n        },');
    const resumed = await resumeSubscriber(temp.file, 'alice');
    expect(resumed.message).toMatch(/at most 20 of the newest entries/);
    expect((await temp.readJson()).subscribers[0].paused).toBe(false);
  });

  it('pause on a paused subscriber changes nothing', async () => {
    await pauseSubscriber(temp.file, 'news-channel');
    const before = await temp.read();
    const again = await pauseSubscriber(temp.file, 'news-channel');
    expect(again.edit.changed).toBe(false);
    expect(again.message).toBe('Subscriber "news-channel" is already paused.');
    expect(await temp.read()).toBe(before);
    // The existing "paused": false line was changed in place, not moved.
    expect(before).toContain('"schedule": "weekly mon 08:00",\n            "paused": true\n');
  });
});

describe('setSubscriberField', () => {
  it.each<[string, string, unknown]>([
    ['name', 'Alice Liddell', 'Alice Liddell'],
    ['feeds', 'python, rust', ['python', 'rust']],
    ['feeds', '["tag:linux"]', ['tag:linux']],
    ['excludeFeeds', 'lwn', ['lwn']],
    ['paused', 'yes', true],
    ['sendEmpty', 'off', false],
    ['maxPerSource', '12', 12],
    ['schedule', 'twice-daily 07:00,19:00', 'twice-daily 07:00,19:00'],
    ['timezone', 'Asia/Tokyo', 'Asia/Tokyo'],
    ['title', 'Alice’s digest', 'Alice’s digest'],
  ])('%s = %s', async (key, value, expected) => {
    await setSubscriberField(temp.file, 'alice', key, value);
    expect((await temp.readJson()).subscribers[0][key]).toEqual(expected);
  });

  it('changes a value in place, keeping its position', async () => {
    await setSubscriberField(temp.file, 'alice', 'name', 'Alice L.');
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON.replace('"name": "Alice"', '"name": "Alice L."'));
  });

  it('keywords: a plain list stays a list; exclusions turn it into include/exclude', async () => {
    await setSubscriberField(temp.file, 'alice', 'keywords', 'rust,wasm');
    expect((await temp.readJson()).subscribers[0].keywords).toEqual(['rust', 'wasm']);
    await setSubscriberField(temp.file, 'alice', 'keywords.exclude', 'hiring');
    expect((await temp.readJson()).subscribers[0].keywords).toEqual({ include: ['rust', 'wasm'], exclude: ['hiring'] });
    await setSubscriberField(temp.file, 'alice', 'keywords.include', '');
    expect((await temp.readJson()).subscribers[0].keywords).toEqual({ include: [], exclude: ['hiring'] });
    await setSubscriberField(temp.file, 'alice', 'keywords', null);
    expect((await temp.readJson()).subscribers[0].keywords).toBeUndefined();
  });

  it('switches channel: email on a Slack subscriber replaces slack, and back', async () => {
    const toEmail = await setSubscriberField(temp.file, 'news-channel', 'email', 'news@example.org');
    expect(toEmail.message).toMatch(/replaces the Slack channel #news/);
    let s = (await temp.readJson()).subscribers[1];
    expect(s.email).toBe('news@example.org');
    expect(s.slack).toBeUndefined();
    await setSubscriberField(temp.file, 'news-channel', 'slack.channel', '#news-2');
    await setSubscriberField(temp.file, 'news-channel', 'slack.tokenEnv', 'NEWS_TOKEN');
    s = (await temp.readJson()).subscribers[1];
    expect(s.email).toBeUndefined();
    expect(s.slack).toEqual({ channel: '#news-2', tokenEnv: 'NEWS_TOKEN' });
  });

  it('null removes an optional field', async () => {
    await setSubscriberField(temp.file, 'news-channel', 'schedule', null);
    expect((await temp.readJson()).subscribers[1].schedule).toBeUndefined();
  });

  it.each<[string, string, string | null, RegExp, 'AdminError' | 'ConfigError']>([
    ['id', 'id', 'alice2', /cannot be changed/, 'AdminError'],
    ['unknown key', 'emial', 'x@example.org', /"emial" is not a subscriber field\. did you mean "email"\?/, 'AdminError'],
    ['bad boolean', 'paused', 'maybe', /paused: expected true or false, got "maybe"/, 'AdminError'],
    ['bad number', 'maxPerSource', 'ten', /maxPerSource: expected a whole number/, 'AdminError'],
    ['number out of range', 'maxPerSource', '0', /subscribers\[0\]\.maxPerSource/, 'ConfigError'],
    ['unknown feed', 'feeds', 'python,nope', /subscribers\[0\]\.feeds\[1\]: unknown feed "nope"/, 'ConfigError'],
    ['empty feeds', 'feeds', '', /subscribers\[0\]\.feeds: list at least one feed/, 'ConfigError'],
    ['required field removed', 'name', null, /subscribers\[0\]\.name: missing/, 'ConfigError'],
    ['bad time zone', 'timezone', 'Berlin', /is not an IANA time zone/, 'ConfigError'],
  ])('refuses %s; file untouched', async (_name, key, value, message, kind) => {
    const error = await setSubscriberField(temp.file, 'alice', key, value).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind === 'AdminError' ? AdminError : ConfigError);
    expect((error as Error).message).toMatch(message);
    await expectUntouched();
  });
});
