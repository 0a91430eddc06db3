/**
 * OPML import and export of the feed list (OPML 2.0, http://opml.org/spec2.opml; 1.0 files read the same way).
 * Readers in the wild: Feedly and Miniflux nest feeds under category outlines, FreshRSS too (plus its frss:
 * namespace and web-scraping types), others put feeds flat and name categories in the OPML 2.0 `category` attribute.
 */
import { decodeXML, escapeUTF8 } from 'entities';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { FeedConfig } from '../model/feed.js';
import { ParseError } from '../model/errors.js';
import { deriveFeedId, deriveTag } from './derive-feed-id.js';

/** Options for importOpml. */
export interface ImportOpmlOptions {
  /** Feeds already configured: outlines with one of their URLs are skipped, their ids are not reused. */
  existing: readonly FeedConfig[];
  /** Largest OPML text accepted, in characters (default 5 MiB). */
  maxLength?: number;
  /** Most outlines accepted (default 20 000). */
  maxOutlines?: number;
}

/** Feeds found in an OPML file, and the outlines that were not imported and why. */
export interface ImportOpmlResult {
  feeds: FeedConfig[];
  skipped: Array<{ url: string; reason: string }>;
  /** Things imported with a loss (e.g. a category name with no usable characters for a tag). */
  warnings: string[];
}

/** Options for exportOpml. */
export interface ExportOpmlOptions {
  /** The OPML head title. */
  title: string;
  /** Written as dateCreated. */
  now: Date;
  /** Site links by feed id (e.g. from the store's FeedState.link), written as htmlUrl. */
  htmlUrls?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

const DEFAULT_MAX_LENGTH = 5 * 1024 * 1024;
const DEFAULT_MAX_OUTLINES = 20_000;
const MAX_DEPTH = 50;
const MAX_TITLE = 200;
const MAX_URL = 2048;
const MAX_TAGS = 50;
// FreshRSS exports web pages scraped with XPath / JSON dot notation under these outline types; they are not feeds.
const SCRAPER_TYPES = new Set(['html+xpath', 'xml+xpath', 'json+dotnotation', 'html+xpath+json+dotnotation']);

type Outline = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  isArray: (name) => name === 'outline',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  // Entities are decoded below, exactly once, by a decoder that knows only XML's five and numeric references:
  // no DOCTYPE-defined (let alone external) entity is ever expanded.
  processEntities: false,
  htmlEntities: false,
  attributeValueProcessor: (_name, value) => decodeXML(value),
  tagValueProcessor: (_name, value) => decodeXML(value),
  maxNestedTags: MAX_DEPTH + 10,
});

/** Attribute lookup ignoring case and namespace-less variants ("xmlUrl", "xmlurl"). */
function attributesOf(outline: Outline): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const [key, value] of Object.entries(outline)) {
    if (key.startsWith('@_') && typeof value === 'string') attributes.set(key.slice(2).toLowerCase(), value);
  }
  return attributes;
}

function childOutlines(outline: Outline): Outline[] {
  const children = outline['outline'];
  return Array.isArray(children) ? children.filter((c): c is Outline => c !== null && typeof c === 'object') : [];
}

function cleanText(text: string | undefined, max: number): string | undefined {
  const clean = text?.replace(/\s+/g, ' ').trim().slice(0, max).trim();
  return clean === '' ? undefined : clean;
}

/** Same feed, however the exporter spelled it: host case, default port and fragment do not matter. */
function urlKey(url: string): string {
  try {
    const parsed = new URL(url.trim());
    parsed.hash = '';
    return parsed.href;
  } catch {
    return url.trim();
  }
}

function uniquePush(list: string[], items: Iterable<string>): void {
  for (const item of items) if (!list.includes(item)) list.push(item);
}

/**
 * Reads feeds from an OPML document: outlines with an xmlUrl become feeds (title from title/text, id derived from the
 * title and unique), enclosing category outlines and the OPML 2.0 `category` attribute become tags, feeds already in
 * `existing` (by URL) are skipped, a feed listed under several categories is imported once with all their tags.
 * Throws ParseError for a document that is not well-formed OPML or exceeds the limits.
 */
