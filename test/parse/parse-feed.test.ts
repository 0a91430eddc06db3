import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/model/errors.js';
import { MAX_ENTRIES, parseFeed } from '../../src/parse/parse-feed.js';
import { isNotWellFormedWarning } from '../../src/parse/parse-warnings.js';
import { identifyEntry } from '../../src/parse/entry-identity.js';
import { htmlToPlainText } from '../../src/parse/html-to-plain-text.js';
import { truncateText } from '../../src/parse/truncate-text.js';

const options = { feedId: 'test', url: 'https://example.com/blog/feed.xml' };

const rssItem = (inner: string) => `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Feed</title><link>https://example.com/</link>
<item>${inner}</item>
</channel></rss>`;

const atomEntry = (inner: string, feedAttrs = '') => `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"${feedAttrs}><title>Feed</title>
<entry><id>urn:e:1</id>${inner}</entry>
</feed>`;

async function firstEntry(xml: string) {
  const feed = await parseFeed(xml, options);
  const entry = feed.entries[0];
  if (!entry) throw new Error('no entry');
  return entry;
}

async function rejection(text: string): Promise<ParseError> {
  try {
    await parseFeed(text, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return err as ParseError;
  }
  throw new Error('parseFeed did not reject');
}

describe('titles: HTML entities decoded exactly once', () => {
  // Column 1 is the title element as written in the XML. The XML parser decodes once; HTML-typed text (Atom
  // type="html", or an RSS title that looks like HTML, as feedparser decides) is decoded once more as HTML, and
  // never a third time. Plain text (Atom type="text", JSON Feed) is not HTML-decoded at all.
  it.each([
    ['<title>AT&amp;T</title>', 'AT&T'],
    ['<title>AT&amp;amp;T</title>', 'AT&T'], // RSS title "AT&amp;T" is escaped HTML: one HTML decode
    ['<title>AT&amp;amp;amp;T</title>', 'AT&amp;T'], // ...and only one: "AT&amp;amp;T" → "AT&amp;T"
    ['<title><![CDATA[AT&amp;T]]></title>', 'AT&T'], // CDATA is not XML-decoded; the HTML decode is the one decode
    ['<title><![CDATA[AT&amp;amp;T]]></title>', 'AT&amp;T'],
    ['<title>&lt;b&gt;Bold&lt;/b&gt; move</title>', 'Bold move'], // escaped markup: tags stripped
    ['<title>5 &lt; 6</title>', '5 < 6'], // a lone "<" is text, not markup
    ['<title>Caf&#233; &#x2615;</title>', 'Café ☕'],
    ['<title>Caf&amp;eacute;</title>', 'Café'],
    ['<title>&hearts; HTML entity</title>', '♥ HTML entity'], // undefined in XML; sax knows HTML 4's set
    ['<title>  spread\n  over   lines </title>', 'spread over lines'],
    ['<title>don\u0092t</title>', 'don’t'], // cp1252 smart quote written as a C1 control
  ])('RSS %s → %j', async (title, expected) => {
    expect((await firstEntry(rssItem(`${title}<link>https://example.com/1</link>`))).title).toBe(expected);
  });

  it.each([
    ['<title type="text">AT&amp;amp;T</title>', 'AT&amp;T'], // text: the XML decode is the only one
    ['<title>Tom &amp; Jerry</title>', 'Tom & Jerry'],
    ['<title type="text">&lt;b&gt; is bold</title>', '<b> is bold'],
    ['<title type="html">AT&amp;amp;T</title>', 'AT&T'],
    ['<title type="html">AT&amp;amp;amp;T</title>', 'AT&amp;T'],
    ['<title type="html">&lt;em&gt;Hi&lt;/em&gt; there</title>', 'Hi there'],
    ['<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><em>Hi</em> &amp;amp; bye</div></title>', 'Hi &amp; bye'],
  ])('Atom %s → %j', async (title, expected) => {
    expect((await firstEntry(atomEntry(title))).title).toBe(expected);
  });

  it('JSON Feed titles are plain text (no HTML decoding)', async () => {
    const feed = await parseFeed(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'A &amp; B', items: [{ id: '1', title: 'AT&amp;T' }] }), options);
    expect(feed.title).toBe('A &amp; B');
    expect(feed.entries[0]?.title).toBe('AT&amp;T');
  });

  it('caps titles at 1000 characters', async () => {
    const entry = await firstEntry(rssItem(`<title>${'word '.repeat(1000)}</title><link>https://example.com/1</link>`));
    expect(entry.title.length).toBeLessThanOrEqual(1000);
    expect(entry.title.endsWith('…')).toBe(true);
  });
});

