import type { Digest } from '../model/digest.js';
import type { Entry } from '../model/entry.js';
import { canonicalLink } from '../parse/entry-identity.js';
import type { Batch } from '../store/seen-store.js';
import { compareTimedNewestFirst, entrySortTime, groupTimedEntries } from './group-by-source.js';
import type { SourceDisplay } from './group-by-source.js';
import { keywordText, matchesKeywords } from './select-entries.js';
import type { Selection } from './select-entries.js';

/** Input of buildDigest. */
export interface BuildDigestInput {
  /** Batches to read from; only those with seq > cursor are used (they may come in any order). */
  batches: Batch[];
  /** The subscriber's cursor: batches <= cursor were already delivered. */
  cursor: number;
  selection: Selection;
  feeds: Map<string, SourceDisplay>;
  title: string;
  timezone: string;
  now: Date;
  maxPerSource: number;
  /** Keep only the newest N entries (a resumed subscriber's backlog); undefined = all. */
  cap?: number;
}

/** One batch entry with what selection needs from it, computed once per batch instead of once per digest. */
interface IndexedEntry {
  /** The object in batch.entries, and the field values everything below was computed from. */
  source: Entry;
  key: string;
  feedId: string;
  link: string | undefined;
  firstSeenIso: string | undefined;
  published: string | undefined;
  updated: string | undefined;
  title: string;
  summary: string;
  /** The entry as digests show it: `source`, or a copy carrying the batch time as firstSeen. */
  entry: Entry;
  /** Position in batch.entries. */
  position: number;
  /** firstSeen in ms; Infinity when it does not parse. */
  firstSeen: number;
  /** entrySortTime(entry). */
  sortTime: number;
  /** linkKey(entry.link): undefined = not computed yet, null = no link. */
  linkKey?: string | null;
  /** keywordText(entry), when a keyword filter looked at it. */
  text?: string;
  /** Keyword pattern results (patterns are shared by every selection compiled from the same keywords). */
  matches?: Map<RegExp, boolean>;
}

interface BatchIndex {
  entries: Entry[];
  createdAt: string;
  items: IndexedEntry[];
  /** Items by feed id, in batch order. */
  byFeed: Map<string, IndexedEntry[]>;
}

/**
 * Per-batch indexes, shared by every digest of a cycle (they all read the same Batch objects) and freed with the batches.
 * Each use checks that the batch still holds the same entry objects, and every entry a digest looks at is checked against
 * the field values it was indexed with; any difference rebuilds the index (a store handing out the same objects after an
 * entry was edited in place is served fresh data). An entry's feedId is part of its identity (its key is derived from it).
 */
const batchIndexes = new WeakMap<Batch, BatchIndex>();

function indexBatch(batch: Batch): BatchIndex {
  const items: IndexedEntry[] = [];
  const byFeed = new Map<string, IndexedEntry[]>();
  batch.entries.forEach((source, position) => {
    // Entries stored before firstSeen existed get their batch's creation time.
    const entry = source.firstSeen ? source : { ...source, firstSeen: batch.createdAt };
    const t = Date.parse(entry.firstSeen ?? '');
    const item: IndexedEntry = {
      source,
      key: source.key,
      feedId: source.feedId,
      link: source.link,
      firstSeenIso: source.firstSeen,
      published: source.published,
      updated: source.updated,
      title: source.title,
      summary: source.summary,
      entry,
      position,
      firstSeen: Number.isNaN(t) ? Infinity : t,
      sortTime: entrySortTime(entry),
    };
    items.push(item);
    const list = byFeed.get(source.feedId);
    if (list) list.push(item);
    else byFeed.set(source.feedId, [item]);
  });
  return { entries: batch.entries, createdAt: batch.createdAt, items, byFeed };
}

/** Whether the batch still holds the very entry objects the index was built from (cheap: identity only). */
function isCurrent(index: BatchIndex, batch: Batch): boolean {
  const { entries } = batch;
  if (index.entries !== entries || index.createdAt !== batch.createdAt || index.items.length !== entries.length) return false;
  const { items } = index;
  for (let i = 0; i < items.length; i++) if (entries[i] !== items[i]!.source) return false;
  return true;
}

/** Whether an indexed entry still has the field values it was indexed with (checked for every entry a digest looks at). */
function isFresh(item: IndexedEntry): boolean {
  const e = item.source;
  return (
    e.key === item.key &&
    e.feedId === item.feedId &&
    e.link === item.link &&
    e.firstSeen === item.firstSeenIso &&
    e.published === item.published &&
    e.updated === item.updated &&
    e.title === item.title &&
    e.summary === item.summary
  );
}