export function importOpml(xml: string, options: ImportOpmlOptions): ImportOpmlResult {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxOutlines = options.maxOutlines ?? DEFAULT_MAX_OUTLINES;
  if (xml.length > maxLength) {
    throw new ParseError(`OPML file too large (${xml.length} characters; at most ${maxLength})`, { hint: 'Split it into smaller files.' });
  }
  const text = xml.replace(/^\uFEFF/, '');
  if (/<!ENTITY/i.test(text)) {
    throw new ParseError('OPML file declares XML entities (<!ENTITY …>); refused, OPML never needs them', { hint: 'Remove the DOCTYPE from the file.' });
  }
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new ParseError(`not well-formed XML: ${msg} (line ${line}, column ${col})`, { hint: 'Export the OPML file again from your feed reader.' });
  }
  let document: Record<string, unknown>;
  try {
    document = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ParseError(`cannot read the OPML file: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const opml = document['opml'];
  if (opml === null || typeof opml !== 'object') {
    const root = Object.keys(document).find((k) => !k.startsWith('?')) ?? 'none';
    throw new ParseError(`not an OPML document (root element <${root}>, expected <opml>)`, { notAFeed: true });
  }
  const body = (opml as Record<string, unknown>)['body'];
  const top = body !== null && typeof body === 'object' ? childOutlines(body as Outline) : [];

  const existingByUrl = new Map<string, string>();
  for (const feed of options.existing) existingByUrl.set(urlKey(feed.url), feed.id);
  const found = new Map<string, { url: string; title?: string; tags: string[] }>();
  const skipped: ImportOpmlResult['skipped'] = [];
  const warnings: string[] = [];
  let outlineCount = 0;

  const walk = (outlines: Outline[], tags: readonly string[], depth: number): void => {
    if (depth > MAX_DEPTH) throw new ParseError(`OPML outlines nested deeper than ${MAX_DEPTH} levels`);
    for (const outline of outlines) {
      if (++outlineCount > maxOutlines) throw new ParseError(`OPML file has more than ${maxOutlines} outlines`, { hint: 'Split it into smaller files.' });
      const attributes = attributesOf(outline);
      const rawUrl = attributes.get('xmlurl')?.trim();
      const name = cleanText(attributes.get('title'), MAX_TITLE) ?? cleanText(attributes.get('text'), MAX_TITLE);
      if (!rawUrl) {
        const children = childOutlines(outline);
        // An outline without xmlUrl and without children is a note or a link, not a feed: ignored.
        if (children.length === 0) continue;
        const tag = name !== undefined ? deriveTag(name) : undefined;
        if (name !== undefined && tag === undefined) warnings.push(`category "${name}" has no letters or digits usable in a tag; its feeds are imported without it`);
        walk(children, tag !== undefined && !tags.includes(tag) ? [...tags, tag] : tags, depth + 1);
        continue;
      }
      const type = attributes.get('type')?.toLowerCase() ?? '';
      if (SCRAPER_TYPES.has(type)) {
        skipped.push({ url: rawUrl, reason: `web page scraped by FreshRSS (type "${attributes.get('type')}"), not a feed` });
        continue;
      }
      if (rawUrl.length > MAX_URL) {
        skipped.push({ url: rawUrl.slice(0, 100) + '…', reason: `URL longer than ${MAX_URL} characters` });
        continue;
      }
      let protocol = '';
      try {
        protocol = new URL(rawUrl).protocol;
      } catch {
        // reported below
      }
      if (protocol !== 'http:' && protocol !== 'https:') {
        skipped.push({ url: rawUrl, reason: 'not an http(s) URL' });
        continue;
      }
      const key = urlKey(rawUrl);
      const existingId = existingByUrl.get(key);
      if (existingId !== undefined) {
        skipped.push({ url: rawUrl, reason: `already configured as feed "${existingId}"` });
        continue;
      }
      const feedTags = [...tags];
      uniquePush(feedTags, tagsFromCategoryAttribute(attributes.get('category'), warnings));
      const seen = found.get(key);
      if (seen) {
        // Feedly and others list a feed once per category it is in.
        uniquePush(seen.tags, feedTags);
        continue;
      }
      found.set(key, { url: rawUrl, title: name, tags: feedTags });
      // Rare, but some outliners nest things under a feed outline.
      walk(childOutlines(outline), tags, depth + 1);
    }
  };
  walk(top, [], 0);

  const taken = new Set(options.existing.map((f) => f.id));
  const feeds: FeedConfig[] = [];
  for (const item of found.values()) {
    const id = deriveFeedId({ title: item.title, url: item.url }, taken);
    taken.add(id);
    if (item.tags.length > MAX_TAGS) warnings.push(`feed "${id}" had ${item.tags.length} tags; kept the first ${MAX_TAGS}`);
    const feed: FeedConfig = { id, url: item.url, tags: item.tags.slice(0, MAX_TAGS) };
    if (item.title !== undefined) feed.title = item.title;
    feeds.push(orderFeedKeys(feed));
  }
  return { feeds, skipped, warnings };
}

/** Key order as written in subscribers.json: id, url, title, tags. */
function orderFeedKeys(feed: FeedConfig): FeedConfig {
  return feed.title !== undefined ? { id: feed.id, url: feed.url, title: feed.title, tags: feed.tags } : { id: feed.id, url: feed.url, tags: feed.tags };
}

/** OPML 2.0 `category`: comma-separated, slash-delimited paths ("/Tech/Web,news"); every segment is a tag. */
function tagsFromCategoryAttribute(value: string | undefined, warnings: string[]): string[] {
  if (!value) return [];
  const tags: string[] = [];
  for (const path of value.split(',')) {
    for (const segment of path.split('/')) {
      const name = segment.trim();
      if (name === '') continue;
      const tag = deriveTag(name);
      if (tag === undefined) warnings.push(`category "${name}" has no letters or digits usable in a tag; ignored`);
      else uniquePush(tags, [tag]);
    }
  }
  return tags;
}

// XML 1.0 forbids these characters even escaped; feed titles from hostile feeds may contain them.
// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes an attribute value: & < > " ' as entities, and tab/CR/LF as character references so parsers keep them. */
function escapeAttribute(value: string): string {
  return escapeUTF8(value.replace(INVALID_XML_CHARS, '')).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function attributesText(attributes: Array<[string, string | undefined]>): string {
  return attributes
    .filter((a): a is [string, string] => a[1] !== undefined && a[1] !== '')
    .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
    .join('');
}

function lookup(links: ExportOpmlOptions['htmlUrls'], id: string): string | undefined {
  if (!links) return undefined;
  if (links instanceof Map) return links.get(id);
  return Object.prototype.hasOwnProperty.call(links, id) ? (links as Record<string, string>)[id] : undefined;
}

/**
 * Writes the feeds as OPML 2.0: a feed goes under the category outline of its first tag (untagged feeds at the top
 * level), in the order given; every tag is also listed in the `category` attribute when a feed has several, so an
 * import of the export gives the same feeds back.
 */
export function exportOpml(feeds: readonly FeedConfig[], options: ExportOpmlOptions): string {
  type Item = { kind: 'feed'; feed: FeedConfig } | { kind: 'category'; tag: string; feeds: FeedConfig[] };
  const items: Item[] = [];
  const categories = new Map<string, Extract<Item, { kind: 'category' }>>();
  for (const feed of feeds) {
    const first = feed.tags[0];
    if (first === undefined) {
      items.push({ kind: 'feed', feed });
      continue;
    }
    let category = categories.get(first);
    if (!category) {
      category = { kind: 'category', tag: first, feeds: [] };
      categories.set(first, category);
      items.push(category);
    }
    category.feeds.push(feed);
  }
  const feedLine = (feed: FeedConfig, indent: string): string => {
    const label = feed.title ?? feed.id;
    return `${indent}<outline${attributesText([
      ['type', 'rss'],
      ['text', label],
      ['title', label],
      ['xmlUrl', feed.url],
      ['htmlUrl', lookup(options.htmlUrls, feed.id)],
      ['category', feed.tags.length > 1 ? feed.tags.map((t) => `/${t}`).join(',') : undefined],
    ])}/>`;
  };
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<opml version="2.0">',
    '  <head>',
    `    <title>${escapeUTF8(options.title.replace(INVALID_XML_CHARS, ''))}</title>`,
    `    <dateCreated>${options.now.toUTCString()}</dateCreated>`,
    '  </head>',
    '  <body>',
  ];
  for (const item of items) {
    if (item.kind === 'feed') {
      lines.push(feedLine(item.feed, '    '));
      continue;
    }
    lines.push(`    <outline${attributesText([['text', item.tag], ['title', item.tag]])}>`);
    for (const feed of item.feeds) lines.push(feedLine(feed, '      '));
    lines.push('    </outline>');
  }
  lines.push('  </body>', '</opml>', '');
  return lines.join('\n');
}
