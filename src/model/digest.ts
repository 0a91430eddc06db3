import type { Entry } from './entry.js';

/** Entries of one source inside a digest. */
export interface SourceGroup {
  feedId: string;
  /** Source display title (configured title, else the feed's own, else its id). */
  title: string;
  /** The source's site link, when known. */
  link?: string;
  /** Number of new entries from this source (including those beyond `entries`). */
  count: number;
  /** Entries shown, newest first. */
  entries: Entry[];
  /** Entries not shown because of the per-source maximum ("and N more"). */
  more: number;
}

/** Everything needed to render one digest; the same Digest can serve many subscribers. */
export interface Digest {
  /** Digest title, e.g. "Planet Python digest". */
  title: string;
  /** Period covered (ISO): from the oldest entry's first-seen time to now. */
  periodStart?: string;
  periodEnd: string;
  /** IANA zone dates are shown in. */
  timezone: string;
  /** Sources ordered by their newest entry, newest first. */
  groups: SourceGroup[];
  entryCount: number;
  sourceCount: number;
}
