import { describe, expect, it } from 'vitest';
import { diffEntries } from '../../src/diff/diff-entries.js';
import type { Entry } from '../../src/model/entry.js';
import type { SeenMap } from '../../src/store/seen-store.js';

const NOW = new Date('2025-06-10T12:00:00.000Z');
const NOW_ISO = NOW.toISOString();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function entry(key: string, extra: Partial<Entry> = {}): Entry {
  return { id: `id-${key}`, key, feedId: 'feed', title: `Title ${key}`, summary: '', ...extra };
}

function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString();
}

const base = { now: NOW, firstPoll: false, firstPollEntries: 3, retentionDays: 30 };

describe('diffEntries: what is new', () => {
  it.each<{ name: string; entries: Entry[]; seen: SeenMap | undefined; fresh: string[] }>([
    {
      name: 'empty map, not the first poll: everything is new',
      entries: [entry('a'), entry('b')],
      seen: undefined,
      fresh: ['a', 'b'],
    },
    {
      name: 'known keys are not new',
      entries: [entry('a'), entry('b'), entry('c')],
      seen: { b: { first: ago(DAY), last: ago(DAY) } },
      fresh: ['a', 'c'],
    },
    {
      name: 'an edited title and date keep the identity when the key is the same',
      entries: [entry('a', { title: 'Corrected title', updated: '2025-06-10T11:00:00Z' })],
      seen: { a: { first: ago(2 * DAY), last: ago(10 * 60_000) } },
      fresh: [],
    },
    {
      name: 'a key duplicated within one poll counts once',
      entries: [entry('a', { title: 'first copy' }), entry('a', { title: 'second copy' }), entry('b')],
      seen: undefined,
      fresh: ['a', 'b'],
    },
  ])('$name', ({ entries, seen, fresh }) => {
    const result = diffEntries(entries, seen, base);
    expect(result.fresh.map((e) => e.key)).toEqual(fresh);
    // Every entry the poll carried is in the map afterwards.
    for (const e of entries) expect(result.seen[e.key]).toBeDefined();
  });

  it('keeps the first copy of a duplicated key and stamps firstSeen = now on new entries only', () => {
    const result = diffEntries([entry('a', { title: 'first copy' }), entry('a', { title: 'second copy' })], undefined, base);
    expect(result.fresh).toHaveLength(1);
    expect(result.fresh[0]).toMatchObject({ key: 'a', title: 'first copy', firstSeen: NOW_ISO });
    expect(result.seen).toEqual({ a: { first: NOW_ISO, last: NOW_ISO } });
    expect(result.changed).toBe(true);
  });

  it('does not modify the input map or entries', () => {
    const seen: SeenMap = { old: { first: ago(90 * DAY), last: ago(90 * DAY) } };
    const input = [entry('a')];
    const snapshot = structuredClone(seen);
    diffEntries(input, seen, base);
    expect(seen).toEqual(snapshot);
    expect(input[0]!.firstSeen).toBeUndefined();
  });
});

describe('diffEntries: first poll policy', () => {
  const feed = [
    entry('undated-1'),
    entry('mid', { published: '2025-06-05T00:00:00Z' }),
    entry('newest', { published: '2025-06-09T00:00:00Z' }),
    entry('updated-only', { updated: '2025-06-07T00:00:00Z' }),
    entry('oldest', { published: '2025-01-01T00:00:00Z' }),
    entry('tie-a', { published: '2025-06-01T00:00:00Z' }),
    entry('tie-b', { published: '2025-06-01T00:00:00Z' }),
    entry('undated-2'),
  ];

  it.each([
    { n: 0, fresh: [] },
    { n: 1, fresh: ['newest'] },
    { n: 3, fresh: ['mid', 'newest', 'updated-only'] },
    // tie on published: feed order decides (tie-a first)
    { n: 4, fresh: ['mid', 'newest', 'updated-only', 'tie-a'] },
    // undated entries come after every dated one, in feed order
    { n: 7, fresh: ['undated-1', 'mid', 'newest', 'updated-only', 'oldest', 'tie-a', 'tie-b'] },
    { n: 100, fresh: feed.map((e) => e.key) },
  ])('firstPollEntries=$n: the newest N are new (in feed order), the rest is backlog marked seen', ({ n, fresh }) => {
    const result = diffEntries(feed, undefined, { ...base, firstPoll: true, firstPollEntries: n });
    expect(result.fresh.map((e) => e.key)).toEqual(fresh);
    expect(Object.keys(result.seen).sort()).toEqual(feed.map((e) => e.key).sort());
    expect(result.changed).toBe(true);
    // The backlog never comes back as new on the next poll.
    const next = diffEntries(feed, result.seen, { ...base, now: new Date(NOW.getTime() + HOUR) });
    expect(next.fresh).toEqual([]);
  });

  it('all undated: the first N in feed order are new', () => {
    const entries = [entry('u1'), entry('u2'), entry('u3'), entry('u4')];
    const result = diffEntries(entries, undefined, { ...base, firstPoll: true, firstPollEntries: 2 });
    expect(result.fresh.map((e) => e.key)).toEqual(['u1', 'u2']);
  });

  it('the policy only limits entries not already known', () => {
    const seen: SeenMap = { newest: { first: ago(DAY), last: ago(DAY) } };
    const result = diffEntries(feed, seen, { ...base, firstPoll: true, firstPollEntries: 1 });
    expect(result.fresh.map((e) => e.key)).toEqual(['updated-only']);
  });
});

