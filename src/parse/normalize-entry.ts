import type { Entry } from '../model/entry.js';
import { entryKey, identifyEntry } from './entry-identity.js';
import { collapseWhitespace, htmlToPlainText } from './html-to-plain-text.js';
import { parseDate } from './parse-date.js';
import type { RawEntry, TextValue } from './raw-feed.js';
import { isHttpUrl } from './resolve-url.js';
import { truncateText } from './truncate-text.js';

/** Options of normalizeEntry. */
export interface NormalizeOptions {
  feedId: string;
  /** Maximum summary length in characters (the "…" included). */
  summaryLength: number;
}

/** Size caps: feed content is hostile, and one entry must not be able to bloat the store or a digest. */
export const MAX_TITLE = 1000;
export const MAX_AUTHOR = 300;
export const MAX_LINK = 4096;
export const MAX_CONTENT_HTML = 1_000_000;

/**
 * Plain text of a text construct: text stays as is, HTML (escaped or inline XHTML) loses its tags and has its
 * entities decoded exactly once. Whitespace is collapsed.
 */
export function plainText(value: TextValue | undefined, maxInput = Infinity): string {
  if (!value) return '';
  return value.type === 'text' ? collapseWhitespace(value.value) : htmlToPlainText(value.value, maxInput);
}

function asHtml(value: TextValue | undefined): string | undefined {
  if (!value || !value.value.trim()) return undefined;
  const html = value.type === 'text' ? escapeHtml(value.value).replace(/\r?\n/g, '<br>\n') : value.value;
  return html.length > MAX_CONTENT_HTML ? html.slice(0, MAX_CONTENT_HTML) : html;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Turns a format-independent raw entry into the pipeline's Entry (identity, plain-text fields, ISO dates, caps). */
export function normalizeEntry(raw: RawEntry, options: NormalizeOptions): Entry {
  const title = truncateText(plainText(raw.title, 20_000), MAX_TITLE);
  // Only a prefix of the HTML is needed for a summary; bound the work on huge content.
  const maxInput = Math.max(20_000, options.summaryLength * 40);
  let summary = plainText(raw.summary, maxInput);
  if (!summary) summary = plainText(raw.content, maxInput);
  const id = identifyEntry({
    guid: raw.guid,
    id: raw.id,
    link: raw.link,
    title,
    date: raw.published ?? raw.updated,
    fallback: `${summary}\n${raw.authors.join(', ')}`,
  });
  const entry: Entry = { id, key: entryKey(options.feedId, id), feedId: options.feedId, title, summary: '' };
  if (isHttpUrl(raw.link) && raw.link.length <= MAX_LINK) entry.link = raw.link;
  const published = parseDate(raw.published);
  const updated = parseDate(raw.updated);
  if (published) entry.published = published;
  if (updated) entry.updated = updated;
  const author = raw.authors
    .map((a) => plainText({ value: a, type: /[<&]/.test(a) ? 'html' : 'text' }))
    .filter(Boolean)
    .join(', ');
  if (author) entry.author = truncateText(author, MAX_AUTHOR);
  entry.summary = truncateText(summary, options.summaryLength);
  const contentHtml = asHtml(raw.content) ?? (raw.summary?.type !== 'text' ? asHtml(raw.summary) : undefined) ?? asHtml(raw.summary);
  if (contentHtml) entry.contentHtml = contentHtml;
  return entry;
}
