import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { exportOpml, importOpml } from '../../src/admin/opml.js';
import { ParseError } from '../../src/model/errors.js';
import type { FeedConfig } from '../../src/model/feed.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/opml');
const fixture = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8');
const now = new Date('2025-02-03T04:05:06Z');

describe('importOpml fixtures', () => {
  it('Miniflux (nested categories, numeric character references)', () => {
    const { feeds, skipped, warnings } = importOpml(fixture('miniflux.opml'), { existing: [] });
    expect(feeds.map((f) => [f.id, f.title, f.tags])).toEqual([
      ['miniflux', 'Miniflux', ['all']],
      ['simon-willisons-weblog', "Simon Willison's Weblog", ['all']],
      ['planet-python', 'Planet Python', ['python']],
      ['real-python', 'Real Python', ['python']],
      ['pypi-recent-updates-for-requests', 'PyPI recent updates for requests', ['python']],
      ['ars-technica-features', 'Ars Technica "Features"', ['tech-and-science']],
    ]);
    expect(feeds[4]?.url).toBe('https://pypi.org/rss/project/requests/releases.xml?a=1&b=2');
    expect(skipped).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('FreshRSS (tabs, frss namespace, category attribute, scraper outlines, non-ASCII categories)', () => {
    const { feeds, skipped, warnings } = importOpml(fixture('freshrss.opml'), { existing: [] });
    expect(feeds.map((f) => [f.id, f.tags])).toEqual([
      ['freshrss-releases', ['uncategorized']],
      ['lwn.net', ['developpement']],
      ['the-go-blog', ['developpement']],
      ['rust-blog', ['developpement', 'systems']],
      ['nhk-news', []],
    ]);
    expect(skipped).toEqual([{ url: 'https://news.example.org/', reason: 'web page scraped by FreshRSS (type "HTML+XPath"), not a feed' }]);
    expect(warnings).toEqual(['category "日本語" has no letters or digits usable in a tag; its feeds are imported without it']);
  });

  it('Feedly (OPML 1.0, a feed in two categories gets both tags once)', () => {
    const { feeds } = importOpml(fixture('feedly.opml'), { existing: [] });
    expect(feeds).toHaveLength(5);
    expect(feeds.find((f) => f.url === 'https://jvns.ca/atom.xml')).toEqual({ id: 'julia-evans', url: 'https://jvns.ca/atom.xml', title: 'Julia Evans', tags: ['tech', 'must-read'] });
    expect(feeds.find((f) => f.title === 'Serious Eats')?.tags).toEqual(['food-and-cooking']);
  });

  it('flat list (OPML 2.0 category paths, lowercase attributes, non-feed outlines, duplicates)', () => {
    const { feeds, skipped } = importOpml(fixture('flat.opml'), { existing: [] });
    expect(feeds).toEqual([
      { id: 'scripting-news', url: 'http://scripting.com/rss.xml', title: 'Scripting News', tags: ['blogs', 'tech', 'news'] },
      { id: 'nasa-image-of-the-day', url: 'https://www.nasa.gov/feeds/iotd-feed/', title: 'NASA Image of the Day', tags: [] },
    ]);
    expect(skipped).toEqual([{ url: 'gopher://gopher.example.org/1/phlog', reason: 'not an http(s) URL' }]);
  });
});

describe('importOpml against existing feeds', () => {
  const existing: FeedConfig[] = [
    { id: 'planet-python', url: 'https://planetpython.org/rss20.xml', tags: [] },
    { id: 'miniflux', url: 'https://example.org/some-other-feed', tags: [] },
  ];

  it('skips feeds already configured (by URL) and never reuses an existing id', () => {
    const { feeds, skipped } = importOpml(fixture('miniflux.opml'), { existing });
    expect(skipped).toEqual([{ url: 'https://planetpython.org/rss20.xml', reason: 'already configured as feed "planet-python"' }]);
    expect(feeds.map((f) => f.id)).toEqual(['miniflux-2', 'simon-willisons-weblog', 'real-python', 'pypi-recent-updates-for-requests', 'ars-technica-features']);
  });

  it('derives ids from the host when outlines have no text, unique among themselves', () => {
    const xml = `<opml version="2.0"><body>
      <outline xmlUrl="https://www.example.com/a.xml"/>
      <outline text="" xmlUrl="https://example.com/b.xml"/>
      <outline text="   " title="" xmlUrl="https://blog.example.com/c.xml"/>
    </body></opml>`;
    const { feeds } = importOpml(xml, { existing: [] });
    expect(feeds).toEqual([
      { id: 'example.com', url: 'https://www.example.com/a.xml', tags: [] },
      { id: 'example.com-2', url: 'https://example.com/b.xml', tags: [] },
      { id: 'blog.example.com', url: 'https://blog.example.com/c.xml', tags: [] },
    ]);
  });
});

describe('importOpml refuses unsafe or broken input', () => {
  it.each<[string, string, RegExp, Partial<{ maxLength: number; maxOutlines: number }>?]>([
    ['entity declarations (billion laughs / XXE)', '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><opml><body><outline text="&b;" xmlUrl="http://x/"/></body></opml>', /declares XML entities/],
    ['external entities', '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><opml><body><outline text="&xxe;" xmlUrl="http://x/"/></body></opml>', /declares XML entities/],
    ['malformed XML', '<opml><body><outline text="x"></body></opml>', /not well-formed XML: .*line 1/],
    ['a non-OPML document', '<rss version="2.0"><channel><title>x</title></channel></rss>', /not an OPML document \(root element <rss>/],
    ['an oversized file', `<opml><body>${'<outline text="x"/>'.repeat(100)}</body></opml>`, /too large/, { maxLength: 500 }],
    ['too many outlines', `<opml><body>${'<outline text="x"/>'.repeat(30)}</body></opml>`, /more than 20 outlines/, { maxOutlines: 20 }],
    ['very deep nesting', `<opml><body>${'<outline text="c">'.repeat(80)}<outline text="f" xmlUrl="http://x/"/>${'</outline>'.repeat(80)}</body></opml>`, /nest|deep/i],
  ])('%s', (_name, xml, message, limits) => {
    let error: unknown;
    try {
      importOpml(xml, { existing: [], ...limits });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('exportOpml', () => {
  const feeds: FeedConfig[] = [
    { id: 'amp', url: 'https://example.org/feed?a=1&b=2', title: 'Tom & Jerry <"cartoons"> it\'s', tags: ['fun', 'tv'] },
    { id: 'plain', url: 'https://plain.example/rss', tags: [] },
    { id: 'nl', url: 'https://nl.example/rss', title: 'Line\nbreak\tand \u0007bell', tags: ['fun'] },
  ];

  it('writes well-formed OPML 2.0 with escaped attributes, categories by first tag and htmlUrl when known', () => {
    const xml = exportOpml(feeds, { title: 'Digest <&> "feeds"', now, htmlUrls: new Map([['amp', 'https://example.org/?x=1&y=2']]) });
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        '  <head>',
        '    <title>Digest &lt;&amp;&gt; &quot;feeds&quot;</title>',
        '    <dateCreated>Mon, 03 Feb 2025 04:05:06 GMT</dateCreated>',
        '  </head>',
        '  <body>',
        '    <outline text="fun" title="fun">',
        '      <outline type="rss" text="Tom &amp; Jerry &lt;&quot;cartoons&quot;&gt; it&apos;s" title="Tom &amp; Jerry &lt;&quot;cartoons&quot;&gt; it&apos;s" xmlUrl="https://example.org/feed?a=1&amp;b=2" htmlUrl="https://example.org/?x=1&amp;y=2" category="/fun,/tv"/>',
        '      <outline type="rss" text="Line&#10;break&#9;and bell" title="Line&#10;break&#9;and bell" xmlUrl="https://nl.example/rss"/>',
        '    </outline>',
        '    <outline type="rss" text="plain" title="plain" xmlUrl="https://plain.example/rss"/>',
        '  </body>',
        '</opml>',
        '',
      ].join('\n'),
    );
  });

  it('escaped titles come back exactly (titles are whitespace-normalized on import)', () => {
    const back = importOpml(exportOpml(feeds, { title: 't', now }), { existing: [] });
    expect(back.feeds.find((f) => f.url === feeds[0]!.url)?.title).toBe('Tom & Jerry <"cartoons"> it\'s');
    expect(back.feeds.find((f) => f.url === feeds[2]!.url)?.title).toBe('Line break and bell');
  });

  it.each(['miniflux.opml', 'freshrss.opml', 'feedly.opml', 'flat.opml'])('round trip %s: import -> export -> import gives the same feeds', (name) => {
    const first = importOpml(fixture(name), { existing: [] }).feeds;
    const second = importOpml(exportOpml(first, { title: 'x', now }), { existing: [] }).feeds;
    const byUrl = (list: FeedConfig[]): FeedConfig[] => [...list].sort((a, b) => a.url.localeCompare(b.url));
    expect(first.length).toBeGreaterThan(0);
    expect(byUrl(second)).toEqual(byUrl(first));
  });
});