describe('links', () => {
  it.each([
    ['relative link against the feed URL', rssItem('<link>posts/1.html</link>'), 'https://example.com/blog/posts/1.html'],
    ['root-relative link', rssItem('<link>/posts/1</link>'), 'https://example.com/posts/1'],
    ['guid permalink when there is no link', rssItem('<guid>https://example.com/p/9</guid>'), 'https://example.com/p/9'],
    ['Atom alternate link over other rels', atomEntry('<link rel="self" href="https://api.example.com/1"/><link rel="alternate" type="text/html" href="https://example.com/1"/>'), 'https://example.com/1'],
    ['Atom link without rel is alternate', atomEntry('<link href="https://example.com/2"/>'), 'https://example.com/2'],
    ['xml:base on the feed', atomEntry('<link href="3.html"/>', ' xml:base="https://other.example/base/"'), 'https://other.example/base/3.html'],
    ['xml:base on the entry, relative to the feed base', atomEntry('<link href="4.html"/>'.replace('<link', '<link xml:base="sub/"'), ' xml:base="https://other.example/base/"'), 'https://other.example/base/sub/4.html'],
    ['xml:base chain feed → entry → link', `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example/x/"><title>F</title>
       <entry xml:base="y/"><id>1</id><link xml:base="z/" href="p.html"/></entry></feed>`, 'https://a.example/x/y/z/p.html'],
    ['xml:base on an RSS item', `<rss version="2.0"><channel><title>F</title><item xml:base="https://b.example/dir/"><link>q.html</link></item></channel></rss>`, 'https://b.example/dir/q.html'],
  ])('%s', async (_name, xml, expected) => {
    expect((await firstEntry(xml)).link).toBe(expected);
  });

  it.each([
    ['no link at all', rssItem('<title>Only a title</title><guid isPermaLink="false">abc</guid>')],
    ['guid that is not a permalink', rssItem('<guid isPermaLink="false">https://example.com/not-a-link</guid>')],
    ['non-http scheme', atomEntry('<link href="tag:example.com,2024:1"/>')],
    ['javascript: URL', rssItem('<link>javascript:alert(1)</link><guid>g</guid>')],
  ])('entries without a usable link: %s', async (_name, xml) => {
    const entry = await firstEntry(xml);
    expect(entry.link).toBeUndefined();
    expect(entry.id).toBeTruthy();
  });

  it('feed link comes from <link> or the Atom alternate link', async () => {
    expect((await parseFeed(rssItem('<title>x</title>'), options)).link).toBe('https://example.com/');
    const atom = await parseFeed(`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example/"><title>T</title><link rel="self" href="feed.atom"/><link href="./"/></feed>`, options);
    expect(atom.link).toBe('https://site.example/');
  });
});

