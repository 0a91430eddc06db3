import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminError } from '../../src/admin/admin-error.js';
import { addFeed, exportOpmlFeeds, formatFeedRows, importOpmlFeeds, listFeeds, removeFeed, setFeedField } from '../../src/admin/feed-commands.js';
import { importOpml } from '../../src/admin/opml.js';
import { ConfigError } from '../../src/model/errors.js';
import { SUBSCRIBERS_JSON, tempSubscribers } from './subscribers-file.js';
import type { TempSubscribers } from './subscribers-file.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/opml');

let temp: TempSubscribers;
beforeEach(async () => {
  temp = await tempSubscribers();
});
afterEach(async () => {
  await temp.cleanup();
});

async function expectUntouched(): Promise<void> {
  expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
  expect(await temp.others()).toEqual([]);
}

describe('listFeeds', () => {
  it('lists feeds with the subscribers that receive them (tags, "*" and exclusions resolved)', () => {
    const rows = listFeeds(JSON.parse(SUBSCRIBERS_JSON));
    expect(rows.map((r) => [r.id, r.subscribers])).toEqual([
      ['python', ['alice', 'news-channel']],
      ['rust', ['alice', 'news-channel']],
      ['lwn', ['alice']],
    ]);
    expect(rows[0]).toMatchObject({ title: 'Planet Python', tags: ['python', 'community'] });
    expect(formatFeedRows(rows).split('\n')[3]).toMatch(/^lwn\s+systems,linux\s+1\s+https:\/\/lwn\.net\/headlines\/rss$/);
  });
});

describe('addFeed', () => {
  it('appends the feed in the style of its siblings, id derived from the title', async () => {
    const result = await addFeed(temp.file, { url: 'https://go.dev/blog/feed.atom', title: 'The Go Blog', tags: 'go,community' });
    expect(result.feed.id).toBe('the-go-blog');
    expect(await temp.read()).toContain(
      '        { "id": "lwn", "url": "https://lwn.net/headlines/rss", "tags": ["systems", "linux"] },\n        { "id": "the-go-blog", "url": "https://go.dev/blog/feed.atom", "title": "The Go Blog", "tags": ["go", "community"] }\n    ],',
    );
  });

  it('derives the id from the host when there is no title, and keeps it unique', async () => {
    const first = await addFeed(temp.file, { url: 'https://www.lwn.net/other.rss' });
    expect(first.feed.id).toBe('lwn.net');
    const second = await addFeed(temp.file, { url: 'https://lwn.net/third.rss', title: 'LWN' });
    expect(second.feed.id).toBe('lwn-2');
  });

  it.each<[string, Parameters<typeof addFeed>[1], RegExp]>([
    ['a URL already configured (case/fragment differences ignored)', { url: 'https://LWN.net/headlines/rss#x' }, /already configured as feed "lwn"/],
    ['a duplicate id', { url: 'https://example.org/feed', id: 'rust' }, /a feed with id "rust" already exists/],
    ['an unsupported scheme', { url: 'ftp://example.org/feed' }, /not an http\(s\) URL or a local file path/],
  ])('refuses %s; file untouched', async (_name, input, message) => {
    const error = await addFeed(temp.file, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as Error).message).toMatch(message);
    await expectUntouched();
  });

  it('refuses an invalid tag through validation', async () => {
    const error = await addFeed(temp.file, { url: 'https://example.org/feed', tags: 'ok,not ok' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.path).toBe('feeds[3].tags[1]');
    await expectUntouched();
  });
});

describe('removeFeed', () => {
  it('removes an unreferenced feed', async () => {
    await addFeed(temp.file, { url: 'https://example.org/feed', id: 'spare' });
    const before = await temp.read();
    await removeFeed(temp.file, 'spare');
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(before).not.toBe(SUBSCRIBERS_JSON);
  });

  it('refuses while subscribers reference it, naming them and how', async () => {
    const error = await removeFeed(temp.file, 'python').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as AdminError).kind).toBe('in-use');
    expect((error as Error).message).toBe('feed "python" is still used by 1 subscriber: alice (python)');
    await expectUntouched();
  });

  it('counts a tag reference when the feed is the last one with that tag', async () => {
    const error = await removeFeed(temp.file, 'lwn').catch((e: unknown) => e);
    // "tag:systems" is still served by rust; lwn is named directly by news-channel's excludeFeeds.
    expect((error as Error).message).toBe('feed "lwn" is still used by 1 subscriber: news-channel (lwn)');
  });

  it('--force removes the feed and the references, saying which', async () => {
    const result = await removeFeed(temp.file, 'lwn', { force: true });
    expect(result.references).toEqual([{ subscriberId: 'news-channel', refs: ['lwn'] }]);
    expect(result.message).toBe('Removed feed "lwn". Also removed references from: news-channel (lwn).');
    const doc = await temp.readJson();
    expect(doc.feeds.map((f: { id: string }) => f.id)).toEqual(['python', 'rust']);
    expect(doc.subscribers[1].excludeFeeds).toEqual([]);
  });

  it('--force still refuses when a subscriber would be left without feeds', async () => {
    const text = SUBSCRIBERS_JSON.replace('"feeds": ["python", "tag:systems"]', '"feeds": ["python"]');
    await writeFile(temp.file, text);
    const error = await removeFeed(temp.file, 'python', { force: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as Error).message).toBe('removing feed "python" would leave alice with no feeds at all');
    expect(await temp.read()).toBe(text);
  });

  it('refuses an unknown id with close matches', async () => {
    await expect(removeFeed(temp.file, 'pyton')).rejects.toThrow(/no feed with id "pyton" in .*\. did you mean "python"\?/);
  });
});

