/**
 * buildDigest indexes each Batch once and shares that work between all digests of a cycle (they read the same Batch
 * objects). Digests built from shared, already indexed batches must equal digests built from fresh copies, and an index
 * must never serve an entry as it was before an edit.
 */
import { describe, expect, it } from 'vitest';
import { buildDigest, type BuildDigestInput } from '../../src/group/build-digest.js';
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
  { id: 'other', url: 'https://127.0.0.1/other', tags: ['misc'] },
  { id: 'quiet', url: 'https://127.0.0.1/quiet', tags: ['misc'] },
];
const DISPLAY = new Map<string, SourceDisplay>(FEEDS.map((f) => [f.id, { fallbackTitle: f.id.toUpperCase(), link: `https://127.0.0.1/${f.id}/` }]));
const NOW = new Date('2025-06-10T07:00:00.000Z');

function subscriber(overrides: Partial<Subscriber> = {}): Subscriber {
  return { id: 's', name: 'S', email: 's@example.test', feeds: ['*'], excludeFeeds: [], keywords: { include: [], exclude: [] }, paused: false, ...overrides };
}

const TITLES = ['Python 3.14 released', 'JavaScript news', 'Rust and Python together', 'Cooking with memory', 'Release notes', 'python-dev summary'];

/** Three batches: duplicates by key across batches, duplicates by canonical link across feeds, undated and unseen entries. */
function makeBatches(): Batch[] {
  let n = 0;
  const entry = (feedId: string, extra: Partial<Entry> = {}): Entry => {
    n += 1;
    return {
      id: `e${n}`,
      key: `${feedId}:e${n}`,
      feedId,
      title: TITLES[n % TITLES.length]!,
      summary: n % 3 === 0 ? 'About python and memory.' : 'Nothing special.',
      link: `https://blog.example/${feedId}/${n}`,
      published: `2025-06-0${1 + (n % 9)}T0${n % 10}:00:00Z`,
      firstSeen: `2025-06-0${7 + (n % 3)}T06:00:00Z`,
      ...extra,
    };
  };
  const b1 = [entry('planet'), entry('author', { link: 'https://blog.example/shared/1', firstSeen: '2025-06-07T00:00:00Z' }), entry('other'), entry('quiet', { published: undefined }), entry('planet')];
  const b2 = [
    entry('planet', { link: 'HTTPS://Blog.Example:443/shared/1?utm_source=x' }),
    { ...b1[0]!, title: 'Re-detected copy' },
    entry('other', { firstSeen: undefined }),
    entry('author', { link: undefined }),
  ];
  const b3 = [entry('quiet'), entry('planet', { firstSeen: undefined, published: undefined }), entry('other'), entry('author')];
  return [
    { seq: 2, createdAt: '2025-06-08T06:00:00Z', entries: b2 },
    { seq: 1, createdAt: '2025-06-07T06:00:00Z', entries: b1 },
    { seq: 3, createdAt: '2025-06-09T06:00:00Z', entries: b3 },
  ];
}

function build(batches: Batch[], overrides: Partial<BuildDigestInput> = {}): Digest {
  return buildDigest({ batches, cursor: 0, selection: compileSelection(subscriber(), FEEDS), feeds: DISPLAY, title: 'Digest', timezone: 'UTC', now: NOW, maxPerSource: 10, ...overrides });
}

const keysOf = (digest: Digest): string[] => digest.groups.flatMap((g) => g.entries.map((e) => e.key));

const CASES: Array<{ name: string; input: Partial<BuildDigestInput> }> = [
  { name: 'everything', input: {} },
  { name: 'one tag', input: { selection: compileSelection(subscriber({ feeds: ['tag:python'] }), FEEDS) } },
  { name: 'excluded feed', input: { selection: compileSelection(subscriber({ excludeFeeds: ['planet'] }), FEEDS) } },
  { name: 'include keyword', input: { selection: compileSelection(subscriber({ keywords: { include: ['python'], exclude: [] } }), FEEDS) } },
  { name: 'include and exclude', input: { selection: compileSelection(subscriber({ keywords: { include: ['python', 'release'], exclude: ['rust'] } }), FEEDS) } },
  { name: 'same keywords, other feeds', input: { selection: compileSelection(subscriber({ feeds: ['tag:misc'], keywords: { include: ['python', 'release'], exclude: ['rust'] } }), FEEDS) } },
  { name: 'cursor after the first batch', input: { cursor: 1 } },
  { name: 'cap', input: { cap: 3 } },
  { name: 'maxPerSource', input: { maxPerSource: 1 } },
];

