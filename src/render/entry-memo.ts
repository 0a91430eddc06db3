/**
 * Per-entry memo of rendered pieces, shared by every digest of a cycle.
 *
 * Why: at Planet scale one entry appears in hundreds of digests of a cycle (one per distinct selection × time zone), and
 * without a memo every digest re-did the same cleaning, truncating, escaping, date formatting, wrapping and template
 * filling. The batches a cycle reads hand the same Entry objects to every digest, so the memo is a WeakMap keyed by the
 * Entry object: it needs no parameter, and is freed together with the batches at the end of the cycle.
 *
 * What keeps it from serving stale output:
 * - an EntryMemo remembers every field value of the entry it was made from and is replaced by an empty one when any of
 *   them differs (an entry object edited in place, e.g. by a store that hands out the same objects every cycle);
 * - callers key each piece by a variant (memoVariant) naming everything else it depends on (time zone, locale and
 *   current year for dates, summary length, wrap width, position, the source's link when the entry has none…), see the
 *   call sites; filled template text is memoized per template block object (template-blocks.ts, shareBlockData).
 * Pieces are stored exactly as the uncached code produces them (already sanitized/escaped once) and reused verbatim.
 */
import type { Entry } from '../model/entry.js';
import type { DateFormatter } from './create-date-formatter.js';
import { httpUrl } from './http-url.js';

/** The memo of one entry: the field values its pieces were computed from, and the pieces. */
export class EntryMemo {
  readonly id: string;
  readonly key: string;
  readonly feedId: string;
  readonly title: string;
  readonly link: string | undefined;
  readonly published: string | undefined;
  readonly updated: string | undefined;
  readonly author: string | undefined;
  readonly summary: string;
  readonly contentHtml: string | undefined;
  readonly firstSeen: string | undefined;
  /** Pieces by variant number (see memoVariant). */
  readonly pieces = new Map<number, unknown>();
  /** httpUrl(link): undefined = not computed yet, null = none. */
  httpLink: string | null | undefined;

  constructor(readonly entry: Entry) {
    // Every field of an Entry: a rendered piece may depend on any of them.
    this.id = entry.id;
    this.key = entry.key;
    this.feedId = entry.feedId;
    this.title = entry.title;
    this.link = entry.link;
    this.published = entry.published;
    this.updated = entry.updated;
    this.author = entry.author;
    this.summary = entry.summary;
    this.contentHtml = entry.contentHtml;
    this.firstSeen = entry.firstSeen;
  }

  /** Whether the entry still has the field values this memo was made from. */
  matches(entry: Entry): boolean {
    return (
      this.id === entry.id &&
      this.key === entry.key &&
      this.feedId === entry.feedId &&
      this.title === entry.title &&
      this.link === entry.link &&
      this.published === entry.published &&
      this.updated === entry.updated &&
      this.author === entry.author &&
      this.summary === entry.summary &&
      this.contentHtml === entry.contentHtml &&
      this.firstSeen === entry.firstSeen
    );
  }
}

const memos = new WeakMap<Entry, EntryMemo>();

/**
 * The entry's memo; a fresh one when there is none yet or the entry was changed since (nothing stale is served).
 * `remember` false: a memo of its own that is not kept, for a digest no other digest of the cycle shares entries
 * with. Kept pieces would then only hold memory until the cycle ends (a first run of 220 feeds into one 4,400-entry
 * digest: 14 MB of peak RSS).
 */
export function entryMemoOf(entry: Entry, remember = true): EntryMemo {
  if (!remember) return new EntryMemo(entry);
  let memo = memos.get(entry);
  if (!memo || !memo.matches(entry)) {
    memo = new EntryMemo(entry);
    memos.set(entry, memo);
  }
  return memo;
}

/**
 * Returns the piece stored under `variant` (from memoVariant), computing it with `compute` on a miss. The variant must
 * name everything the piece depends on besides the entry's own fields; the piece must be treated as immutable.
 */
export function memoPiece<T>(memo: EntryMemo, variant: number, compute: () => T): T {
  const known = memo.pieces.get(variant);
  if (known !== undefined || memo.pieces.has(variant)) return known as T;
  const piece = flatten(compute());
  memo.pieces.set(variant, piece);
  return piece;
}

/**
 * The value, made a flat string if it is one. Pieces are built with + and template literals, which V8 keeps as trees
 * of parts; a remembered piece is then joined into every digest that shows it, and a join walks the tree each time
 * (1,608 plain-text parts: 183 of 545 ms in that join). Reading a character flattens the tree in place, once.
 */
function flatten<T>(value: T): T {
  if (typeof value === 'string' && value.length > 0) value.charCodeAt(0);
  return value;
}

/** httpUrl(entry.link), remembered (URL parsing is the costly part of deciding on a link). */
export function memoHttpLink(memo: EntryMemo): string | undefined {
  if (memo.httpLink === undefined) memo.httpLink = httpUrl(memo.link) ?? null;
  return memo.httpLink ?? undefined;
}

const variants = new Map<string, number>();
let nextVariant = 0;
/** Distinct variant keys remembered; beyond it numbering starts afresh (later lookups miss, never mix up variants). */
const VARIANT_LIMIT = 100_000;

/**
 * The number standing for a variant key: the description of everything a piece depends on besides the entry's own fields
 * (kind of piece, time zone, locale, current year, template, lengths, position…). Callers compute it once per digest
 * (or per source) rather than building a string per entry; numbers are never reused for another key.
 */
export function memoVariant(key: string): number {
  let n = variants.get(key);
  if (n === undefined) {
    if (variants.size >= VARIANT_LIMIT) variants.clear();
    n = nextVariant++;
    variants.set(key, n);
  }
  return n;
}

/** The entry-date variant for a date formatter (see memoEntryDate). */
export function entryDateVariant(dates: DateFormatter): number {
  return memoVariant(`entry-date\0${dates.key}`);
}

/** dates.entry(published ?? updated), remembered; `variant` is entryDateVariant(dates). */
export function memoEntryDate(memo: EntryMemo, dates: DateFormatter, variant: number): string {
  return memoPiece(memo, variant, () => dates.entry(memo.published ?? memo.updated));
}

const STRING_MEMO_LIMIT = 10_000;

/**
 * A memo for what every digest recomputes from the same string (cleaned, shortened, escaped source titles; display
 * widths): `compute` must depend only on `input`. Bounded: the cache is emptied when it reaches 10,000 inputs.
 */
export function memoString<T>(cache: Map<string, T>, input: string, compute: (input: string) => T): T {
  let out = cache.get(input);
  if (out === undefined) {
    if (cache.size >= STRING_MEMO_LIMIT) cache.clear();
    out = flatten(compute(input));
    cache.set(input, out);
  }
  return out;
}
