import type { SourceGroup } from '../model/digest.js';
import type { Entry } from '../model/entry.js';

/** How a source is shown: the configured title, else fallbackTitle (the feed's own title or its id), and its site link. */
export interface SourceDisplay {
  title?: string;
  link?: string;
  fallbackTitle: string;
}

/** Options of groupBySource. */
export interface GroupOptions {
  /** Entries shown per source; the rest are counted in `more`. */
  maxPerSource: number;
}

/**
 * The time an entry is ordered by (ms): published, else updated, else when we first saw it, so an undated entry sits where
 * it appeared. Entries with none of the three sort last (-Infinity).
 */
export function entrySortTime(entry: Entry): number {
  for (const value of [entry.published, entry.updated, entry.firstSeen]) {
    if (value === undefined) continue;
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  return -Infinity;
}

/** Compares by entrySortTime, newest first; equal times keep their input order when used with a stable sort. */
export function compareNewestFirst(a: Entry, b: Entry): number {
  const ta = entrySortTime(a);
  const tb = entrySortTime(b);
  return ta === tb ? 0 : ta > tb ? -1 : 1;
}

/**
 * Groups entries by feed: sources ordered by their newest entry (newest first), entries newest first within a source,
 * at most maxPerSource shown per source and the rest counted in `more`. Sources whose newest entries are equally new keep
 * the order of their first entry in the input.
 */
export function groupBySource(entries: Entry[], feeds: Map<string, SourceDisplay>, options: GroupOptions): SourceGroup[] {
  return groupTimedEntries(
    entries.map((entry) => ({ entry, sortTime: entrySortTime(entry) })),
    feeds,
    options,
  );
}

/** An entry with its entrySortTime, computed once. */
export interface TimedEntry {
  entry: Entry;
  sortTime: number;
}

/** groupBySource for entries whose entrySortTime is already known (buildDigest computes it once per batch). */
export function groupTimedEntries(entries: readonly TimedEntry[], feeds: Map<string, SourceDisplay>, options: GroupOptions): SourceGroup[] {
  const byFeed = new Map<string, TimedEntry[]>();
  for (const timed of entries) {
    const list = byFeed.get(timed.entry.feedId);
    if (list) list.push(timed);
    else byFeed.set(timed.entry.feedId, [timed]);
  }
  const max = Math.max(0, Math.floor(options.maxPerSource));
  const groups = [...byFeed].map(([feedId, list]) => {
    const sorted = [...list].sort(compareTimedNewestFirst);
    const display = feeds.get(feedId);
    const group: SourceGroup = {
      feedId,
      title: display?.title || display?.fallbackTitle || feedId,
      count: sorted.length,
      entries: sorted.slice(0, max).map((t) => t.entry),
      more: Math.max(0, sorted.length - max),
    };
    if (display?.link) group.link = display.link;
    return { group, newest: sorted[0]!.sortTime };
  });
  groups.sort((a, b) => (a.newest === b.newest ? 0 : a.newest > b.newest ? -1 : 1));
  return groups.map((g) => g.group);
}

/** compareNewestFirst on precomputed times. */
export function compareTimedNewestFirst(a: TimedEntry, b: TimedEntry): number {
  return a.sortTime === b.sortTime ? 0 : a.sortTime > b.sortTime ? -1 : 1;
}
