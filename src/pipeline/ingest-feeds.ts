import type { Entry } from '../model/entry.js';
import type { FeedConfig, FeedState } from '../model/feed.js';
import type { Logger } from '../model/logger.js';
import type { Batch, SeenMap, SeenStore } from '../store/seen-store.js';
import { pollFeeds, recordParseFailure, recordParseSuccess, type PollOptions, type PollResult } from '../fetch/poll-feeds.js';
import { decodeFeedBytes } from '../fetch/decode-feed-bytes.js';
import { diffEntries } from '../diff/diff-entries.js';
import type { parseFeed as ParseFeed } from '../parse/parse-feed.js';
import type { RunReport } from './run-report.js';

/** Options of the ingestion half of a cycle. */
export interface IngestOptions {
  feeds: FeedConfig[];
  store: SeenStore;
  logger: Logger;
  now: () => Date;
  poll: Omit<PollOptions, 'now' | 'logger' | 'force' | 'onProgress' | 'onFetched'>;
  firstPollEntries: number;
  retentionDays: number;
  failingHours: number;
  force: boolean;
  dryRun: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** What ingestion produced: the new entries (already in a stored batch unless dry-run) and feed display data. */
export interface IngestResult {
  /** New entries, as stored in the batch: without contentHtml, except in a dry run (which stores nothing). */
  fresh: Entry[];
  /** Batch the fresh entries went into (undefined when none or dry-run). */
  batchSeq?: number;
  /** That batch as stored (these very entries): delivery need not read it back. */
  batch?: Batch;
  states: Map<string, FeedState>;
}

/** What parsing one fetched body gave: the feed's new entries and seen map, or the parse error. */
type ParseOutcome =
  | { ok: true; title?: string; link?: string; entries: number; fresh: Entry[]; seen: SeenMap; changed: boolean; firstPoll: boolean; entryCount: number }
  | { ok: false; message: string };

/**
 * Polls every feed, parses what changed, diffs against the seen-store and records new entries as a batch.
 *
 * Each body is decoded, parsed and diffed as soon as it arrives, while the other feeds are still downloading, and
 * then dropped: only a feed's new entries (and its seen map) outlive its parse, never the whole set of bodies, texts
 * and XML trees. Parses run one at a time, in arrival order; the report lists feeds in configuration order.
 */
export async function ingestFeeds(options: IngestOptions, report: RunReport): Promise<IngestResult> {
  const { feeds, store, logger } = options;
  const now = options.now();
  let t = performance.now();
  const feedIds = feeds.map((f) => f.id);
  const states = await store.getFeedStates(feedIds);
  report.phasesMs.store += performance.now() - t;
  // Seen maps are read only for feeds whose body changed, batched as bodies arrive: a cycle of 304s reads none (220
  // feeds: ~20 ms of SQLite reads and JSON parsing saved, issue 7). A store that fails here fails the cycle, as
  // before; the parse queue must not reject (see PollOptions.onFetched), so the error waits in storeFailure.
  const seenMaps = createSeenMapLoader(store);
  let storeFailure: { error: unknown } | undefined;

  // The parser (rss-parser, html-to-text…) loads only when some feed changed: a cycle of 304s never pays for it.
  let parser: Promise<{ parseFeed: typeof ParseFeed }> | undefined;
  // Batches keep entries without contentHtml (digests show summaries; content is often most of a feed's bytes), so
  // it is dropped right after the diff. A dry run keeps it: its digests are rendered from these very entries.
  const keepEntry = options.dryRun ? (entry: Entry) => entry : withoutContent;
  const parsedOutcomes = new Map<PollResult, ParseOutcome>();
  let parseMs = 0;
  let queue: Promise<void> = Promise.resolve();

  const parseBody = async (result: PollResult): Promise<void> => {
    const { feed, state } = result;
    const body = result.body ?? Buffer.alloc(0);
    // The body is parsed now; the poll result must not keep it alive.
    delete result.body;
    let seenMap: SeenMap | undefined;
    const waited = performance.now();
    try {
      seenMap = await seenMaps.take(feed.id);
    } catch (error) {
      storeFailure ??= { error };
      return;
    } finally {
      report.phasesMs.store += performance.now() - waited;
    }
    const started = performance.now();
    try {
      parser ??= import('../parse/parse-feed.js');
      const { parseFeed } = await parser;
      const decoded = decodeFeedBytes(body, result.contentType);
      const known = seenMap;
      const parsed = await parseFeed(decoded.text, {
        feedId: feed.id,
        url: result.finalUrl ?? state.url,
        // Entries in the seen map are never fresh (diffEntries), so they need no summary.
        ...(known ? { isKnown: (key: string) => Object.hasOwn(known, key) } : {}),
      });
      // A stored seen map means an earlier poll was recorded even if its feed state was not (crash in between).
      const firstPoll = state.urlChanged === true || (!state.polledOnce && seenMap === undefined);
      const diff = diffEntries(parsed.entries, seenMap, {
        now,
        firstPoll,
        firstPollEntries: options.firstPollEntries,
        retentionDays: options.retentionDays,
      });
      parsedOutcomes.set(result, {
        ok: true,
        title: parsed.title,
        link: parsed.link,
        entries: parsed.entries.length,
        fresh: diff.fresh.map(keepEntry),
        seen: diff.seen,
        changed: diff.changed,
        firstPoll,
        entryCount: Object.keys(diff.seen).length,
      });
    } catch (error) {
      parsedOutcomes.set(result, { ok: false, message: error instanceof Error ? error.message : String(error) });
    } finally {
      parseMs += performance.now() - started;
    }
  };

  t = performance.now();
  const results = await pollFeeds(feeds, states, {
    ...options.poll,
    now: options.now,
    logger,
    force: options.force,
    onProgress: options.onProgress,
    onFetched: (result) => {
      if (result.outcome !== 'ok') return;
      // Start reading its seen map now, while earlier bodies are still being parsed.
      seenMaps.prefetch(result.feed.id);
      // One parse at a time (parsing is CPU-bound: running several at once only holds more trees in memory). The
      // immediate yield lets the fetches whose turn came start their requests before this parse takes the CPU.
      // Returning the parse keeps this feed's fetch slot until its body is parsed: bodies never pile up unparsed.
      queue = queue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => parseBody(result));
      return queue;
    },
  });
  await queue;
  if (storeFailure) throw storeFailure.error;
  // Parsing happened during the poll: the fetch phase is the rest of its wall time (waiting for the network).
  report.phasesMs.fetch += Math.max(0, performance.now() - t - parseMs);
  report.phasesMs.parse += parseMs;

