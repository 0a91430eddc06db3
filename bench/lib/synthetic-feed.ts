/**
 * Deterministic synthetic feeds for benchmarks: RSS 2.0 (WordPress-like with CDATA content:encoded, or escaped HTML
 * in <description>) and Atom 1.0 (escaped HTML content, or inline XHTML), each entry carrying about `htmlChars`
 * characters of realistic HTML (paragraphs, links, lists, code, figures, non-ASCII text, named entities).
 *
 * Content depends only on (seed, feed index, entry serial), so a feed that gains entries keeps its older entries
 * byte for byte: version v of a feed shows serials [newest - entries + 1, newest] with newest = entries - 1 + v·newPerChange.
 */
import { createSeededRandom, hashSeed, type SeededRandom } from './seeded-random.js';

/** How a synthetic feed is written (mirrors common generators in the wild). */
export type SyntheticFeedStyle = 'rss-wordpress' | 'rss-escaped' | 'atom-html' | 'atom-xhtml';

/** What generateSyntheticFeed builds. */
export interface SyntheticFeedOptions {
  seed: number;
  /** Feed number (0-based); also its host name blogNNNN.example.org in entry links. */
  index: number;
  /** Entries in the document. */
  entries: number;
  /** 0 for the initial document; each version prepends newPerChange entries and drops as many old ones. */
  version: number;
  newPerChange: number;
  /** URL the feed is served at (its rel=self link). */
  selfUrl: string;
  /** Target size of each entry's HTML, characters (default 2000). */
  htmlChars?: number;
}

/** A generated feed document. */
export interface SyntheticFeed {
  style: SyntheticFeedStyle;
  format: 'rss' | 'atom';
  /** Content-Type the static server sends (some without charset, as nginx's text/xml default does). */
  contentType: string;
  body: string;
  /** Date of the newest entry: the document's Last-Modified. */
  lastModified: Date;
  /** guid / atom:id of the entries, newest first. */
  entryIds: string[];
}

const BASE_MS = Date.UTC(2025, 0, 1);
const HOUR_MS = 3_600_000;

const WORDS = (
  'the of and to in is that for it as with was on be by this are from at or an have not but which one all ' +
  'release server feed parser memory latency cache thread kernel compiler runtime module package version ' +
  'benchmark throughput request response header stream buffer socket network index query schema migration ' +
  'deploy rollback container cluster node shard replica backup restore config option default error warning ' +
  'fix patch commit branch merge review test coverage build pipeline artifact library framework plugin ' +
  'café naïve Zürich façade déjà vu résumé Ελληνικά 日本語 München señor coöperate'
).split(' ');
const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Linus Torvalds', 'Margaret Hamilton', 'Ken Thompson', 'Barbara Liskov', 'Dennis Ritchie', 'Frances Allen', 'Zoë Müller', 'José García'];
const TAGS = ['Releases', 'Performance', 'Security', 'Databases', 'Networking', 'Tooling', 'Community', 'Tutorials', 'Opinion', 'Hardware'];
const CODE = ['const x = a < b && c > d;', 'if (n & 1) { return "odd"; }', 'SELECT * FROM t WHERE a <> \'b\';', 'for (let i = 0; i < n; i++) sum += v[i];'];

function escText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function escAttr(s: string): string {
  return escText(s).replace(/"/g, '&quot;');
}

function words(rng: SeededRandom, min: number, max: number): string {
  const n = rng.int(min, max);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(rng.pick(WORDS));
  return out.join(' ');
}

function sentence(rng: SeededRandom): string {
  const s = words(rng, 6, 16);
  return s.charAt(0).toUpperCase() + s.slice(1) + rng.pick(['.', '.', '.', '!', '?', ':']);
}

/** Inline text: sentences with links, emphasis, code and (unless xmlSafe) HTML named entities. */
function inline(rng: SeededRandom, host: string, xmlSafe: boolean): string {
  let out = '';
  const n = rng.int(2, 4);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const s = escText(sentence(rng));
    if (r < 0.2) out += `${s} See <a href="https://${host}/notes/${rng.int(1, 999)}?ref=feed&amp;utm_source=rss">${escText(words(rng, 1, 3))}</a>. `;
    else if (r < 0.35) out += `<strong>${s}</strong> `;
    else if (r < 0.45) out += `<em>${s}</em> `;
    else if (r < 0.55) out += `${s} Use <code>${escText(rng.pick(CODE))}</code> there. `;
    else if (r < 0.65) out += xmlSafe ? `${s} \u2014 “${escText(words(rng, 2, 4))}”\u2026 ` : `${s} &mdash; &ldquo;${escText(words(rng, 2, 4))}&rdquo;&hellip;&nbsp;`;
    else out += `${s} `;
  }
  return out.trim();
}