describe('entry fields', () => {
  it('RSS item: guid id, dates, author name, summary and content', async () => {
    const entry = await firstEntry(
      rssItem(`<title>Post</title><link>https://example.com/1</link><guid isPermaLink="false">urn:1</guid>
        <pubDate>Thu, 01 Jan 2004 19:48:21 GMT</pubDate><author>jane@example.com (Jane Doe)</author>
        <description>Short &lt;b&gt;teaser&lt;/b&gt;</description>
        <content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<p>Full <em>text</em></p>]]></content:encoded>`),
    );
    expect(entry).toMatchObject({
      id: 'urn:1',
      feedId: 'test',
      title: 'Post',
      link: 'https://example.com/1',
      published: '2004-01-01T19:48:21.000Z',
      author: 'Jane Doe',
      summary: 'Short teaser',
      contentHtml: '<p>Full <em>text</em></p>',
    });
    expect(entry.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('Atom entry: published/updated, several authors, xhtml content without the wrapper div', async () => {
    const entry = await firstEntry(
      atomEntry(`<title>T</title><published>2024-05-01T10:00:00+02:00</published><updated>2024-05-02T00:00:00Z</updated>
        <author><name>Ann</name></author><author><name>Bob</name><email>bob@example.com</email></author>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>world</b> again</p></div></content>`),
    );
    expect(entry.published).toBe('2024-05-01T08:00:00.000Z');
    expect(entry.updated).toBe('2024-05-02T00:00:00.000Z');
    expect(entry.author).toBe('Ann, Bob');
    expect(entry.contentHtml).toBe('<p>Hello <b>world</b> again</p>');
    expect(entry.summary).toBe('Hello world again');
  });

  it('dc:creator and dc:date for RSS 1.0 items', async () => {
    const feed = await parseFeed(
      `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <channel rdf:about="https://example.com/"><title>RDF feed</title><link>https://example.com/</link></channel>
        <item rdf:about="https://example.com/a"><title>A</title><link>https://example.com/a</link><dc:creator>Carol</dc:creator><dc:date>2003-12-31T18:14:55+08:00</dc:date></item>
      </rdf:RDF>`,
      options,
    );
    expect(feed.format).toBe('rdf');
    expect(feed.entries[0]).toMatchObject({ id: 'https://example.com/a', author: 'Carol', published: '2003-12-31T10:14:55.000Z' });
  });

  it('summary is plain text, cut at a word boundary within summaryLength, with "…"', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const feed = await parseFeed(rssItem(`<title>t</title><description>&lt;p&gt;${words}&lt;/p&gt;</description>`), { ...options, summaryLength: 50 });
    const summary = feed.entries[0]?.summary ?? '';
    expect(summary.length).toBeLessThanOrEqual(50);
    expect(summary.endsWith('…')).toBe(true);
    expect(words.startsWith(summary.slice(0, -1))).toBe(true);
    expect(summary.slice(0, -1)).toMatch(/word\d+$/); // ends on a whole word
  });

  it('summary comes from the content when there is no description; contentHtml is the richest HTML', async () => {
    const onlyContent = await firstEntry(atomEntry('<title>t</title><content type="html">&lt;p&gt;Body text&lt;/p&gt;</content>'));
    expect(onlyContent.summary).toBe('Body text');
    expect(onlyContent.contentHtml).toBe('<p>Body text</p>');
    const onlyDescription = await firstEntry(rssItem('<title>t</title><description>&lt;p&gt;Desc&lt;/p&gt;</description>'));
    expect(onlyDescription.contentHtml).toBe('<p>Desc</p>');
    const textContent = await firstEntry(atomEntry('<title>t</title><content type="text">a &lt; b &amp; c</content>'));
    expect(textContent.contentHtml).toBe('a &lt; b &amp; c'); // plain text becomes safe HTML
  });

  it('keeps contentHtml unsanitized (renderers sanitize)', async () => {
    const entry = await firstEntry(rssItem('<title>t</title><description>&lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;ok&lt;/p&gt;</description>'));
    expect(entry.contentHtml).toContain('<script>');
    expect(entry.summary).toBe('ok');
  });

  it('an entry without a date gets none, and the feed says so', async () => {
    const feed = await parseFeed(rssItem('<title>undated</title><link>https://example.com/u</link>'), options);
    expect(feed.entries[0]?.published).toBeUndefined();
    expect(feed.warnings).toContain('1 entry has no date');
    const bad = await parseFeed(rssItem('<title>x</title><link>https://example.com/x</link><pubDate>sometime soon</pubDate>'), options);
    expect(bad.entries[0]?.published).toBeUndefined();
    expect(bad.warnings.join()).toMatch(/unreadable date .*sometime soon/);
  });

  it('entries repeating an id are kept once (the first)', async () => {
    const feed = await parseFeed(
      `<rss version="2.0"><channel><title>F</title>
        <item><guid>same</guid><title>First</title></item><item><guid>same</guid><title>Second</title></item><item><guid>other</guid><title>Third</title></item>
      </channel></rss>`,
      options,
    );
    expect(feed.entries.map((e) => e.title)).toEqual(['First', 'Third']);
    expect(feed.warnings.join()).toMatch(/repeats an earlier entry's id/);
  });

  it(`keeps at most ${MAX_ENTRIES} entries`, async () => {
    const items = Array.from({ length: MAX_ENTRIES + 7 }, (_, i) => `<item><guid>g${i}</guid><title>t${i}</title></item>`).join('');
    const feed = await parseFeed(`<rss version="2.0"><channel><title>Big</title>${items}</channel></rss>`, options);
    expect(feed.entries).toHaveLength(MAX_ENTRIES);
    expect(feed.entries[0]?.id).toBe('g0');
    expect(feed.warnings.join()).toMatch(/only the first 5000/);
  });
});

describe('formats', () => {
  it.each([
    ['RSS 0.91', '<rss version="0.91"><channel><title>T</title><item><title>I</title><link>https://e.example/1</link></item></channel></rss>', 'rss'],
    ['RSS 2.0 without version attribute', '<rss><channel><title>T</title><item><title>I</title><link>https://e.example/1</link></item></channel></rss>', 'rss'],
    ['RSS 0.90 (RDF)', '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>T</title><link>https://e.example/</link></channel><item><title>I</title><link>https://e.example/1</link></item></rdf:RDF>', 'rdf'],
    ['Atom 0.3', '<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title><entry><title>I</title><link rel="alternate" type="text/html" href="https://e.example/1"/><issued>2004-01-01T00:00:00Z</issued></entry></feed>', 'atom'],
    ['Atom with a prefix', '<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>T</a:title><a:entry><a:id>1</a:id><a:title>I</a:title><a:link href="https://e.example/1"/></a:entry></a:feed>', 'atom'],
  ])('%s', async (_name, xml, format) => {
    const feed = await parseFeed(xml, options);
    expect(feed.format).toBe(format);
    expect(feed.title).toBe('T');
    expect(feed.entries).toHaveLength(1);
    expect(feed.entries[0]).toMatchObject({ title: 'I', link: 'https://e.example/1' });
    expect(feed.warnings.filter(isNotWellFormedWarning)).toEqual([]);
  });
});

describe('JSON Feed', () => {
  it.each([
    ['1.0', { version: 'https://jsonfeed.org/version/1', author: { name: 'Old Style' } }, 'Old Style'],
    ['1.1', { version: 'https://jsonfeed.org/version/1.1', authors: [{ name: 'New' }, { name: 'Style' }] }, 'New, Style'],
  ])('JSON Feed %s', async (_v, head, author) => {
    const doc = {
      ...head,
      title: 'My JSON feed',
      home_page_url: 'https://example.org/',
      feed_url: 'https://example.org/feed.json',
      items: [
        {
          id: 1,
          url: '/posts/1',
          title: 'First',
          content_html: '<p>Hello <b>JSON</b></p>',
          date_published: '2024-02-03T04:05:06Z',
          ...('author' in head ? { author: head.author } : { authors: head.authors }),
        },
        { id: '2', external_url: 'https://elsewhere.example/x', content_text: 'Just text', date_modified: '2024-02-04T00:00:00Z' },
      ],
    };
    const feed = await parseFeed(JSON.stringify(doc), options);
    expect(feed).toMatchObject({ format: 'json', title: 'My JSON feed', link: 'https://example.org/' });
    expect(feed.entries[0]).toMatchObject({ id: '1', title: 'First', link: 'https://example.org/posts/1', published: '2024-02-03T04:05:06.000Z', author, summary: 'Hello JSON' });
    expect(feed.entries[1]).toMatchObject({ id: '2', title: '', link: 'https://elsewhere.example/x', updated: '2024-02-04T00:00:00.000Z', summary: 'Just text', contentHtml: 'Just text' });
  });

  it('skips invalid items with a warning and keeps the others', async () => {
    const feed = await parseFeed(
      JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'T', items: [{ id: '1', title: 'ok' }, 'not an object', { id: '3', url: 42 }, { id: '4', title: 'also ok' }] }),
      options,
    );
    expect(feed.entries.map((e) => e.id)).toEqual(['1', '4']);
    expect(feed.warnings.join()).toMatch(/2 JSON Feed items skipped as invalid \(first: items\[1\]/);
  });

  it.each([
    ['JSON that is not a feed', '{"name": "package.json", "dependencies": {}}', 'NOT_A_FEED', /JSON document but not a JSON Feed/],
    ['invalid JSON', '{"version": "https://jsonfeed.org/version/1.1", "items": [', 'PARSE_FAILED', /not valid JSON/],
    ['feed whose items is not an array', '{"version": "https://jsonfeed.org/version/1.1", "items": {}}', 'PARSE_FAILED', /not a valid JSON Feed: items/],
  ])('%s is rejected', async (_name, text, code, message) => {
    const err = await rejection(text);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.message).toContain('feed "test"');
  });
});

describe('not a feed / not well-formed', () => {
  it.each([
    ['an HTML page', '<!DOCTYPE html>\n<html><head><title>Blog</title><link rel="alternate" type="application/rss+xml" href="/feed"></head><body></body></html>'],
    ['an HTML page without doctype', '<html><body><p>Hello</p></body></html>'],
    ['an XHTML page with an XML declaration', '<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'],
    ['an HTML fragment that is not well-formed', '<head><title>Moved</title></head><body>Moved <a HREF=x>here</a>'],
  ])('%s → NOT_A_FEED with advice', async (_name, text) => {
    const err = await rejection(text);
    expect(err.code).toBe('NOT_A_FEED');
    expect(err.message).toBe('feed "test" (https://example.com/blog/feed.xml) is an HTML page, not a feed: look for a <link rel="alternate" type="application/rss+xml"> on it');
    expect(err.hint).toMatch(/feed address/);
  });

  it('an XML document that is not a feed → NOT_A_FEED naming its root element', async () => {
    const err = await rejection('<?xml version="1.0"?><note><to>Tove</to></note>');
    expect(err.code).toBe('NOT_A_FEED');
    expect(err.message).toMatch(/XML document with root element <note>, not an RSS, Atom or RDF feed/);
  });

  it.each([
    ['empty text', '', /is empty/],
    ['plain text', 'Service Unavailable', /neither XML nor JSON/],
  ])('%s is rejected', async (_name, text, message) => {
    expect((await rejection(text)).message).toMatch(message);
  });

  it('malformed XML → PARSE_FAILED with the line and column', async () => {
    const err = await rejection('<?xml version="1.0"?>\n<rss version="2.0">\n<channel>\n<title a="1" a>Broken</title>\n</channel></rss>');
    expect(err.code).toBe('PARSE_FAILED');
    expect(err.message).toMatch(/^feed "test" \(https:\/\/example\.com\/blog\/feed\.xml\) is not well-formed XML: .+ at line 4, column \d+$/);
  });

  it.each([
    ['a stray "&"', rssItem('<title>Fish & Chips</title><link>https://example.com/a?x=1&y=2</link>'), { title: 'Fish & Chips', link: 'https://example.com/a?x=1&y=2' }, /unescaped "&"/],
    ['an unknown entity', rssItem('<title>Caf&eacutex; &bogus;</title><link>https://example.com/b</link>'), { title: 'Caf&eacutex; &bogus;' }, /unknown entity/],
    ['an undeclared namespace prefix', rssItem('<title>T</title><link>https://example.com/c</link><dc:creator>Dee</dc:creator>'), { author: 'Dee' }, /prefix "dc" used without a declaration/],
    ['a truncated document', rssItem('<title>Complete</title><link>https://example.com/d</link>').replace(/<\/channel><\/rss>$/, '<item><title>Half an ite'), { title: 'Complete' }, /truncated/],
    ['an element left open', rssItem('<title>T</title><link>https://example.com/e</link>').replace('<item>', '<itunes:category xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" text="Tech"><item>'), { link: 'https://example.com/e' }, /mis-nested/],
  ])('recovers from %s and says so', async (_name, xml, expected, warning) => {
    const feed = await parseFeed(xml, options);
    expect(feed.entries).toHaveLength(1);
    expect(feed.entries[0]).toMatchObject(expected);
    const repairs = feed.warnings.filter(isNotWellFormedWarning);
    expect(repairs.join('\n')).toMatch(warning);
    expect(repairs.join('\n')).toMatch(/line \d+/);
  });

  it('an RSS document without <channel> parses as an empty feed', async () => {
    const feed = await parseFeed('<?xml version="1.0"?>\n<rss version="2.0">\n</rss>', options);
    expect(feed).toMatchObject({ format: 'rss', title: '', entries: [] });
  });
});

describe('junk before the document', () => {
  it('skips a PHP warning printed before the XML and says so', async () => {
    const feed = await parseFeed('Warning: Cannot modify header information in /var/www/feed.php on line 3\n' + rssItem('<title>T</title><link>https://example.com/1</link>'), options);
    expect(feed.entries[0]?.title).toBe('T');
    expect(feed.warnings.filter(isNotWellFormedWarning).join()).toMatch(/"Warning: Cannot modify header.*" before the XML document was skipped/);
  });
});

describe('parseFeed: summaries from a bounded prefix of long HTML', () => {
  // The summary is converted from a prefix of the description (growing until it reaches past the cut); it must be
  // exactly what converting the whole description gives. The reference: html-to-text over everything, then the cut.
  const escape = (html: string) => html.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const para = (i: number) => `<p>Paragraph ${i} with <strong>bold</strong>, <a href="https://example.com/${i}">a link</a> &amp; an entity &eacute;t&eacute; 😀.</p>\n`;
  const cases: Array<[string, string]> = [
    ['plain paragraphs', Array.from({ length: 200 }, (_, i) => para(i)).join('')],
    ['markup-heavy head (figures and images before any text)', '<figure><img src="a.png" srcset="' + 'a.png 1x, '.repeat(300) + '"></figure>'.repeat(3) + Array.from({ length: 50 }, (_, i) => para(i)).join('')],
    ['a script and a style block first', `<style>${'p{color:red}'.repeat(500)}</style><script>${'var x=1;'.repeat(500)}</script>` + para(1).repeat(40)],
    ['lists and tables', `<ul>${'<li>item one two three</li>'.repeat(200)}</ul><table>${'<tr><td>a</td><td>b</td></tr>'.repeat(100)}</table>`],
    ['one very long word', `<p>${'x'.repeat(5000)} tail</p>`],
    ['entities everywhere', '&lt;tag&gt; &amp;amp; &#8217;quoted&#8217; &hellip; '.repeat(300)],
    ['short description (read whole)', '<p>just a few words</p>'],
  ];

  it.each(cases)('%s', async (_name, html) => {
    for (const summaryLength of [40, 300, 1000]) {
      const feed = await parseFeed(rssItem(`<title>t</title><description>${escape(html)}</description>`), { ...options, summaryLength });
      expect(feed.entries[0]?.summary).toBe(truncateText(htmlToPlainText(html), summaryLength));
    }
  });

  it('an entry identified by its text alone hashes the whole text, not the prefix used for its summary', async () => {
    const html = Array.from({ length: 300 }, (_, i) => para(i)).join('');
    const feed = await parseFeed(rssItem(`<description>${escape(html)}</description><author>a@example.com (Ann)</author>`), options);
    const entry = feed.entries[0];
    expect(entry?.id).toBe(identifyEntry({ fallback: `${htmlToPlainText(html, 20_000)}\nAnn` }));
    // Two such entries that differ only far beyond the summary stay two entries.
    const twins = await parseFeed(
      `<rss version="2.0"><channel><title>F</title><item><description>${escape(html + '<p>end A</p>')}</description></item>` +
        `<item><description>${escape(html.slice(0, 4000) + '<p>end B</p>')}</description></item></channel></rss>`,
      options,
    );
    expect(twins.entries).toHaveLength(2);
    expect(twins.entries[0]?.summary).toBe(twins.entries[1]?.summary);
  });
});

describe('parseFeed: entries the caller already knows get no summary', () => {
  const xml = `<rss version="2.0"><channel><title>F</title>
<item><guid>a</guid><title>A</title><link>https://example.com/a</link><pubDate>Mon, 02 Jun 2025 08:00:00 GMT</pubDate><description>&lt;p&gt;alpha &amp;amp; more&lt;/p&gt;</description></item>
<item><guid>b</guid><title>B</title><description>&lt;p&gt;beta&lt;/p&gt;</description></item>
<item><description>&lt;p&gt;only text identifies me&lt;/p&gt;</description></item>
</channel></rss>`;

  it('only the summaries of unknown keys are converted; identity and every other field are unchanged', async () => {
    const all = await parseFeed(xml, options);
    expect(all.entries.map((e) => e.summary)).toEqual(['alpha & more', 'beta', 'only text identifies me']);
    const [a, b, textOnly] = all.entries;
    const asked: string[] = [];
    const known = new Set([a!.key, textOnly!.key]);
    const some = await parseFeed(xml, { ...options, isKnown: (key) => (asked.push(key), known.has(key)) });
    expect(asked).toEqual(all.entries.map((e) => e.key));
    expect(some.entries.map((e) => e.summary)).toEqual(['', 'beta', '']);
    // Everything else, the text-derived id of the third entry included, is what a full parse gives.
    expect(some.entries).toEqual([{ ...a, summary: '' }, b, { ...textOnly, summary: '' }]);
  });
});
