import { describe, expect, it } from 'vitest';
import { compileSelection, selectEntries, selectionKey } from '../../src/group/select-entries.js';
import type { Entry } from '../../src/model/entry.js';
import type { FeedConfig } from '../../src/model/feed.js';
import type { Subscriber } from '../../src/model/subscriber.js';

const FEEDS: FeedConfig[] = [
  { id: 'py-blog', url: 'https://127.0.0.1/py', tags: ['python', 'blogs'] },
  { id: 'py-news', url: 'https://127.0.0.1/pn', tags: ['python', 'news'] },
  { id: 'go-blog', url: 'https://127.0.0.1/go', tags: ['go', 'blogs'] },
  { id: 'ru-news', url: 'https://127.0.0.1/ru', tags: ['news'] },
  { id: 'misc', url: 'https://127.0.0.1/misc', tags: [] },
];

function subscriber(overrides: Partial<Subscriber>): Subscriber {
  return { id: 's', name: 'S', email: 's@example.test', feeds: ['*'], excludeFeeds: [], keywords: { include: [], exclude: [] }, paused: false, ...overrides };
}

function entry(key: string, feedId: string, title: string, summary = ''): Entry {
  return { id: key, key, feedId, title, summary };
}

describe('compileSelection: feeds', () => {
  it.each([
    { name: '"*" is every feed', feeds: ['*'], exclude: [], ids: ['go-blog', 'misc', 'py-blog', 'py-news', 'ru-news'] },
    { name: 'an empty list is every feed (schema default)', feeds: [], exclude: [], ids: ['go-blog', 'misc', 'py-blog', 'py-news', 'ru-news'] },
    { name: 'ids', feeds: ['py-blog', 'misc'], exclude: [], ids: ['misc', 'py-blog'] },
    { name: 'a tag', feeds: ['tag:python'], exclude: [], ids: ['py-blog', 'py-news'] },
    { name: 'tags and ids mixed, duplicates once', feeds: ['tag:blogs', 'py-blog', 'tag:go'], exclude: [], ids: ['go-blog', 'py-blog'] },
    { name: 'exclude by id', feeds: ['*'], exclude: ['misc'], ids: ['go-blog', 'py-blog', 'py-news', 'ru-news'] },
    { name: 'exclude by tag', feeds: ['tag:python', 'tag:news'], exclude: ['tag:blogs'], ids: ['py-news', 'ru-news'] },
    { name: 'exclude wins over include', feeds: ['py-blog'], exclude: ['tag:python'], ids: [] },
  ])('$name', ({ feeds, exclude, ids }) => {
    const selection = compileSelection(subscriber({ feeds, excludeFeeds: exclude }), FEEDS);
    expect([...selection.feedIds].sort()).toEqual(ids);
    expect(selection.unknownFeeds).toEqual([]);
  });

  it('reports unknown ids and tags, and ignores them', () => {
    const selection = compileSelection(subscriber({ feeds: ['py-blog', 'nope', 'tag:rust'], excludeFeeds: ['gone'] }), FEEDS);
    expect([...selection.feedIds]).toEqual(['py-blog']);
    expect(selection.unknownFeeds.sort()).toEqual(['gone', 'nope', 'tag:rust']);
  });

  it('selects by feed', () => {
    const selection = compileSelection(subscriber({ feeds: ['tag:go'] }), FEEDS);
    const picked = selectEntries([entry('1', 'go-blog', 'A'), entry('2', 'py-blog', 'B'), entry('3', 'unknown-feed', 'C')], selection);
    expect(picked.map((e) => e.key)).toEqual(['1']);
  });
});

