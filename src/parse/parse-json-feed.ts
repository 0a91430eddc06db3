import * as z from 'zod';
import { ParseError } from '../model/errors.js';
import type { RawEntry, RawFeed } from './raw-feed.js';
import { resolveUrl } from './resolve-url.js';

/** JSON Feed version URLs (https://www.jsonfeed.org/version/1.1/); http:// is tolerated. */
const VERSION = /^https?:\/\/jsonfeed\.org\/version\/1(\.\d+)?\/?$/i;

const text = z.string().nullish();
const author = z.looseObject({ name: text, url: text });

/** One item, JSON Feed 1.0 and 1.1 fields planet-digest uses; unknown fields are allowed. */
const itemSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).nullish(),
  url: text,
  external_url: text,
  title: text,
  content_html: text,
  content_text: text,
  summary: text,
  date_published: text,
  date_modified: text,
  author: author.nullish(), // 1.0
  authors: z.array(author).nullish(), // 1.1
});

const feedSchema = z.looseObject({
  version: z.string(),
  title: text,
  home_page_url: text,
  feed_url: text,
  description: text,
  items: z.array(z.unknown()),
});

/**
 * Reads a JSON Feed 1.0 / 1.1 document. The feed object must have a version and an items array; items that do not
 * match the schema are skipped with a warning rather than failing the feed.
 */
export function parseJsonFeed(json: string, documentUrl: string, what: string): RawFeed {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new ParseError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err, hint: 'Check the feed URL and the publisher’s JSON Feed output.' });
  }
  const warnings: string[] = [];
  const isObject = typeof data === 'object' && data !== null && !Array.isArray(data);
  const version = isObject ? (data as Record<string, unknown>).version : undefined;
  if (typeof version !== 'string' || !VERSION.test(version)) {
    if (!isObject || !Array.isArray((data as Record<string, unknown>).items)) {
      throw new ParseError(`${what} is a JSON document but not a JSON Feed (no "version": "https://jsonfeed.org/version/1.1" and no "items")`, {
        notAFeed: true,
        hint: 'Check the feed URL: it should point at the feed itself.',
      });
    }
    warnings.push(`unknown JSON Feed version ${JSON.stringify(version ?? null)}; read as JSON Feed 1.1`);
  }
  const parsed = feedSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ParseError(`${what} is not a valid JSON Feed: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`, {
      hint: 'The feed object needs "version" and an "items" array.',
    });
  }
  const feedJson = parsed.data;
  const base = resolveUrl(feedJson.feed_url ?? undefined, documentUrl) ?? documentUrl;
  const feed: RawFeed = { format: 'json', entries: [], warnings };
  if (feedJson.title) feed.title = { value: feedJson.title, type: 'text' };
  const home = resolveUrl(feedJson.home_page_url ?? undefined, base);
  if (home) feed.link = home;
  if (feedJson.description) feed.description = { value: feedJson.description, type: 'text' };
  let skipped = 0;
  let firstProblem = '';
  feedJson.items.forEach((rawItem, index) => {
    const r = itemSchema.safeParse(rawItem);
    if (!r.success) {
      skipped++;
      const issue = r.error.issues[0];
      firstProblem ||= `items[${index}]${issue?.path.length ? '.' + issue.path.join('.') : ''}: ${issue?.message ?? 'invalid'}`;
      return;
    }
    const item = r.data;
    const entry: RawEntry = { authors: [] };
    if (item.id !== undefined && item.id !== null && String(item.id).trim()) entry.id = String(item.id);
    const link = resolveUrl(item.url ?? undefined, base) ?? resolveUrl(item.external_url ?? undefined, base);
    if (link) entry.link = link;
    if (item.title) entry.title = { value: item.title, type: 'text' };
    if (item.summary) entry.summary = { value: item.summary, type: 'text' };
    if (item.content_html) entry.content = { value: item.content_html, type: 'html' };
    else if (item.content_text) entry.content = { value: item.content_text, type: 'text' };
    if (item.date_published) entry.published = item.date_published;
    if (item.date_modified) entry.updated = item.date_modified;
    const authors = item.authors ?? (item.author ? [item.author] : []);
    entry.authors = authors.map((a) => (a.name ?? '').trim()).filter(Boolean);
    feed.entries.push(entry);
  });
  if (skipped) warnings.push(`${skipped} JSON Feed item${skipped === 1 ? '' : 's'} skipped as invalid (first: ${firstProblem})`);
  return feed;
}