describe('diffEntries: refresh of last and retention', () => {
  it.each([
    { name: 'seen 10 minutes ago: not rewritten (no write needed)', last: ago(10 * 60_000), expectLast: ago(10 * 60_000), changed: false },
    { name: 'seen 59 minutes ago: not rewritten', last: ago(59 * 60_000), expectLast: ago(59 * 60_000), changed: false },
    { name: 'seen 2 hours ago: refreshed to now', last: ago(2 * HOUR), expectLast: NOW_ISO, changed: true },
    { name: 'seen 40 days ago but still in the feed: refreshed, not dropped', last: ago(40 * DAY), expectLast: NOW_ISO, changed: true },
    { name: 'timestamp in the future (clock jump): repaired', last: new Date(NOW.getTime() + DAY).toISOString(), expectLast: NOW_ISO, changed: true },
    { name: 'unreadable timestamp: repaired', last: 'garbage', expectLast: NOW_ISO, changed: true },
  ])('$name', ({ last, expectLast, changed }) => {
    const seen: SeenMap = { a: { first: ago(60 * DAY), last } };
    const result = diffEntries([entry('a')], seen, base);
    expect(result.fresh).toEqual([]);
    expect(result.seen.a).toEqual({ first: ago(60 * DAY), last: expectLast });
    expect(result.changed).toBe(changed);
  });

  it('drops records the feed no longer carries once older than retentionDays, keeps younger ones', () => {
    const seen: SeenMap = {
      carried: { first: ago(100 * DAY), last: ago(100 * DAY) },
      gone29: { first: ago(50 * DAY), last: ago(29 * DAY) },
      gone31: { first: ago(50 * DAY), last: ago(31 * DAY) },
      broken: { first: 'x', last: 'x' },
    };
    const result = diffEntries([entry('carried')], seen, base);
    expect(Object.keys(result.seen).sort()).toEqual(['carried', 'gone29']);
    expect(result.changed).toBe(true);
    expect(result.fresh).toEqual([]);
  });

  it('retention 0 keeps exactly what the feed carries now', () => {
    const seen: SeenMap = { a: { first: ago(DAY), last: ago(1000) }, b: { first: ago(DAY), last: ago(1000) } };
    const result = diffEntries([entry('a')], seen, { ...base, retentionDays: 0 });
    expect(Object.keys(result.seen)).toEqual(['a']);
  });

  it('an entry that stays in the feed for months is never new again, however short the retention', () => {
    let seen: SeenMap | undefined;
    const feed = [entry('evergreen')];
    let freshCount = 0;
    for (let day = 0; day < 120; day += 3) {
      const result = diffEntries(feed, seen, { ...base, now: new Date(NOW.getTime() + day * DAY), retentionDays: 2 });
      freshCount += result.fresh.length;
      seen = result.seen;
    }
    expect(freshCount).toBe(1);
  });

  it('an unchanged poll within the hour reports no change, so nothing is written', () => {
    const first = diffEntries([entry('a'), entry('b')], undefined, base);
    const again = diffEntries([entry('a'), entry('b')], first.seen, { ...base, now: new Date(NOW.getTime() + 30 * 60_000) });
    expect(again).toEqual({ fresh: [], seen: first.seen, changed: false });
  });
});
