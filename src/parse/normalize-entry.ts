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
  /** Keys of entries already recorded: their summary is left empty (see ParseFeedOptions.isKnown). */
  isKnown?: (key: string) => boolean;
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

/**
 * A copy of `s` that does not share memory with a larger string. Strings the XML parser hands out are often slices of
 * the whole document (V8 sliced strings): one kept title or id would keep the feed's entire text alive for as long
 * as the entry lives (a batch, a digest). Concatenating and slicing forces a flat copy of just these characters.
 */
export function detachString(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Characters past a summary's cut that must come out of a prefix unchanged (a cut tag, entity or word only changes the tail). */
const SUMMARY_MARGIN = 64;

/** True when `text` has at least `n` code points (UTF-16 length bounds it from both sides; count only in between). */
function hasCodePoints(text: string, n: number): boolean {
  if (text.length < n) return false;
  if (text.length >= 2 * n) return true;
  let count = 0;
  for (const _ of text) if (++count >= n) return true;
  return false;
}

/**
 * Plain text enough for a summary of `length` characters, converted from a bounded prefix of the value: HTML to text
 * is the costly part of ingesting an entry, and a description is often several times longer than its summary. The
 * prefix grows (×4) until its text reaches past the cut by SUMMARY_MARGIN, or the whole (maxInput-bounded) value was
 * read; the text up to the cut is then what the whole value gives. `complete` says the whole value was read.
 */
function summarySource(value: TextValue | undefined, length: number, maxInput: number): { text: string; complete: boolean } {
  if (!value) return { text: '', complete: true };
  const limit = Math.min(value.value.length, maxInput);
  const want = length + SUMMARY_MARGIN;
  for (let take = Math.min(limit, 2 * want + 128); ; take = Math.min(limit, take * 4)) {
    if (take >= limit) return { text: plainText(value, maxInput), complete: true };
    const text = plainText({ value: value.value.slice(0, take), type: value.type });
    if (hasCodePoints(text, want)) return { text, complete: false };
  }
}

/** Turns a format-independent raw entry into the pipeline's Entry (identity, plain-text fields, ISO dates, caps). */
export function normalizeEntry(raw: RawEntry, options: NormalizeOptions): Entry {
  const title = truncateText(plainText(raw.title, 20_000), MAX_TITLE);
  // Only a prefix of the HTML is needed for a summary; bound the work on huge content.
  const maxInput = Math.max(20_000, options.summaryLength * 40);
  let source: { text: string; complete: boolean } | undefined;
  const summarySourceOnce = () => {
    if (source) return source;
    source = summarySource(raw.summary, options.summaryLength, maxInput);
    if (!source.text) source = summarySource(raw.content, options.summaryLength, maxInput);
    return source;
  };
  const id = identifyEntry({
    guid: raw.guid,
    id: raw.id,
    link: raw.link,
    title,
    date: raw.published ?? raw.updated,
    // Only entries with neither id, link, title nor date need it: the whole text then, as it always was (the hash
    // is a storage contract).
    fallback: () => {
      const { text, complete } = summarySourceOnce();
      return `${complete ? text : plainText(raw.summary, maxInput) || plainText(raw.content, maxInput)}\n${raw.authors.join(', ')}`;
    },
  });
  const entry: Entry = { id: detachString(id), key: entryKey(options.feedId, id), feedId: options.feedId, title: detachString(title), summary: '' };
  if (isHttpUrl(raw.link) && raw.link.length <= MAX_LINK) entry.link = detachString(raw.link);
  const published = parseDate(raw.published);
  const updated = parseDate(raw.updated);
  if (published) entry.published = published;
  if (updated) entry.updated = updated;
  const author = raw.authors
    .map((a) => plainText({ value: a, type: /[<&]/.test(a) ? 'html' : 'text' }))
    .filter(Boolean)
    .join(', ');
  if (author) entry.author = detachString(truncateText(author, MAX_AUTHOR));
  // HTML to text is most of the cost of an entry; a known entry's summary is never shown.
  if (!options.isKnown?.(entry.key)) entry.summary = detachString(truncateText(summarySourceOnce().text, options.summaryLength));
  const contentHtml = asHtml(raw.content) ?? (raw.summary?.type !== 'text' ? asHtml(raw.summary) : undefined) ?? asHtml(raw.summary);
  if (contentHtml) entry.contentHtml = contentHtml;
  return entry;
}
