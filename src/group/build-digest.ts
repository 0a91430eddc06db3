import type { Digest } from '../model/digest.js';
import type { Entry } from '../model/entry.js';
import { canonicalLink } from '../parse/entry-identity.js';
import type { Batch } from '../store/seen-store.js';
import { compareNewestFirst, groupBySource } from './group-by-source.js';
import type { SourceDisplay } from './group-by-source.js';
import { selectEntries } from './select-entries.js';
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

/**
 * Builds one digest from the batches after a cursor: selects the subscriber's entries, keeps each article once (by entry
 * key and by canonical link, so the same post through two feeds or re-detected in two batches appears once, the
 * earliest-seen copy winning), applies the cap and groups by source. periodStart is the oldest firstSeen, periodEnd is now.
 */
export function buildDigest(input: BuildDigestInput): Digest {
  const batches = input.batches.filter((b) => b.seq > input.cursor).sort((a, b) => a.seq - b.seq);
  const seenOrder: { entry: Entry; firstSeen: number; order: number }[] = [];
  let order = 0;
  for (const batch of batches) {
    for (const entry of batch.entries) {
      // Entries stored before firstSeen existed get their batch's creation time.
      const withSeen = entry.firstSeen ? entry : { ...entry, firstSeen: batch.createdAt };
      const t = Date.parse(withSeen.firstSeen ?? '');
      seenOrder.push({ entry: withSeen, firstSeen: Number.isNaN(t) ? Infinity : t, order: order++ });
    }
  }
  // Earliest-seen first, so the first copy of a duplicate kept below is the earliest one.
  seenOrder.sort((a, b) => (a.firstSeen === b.firstSeen ? a.order - b.order : a.firstSeen < b.firstSeen ? -1 : 1));

  // Select before deduplicating: a copy from a feed the subscriber did not pick must not hide the copy from one they did.
  const selected = selectEntries(
    seenOrder.map((s) => s.entry),
    input.selection,
  );
  const keys = new Set<string>();
  const links = new Set<string>();
  let entries: Entry[] = [];
  for (const entry of selected) {
    if (keys.has(entry.key)) continue;
    const link = entry.link ? linkKey(entry.link) : undefined;
    if (link !== undefined && links.has(link)) continue;
    keys.add(entry.key);
    if (link !== undefined) links.add(link);
    entries.push(entry);
  }

  if (input.cap !== undefined && entries.length > input.cap) {
    entries = [...entries].sort(compareNewestFirst).slice(0, Math.max(0, input.cap));
  }

  const groups = groupBySource(entries, input.feeds, { maxPerSource: input.maxPerSource });
  let periodStart: number | undefined;
  for (const entry of entries) {
    const t = Date.parse(entry.firstSeen ?? '');
    if (!Number.isNaN(t) && (periodStart === undefined || t < periodStart)) periodStart = t;
  }
  const digest: Digest = {
    title: input.title,
    periodEnd: input.now.toISOString(),
    timezone: input.timezone,
    groups,
    entryCount: entries.length,
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