  const newStates = new Map<string, FeedState>();
  const changedMaps = new Map<string, SeenMap>();
  const backlogMaps = new Map<string, SeenMap>();
  const fresh: Entry[] = [];
  report.feeds.total = feeds.length;
  for (const result of results) {
    const { feed } = result;
    let state = result.state;
    switch (result.outcome) {
      case 'ok': {
        const parsed = parsedOutcomes.get(result) ?? { ok: false, message: `feed "${feed.id}" was fetched but not parsed` };
        if (parsed.ok) {
          if (parsed.changed) changedMaps.set(feed.id, parsed.seen);
          if (parsed.firstPoll && parsed.fresh.length > 0) backlogMaps.set(feed.id, withoutKeys(parsed.seen, parsed.fresh));
          if (parsed.firstPoll) report.entries.backlog += parsed.entries - parsed.fresh.length;
          for (const entry of parsed.fresh) fresh.push(entry);
          state = recordParseSuccess(state, { title: parsed.title, link: parsed.link, entryCount: parsed.entryCount, bodyHash: result.bodyHash }, now);
          report.feeds.ok += 1;
          if (parsed.fresh.length > 0) logger.debug({ feed: feed.id, fresh: parsed.fresh.length }, 'new entries');
        } else {
          const message = parsed.message;
          state = recordParseFailure(state, message, now);
          report.feeds.failed += 1;
          report.feeds.failures.push({ feedId: feed.id, url: state.url, kind: 'parse', message, consecutiveFailures: state.consecutiveFailures, nextPollAt: state.nextPollAt });
          logger.warn({ feed: feed.id, url: state.url, err: message }, 'feed could not be parsed; the other feeds go on');
        }
        break;
      }
      case 'not-modified':
        report.feeds.notModified += 1;
        break;
      case 'skipped':
        report.feeds.skipped += 1;
        break;
      case 'gone':
        report.feeds.gone += 1;
        report.feeds.failures.push({ feedId: feed.id, url: state.url, kind: 'gone', message: `${state.url} answered 410 Gone: it is no longer polled; remove the feed or change its URL`, consecutiveFailures: state.consecutiveFailures });
        break;
      case 'failed': {
        report.feeds.failed += 1;
        const message = result.error?.message ?? 'unknown error';
        report.feeds.failures.push({ feedId: feed.id, url: state.url, kind: state.lastErrorKind ?? 'network', message, consecutiveFailures: state.consecutiveFailures, nextPollAt: state.nextPollAt });
        logger.warn({ feed: feed.id, url: state.url, failures: state.consecutiveFailures, next: state.nextPollAt, err: message }, 'feed failed; the other feeds go on');
        break;
      }
    }
    if (result.movedTo) {
      report.feeds.moved.push({ feedId: feed.id, from: feed.url, to: result.movedTo });
      logger.info({ feed: feed.id, from: feed.url, to: result.movedTo }, 'feed moved permanently; polling the new URL (update subscribers.json to make it stick)');
    }
    if (state.failingSince && now.getTime() - Date.parse(state.failingSince) > options.failingHours * 3_600_000) {
      report.feeds.longFailing.push({ feedId: feed.id, since: state.failingSince });
    }
    newStates.set(feed.id, state);
  }
  parsedOutcomes.clear();
  report.entries.fresh = fresh.length;

