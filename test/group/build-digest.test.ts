import { describe, expect, it } from 'vitest';
import { buildDigest } from '../../src/group/build-digest.js';
import type { BuildDigestInput } from '../../src/group/build-digest.js';
import type { SourceDisplay } from '../../src/group/group-by-source.js';
import { compileSelection } from '../../src/group/select-entries.js';
import type { Digest } from '../../src/model/digest.js';
import type { Entry } from '../../src/model/entry.js';
import type { FeedConfig } from '../../src/model/feed.js';
import type { Subscriber } from '../../src/model/subscriber.js';
import type { Batch } from '../../src/store/seen-store.js';

const FEEDS: FeedConfig[] = [
  { id: 'planet', url: 'https://127.0.0.1/planet', tags: ['python'] },
  { id: 'author', url: 'https://127.0.0.1/author', tags: ['python'] },
  { id: 'other', url: 'https://127.0.0.1/other', tags: [] },
];
const DISPLAY = new Map<string, SourceDisplay>(FEEDS.map((f) => [f.id, { fallbackTitle: f.id.toUpperCase() }]));
const NOW = new Date('2025-06-10T07:00:00.000Z');

function subscriber(overrides: Partial<Subscriber> = {}): Subscriber {
  return { id: 's', name: 'S', email: 's@example.test', feeds: ['*'], excludeFeeds: [], keywords: { include: [], exclude: [] }, paused: false, ...overrides };
}

function entry(key: string, feedId: string, extra: Partial<Entry> = {}): Entry {
  return { id: key, key, feedId, title: `Post ${key}`, summary: '', ...extra };
}

function batch(seq: number, createdAt: string, entries: Entry[]): Batch {
  return { seq, createdAt, entries };
}

function build(batches: Batch[], overrides: Partial<BuildDigestInput> = {}): Digest {
  return buildDigest({
    batches,
    cursor: 0,
    selection: compileSelection(subscriber(), FEEDS),
    feeds: DISPLAY,
    title: 'Planet digest',
    timezone: 'Europe/Berlin',
    now: NOW,
    maxPerSource: 10,
    ...overrides,
  });
}

const keysOf = (digest: Digest): string[] => digest.groups.flatMap((g) => g.entries.map((e) => e.key));

