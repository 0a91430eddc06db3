import { CORPUS_DIR } from '../helpers/corpus-dir.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeFeedBytes } from '../../src/fetch/decode-feed-bytes.js';
import type { ParsedFeed } from '../../src/model/entry.js';
import { ParseError } from '../../src/model/errors.js';
import { htmlToPlainText } from '../../src/parse/html-to-plain-text.js';
import { parseFeed } from '../../src/parse/parse-feed.js';

// Real feed snapshots from the shared corpus (see /work/shared/corpus/README.md). Every feed must parse with a
// non-empty title and the right number of entries; the documents the corpus READMEs call non-feeds must be rejected
// with a clear error. Expected entry counts are derived from the raw documents with a simple independent scan, not
// from our own output.
const CORPUS = CORPUS_DIR;
const SNAPSHOT_DIRS = ['rss-parser/input', 'node-feedparser/feeds', 'feedjira/sample_feeds', 'miniflux/internal/reader/parser/testdata', 'realpython-reader/tests'];

/** Files the corpus READMEs describe as not feeds, with the error code we must give. */
const NOT_FEEDS: Record<string, 'NOT_A_FEED' | 'PARSE_FAILED'> = {
  'rss-parser/input/unrecognized.rss': 'NOT_A_FEED', // HTML "Document Moved" page
  'node-feedparser/feeds/notafeed.html': 'NOT_A_FEED',
  'feedjira/sample_feeds/DuplicateContentAtomFeed.xml': 'NOT_A_FEED', // an XHTML page with a feed pasted into its body
  'feedjira/sample_feeds/AmazonWebServicesBlogFirstEntryContent.xml': 'NOT_A_FEED', // expected-value fragments
  'feedjira/sample_feeds/HREFConsideredHarmfulFirstEntry.xml': 'NOT_A_FEED',
  'feedjira/sample_feeds/PaulDixExplainsNothingFirstEntryContent.xml': 'NOT_A_FEED',
  'feedjira/sample_feeds/TechCrunchFirstEntry.xml': 'NOT_A_FEED',
  'feedjira/sample_feeds/TechCrunchFirstEntryDescription.xml': 'NOT_A_FEED',
  'feedjira/sample_feeds/TenderLovemakingFirstEntry.xml': 'NOT_A_FEED',
};

const GZIP = new Set(['node-feedparser/feeds/compressed.xml', 'node-feedparser/feeds/invalid-characters-gzipped.xml']);

const files = SNAPSHOT_DIRS.flatMap((dir) =>
  readdirSync(join(CORPUS, dir))
    .filter((name) => !/^(README\.md|LICENSE)$/.test(name))
    .map((name) => `${dir}/${name}`),
);

function readBytes(rel: string): Buffer {
  const raw = readFileSync(join(CORPUS, rel));
  // Content-Encoding is the fetch stage's job: here the test plays that part.
  return GZIP.has(rel) ? gunzipSync(raw) : raw;
}

async function parseBytes(bytes: Uint8Array, url = 'https://feeds.example/feed.xml'): Promise<ParsedFeed> {
  return parseFeed(decodeFeedBytes(bytes).text, { feedId: 'snapshot', url });
}

// The big snapshots are parsed once per URL and shared between tests (keeps the suite fast on 2 cores).
const parsed = new Map<string, Promise<ParsedFeed>>();
function parseCorpusFile(rel: string, url = 'https://feeds.example/feed.xml'): Promise<ParsedFeed> {
  const key = `${rel} ${url}`;
  let p = parsed.get(key);
  if (!p) parsed.set(key, (p = parseBytes(readBytes(rel), url)));
  return p;
}

/**
 * Independent expectation from the raw text: the number of top-level <item>/<entry> elements (nested ones do not
 * count), minus those repeating an earlier item's <guid>/<id> (a feed's entries are unique by id).
 */