describe('selectEntries: keywords', () => {
  const entries = [
    entry('go', 'go-blog', 'Go 1.24 released', 'Generic type aliases and more.'),
    entry('google', 'misc', 'Google announces things', 'A search company.'),
    entry('golang', 'go-blog', 'Why golang?', 'Opinions.'),
    entry('ml', 'py-blog', 'Intro to Machine\n  Learning', 'Using scikit-learn.'),
    entry('machines', 'misc', 'Machine learning-free zone', 'Plain statistics.'),
    entry('learning-machine', 'misc', 'Learning machine', 'Words in the other order.'),
    entry('ru', 'ru-news', 'Новости Python', 'Вышел новый релиз питона.'),
    entry('ru-upper', 'ru-news', 'ПИТОН 3.14', 'Большой релиз.'),
    entry('ru-prefix', 'ru-news', 'Питонистам на заметку', 'Советы.'),
    entry('sponsored', 'py-blog', 'Python tips (sponsored)', 'Advertisement about Python.'),
    entry('summary-only', 'py-news', 'Weekly links', 'This week: Rust and Go news.'),
  ];

  it.each([
    { name: 'no keywords: everything', include: [], exclude: [], keys: entries.map((e) => e.key) },
    { name: 'whole word: "go" matches Go, not Google or golang', include: ['go'], exclude: [], keys: ['go', 'summary-only'] },
    { name: 'case-insensitive', include: ['GOOGLE'], exclude: [], keys: ['google'] },
    { name: 'phrase in quotes, whitespace-normalized, across a line break', include: ['"machine learning"'], exclude: [], keys: ['ml', 'machines'] },
    { name: 'phrase without quotes is the same phrase', include: ['machine   learning'], exclude: [], keys: ['ml', 'machines'] },
    { name: 'typographic quotes', include: ['\u201Cmachine learning\u201D'], exclude: [], keys: ['ml', 'machines'] },
    { name: 'Cyrillic whole word, case-insensitive', include: ['питон'], exclude: [], keys: ['ru-upper'] },
    { name: 'Cyrillic word inside a longer word does not match', include: ['питонистам'], exclude: [], keys: ['ru-prefix'] },
    { name: 'several include terms: any of them', include: ['rust', 'google'], exclude: [], keys: ['google', 'summary-only'] },
    { name: 'exclude only', include: [], exclude: ['sponsored', 'google'], keys: entries.map((e) => e.key).filter((k) => k !== 'sponsored' && k !== 'google') },
    { name: 'exclude wins over include', include: ['python'], exclude: ['sponsored'], keys: ['ru'] },
    { name: 'summary is searched too', include: ['rust'], exclude: [], keys: ['summary-only'] },
    { name: 'regex characters are literal', include: ['1.24'], exclude: [], keys: ['go'] },
    { name: 'a dot is not a wildcard', include: ['1x24'], exclude: [], keys: [] },
  ])('$name', ({ include, exclude, keys }) => {
    const selection = compileSelection(subscriber({ keywords: { include, exclude } }), FEEDS);
    expect(selectEntries(entries, selection).map((e) => e.key)).toEqual(keys);
  });

  it('accepts the plain-list form of keywords as include', () => {
    const selection = compileSelection(subscriber({ keywords: ['google'] as unknown as Subscriber['keywords'] }), FEEDS);
    expect(selectEntries(entries, selection).map((e) => e.key)).toEqual(['google']);
  });
});

describe('selectionKey', () => {
  const key = (s: Partial<Subscriber>): string => selectionKey(compileSelection(subscriber(s), FEEDS));

  it.each([
    { name: '"*" equals listing every feed', a: { feeds: ['*'] }, b: { feeds: ['misc', 'ru-news', 'go-blog', 'py-news', 'py-blog'] } },
    { name: 'tag equals its ids', a: { feeds: ['tag:python'] }, b: { feeds: ['py-news', 'py-blog'] } },
    { name: 'unknown feeds do not matter', a: { feeds: ['misc'] }, b: { feeds: ['misc', 'nope'] } },
    { name: 'keyword order, case, quotes and spacing do not matter', a: { keywords: { include: ['Go', '"machine learning"'], exclude: [] } }, b: { keywords: { include: ['machine  learning', 'go', 'GO'], exclude: [] } } },
  ])('same selection, same key: $name', ({ a, b }) => {
    expect(key(a)).toBe(key(b));
  });

  it.each([
    { name: 'different feeds', a: { feeds: ['misc'] }, b: { feeds: ['py-blog'] } },
    { name: 'include vs exclude', a: { keywords: { include: ['go'], exclude: [] } }, b: { keywords: { include: [], exclude: ['go'] } } },
    { name: 'a keyword more', a: { keywords: { include: ['go'], exclude: [] } }, b: { keywords: { include: ['go', 'rust'], exclude: [] } } },
  ])('different selection, different key: $name', ({ a, b }) => {
    expect(key(a)).not.toBe(key(b));
  });
});