  let batchSeq: number | undefined;
  if (!options.dryRun) {
    t = performance.now();
    // Order matters for crash safety: the batch first, then the seen maps. A crash in between re-detects the
    // entries next cycle (and digests dedupe by key) instead of losing them. A feed's first poll marks its backlog seen
    // before the batch: re-detected as a first poll again, its newest-N cut would drop entries that arrived meanwhile.
    if (backlogMaps.size > 0) await store.setSeenMaps(backlogMaps);
    if (fresh.length > 0) batchSeq = await store.appendBatch(fresh, now);
    if (changedMaps.size > 0) await store.setSeenMaps(changedMaps);
    await store.setFeedStates([...newStates.values()]);
    report.phasesMs.store += performance.now() - t;
  }
  // What appendBatch stored; the entries survive JSON unchanged (test/pipeline/ingest-feeds.test.ts checks it).
  const batch: Batch | undefined = batchSeq === undefined ? undefined : { seq: batchSeq, createdAt: now.toISOString(), entries: fresh };
  return { fresh, batchSeq, batch, states: newStates };
}

function withoutContent(entry: Entry): Entry {
  const { contentHtml: _contentHtml, ...rest } = entry;
  return rest;
}

/** The seen map without the given entries (a first poll's backlog: everything seen except what is delivered as new). */
function withoutKeys(seen: SeenMap, entries: Entry[]): SeenMap {
  const out: SeenMap = { ...seen };
  for (const entry of entries) delete out[entry.key];
  return out;
}

/** Seen maps read on demand, in batches (see createSeenMapLoader). */
interface SeenMapLoader {
  /** Starts reading a feed's map (batched with the other requests of this event-loop turn). */
  prefetch(feedId: string): void;
  /** The feed's map (undefined when it has none), read now if prefetch was not called; forgotten once taken. */
  take(feedId: string): Promise<SeenMap | undefined>;
}

/** Reads seen maps on demand: the ids asked for before the event loop's next turn go into one getSeenMaps. */
function createSeenMapLoader(store: SeenStore): SeenMapLoader {
  const loads = new Map<string, Promise<SeenMap | undefined>>();
  let pending: string[] = [];
  let batch: Promise<Map<string, SeenMap>> | undefined;
  const start = (feedId: string): Promise<SeenMap | undefined> => {
    pending.push(feedId);
    batch ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const ids = pending;
      pending = [];
      batch = undefined;
      return store.getSeenMaps(ids);
    });
    const load = batch.then((maps) => maps.get(feedId));
    // Awaited later by take(); until then a failed read must not count as an unhandled rejection.
    load.catch(() => undefined);
    return load;
  };
  return {
    prefetch(feedId) {
      if (!loads.has(feedId)) loads.set(feedId, start(feedId));
    },
    take(feedId) {
      const load = loads.get(feedId) ?? start(feedId);
      loads.delete(feedId);
      return load;
    },
  };
}
