import type { Entry, ParsedFeed } from '../model/entry.js';
import { ParseError } from '../model/errors.js';
import { detachString, MAX_TITLE, normalizeEntry, plainText } from './normalize-entry.js';
import { parseJsonFeed } from './parse-json-feed.js';
import { parseXmlDocument } from './parse-xml-document.js';
import { prepareXml } from './prepare-xml.js';
import type { RawFeed } from './raw-feed.js';
import { readXmlFeed } from './read-xml-feed.js';
import { isHttpUrl } from './resolve-url.js';
import { truncateText } from './truncate-text.js';

/** Options of parseFeed. */
export interface ParseFeedOptions {
  /** Configured feed id (goes into every Entry and its key). */
  feedId: string;
  /** The document's URL: the base for relative links (after any xml:base). */
  url: string;
  /** Maximum summary length in characters; default 300. */
  summaryLength?: number;
  /**
   * True for keys of entries already recorded (the feed's seen map): the diff will not hand them on, so their summary
   * is left empty instead of converted from HTML. A feed with 5 new entries out of 20 then converts 5.
   */
  isKnown?: (key: string) => boolean;
}

/** Documents larger than this are refused (the fetch stage caps bytes well below; this is the pure stage's own bound). */
export const MAX_FEED_TEXT = 50_000_000;
/** Entries kept per feed, in document order (feeds list newest first). */
export const MAX_ENTRIES = 5000;
const MAX_DESCRIPTION = 1000;

const HTML_ROOTS = new Set(['html', 'head', 'body', 'div', 'p', 'span', 'table', 'img', 'a', 'meta', 'title', 'script', 'h1', 'h2', 'form', 'section', 'article', 'main']);

/**
 * Parses feed text (already decoded from bytes) into a ParsedFeed: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1.
 * Throws ParseError: `code` NOT_A_FEED for HTML pages and other documents, PARSE_FAILED for malformed or refused
 * ones. Recoverable problems become `warnings`.
 */
export async function parseFeed(text: string, options: ParseFeedOptions): Promise<ParsedFeed> {
  const what = `feed "${options.feedId}" (${options.url})`;
  if (text.length > MAX_FEED_TEXT) {
    throw new ParseError(`${what} is ${text.length} characters long; the limit is ${MAX_FEED_TEXT}`, { hint: 'Use a smaller feed (many sites offer per-category feeds).' });
  }
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (!trimmed) throw new ParseError(`${what} is empty`, { hint: 'The server returned no content; check the URL.' });
  let raw: RawFeed;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    raw = parseJsonFeed(trimmed, options.url, what);
  } else {
    const prepared = prepareXml(trimmed);
    const rootLocal = prepared.rootName?.replace(/^.*:/, '').toLowerCase();
    const htmlLike =
      (rootLocal !== undefined && HTML_ROOTS.has(rootLocal)) ||
      (rootLocal === undefined && /^(?:<!doctype\s+html|<html|<head|<body)|<html[\s>]|<body[\s>]/i.test(trimmed.slice(0, 4096)));
    if (htmlLike) throw htmlPage(what);
    if (!prepared.rootName) {
      throw new ParseError(`${what} is neither XML nor JSON (it starts with ${JSON.stringify(trimmed.slice(0, 40))})`, {
        notAFeed: true,
        hint: 'Check the feed URL: it should point at an RSS, Atom or JSON Feed document.',
      });
    }
    const doc = await parseXmlDocument(prepared.text, what);
    raw = readXmlFeed(doc, options.url, prepared.rootAttributes);
    raw.warnings.unshift(...prepared.warnings);
  }
  return buildParsedFeed(raw, options);
}

function htmlPage(what: string): ParseError {
  return new ParseError(`${what} is an HTML page, not a feed: look for a <link rel="alternate" type="application/rss+xml"> on it`, {
    notAFeed: true,
    hint: 'Open the page in a browser, find its feed address (often /feed, /rss or /atom.xml) and configure that URL instead.',
  });
}

function buildParsedFeed(raw: RawFeed, options: ParseFeedOptions): ParsedFeed {
  const summaryLength = options.summaryLength ?? 300;
  const warnings = [...raw.warnings];
  // Detached: the feed's title and link outlive the document (feed state, digests), which they must not keep alive.
  const feed: ParsedFeed = { format: raw.format, title: detachString(truncateText(plainText(raw.title, 20_000), MAX_TITLE)), entries: [], warnings };
  if (isHttpUrl(raw.link)) feed.link = detachString(raw.link);
  const description = truncateText(plainText(raw.description, 20_000), MAX_DESCRIPTION);
  if (description) feed.description = detachString(description);
  let rawEntries = raw.entries;
  if (rawEntries.length > MAX_ENTRIES) {
    warnings.push(`${rawEntries.length} entries; only the first ${MAX_ENTRIES} were kept`);
    rawEntries = rawEntries.slice(0, MAX_ENTRIES);
  }
  const seen = new Set<string>();
  let duplicates = 0;
  let undated = 0;
  let badDates = 0;
  let badDateExample = '';
  for (const r of rawEntries) {
    const entry: Entry = normalizeEntry(r, { feedId: options.feedId, summaryLength, ...(options.isKnown ? { isKnown: options.isKnown } : {}) });
    if (seen.has(entry.id)) {
      // The same id twice in one document: keep the first, so the entry's key stays unique.
      duplicates++;
      continue;
    }
    seen.add(entry.id);
    const dateText = r.published ?? r.updated;
    if (!dateText) undated++;
    else if (!entry.published && !entry.updated) {
      badDates++;
      badDateExample ||= detachString(dateText.slice(0, 60));
    }
    feed.entries.push(entry);
  }
  if (duplicates) warnings.push(`${duplicates} entr${duplicates === 1 ? 'y repeats' : 'ies repeat'} an earlier entry's id; kept the first`);
  if (undated) warnings.push(`${undated} entr${undated === 1 ? 'y has' : 'ies have'} no date`);
  if (badDates) warnings.push(`${badDates} entr${badDates === 1 ? 'y has' : 'ies have'} an unreadable date (e.g. ${JSON.stringify(badDateExample)})`);
  return feed;
}