function batchIndex(batch: Batch): BatchIndex {
  let index = batchIndexes.get(batch);
  if (!index || !isCurrent(index, batch)) {
    index = indexBatch(batch);
    batchIndexes.set(batch, index);
  }
  return index;
}

function selects(item: IndexedEntry, selection: Selection): boolean {
  if (!selection.includePattern && !selection.excludePattern) return true;
  item.text ??= keywordText(item.entry);
  item.matches ??= new Map();
  return matchesKeywords(item.text, selection, item.matches);
}

/**
 * The entries of the selection in `batches` (seq order), each with its position across them. Undefined when an entry
 * changed since its batch was indexed; `rebuild` re-indexes every batch first (then it cannot fail).
 */
function selectCandidates(batches: Batch[], selection: Selection, rebuild = false): Array<{ item: IndexedEntry; order: number }> | undefined {
  const candidates: Array<{ item: IndexedEntry; order: number }> = [];
  let offset = 0;
  let fresh = true;
  for (const batch of batches) {
    if (rebuild) batchIndexes.delete(batch);
    const index = batchIndex(batch);
    const take = (list: IndexedEntry[] | undefined): void => {
      if (!list) return;
      for (const item of list) {
        if (!isFresh(item)) fresh = false;
        else if (selects(item, selection)) candidates.push({ item, order: offset + item.position });
      }
    };
    if (selection.feedIds.size < index.byFeed.size) {
      for (const feedId of selection.feedIds) take(index.byFeed.get(feedId));
    } else {
      for (const [feedId, list] of index.byFeed) if (selection.feedIds.has(feedId)) take(list);
    }
    if (!fresh) return undefined;
    offset += batch.entries.length;
  }
  return candidates;
}

/**
 * Builds one digest from the batches after a cursor: selects the subscriber's entries, keeps each article once (by entry
 * key and by canonical link, so the same post through two feeds or re-detected in two batches appears once, the
 * earliest-seen copy winning), applies the cap and groups by source. periodStart is the oldest firstSeen, periodEnd is now.
 * Per-entry work (dates, canonical links, keyword matches) is done once per batch and shared by every digest of a cycle.
 */
export function buildDigest(input: BuildDigestInput): Digest {
  const batches = input.batches.filter((b) => b.seq > input.cursor).sort((a, b) => a.seq - b.seq);
  // Select before deduplicating: a copy from a feed the subscriber did not pick must not hide the copy from one they did.
  const candidates = selectCandidates(batches, input.selection) ?? selectCandidates(batches, input.selection, true)!;
  // Earliest-seen first (then batch order), so the first copy of a duplicate kept below is the earliest one.
  candidates.sort((a, b) => (a.item.firstSeen === b.item.firstSeen ? a.order - b.order : a.item.firstSeen < b.item.firstSeen ? -1 : 1));

  const keys = new Set<string>();
  const links = new Set<string>();
  let kept: IndexedEntry[] = [];
  for (const { item } of candidates) {
    if (keys.has(item.key)) continue;
    if (item.linkKey === undefined) item.linkKey = item.link ? (linkKey(item.link) ?? null) : null;
    const link = item.linkKey ?? undefined;
    if (link !== undefined && links.has(link)) continue;
    keys.add(item.key);
    if (link !== undefined) links.add(link);
    kept.push(item);
  }

  if (input.cap !== undefined && kept.length > input.cap) {
    kept = [...kept].sort(compareTimedNewestFirst).slice(0, Math.max(0, input.cap));
  }

  const groups = groupTimedEntries(kept, input.feeds, { maxPerSource: input.maxPerSource });
  let periodStart: number | undefined;
  for (const item of kept) {
    const t = item.firstSeen;
    if (t !== Infinity && (periodStart === undefined || t < periodStart)) periodStart = t;
  }
  const digest: Digest = {
    title: input.title,
    periodEnd: input.now.toISOString(),
    timezone: input.timezone,
    groups,
    entryCount: kept.length,
    sourceCount: groups.length,
  };
  if (periodStart !== undefined) digest.periodStart = new Date(periodStart).toISOString();
  return digest;
}

function linkKey(link: string): string | undefined {
  try {
    return canonicalLink(link);
  } catch {
    // A link canonicalLink cannot read still identifies the article as written.
    return link;
  }
}