describe('buildDigest', () => {
  it('takes only batches after the cursor and fills the period and counts', () => {
    const batches = [
      batch(1, '2025-06-08T07:00:00Z', [entry('old', 'planet', { firstSeen: '2025-06-08T07:00:00Z', published: '2025-06-08T06:00:00Z' })]),
      batch(2, '2025-06-09T07:00:00Z', [entry('a', 'planet', { firstSeen: '2025-06-09T07:00:00Z', published: '2025-06-09T06:00:00Z' })]),
      batch(3, '2025-06-10T06:00:00Z', [entry('b', 'other', { firstSeen: '2025-06-10T06:00:00Z', published: '2025-06-10T05:00:00Z' })]),
    ];
    const digest = build(batches, { cursor: 1 });
    expect(keysOf(digest)).toEqual(['b', 'a']);
    expect(digest).toMatchObject({
      title: 'Planet digest',
      timezone: 'Europe/Berlin',
      periodStart: '2025-06-09T07:00:00.000Z',
      periodEnd: NOW.toISOString(),
      entryCount: 2,
      sourceCount: 2,
    });
    expect(digest.groups.map((g) => g.title)).toEqual(['OTHER', 'PLANET']);
  });

  it('the same key in two batches (re-detected after a crash) appears once, as first seen', () => {
    const batches = [
      batch(5, '2025-06-10T06:00:00Z', [entry('dup', 'planet', { title: 'second detection', firstSeen: '2025-06-10T06:00:00Z' })]),
      batch(4, '2025-06-09T06:00:00Z', [entry('dup', 'planet', { title: 'first detection', firstSeen: '2025-06-09T06:00:00Z' }), entry('x', 'planet', { firstSeen: '2025-06-09T06:00:00Z' })]),
    ];
    const digest = build(batches, { cursor: 3 });
    expect(digest.entryCount).toBe(2);
    const dup = digest.groups[0]!.entries.find((e) => e.key === 'dup')!;
    expect(dup.title).toBe('first detection');
    expect(digest.periodStart).toBe('2025-06-09T06:00:00.000Z');
  });

  it('the same article through two feeds (canonical link) appears once: the earliest-seen copy wins', () => {
    const batches = [
      batch(1, '2025-06-09T06:00:00Z', [
        entry('via-author', 'author', { link: 'https://blog.example/post/1', firstSeen: '2025-06-09T06:00:00Z' }),
      ]),
      batch(2, '2025-06-10T06:00:00Z', [
        entry('via-planet', 'planet', { link: 'HTTPS://Blog.Example:443/post/1/?utm_source=planet#comments', firstSeen: '2025-06-10T06:00:00Z' }),
        entry('different', 'planet', { link: 'https://blog.example/post/2', firstSeen: '2025-06-10T06:00:00Z' }),
        entry('no-link', 'planet', { firstSeen: '2025-06-10T06:00:00Z' }),
      ]),
    ];
    const digest = build(batches);
    expect(keysOf(digest).sort()).toEqual(['different', 'no-link', 'via-author']);
    expect(digest.entryCount).toBe(3);
  });

  it('a duplicate from a feed the subscriber did not select does not hide the one from a feed they did', () => {
    const batches = [
      batch(1, '2025-06-09T06:00:00Z', [entry('via-other', 'other', { link: 'https://blog.example/post/1', firstSeen: '2025-06-09T06:00:00Z' })]),
      batch(2, '2025-06-10T06:00:00Z', [entry('via-planet', 'planet', { link: 'https://blog.example/post/1', firstSeen: '2025-06-10T06:00:00Z' })]),
    ];
    const digest = build(batches, { selection: compileSelection(subscriber({ feeds: ['planet'] }), FEEDS) });
    expect(keysOf(digest)).toEqual(['via-planet']);
  });

  it('applies the selection (feeds and keywords)', () => {
    const batches = [
      batch(1, '2025-06-10T06:00:00Z', [
        entry('py', 'planet', { title: 'Python 3.14 released', firstSeen: '2025-06-10T06:00:00Z' }),
        entry('js', 'planet', { title: 'JavaScript news', firstSeen: '2025-06-10T06:00:00Z' }),
        entry('py-other', 'other', { title: 'Python elsewhere', firstSeen: '2025-06-10T06:00:00Z' }),
      ]),
    ];
    const selection = compileSelection(subscriber({ feeds: ['tag:python'], keywords: { include: ['python'], exclude: [] } }), FEEDS);
    expect(keysOf(build(batches, { selection }))).toEqual(['py']);
  });

  it.each([
    { cap: undefined, keys: ['e5', 'e4', 'e3', 'e2', 'e1'] },
    { cap: 10, keys: ['e5', 'e4', 'e3', 'e2', 'e1'] },
    { cap: 2, keys: ['e5', 'e4'] },
    { cap: 0, keys: [] },
  ])('cap=$cap keeps only the newest entries', ({ cap, keys }) => {
    const entries = [1, 2, 3, 4, 5].map((n) => entry(`e${n}`, 'planet', { published: `2025-06-0${n}T00:00:00Z`, firstSeen: '2025-06-09T00:00:00Z' }));
    // Stored out of date order, across batches.
    const batches = [batch(1, '2025-06-09T00:00:00Z', [entries[3]!, entries[0]!]), batch(2, '2025-06-09T00:00:00Z', [entries[4]!, entries[1]!, entries[2]!])];
    const digest = build(batches, { cap });
    expect(keysOf(digest)).toEqual(keys);
    expect(digest.entryCount).toBe(keys.length);
  });

  it('maxPerSource limits what is shown, count and entryCount still tell everything', () => {
    const entries = [1, 2, 3].map((n) => entry(`p${n}`, 'planet', { published: `2025-06-0${n}T00:00:00Z`, firstSeen: '2025-06-09T00:00:00Z' }));
    const digest = build([batch(1, '2025-06-09T00:00:00Z', entries)], { maxPerSource: 2 });
    expect(digest.groups[0]).toMatchObject({ count: 3, more: 1 });
    expect(digest.groups[0]!.entries.map((e) => e.key)).toEqual(['p3', 'p2']);
    expect(digest.entryCount).toBe(3);
  });

  it('entries stored without firstSeen get their batch time (orders undated entries, sets the period)', () => {
    const digest = build([
      batch(1, '2025-06-08T00:00:00Z', [entry('older', 'planet')]),
      batch(2, '2025-06-09T00:00:00Z', [entry('newer', 'planet')]),
    ]);
    expect(keysOf(digest)).toEqual(['newer', 'older']);
    expect(digest.groups[0]!.entries[1]!.firstSeen).toBe('2025-06-08T00:00:00Z');
    expect(digest.periodStart).toBe('2025-06-08T00:00:00.000Z');
  });

  it('nothing after the cursor: an empty digest without periodStart', () => {
    const digest = build([batch(1, '2025-06-08T00:00:00Z', [entry('a', 'planet')])], { cursor: 1 });
    expect(digest).toEqual({ title: 'Planet digest', timezone: 'Europe/Berlin', periodEnd: NOW.toISOString(), groups: [], entryCount: 0, sourceCount: 0 });
  });
});
