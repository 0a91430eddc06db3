import { describe, expect, it } from 'vitest';
import { entrySortTime, groupBySource } from '../../src/group/group-by-source.js';
import type { SourceDisplay } from '../../src/group/group-by-source.js';
import type { Entry } from '../../src/model/entry.js';

function entry(key: string, feedId: string, dates: Partial<Pick<Entry, 'published' | 'updated' | 'firstSeen'>>): Entry {
  return { id: key, key, feedId, title: key, summary: '', ...dates };
}

const FEEDS = new Map<string, SourceDisplay>([
  ['a', { title: 'Configured A', link: 'https://a.example/', fallbackTitle: 'Feed A own title' }],
  ['b', { fallbackTitle: 'Feed B own title', link: 'https://b.example/' }],
  ['c', { title: undefined, fallbackTitle: 'c' }],
]);

describe('entrySortTime', () => {
  it.each([
    { name: 'published first', dates: { published: '2025-01-02T00:00:00Z', updated: '2025-03-01T00:00:00Z', firstSeen: '2025-04-01T00:00:00Z' }, iso: '2025-01-02T00:00:00.000Z' },
    { name: 'then updated', dates: { updated: '2025-03-01T00:00:00Z', firstSeen: '2025-04-01T00:00:00Z' }, iso: '2025-03-01T00:00:00.000Z' },
    { name: 'then firstSeen', dates: { firstSeen: '2025-04-01T00:00:00Z' }, iso: '2025-04-01T00:00:00.000Z' },
    { name: 'an unreadable date falls through', dates: { published: 'someday', firstSeen: '2025-04-01T00:00:00Z' }, iso: '2025-04-01T00:00:00.000Z' },
  ])('$name', ({ dates, iso }) => {
    expect(new Date(entrySortTime(entry('x', 'a', dates))).toISOString()).toBe(iso);
  });

  it('no date at all sorts last', () => {
    expect(entrySortTime(entry('x', 'a', {}))).toBe(-Infinity);
  });
});

describe('groupBySource', () => {
  const entries = [
    entry('a-old', 'a', { published: '2025-05-01T00:00:00Z', firstSeen: '2025-06-01T00:00:00Z' }),
    entry('b-undated-recent', 'b', { firstSeen: '2025-06-09T00:00:00Z' }),
    entry('a-new', 'a', { published: '2025-06-05T00:00:00Z', firstSeen: '2025-06-06T00:00:00Z' }),
    entry('c-nodate', 'c', {}),
    entry('b-dated', 'b', { published: '2025-06-08T00:00:00Z' }),
    entry('a-updated', 'a', { updated: '2025-06-03T00:00:00Z' }),
    entry('b-undated-older', 'b', { firstSeen: '2025-06-02T00:00:00Z' }),
    entry('x-1', 'x', { published: '2025-06-07T00:00:00Z' }),
  ];

  it('orders sources by their newest entry and entries newest first; undated entries by when they were first seen', () => {
    const groups = groupBySource(entries, FEEDS, { maxPerSource: 10 });
    expect(groups.map((g) => g.feedId)).toEqual(['b', 'x', 'a', 'c']);
    expect(groups.map((g) => g.entries.map((e) => e.key))).toEqual([
      ['b-undated-recent', 'b-dated', 'b-undated-older'],
      ['x-1'],
      ['a-new', 'a-updated', 'a-old'],
      ['c-nodate'],
    ]);
    expect(groups.every((g) => g.more === 0 && g.count === g.entries.length)).toBe(true);
  });

  it('titles: configured, else fallback, else the feed id; links when known', () => {
    const groups = groupBySource(entries, FEEDS, { maxPerSource: 10 });
    const byId = new Map(groups.map((g) => [g.feedId, g]));
    expect(byId.get('a')).toMatchObject({ title: 'Configured A', link: 'https://a.example/' });
    expect(byId.get('b')).toMatchObject({ title: 'Feed B own title', link: 'https://b.example/' });
    expect(byId.get('c')!.title).toBe('c');
    expect(byId.get('c')!.link).toBeUndefined();
    expect(byId.get('x')!.title).toBe('x');
  });

  it.each([
    { max: 1, shown: { a: ['a-new'], b: ['b-undated-recent'] }, more: { a: 2, b: 2 } },
    { max: 2, shown: { a: ['a-new', 'a-updated'], b: ['b-undated-recent', 'b-dated'] }, more: { a: 1, b: 1 } },
    { max: 3, shown: { a: ['a-new', 'a-updated', 'a-old'], b: ['b-undated-recent', 'b-dated', 'b-undated-older'] }, more: { a: 0, b: 0 } },
  ])('maxPerSource=$max keeps the newest and counts the rest', ({ max, shown, more }) => {
    const groups = groupBySource(entries, FEEDS, { maxPerSource: max });
    for (const id of ['a', 'b'] as const) {
      const group = groups.find((g) => g.feedId === id)!;
      expect(group.entries.map((e) => e.key)).toEqual(shown[id]);
      expect(group.more).toBe(more[id]);
      expect(group.count).toBe(3);
    }
  });

  it('equal times keep input order (stable)', () => {
    const same = '2025-06-01T00:00:00Z';
    const groups = groupBySource([entry('1', 'a', { published: same }), entry('2', 'a', { published: same }), entry('3', 'b', { published: same })], FEEDS, { maxPerSource: 5 });
    expect(groups.map((g) => g.feedId)).toEqual(['a', 'b']);
    expect(groups[0]!.entries.map((e) => e.key)).toEqual(['1', '2']);
  });

  it('no entries, no groups', () => {
    expect(groupBySource([], FEEDS, { maxPerSource: 5 })).toEqual([]);
  });
});
