import type { Entry } from '../model/entry.js';
import type { SeenMap, SeenRecord } from '../store/seen-store.js';

/** Options of diffEntries. */
export interface DiffOptions {
  now: Date;
  /** First successful poll of the feed: only the newest firstPollEntries entries are new, the rest is backlog. */
  firstPoll: boolean;
  firstPollEntries: number;
  /** Records of entries the feed no longer carries are forgotten this many days after the last poll that carried them. */
  retentionDays: number;
  /** A carried entry's `last` is rewritten only when older than this (default 1 hour), so unchanged feeds cost no write. */
  refreshMs?: number;
}

/** Result of diffEntries. */
export interface DiffResult {
  /** New entries in feed order, with firstSeen = now. */
  fresh: Entry[];
  /** The feed's updated seen map (a new object; the input is not modified). */
  seen: SeenMap;
  /** Whether `seen` differs from the input and must be saved. */
  changed: boolean;
}

const DAY_MS = 86_400_000;
const DEFAULT_REFRESH_MS = 3_600_000;

/**
 * Splits a feed's current entries into new ones and known ones, against the feed's seen map. An entry is new when its key
 * is not in the map (an edited title or date keeps the key, so it is not new again). Entries the feed still carries get
 * `last` refreshed, so retention never forgets them and they never come back as new.
 */
export function diffEntries(entries: Entry[], seen: SeenMap | undefined, options: DiffOptions): DiffResult {
  const nowMs = options.now.getTime();
  const nowIso = options.now.toISOString();
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  const out: SeenMap = { ...(seen ?? {}) };
  let changed = false;

  const present = new Set<string>();
  const unseen: Entry[] = [];
  for (const entry of entries) {
    if (present.has(entry.key)) continue; // the same key twice in one poll counts once
    present.add(entry.key);
    const record = out[entry.key];
    if (!record) {
      unseen.push(entry);
      continue;
    }
    const last = Date.parse(record.last);
    // Also repairs unreadable or future timestamps (clock jumps), which would otherwise pin or expire the record wrongly.
    if (!(last <= nowMs && nowMs - last < refreshMs)) {
      out[entry.key] = { ...record, last: nowIso };
      changed = true;
    }
  }

  let fresh = unseen;
  if (options.firstPoll) {
    const newest = newestFirst(unseen).slice(0, Math.max(0, options.firstPollEntries));
    const keep = new Set(newest);
    fresh = unseen.filter((entry) => keep.has(entry)); // back to feed order
  }
  const record: SeenRecord = { first: nowIso, last: nowIso };
  for (const entry of unseen) {
    out[entry.key] = { ...record };
    changed = true;
  }

  const retentionMs = options.retentionDays * DAY_MS;
  for (const [key, rec] of Object.entries(out)) {
    if (present.has(key)) continue;
    const last = Date.parse(rec.last);
    if (Number.isNaN(last) || nowMs - last > retentionMs) {
      delete out[key];
      changed = true;
    }
  }

  return { fresh: fresh.map((entry) => ({ ...entry, firstSeen: nowIso })), seen: out, changed };
}

/** Entries by published/updated date, newest first; undated entries after dated ones; feed order breaks ties. */
function newestFirst(entries: Entry[]): Entry[] {
  const dated = entries.map((entry, index) => {
    const published = Date.parse(entry.published ?? '');
    const t = Number.isNaN(published) ? Date.parse(entry.updated ?? '') : published;
    return { entry, index, t: Number.isNaN(t) ? -Infinity : t };
  });
  dated.sort((a, b) => b.t - a.t || a.index - b.index);
  return dated.map((d) => d.entry);
}
