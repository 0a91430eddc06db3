/**
 * `planet-digest feeds list|add|remove|set|import|export`: plain functions the CLI calls and prints.
 * Every change goes through editSubscribersFile (lock, re-read, validate, atomic write).
 */
import { readFile } from 'node:fs/promises';
import type { FeedConfig } from '../model/feed.js';
import { ConfigError } from '../model/errors.js';
import { AdminError } from './admin-error.js';
import { deriveFeedId } from './derive-feed-id.js';
import { editSubscribersFile, validateSubscribersDocument } from './edit-subscribers-file.js';
import type { EditOptions, SubscribersDocument } from './edit-subscribers-file.js';
import { didYouMean } from './find-close-matches.js';
import { formatTable } from './format-table.js';
import { exportOpml, importOpml } from './opml.js';
import type { ImportOpmlResult } from './opml.js';
import { parseListValue } from './parse-field-value.js';
import { resolveFeedIds } from '../group/resolve-feed-refs.js';
import type { CommandResult } from './subscriber-commands.js';

/** One feed as written in subscribers.json (before defaults). */
export type FeedEntry = SubscribersDocument['feeds'][number];

/** One row of `feeds list`. */
export interface FeedRow {
  id: string;
  title?: string;
  url: string;
  tags: string[];
  /** Ids of the subscribers (paused ones included) whose selection includes this feed. */
  subscribers: string[];
}

/** Rows for `feeds list`, in file order. Accepts the raw document or the validated one. */
export function listFeeds(doc: Pick<SubscribersDocument, 'feeds' | 'subscribers'>): FeedRow[] {
  const receivers = new Map<string, string[]>(doc.feeds.map((f) => [f.id, []]));
  for (const subscriber of doc.subscribers) {
    for (const id of resolveFeedIds(subscriber, doc.feeds)) receivers.get(id)?.push(subscriber.id);
  }
  return doc.feeds.map((f) => {
    const row: FeedRow = { id: f.id, url: f.url, tags: [...(f.tags ?? [])], subscribers: receivers.get(f.id) ?? [] };
    if (f.title !== undefined) row.title = f.title;
    return row;
  });
}

/** `feeds list` as an aligned text table. */
export function formatFeedRows(rows: readonly FeedRow[]): string {
  if (rows.length === 0) return 'No feeds yet. Add one with `planet-digest feeds add URL` or import an OPML file.';
  return formatTable(
    ['ID', 'TITLE', 'TAGS', 'SUBSCRIBERS', 'URL'],
    rows.map((r) => [r.id, r.title ?? '', r.tags.join(','), String(r.subscribers.length), r.url]),
  );
}

/** Same feed however the URL is spelled in case and fragment. */
function sameUrl(a: string, b: string): boolean {
  const norm = (u: string): string => {
    try {
      const url = new URL(u.trim());
      url.hash = '';
      return url.href;
    } catch {
      return u.trim();
    }
  };
  return norm(a) === norm(b);
}

function checkUrl(url: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  // Local paths are allowed (tests, mirrors); any other scheme is a typo or something we cannot fetch.
  if (scheme !== undefined && scheme.length > 1 && !['http', 'https', 'file'].includes(scheme)) {
    throw new AdminError('invalid-input', `"${url}" is not an http(s) URL or a local file path`);
  }
  if (scheme === 'http' || scheme === 'https') {
    try {
      new URL(url);
    } catch (error) {
      throw new AdminError('invalid-input', `"${url}" is not a valid URL`, { cause: error });
    }
  }
}

function findFeedIndex(doc: Pick<SubscribersDocument, 'feeds'>, id: string, file: string): number {
  const index = doc.feeds.findIndex((f) => f.id === id);
  if (index >= 0) return index;
  const ids = doc.feeds.map((f) => f.id);
  const known = ids.length === 0 ? ' There are no feeds.' : didYouMean(id, ids) || ` Known ids: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}.`;
  throw new AdminError('not-found', `no feed with id "${id}" in ${file}.${known}`, { hint: 'Run `planet-digest feeds list` to see the ids.' });
}

/** What `feeds add` takes. */
export interface AddFeedInput {
  url: string;
  /** Derived from the title, else the URL's host, when absent (then made unique). */
  id?: string;
  title?: string;
  tags?: string | string[];
}

