import { createHash } from 'node:crypto';
import type { Entry } from '../model/entry.js';
import type { FeedConfig } from '../model/feed.js';
import type { KeywordFilter, Subscriber } from '../model/subscriber.js';
import { resolveFeedRefs } from './resolve-feed-refs.js';

/** What one subscriber wants: a resolved set of feeds and keyword filters. Subscribers with equal selectionKey get the same digest. */
export interface Selection {
  /** Ids of the selected feeds (feeds/tags/"*" minus excludeFeeds). */
  feedIds: ReadonlySet<string>;
  /** Normalized include terms (lowercase, quotes removed, whitespace collapsed); empty = every entry. */
  include: string[];
  /** Normalized exclude terms; an entry matching any of them is left out even when it matches an include term. */
  exclude: string[];
  /** Feed ids and "tag:NAME" references that match no configured feed (config validation reports them; selection ignores them). */
  unknownFeeds: string[];
  includePattern?: RegExp;
  excludePattern?: RegExp;
}

// A word character for keyword boundaries: any letter, digit or combining mark in any script ("go" is not in "google", Cyrillic works).
const WORD = '[\\p{L}\\p{N}\\p{M}]';

/**
 * Compiles a subscriber's feed references and keywords against the configured feeds. Feed references are ids, "tag:NAME"
 * or "*"; an empty list means every feed (as the schema's default). Keywords are whole words or phrases; each list item is
 * one term, surrounding double quotes are optional ("quoted phrase" and quoted phrase match the same).
 */
export function compileSelection(subscriber: Subscriber, feeds: FeedConfig[]): Selection {
  const { feedIds: included, unknown } = resolveFeedRefs(subscriber, feeds);

  const keywords = normalizeFilter(subscriber.keywords);
  const include = normalizeTerms(keywords.include);
  const exclude = normalizeTerms(keywords.exclude);
  return {
    feedIds: included,
    include,
    exclude,
    unknownFeeds: unknown,
    includePattern: compileTerms(include),
    excludePattern: compileTerms(exclude),
  };
}

/** Entries of the selected feeds whose title or summary pass the keyword filters (exclude wins over include). */
export function selectEntries(entries: Entry[], selection: Selection): Entry[] {
  return entries.filter((entry) => {
    if (!selection.feedIds.has(entry.feedId)) return false;
    if (!selection.includePattern && !selection.excludePattern) return true;
    return matchesKeywords(keywordText(entry), selection, undefined);
  });
}

/** The text keyword filters look at: title and summary, NFC-normalized. */
export function keywordText(entry: Entry): string {
  return `${entry.title}\n${entry.summary}`.normalize('NFC');
}

/**
 * Whether keywordText passes the selection's keyword filters (exclude wins over include). `memo` caches each pattern's
 * result for this text (the patterns are neither global nor sticky, so a test has no state).
 */
export function matchesKeywords(text: string, selection: Selection, memo: Map<RegExp, boolean> | undefined): boolean {
  const test = (pattern: RegExp): boolean => {
    let hit = memo?.get(pattern);
    if (hit === undefined) {
      hit = pattern.test(text);
      memo?.set(pattern, hit);
    }
    return hit;
  };
  if (selection.excludePattern && test(selection.excludePattern)) return false;
  return selection.includePattern ? test(selection.includePattern) : true;
}

/** A stable, compact key of a selection: equal keys select exactly the same entries, so one rendered digest can serve all of them. */
export function selectionKey(selection: Selection): string {
  const canonical = JSON.stringify([[...selection.feedIds].sort(), selection.include, selection.exclude]);
  return createHash('sha256').update(canonical).digest('base64url');
}

function normalizeFilter(keywords: KeywordFilter | string[] | undefined): KeywordFilter {
  // The schema also accepts a plain list (= include); tolerate it here in case the caller passes the raw form.
  if (Array.isArray(keywords)) return { include: keywords, exclude: [] };
  return { include: keywords?.include ?? [], exclude: keywords?.exclude ?? [] };
}

function normalizeTerms(terms: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of terms) {
    let term = raw.normalize('NFC').trim();
    const quoted = /^(?:"(.*)"|\u201C(.*)\u201D)$/su.exec(term);
    if (quoted) term = quoted[1] ?? quoted[2] ?? '';
    term = term.replace(/\s+/gu, ' ').trim().toLowerCase();
    if (term !== '') out.add(term);
  }
  return [...out].sort();
}

// Compiled patterns by source. Subscribers with different feeds often share keywords; one RegExp object per distinct
// pattern lets buildDigest remember each entry's match per pattern for all of them. Safe to share: neither 'g' nor 'y',
// so test() keeps no state between calls.
const patterns = new Map<string, RegExp>();
const PATTERN_LIMIT = 10_000;

function compileTerms(terms: string[]): RegExp | undefined {
  if (terms.length === 0) return undefined;
  const alternatives = terms.map((term) => term.split(' ').map(escapeRegExp).join('\\s+'));
  const source = `(?<!${WORD})(?:${alternatives.join('|')})(?!${WORD})`;
  let pattern = patterns.get(source);
  if (!pattern) {
    if (patterns.size >= PATTERN_LIMIT) patterns.clear();
    pattern = new RegExp(source, 'iu');
    patterns.set(source, pattern);
  }
  return pattern;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
