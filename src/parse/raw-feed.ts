import type { FeedFormat } from '../model/entry.js';

/** How a piece of feed text is to be read: plain text, escaped HTML, or inline XHTML already serialized as HTML. */
export type TextType = 'text' | 'html' | 'xhtml';

/** A text construct as the feed gave it (after XML decoding, before any HTML decoding). */
export interface TextValue {
  value: string;
  type: TextType;
}

/** An entry as read from the document, before normalization (format-independent). */
export interface RawEntry {
  /** RSS <guid>. */
  guid?: string;
  /** Atom <id> / JSON Feed id. */
  id?: string;
  /** The entry's link, absolute (resolved against xml:base and the document URL), any scheme. */
  link?: string;
  title?: TextValue;
  /** Short text: RSS description, Atom summary, JSON Feed summary. */
  summary?: TextValue;
  /** Full content: content:encoded, Atom content, xhtml:body, JSON Feed content_html/content_text. */
  content?: TextValue;
  /** Date strings as written. */
  published?: string;
  updated?: string;
  /** Author names, plain text. */
  authors: string[];
}

/** A feed as read from the document, before normalization. */
export interface RawFeed {
  format: FeedFormat;
  title?: TextValue;
  /** Site link, absolute. */
  link?: string;
  description?: TextValue;
  entries: RawEntry[];
  warnings: string[];
}