/** `feeds add`: appends a feed; refuses a duplicate id or a URL that is already configured. */
export async function addFeed(file: string, input: AddFeedInput, options?: EditOptions): Promise<CommandResult & { feed: FeedEntry }> {
  const url = input.url.trim();
  checkUrl(url);
  let feed: FeedEntry | undefined;
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const sameFeed = doc.feeds.find((f) => sameUrl(f.url, url));
      if (sameFeed) throw new AdminError('duplicate', `that URL is already configured as feed "${sameFeed.id}"`);
      const taken = new Set(doc.feeds.map((f) => f.id));
      const id = input.id?.trim() ?? deriveFeedId({ title: input.title, url }, taken);
      if (taken.has(id)) throw new AdminError('duplicate', `a feed with id "${id}" already exists (${doc.feeds.find((f) => f.id === id)?.url ?? ''})`, { hint: 'Choose another --id.' });
      const entry: Record<string, unknown> = { id, url };
      if (input.title !== undefined) entry['title'] = input.title.trim();
      entry['tags'] = input.tags !== undefined ? parseListValue(input.tags) : [];
      feed = entry as FeedEntry;
      doc.feeds.push(feed);
    },
    options,
  );
  const added = feed as FeedEntry;
  return { message: `Added feed "${added.id}" (${added.url}).`, edit, feed: added };
}

/** A subscriber entry that names a feed being removed (directly, or by a tag only that feed has). */
export interface FeedReference {
  subscriberId: string;
  /** The entries of its feeds / excludeFeeds lists that point at the feed. */
  refs: string[];
}

/**
 * `feeds remove`: deletes a feed. Refuses while subscribers refer to it (by id, or by a tag no other feed has) unless
 * `force`, which also removes those references; still refuses if that would leave a subscriber with no feeds.
 */
export async function removeFeed(file: string, id: string, options: EditOptions & { force?: boolean } = {}): Promise<CommandResult & { feed: FeedEntry; references: FeedReference[] }> {
  let removed: FeedEntry | undefined;
  const references: FeedReference[] = [];
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const index = findFeedIndex(doc, id, file);
      const feed = doc.feeds[index] as FeedEntry;
      const others = doc.feeds.filter((_, i) => i !== index);
      const orphanTags = (feed.tags ?? []).filter((tag) => !others.some((f) => f.tags?.includes(tag)));
      const isRef = (ref: string): boolean => ref === id || orphanTags.some((tag) => ref === `tag:${tag}`);
      for (const s of doc.subscribers) {
        const refs = [...(s.feeds ?? []), ...(s.excludeFeeds ?? [])].filter(isRef);
        if (refs.length > 0) references.push({ subscriberId: s.id, refs });
      }
      if (references.length > 0 && !options.force) {
        throw new AdminError('in-use', `feed "${id}" is still used by ${references.length} subscriber${references.length === 1 ? '' : 's'}: ${references.map((r) => `${r.subscriberId} (${r.refs.join(', ')})`).join('; ')}`, {
          hint: 'Change those subscribers first, or use --force to remove these references along with the feed.',
        });
      }
      const emptied: string[] = [];
      for (const s of doc.subscribers) {
        if (s.feeds?.some(isRef)) {
          s.feeds = s.feeds.filter((ref) => !isRef(ref));
          if (s.feeds.length === 0) emptied.push(s.id);
        }
        if (s.excludeFeeds?.some(isRef)) s.excludeFeeds = s.excludeFeeds.filter((ref) => !isRef(ref));
      }
      if (emptied.length > 0) {
        throw new AdminError('in-use', `removing feed "${id}" would leave ${emptied.join(', ')} with no feeds at all`, {
          hint: `Give them other feeds first (e.g. \`planet-digest subscribers set ${emptied[0] ?? 'ID'} feeds '*'\`) or remove them.`,
        });
      }
      [removed] = doc.feeds.splice(index, 1);
    },
    options,
  );
  const also = references.length > 0 ? ` Also removed references from: ${references.map((r) => `${r.subscriberId} (${r.refs.join(', ')})`).join('; ')}.` : '';
  return { message: `Removed feed "${id}".${also}`, edit, feed: removed as FeedEntry, references };
}

/** Fields `feeds set` can change. */
export const FEED_FIELDS = ['url', 'title', 'tags'] as const;

