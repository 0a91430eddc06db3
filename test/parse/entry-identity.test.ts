import { describe, expect, it } from 'vitest';
import { canonicalLink, entryKey, identifyEntry } from '../../src/parse/entry-identity.js';
import { parseFeed } from '../../src/parse/parse-feed.js';

describe('identifyEntry', () => {
  it.each([
    ['guid wins over everything', { guid: 'g-1', id: 'atom-id', link: 'https://example.com/a', title: 'T', date: 'd' }, 'g-1'],
    ['atom:id / JSON id when there is no guid', { id: 'tag:example.com,2024:1', link: 'https://example.com/a', title: 'T' }, 'tag:example.com,2024:1'],
    ['link when there is no id', { link: 'https://example.com/a', title: 'T' }, 'https://example.com/a'],
    ['blank guid is ignored', { guid: '  ', link: 'https://example.com/a' }, 'https://example.com/a'],
    ['surrounding whitespace is trimmed', { guid: '\n  g-1 \t' }, 'g-1'],
    // Hash computed independently: python3 -c "import hashlib; print(hashlib.sha1(b'Hello\nThu, 01 Jan 2004').hexdigest())"
    ['sha1 of title + date as last resort', { title: 'Hello', date: 'Thu, 01 Jan 2004' }, 'sha1:53e66f98b75dabe00bf7e76989a1cfdc92d4049b'],
  ])('%s', (_name, raw, expected) => {
    expect(identifyEntry(raw)).toBe(expected);
  });

  it('uses the fallback text only when title and date are both empty', () => {
    const a = identifyEntry({ fallback: 'first entry text' });
    const b = identifyEntry({ fallback: 'second entry text' });
    expect(a).not.toBe(b);
    expect(identifyEntry({ title: 'T', fallback: 'one' })).toBe(identifyEntry({ title: 'T', fallback: 'two' }));
  });

  it('caps absurdly long ids (stable, since the cut is deterministic)', () => {
    const id = identifyEntry({ guid: 'x'.repeat(10_000) });
    expect(id).toHaveLength(2048);
    expect(identifyEntry({ guid: 'x'.repeat(10_000) })).toBe(id);
  });
});

describe('entryKey', () => {
  // A storage contract: these values must never change (every stored entry would look new).
  // Computed independently: base64url(sha256(feedId + "\n" + id))[:22] with Python's hashlib.
  it.each([
    ['python', 'https://example.com/post/1', 'CwvN8r-3xFSUt1mgRz3qiD'],
    ['python', 'tag:example.com,2024:1', 'xHsUanOen8YpS5HqUiXl3d'],
    ['', '', 'AbpHGcgLb-kRsJGnwFEktk'],
  ])('entryKey(%j, %j) = %s', (feedId, id, key) => {
    expect(entryKey(feedId, id)).toBe(key);
  });

  it('is 22 URL-safe characters and depends on both feed and id', () => {
    const k = entryKey('feed-a', 'same-id');
    expect(k).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(entryKey('feed-b', 'same-id')).not.toBe(k);
    expect(entryKey('feed-a', 'other-id')).not.toBe(k);
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    expect(entryKey('ab', 'c')).not.toBe(entryKey('a', 'bc'));
  });
});

describe('canonicalLink', () => {
  it.each([
    ['HTTP://Example.COM:80/a/b/?utm_source=x&id=3#frag', 'http://example.com/a/b?id=3'],
    ['https://example.com:443/', 'https://example.com/'],
    ['https://example.com/a/', 'https://example.com/a'],
    ['https://example.com/a', 'https://example.com/a'],
    ['https://example.com/?', 'https://example.com/'],
    ['https://example.com/p?a=1&utm_medium=rss&b=2', 'https://example.com/p?a=1&b=2'],
    ['https://example.com/p?fbclid=1&gclid=2&mc_cid=3', 'https://example.com/p'],
    ['http://user:pw@example.com/x', 'http://example.com/x'],
    ['  https://example.com/x  ', 'https://example.com/x'],
    ['tag:example.com,2004:1', 'tag:example.com,2004:1'],
    ['not a url', 'not a url'],
  ])('%j → %j', (input, expected) => {
    expect(canonicalLink(input)).toBe(expected);
  });

  it.each([
    ['http vs https', 'http://example.com/a', 'https://example.com/a'],
    ['www. prefix', 'https://www.example.com/a', 'https://example.com/a'],
    ['meaningful parameters', 'https://example.com/item?id=1', 'https://example.com/item?id=2'],
    ['parameter order', 'https://example.com/p?a=1&b=2', 'https://example.com/p?b=2&a=1'],
    ['path case', 'https://example.com/Post', 'https://example.com/post'],
  ])('is conservative: keeps %s apart', (_name, a, b) => {
    expect(canonicalLink(a)).not.toBe(canonicalLink(b));
  });
});

describe('entry identity across edits', () => {
  const rss = (title: string, body: string) => `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Blog</title>
  <item><guid>urn:post:1</guid><title>${title}</title><link>https://example.com/1</link><description>${body}</description></item>
  <item><title>${title} (no guid)</title><link>https://example.com/2</link><description>${body}</description></item>
</channel></rss>`;
  const atom = (title: string, body: string) => `<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
  <entry><id>tag:example.com,2024:1</id><title>${title}</title><content type="html">${body}</content><updated>2024-01-01T00:00:00Z</updated></entry>
</feed>`;
  const json = (title: string, body: string) =>
    JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'Blog', items: [{ id: 42, url: 'https://example.com/42', title, content_text: body }] });

  it.each([
    ['RSS', rss],
    ['Atom', atom],
    ['JSON Feed', json],
  ])('%s: editing the title or the content keeps id and key', async (_name, make) => {
    const options = { feedId: 'blog', url: 'https://example.com/feed' };
    const before = await parseFeed(make('First title', 'First body'), options);
    const after = await parseFeed(make('Edited title', 'Completely rewritten body'), options);
    expect(before.entries.length).toBeGreaterThan(0);
    expect(after.entries.map((e) => [e.id, e.key])).toEqual(before.entries.map((e) => [e.id, e.key]));
    expect(after.entries[0]?.title).toBe('Edited title');
  });
});