describe('setFeedField', () => {
  it('changes title / tags / url in place and removes the title with null', async () => {
    await setFeedField(temp.file, 'rust', 'title', 'Rust Blog');
    expect(await temp.read()).toContain('            "id": "rust",\n            "tags": ["systems"],\n            "title": "Rust Blog"\n        },');
    await setFeedField(temp.file, 'python', 'tags', 'python');
    await setFeedField(temp.file, 'python', 'url', 'https://planetpython.org/rss20-new.xml');
    await setFeedField(temp.file, 'rust', 'title', null);
    const doc = await temp.readJson();
    expect(doc.feeds[0]).toEqual({ id: 'python', url: 'https://planetpython.org/rss20-new.xml', title: 'Planet Python', tags: ['python'] });
    expect(doc.feeds[1].title).toBeUndefined();
  });

  it.each<[string, string, string, RegExp]>([
    ['id', 'id', 'py', /cannot be changed: its seen entries are stored under it/],
    ['unknown field', 'titel', 'x', /"titel" is not a feed field\. did you mean "title"\?/],
    ['url of another feed', 'url', 'https://lwn.net/headlines/rss', /already configured as feed "lwn"/],
  ])('refuses %s', async (_name, key, value, message) => {
    await expect(setFeedField(temp.file, 'python', key, value)).rejects.toThrow(message);
    await expectUntouched();
  });

  it('refuses removing a tag that a subscriber still selects', async () => {
    const error = await setFeedField(temp.file, 'lwn', 'tags', 'linux').then(() => setFeedField(temp.file, 'rust', 'tags', '')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'subscribers[0].feeds[1]', message: expect.stringMatching(/no feed has the tag "systems"/) }]);
  });
});

describe('importOpmlFeeds / exportOpmlFeeds', () => {
  it('adds the new feeds of an OPML file, skipping those already configured', async () => {
    const xml = (await readFile(path.join(fixtures, 'miniflux.opml'), 'utf8')).replace('https://planetpython.org/rss20.xml', 'https://PLANETPYTHON.org/rss20.xml');
    const result = await importOpmlFeeds(temp.file, xml);
    expect(result.feeds).toHaveLength(5);
    expect(result.skipped).toEqual([{ url: 'https://PLANETPYTHON.org/rss20.xml', reason: 'already configured as feed "python"' }]);
    expect(result.message.split('\n')[0]).toBe('Added 5 feeds, skipped 1.');
    const doc = await temp.readJson();
    expect(doc.feeds).toHaveLength(8);
    expect(doc.feeds[3]).toEqual({ id: 'miniflux', url: 'https://miniflux.app/feed.xml', title: 'Miniflux', tags: ['all'] });
    // Imported a second time: nothing new, nothing written.
    const again = await importOpmlFeeds(temp.file, xml);
    expect(again.feeds).toEqual([]);
    expect(again.edit?.changed).toBe(false);
  });

  it('dry run reports without writing', async () => {
    const xml = await readFile(path.join(fixtures, 'feedly.opml'), 'utf8');
    const result = await importOpmlFeeds(temp.file, xml, { dryRun: true });
    expect(result.message.split('\n')[0]).toBe('Would add 5 feeds.');
    await expectUntouched();
  });

  it('exports the configured feeds; importing the export reproduces them', async () => {
    const xml = await exportOpmlFeeds(temp.file, { now: new Date('2025-05-01T12:00:00Z') });
    expect(xml).toContain('<title>Team digest</title>');
    expect(xml).toContain('<dateCreated>Thu, 01 May 2025 12:00:00 GMT</dateCreated>');
    const back = importOpml(xml, { existing: [] });
    expect(back.feeds.map((f) => [f.url, f.tags])).toEqual([
      ['https://planetpython.org/rss20.xml', ['python', 'community']],
      ['https://blog.rust-lang.org/feed.xml', ['systems']],
      ['https://lwn.net/headlines/rss', ['systems', 'linux']],
    ]);
    // Untitled feeds are exported under their id, which is what they come back as.
    expect(back.feeds.map((f) => [f.id, f.title])).toEqual([
      ['planet-python', 'Planet Python'],
      ['rust', 'rust'],
      ['lwn', 'lwn'],
    ]);
  });
});