/** About `target` characters of well-formed (XHTML-compatible) article HTML. */
export function generateArticleHtml(rng: SeededRandom, host: string, target: number, xmlSafe: boolean): string {
  let html = '';
  while (html.length < target) {
    const r = rng.next();
    if (r < 0.55 || html.length === 0) html += `<p>${inline(rng, host, xmlSafe)}</p>\n`;
    else if (r < 0.65) html += `<h2>${escText(words(rng, 2, 5))}</h2>\n`;
    else if (r < 0.75) html += `<ul>${Array.from({ length: rng.int(2, 4) }, () => `<li>${escText(words(rng, 3, 8))}</li>`).join('')}</ul>\n`;
    else if (r < 0.83) html += `<blockquote><p>${escText(sentence(rng))}</p></blockquote>\n`;
    else if (r < 0.91) html += `<pre><code>${escText(rng.pick(CODE))}\n${escText(rng.pick(CODE))}</code></pre>\n`;
    else {
      const n = rng.int(1, 9999);
      html += `<figure><img src="https://${host}/img/${n}.png" alt="${escAttr(words(rng, 2, 5))}" width="640" height="360" /><figcaption>${escText(words(rng, 3, 7))}</figcaption></figure>\n`;
    }
  }
  return html;
}

/** The style of feed `index` (fixed by the seed). */
export function feedStyleOf(seed: number, index: number): SyntheticFeedStyle {
  const r = createSeededRandom(hashSeed(seed, 'style', index)).next();
  return r < 0.35 ? 'rss-wordpress' : r < 0.55 ? 'rss-escaped' : r < 0.9 ? 'atom-html' : 'atom-xhtml';
}

function contentTypeOf(seed: number, index: number, format: 'rss' | 'atom'): string {
  const r = createSeededRandom(hashSeed(seed, 'ctype', index)).next();
  if (r < 0.2) return 'text/xml'; // nginx's default for .xml: no charset, so RFC 3023 says us-ascii
  if (r < 0.35) return 'application/xml; charset=utf-8';
  return format === 'rss' ? 'application/rss+xml; charset=UTF-8' : 'application/atom+xml; charset=utf-8';
}