describe('buildDigest over batches shared by many digests', () => {
  it.each(CASES)('$name: equals the digest built from fresh copies of the batches', ({ input }) => {
    const shared = makeBatches();
    // Other digests of the cycle index the batches first.
    for (const other of CASES) build(shared, other.input);
    const digest = build(shared, input);
    expect(digest).toEqual(build(structuredClone(shared), input));
    expect(digest.entryCount).toBeGreaterThan(0);
  });

  it('still deduplicates by key (earliest seen wins) and by canonical link, selection first', () => {
    const shared = makeBatches();
    build(shared);
    const digest = build(shared);
    const keys = keysOf(digest);
    expect(new Set(keys).size).toBe(keys.length);
    // b1's first entry was re-detected in b2 under the same key: the earlier copy is shown.
    expect(digest.groups.flatMap((g) => g.entries).find((e) => e.key === 'planet:e1')?.title).toBe(TITLES[1]);
    // The same article via author (b1) and planet (b2): one copy, the earlier one, unless its feed is not selected.
    expect(keys).toContain('author:e2');
    expect(keys).not.toContain('planet:e6');
    expect(keysOf(build(shared, { selection: compileSelection(subscriber({ feeds: ['planet'] }), FEEDS) }))).toContain('planet:e6');
  });

  it('gives entries stored without firstSeen their batch time, as one shared object for every digest', () => {
    const shared = makeBatches();
    const find = (digest: Digest) => digest.groups.flatMap((g) => g.entries).find((e) => e.key === 'other:e7');
    const a = find(build(shared));
    const b = find(build(shared, { timezone: 'Asia/Tokyo' }));
    expect(a?.firstSeen).toBe('2025-06-08T06:00:00Z');
    // The same object: renderers key their per-entry memo on it.
    expect(b).toBe(a);
  });

  it.each([
    {
      name: 'a title edited so that a keyword no longer matches',
      edit: (batches: Batch[]) => {
        batches[1]!.entries[0]!.title = 'Nothing to see';
      },
      input: { selection: compileSelection(subscriber({ keywords: { include: ['javascript'], exclude: [] } }), FEEDS) },
    },
    {
      name: 'a link edited so that two entries are no longer the same article',
      edit: (batches: Batch[]) => {
        batches[0]!.entries[0]!.link = 'https://blog.example/elsewhere';
      },
      input: {},
    },
    {
      name: 'a publication date edited (order)',
      edit: (batches: Batch[]) => {
        batches[2]!.entries[0]!.published = '2030-01-01T00:00:00Z';
      },
      input: {},
    },
    {
      name: 'an entry replaced by another object',
      edit: (batches: Batch[]) => {
        batches[2]!.entries[2] = { ...batches[2]!.entries[2]!, title: 'Replaced', key: 'other:replaced' };
      },
      input: {},
    },
    {
      name: 'an entry appended to a batch',
      edit: (batches: Batch[]) => {
        batches[2]!.entries.push({ id: 'late', key: 'quiet:late', feedId: 'quiet', title: 'Late arrival', summary: '', firstSeen: '2025-06-09T06:00:00Z' });
      },
      input: {},
    },
  ])('serves $name as it is now, not as it was indexed', ({ edit, input }) => {
    const shared = makeBatches();
    const before = build(shared, input);
    edit(shared);
    const after = build(shared, input);
    expect(after).not.toEqual(before);
    expect(after).toEqual(build(structuredClone(shared), input));
  });
});

describe('compiled keyword patterns', () => {
  it('are shared between selections with the same keywords, so per-entry matches are shared too', () => {
    const a = compileSelection(subscriber({ feeds: ['tag:python'], keywords: { include: ['Python', '"memory latency"'], exclude: ['rust'] } }), FEEDS);
    const b = compileSelection(subscriber({ feeds: ['other'], keywords: { include: ['"memory latency"', 'python'], exclude: ['Rust'] } }), FEEDS);
    expect(b.includePattern).toBe(a.includePattern);
    expect(b.excludePattern).toBe(a.excludePattern);
    // Neither global nor sticky: sharing one object cannot carry state from one test() to the next.
    expect(a.includePattern!.flags).not.toMatch(/[gy]/);
    expect([a.includePattern!.test('python'), a.includePattern!.test('python'), a.includePattern!.test('pythonic')]).toEqual([true, true, false]);
  });
});