function expectedEntryCount(text: string): number {
  const body = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
  let depth = 0;
  let start = 0;
  const ids: string[] = [];
  let count = 0;
  for (const m of body.matchAll(/<(\/?)(?:[\w-]+:)?(item|entry)(?=[\s>/])[^>]*?(\/?)>/g)) {
    if (m[1]) {
      depth--;
      if (depth === 0) {
        const span = body.slice(start, m.index);
        const id = /<(?:[\w-]+:)?(?:guid|id)(?:\s[^>]*)?>([\s\S]*?)<\//.exec(span)?.[1]?.trim();
        if (id) ids.push(id);
      }
    } else if (!m[3]) {
      if (depth === 0) {
        count++;
        start = m.index;
      }
      depth++;
    } else if (depth === 0) count++;
  }
  return count - (ids.length - new Set(ids).size);
}

/** True when the raw document has a feed-level title with text (before the first item/entry). */
function hasFeedTitle(text: string): boolean {
  const head = text.split(/<(?:[\w-]+:)?(?:item|entry)[\s>]/)[0] ?? '';
  return /<(?:[\w-]+:)?title(?:\s[^>]*)?>\s*(?:<!\[CDATA\[)?\s*[^<\s]/.test(head);
}

describe('real feed snapshots parse', () => {
  const feeds = files.filter((f) => !(f in NOT_FEEDS));
  it('the corpus is where the README says', () => {
    expect(feeds.length).toBeGreaterThan(100);
  });

  it.each(feeds)('%s', async (rel) => {
    const text = decodeFeedBytes(readBytes(rel)).text;
    const feed = await parseCorpusFile(rel);
    if (rel.endsWith('.json')) {
      expect(feed.entries).toHaveLength((JSON.parse(text) as { items: unknown[] }).items.length);
      expect(feed.title).not.toBe('');
      return;
    }
    expect(feed.entries).toHaveLength(expectedEntryCount(text));
    if (hasFeedTitle(text)) expect(feed.title).not.toBe('');
    else expect(feed.title).toBe('');
    for (const entry of feed.entries) {
      expect(entry.id).not.toBe('');
      expect(entry.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
      if (entry.link) expect(entry.link).toMatch(/^https?:\/\//);
      expect(entry.summary.length).toBeLessThanOrEqual(300);
      for (const d of [entry.published, entry.updated]) if (d) expect(d).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });
});

describe('documents that are not feeds are rejected clearly', () => {
  it.each(Object.entries(NOT_FEEDS))('%s → %s', async (rel, code) => {
    const err = await parseBytes(readBytes(rel)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).code).toBe(code);
    expect((err as ParseError).message).toMatch(/^feed "snapshot" \(https:\/\/feeds\.example\/feed\.xml\) is (an HTML page, not a feed|an XML document with root element <\w+>, not)/);
  });

  it.each([...GZIP])('%s given as raw gzip bytes is rejected cleanly', async (rel) => {
    const err = await parseBytes(readFileSync(join(CORPUS, rel))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ParseError);
  });

  it.each([
    ['miniflux/internal/reader/xml/testdata/iso88591.xml', 'note'],
    ['miniflux/internal/reader/xml/testdata/iso88591_utf8_mismatch.xml', 'note'],
  ])('%s (an XML <note>) → NOT_A_FEED', async (rel, root) => {
    await expect(parseBytes(readFileSync(join(CORPUS, rel)))).rejects.toMatchObject({ code: 'NOT_A_FEED', message: expect.stringContaining(`root element <${root}>`) });
  });
});

describe('values the source projects document', () => {
  const parseFile = (rel: string, url?: string) => parseCorpusFile(rel, url);

  it('Real Python (realpython-reader test_feed.py)', async () => {
    const full = await parseFile('realpython-reader/tests/realpython_20180919.xml');
    expect(full).toMatchObject({ format: 'atom', title: 'Real Python', link: 'https://realpython.com/' });
    expect(full.entries).toHaveLength(20);
    expect(full.entries[0]?.title).toBe('Absolute vs Relative Imports in Python');
    expect(full.entries[9]?.title).toBe('Primer on Python Decorators');
    expect(htmlToPlainText(full.entries[2]?.contentHtml ?? '')).toContain("logging.info('This is an info message')");
    const summaries = await parseFile('realpython-reader/tests/realpython_descriptions_20180919.xml');
    expect(summaries.entries[1]?.title).toBe('Top 10 Must-Watch PyCon Talks');
    expect(summaries.entries[1]?.summary).toMatch(/^Get the inside scoop/);
  });

  it('Tender Lovemaking and the AWS blog (feedjira specs)', async () => {
    const tender = await parseFile('feedjira/sample_feeds/TenderLovemaking.xml');
    expect(tender).toMatchObject({ title: 'Tender Lovemaking', link: 'http://tenderlovemaking.com/' });
    expect(tender.entries[0]).toMatchObject({ title: 'Nokogiri’s Slop Feature', author: 'Aaron Patterson', id: 'http://tenderlovemaking.com/?p=198' });
    const aws = await parseFile('feedjira/sample_feeds/AmazonWebServicesBlog.xml');
    expect(aws.title).toBe('Amazon Web Services Blog');
    expect(aws.entries[0]).toMatchObject({
      link: 'http://aws.typepad.com/aws/2009/01/aws-job-architect-designer-position-in-turkey.html',
      author: 'AWS Editor',
      id: 'tag:typepad.com,2003:post-61484736',
      title: 'AWS Job: Architect & Designer Position in Turkey',
    });
    const json = await parseFile('feedjira/sample_feeds/json_feed.json');
    expect(json).toMatchObject({ format: 'json', title: 'inessential.com', link: 'http://inessential.com/', description: 'Brent Simmons’s weblog.' });
  });

  it('node-feedparser edge cases', async () => {
    const dupes = await parseFile('node-feedparser/feeds/guid-dupes.xml');
    expect(dupes.entries[0]?.id).toBe('http://www.braingle.com/50366.html');
    const nlab = await parseFile('node-feedparser/feeds/non-text-alternate-links.xml');
    expect(nlab.entries[0]?.link).toBe('https://ncatlab.org/nlab/show/%280%2C1%29-category');
    const tagLinks = await parseFile('node-feedparser/feeds/atom-with-tag-uri-links.xml');
    expect(tagLinks.entries[0]?.link).toBeUndefined(); // a tag: URI is not a link we can show
    const sam = await parseFile('node-feedparser/feeds/intertwingly.atom', 'http://intertwingly.net/blog/index.atom');
    expect(sam.link).toBe('http://intertwingly.net/blog/');
    const trailing = await parseFile('node-feedparser/feeds/rss-with-trailing-meta.xml');
    expect(trailing.title).toBe('Trailing Meta Feed');
    const sax = await parseFile('node-feedparser/feeds/saxerror.xml');
    expect(sax.entries).toHaveLength(3);
    expect(sax.warnings.some((w) => w.startsWith('not well-formed'))).toBe(true);
    const gz = await parseFile('node-feedparser/feeds/compressed.xml');
    const plain = await parseBytes(readFileSync(join(CORPUS, 'node-feedparser/feeds/iconv.xml')));
    expect(gz.title).toBe('Новости Оренбурга и области / Раздел Новости');
    expect(gz.entries.map((e) => e.id)).toEqual(plain.entries.map((e) => e.id));
  });

  it('charsets and format detection (rss-parser, miniflux)', async () => {
    const jn = await parseFile('rss-parser/input/encoding.rss');
    expect(jn.title).toBe('Jornal de Notícias - Últimas Notícias');
    expect((await parseFile('rss-parser/input/reddit-atom.rss')).format).toBe('rss');
    expect((await parseFile('rss-parser/input/reddit-home.rss')).format).toBe('atom');
    expect((await parseFile('rss-parser/input/uolNoticias.rss')).entries).toHaveLength(15);
    expect((await parseFile('miniflux/internal/reader/parser/testdata/encoding_ISO-8859-1.xml')).title).toBe('Golem.de');
    expect((await parseFile('miniflux/internal/reader/parser/testdata/rdf_UTF8.xml')).format).toBe('rdf');
  });
});