function rfc822(ms: number): string {
  // WordPress writes "+0000" rather than "GMT".
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

interface EntryData {
  serial: number;
  title: string;
  link: string;
  id: string;
  author: string;
  tags: string[];
  dateMs: number;
  html: string;
  excerpt: string;
}

function entryData(seed: number, index: number, serial: number, style: SyntheticFeedStyle, htmlChars: number, intervalH: number): EntryData {
  const rng = createSeededRandom(hashSeed(seed, 'entry', index, serial));
  const host = `blog${String(index).padStart(4, '0')}.example.org`;
  let title = words(rng, 3, 9);
  title = title.charAt(0).toUpperCase() + title.slice(1);
  if (rng.chance(0.15)) title += ' & more';
  if (rng.chance(0.08)) title = `Why <T> "generics" matter: ${title}`;
  const dateMs = BASE_MS + serial * intervalH * HOUR_MS + rng.int(0, 59) * 60_000;
  const date = new Date(dateMs);
  const slug = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${serial}`;
  const link = `https://${host}/${date.getUTCFullYear()}/${String(date.getUTCMonth() + 1).padStart(2, '0')}/${slug}/`;
  const postId = 1000 + serial;
  const id = style === 'rss-wordpress' ? `https://${host}/?p=${postId}` : style === 'rss-escaped' ? link : `tag:${host},2025:post-${postId}`;
  const html = generateArticleHtml(rng, host, htmlChars, style === 'atom-xhtml');
  const excerpt = `${sentence(rng)} ${sentence(rng)} ${sentence(rng)}`;
  return { serial, title, link, id, author: rng.pick(NAMES), tags: Array.from({ length: rng.int(1, 3) }, () => rng.pick(TAGS)), dateMs, html, excerpt };
}

function rssItem(e: EntryData, style: SyntheticFeedStyle, host: string): string {
  if (style === 'rss-wordpress') {
    return (
      `\t<item>\n\t\t<title>${escText(e.title)}</title>\n\t\t<link>${escText(e.link)}</link>\n` +
      `\t\t<dc:creator><![CDATA[${e.author}]]></dc:creator>\n\t\t<pubDate>${rfc822(e.dateMs)}</pubDate>\n` +
      e.tags.map((t) => `\t\t<category><![CDATA[${t}]]></category>\n`).join('') +
      `\t\t<guid isPermaLink="false">${escText(e.id)}</guid>\n` +
      `\t\t<description><![CDATA[${escText(e.excerpt)} [&#8230;]]]></description>\n` +
      `\t\t<content:encoded><![CDATA[${e.html}]]></content:encoded>\n\t</item>\n`
    );
  }
  const email = `${e.author.split(' ')[0]!.toLowerCase()}@${host}`;
  return (
    `<item><title>${escText(e.title)}</title><link>${escText(e.link)}</link><guid>${escText(e.id)}</guid>` +
    `<pubDate>${new Date(e.dateMs).toUTCString()}</pubDate><author>${escText(`${email} (${e.author})`)}</author>` +
    e.tags.map((t) => `<category>${escText(t)}</category>`).join('') +
    `<description>${escText(e.html)}</description></item>\n`
  );
}

function atomEntry(e: EntryData, style: SyntheticFeedStyle): string {
  const iso = new Date(e.dateMs).toISOString().replace(/\.000Z$/, 'Z');
  const content = style === 'atom-xhtml' ? `<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">${e.html}</div></content>` : `<content type="html">${escText(e.html)}</content>`;
  return (
    `  <entry>\n    <title type="text">${escText(e.title)}</title>\n    <link rel="alternate" type="text/html" href="${escAttr(e.link)}"/>\n` +
    `    <id>${escText(e.id)}</id>\n    <published>${iso}</published>\n    <updated>${iso}</updated>\n` +
    `    <author><name>${escText(e.author)}</name></author>\n` +
    e.tags.map((t) => `    <category term="${escAttr(t)}"/>\n`).join('') +
    `    <summary type="text">${escText(e.excerpt)}</summary>\n    ${content}\n  </entry>\n`
  );
}

/** Build one feed document (pure and deterministic). */
export function generateSyntheticFeed(options: SyntheticFeedOptions): SyntheticFeed {
  const { seed, index, entries, version, newPerChange, selfUrl } = options;
  const htmlChars = options.htmlChars ?? 2000;
  const style = feedStyleOf(seed, index);
  const format = style.startsWith('rss') ? 'rss' : 'atom';
  const feedRng = createSeededRandom(hashSeed(seed, 'feed', index));
  const intervalH = feedRng.int(6, 72);
  const host = `blog${String(index).padStart(4, '0')}.example.org`;
  const site = `https://${host}/`;
  const feedTitle = `${NAMES[index % NAMES.length]}'s ${feedRng.pick(TAGS)} log #${index}`;
  const newest = entries - 1 + version * newPerChange;
  const data: EntryData[] = [];
  for (let serial = newest; serial > newest - entries && serial >= 0; serial--) data.push(entryData(seed, index, serial, style, htmlChars, intervalH));
  const lastModified = new Date(Math.floor((data[0]?.dateMs ?? BASE_MS) / 1000) * 1000);

  let body: string;
  if (format === 'rss') {
    body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" ` +
      `xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n` +
      `\t<title>${escText(feedTitle)}</title>\n\t<atom:link href="${escAttr(selfUrl)}" rel="self" type="application/rss+xml" />\n` +
      `\t<link>${site}</link>\n\t<description>${escText(words(feedRng, 4, 10))}</description>\n` +
      `\t<lastBuildDate>${rfc822(lastModified.getTime())}</lastBuildDate>\n\t<language>en-US</language>\n` +
      `\t<generator>https://wordpress.org/?v=6.7</generator>\n` +
      data.map((e) => rssItem(e, style, host)).join('') +
      `</channel>\n</rss>\n`;
  } else {
    body =
      `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n` +
      `  <title>${escText(feedTitle)}</title>\n  <subtitle>${escText(words(feedRng, 4, 10))}</subtitle>\n` +
      `  <link href="${site}"/>\n  <link rel="self" href="${escAttr(selfUrl)}"/>\n  <id>${site}</id>\n` +
      `  <updated>${lastModified.toISOString()}</updated>\n  <generator uri="https://gohugo.io/">Hugo</generator>\n` +
      data.map((e) => atomEntry(e, style)).join('') +
      `</feed>\n`;
  }
  return { style, format, contentType: contentTypeOf(seed, index, format), body, lastModified, entryIds: data.map((e) => e.id) };
}