/**
 * `feeds set ID KEY VALUE` for url, title or tags ("a,b" or a JSON array); `value` null removes the title.
 * The id cannot change: seen entries are stored under it.
 */
export async function setFeedField(file: string, id: string, key: string, value: string | null, options?: EditOptions): Promise<CommandResult> {
  if (key === 'id') {
    throw new AdminError('invalid-input', 'the id of a feed cannot be changed: its seen entries are stored under it (renaming would resend them)', {
      hint: 'Add the feed again under the new id and remove the old one.',
    });
  }
  if (!(FEED_FIELDS as readonly string[]).includes(key)) {
    throw new AdminError('invalid-input', `"${key}" is not a feed field.${didYouMean(key, FEED_FIELDS)}`, { hint: `Fields: ${FEED_FIELDS.join(', ')}.` });
  }
  if (key === 'url' && value !== null) checkUrl(value.trim());
  const parsed = value === null ? undefined : key === 'tags' ? parseListValue(value) : value.trim();
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const feed = doc.feeds[findFeedIndex(doc, id, file)] as Record<string, unknown>;
      if (key === 'url' && typeof parsed === 'string') {
        const other = doc.feeds.find((f) => f.id !== id && sameUrl(f.url, parsed));
        if (other) throw new AdminError('duplicate', `that URL is already configured as feed "${other.id}"`);
      }
      if (parsed === undefined) delete feed[key];
      else feed[key] = parsed;
    },
    options,
  );
  const message = edit.changed ? `Feed "${id}": ${key} ${value === null ? 'removed' : `= ${JSON.stringify(parsed)}`}.` : `Feed "${id}": ${key} unchanged.`;
  return { message, edit };
}

/** What `feeds import` did. */
export interface ImportFeedsResult extends ImportOpmlResult {
  message: string;
  /** Absent for a dry run. */
  edit?: CommandResult['edit'];
}

/**
 * `feeds import FILE.opml`: adds the OPML file's feeds that are not configured yet (see importOpml), under the lock so
 * the de-duplication sees the current file. `dryRun` reports what would be added without writing.
 */
export async function importOpmlFeeds(file: string, xml: string, options: EditOptions & { dryRun?: boolean } = {}): Promise<ImportFeedsResult> {
  const summarize = (result: ImportOpmlResult, verb: string): string => {
    const lines = [`${verb} ${result.feeds.length} feed${result.feeds.length === 1 ? '' : 's'}${result.skipped.length > 0 ? `, skipped ${result.skipped.length}` : ''}.`];
    for (const s of result.skipped) lines.push(`  skipped ${s.url}: ${s.reason}`);
    for (const w of result.warnings) lines.push(`  warning: ${w}`);
    return lines.join('\n');
  };
  if (options.dryRun) {
    const doc = await readDocument(file);
    const result = importOpml(xml, { existing: doc.feeds.map(toFeedConfig) });
    return { ...result, message: summarize(result, 'Would add') };
  }
  let result: ImportOpmlResult | undefined;
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      result = importOpml(xml, { existing: doc.feeds.map(toFeedConfig) });
      doc.feeds.push(...result.feeds);
    },
    options,
  );
  const done = result as ImportOpmlResult;
  return { ...done, edit, message: summarize(done, 'Added') };
}

function toFeedConfig(feed: FeedEntry): FeedConfig {
  const config: FeedConfig = { id: feed.id, url: feed.url, tags: feed.tags ?? [] };
  if (feed.title !== undefined) config.title = feed.title;
  return config;
}

async function readDocument(file: string): Promise<SubscribersDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})` }], { cause: error });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `not valid JSON (${error instanceof Error ? error.message : String(error)})` }], { cause: error });
  }
  const validation = validateSubscribersDocument(doc, file);
  if (!validation.ok) throw new ConfigError(file, validation.issues);
  return doc as SubscribersDocument;
}

/** `feeds export`: the configured feeds as OPML 2.0 (URLs as written in the file); title defaults to settings.title. */
export async function exportOpmlFeeds(file: string, options: { now: Date; title?: string; htmlUrls?: ReadonlyMap<string, string> }): Promise<string> {
  const doc = await readDocument(file);
  const title = options.title ?? doc.settings?.title ?? 'Planet digest';
  return exportOpml(doc.feeds.map(toFeedConfig), { title, now: options.now, htmlUrls: options.htmlUrls });
}
