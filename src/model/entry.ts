/** One normalized feed entry, the unit the whole pipeline works on. Dates are ISO 8601 strings so entries survive the store as JSON. */
export interface Entry {
  /** Identity within its feed: guid / atom:id / JSON Feed id, else the link, else a hash of title and date. Stable across runs. */
  id: string;
  /** Short storage key derived from feedId and id (see entryKey in src/parse/entry-identity.ts). */
  key: string;
  /** Id of the configured feed this entry came from. */
  feedId: string;
  /** Plain text, HTML entities decoded exactly once; "(untitled)" is never stored here, renderers decide. */
  title: string;
  /** Absolute http(s) URL, resolved against xml:base and the feed URL. */
  link?: string;
  /** Publication date (ISO 8601, UTC) when the feed gives one that parses. */
  published?: string;
  /** Last update date (ISO 8601, UTC) when given. */
  updated?: string;
  /** Author name(s), plain text. */
  author?: string;
  /** Plain-text summary, whitespace collapsed, cut at a word boundary (about 300 characters). */
  summary: string;
  /** The entry's HTML as the feed gave it (NOT sanitized: renderers sanitize before use). */
  contentHtml?: string;
  /** When planet-digest first saw the entry (ISO 8601); set at ingestion, used to order undated entries. */
  firstSeen?: string;
}

/** Formats planet-digest reads. */
export type FeedFormat = 'rss' | 'rdf' | 'atom' | 'json';

/** A feed after decoding, parsing and normalizing. */
export interface ParsedFeed {
  format: FeedFormat;
  /** Feed title as the feed gives it (plain text; may be empty). */
  title: string;
  /** The feed's site link (absolute). */
  link?: string;
  /** Feed-level description, plain text. */
  description?: string;
  entries: Entry[];
  /** Recoverable problems seen while parsing (e.g. "3 entries without a date"). */
  warnings: string[];
}
