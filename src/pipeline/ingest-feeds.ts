import type { Entry } from '../model/entry.js';
import type { FeedConfig, FeedState } from '../model/feed.js';
import type { Logger } from '../model/logger.js';
import type { SeenMap, SeenStore } from '../store/seen-store.js';
import { pollFeeds, recordParseFailure, recordParseSuccess, type PollOptions } from '../fetch/poll-feeds.js';
import { decodeFeedBytes } from '../fetch/decode-feed-bytes.js';
import { diffEntries } from '../diff/diff-entries.js';
import type { RunReport } from './run-report.js';

/** Options of the ingestion half of a cycle. */
export interface IngestOptions {
  feeds: FeedConfig[];
  store: SeenStore;
  logger: Logger;
  now: () => Date;
  poll: Omit<PollOptions, 'now' | 'logger' | 'force' | 'onProgress'>;
  firstPollEntries: number;
  retentionDays: number;
  failingHours: number;
  force: boolean;
  dryRun: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** What ingestion produced: the new entries (already in a stored batch unless dry-run) and feed display data. */
export interface IngestResult {
  fresh: Entry[];
  /** Batch the fresh entries went into (undefined when none or dry-run). */
  batchSeq?: number;
  states: Map<string, FeedState>;
}

/** Polls every feed, parses what changed, diffs against the seen-store and records new entries as a batch. */
export async function ingestFeeds(options: IngestOptions, report: RunReport): Promise<IngestResult> {
  const { feeds, store, logger } = options;
  const now = options.now();
  let t = performance.now();
  const feedIds = feeds.map((f) => f.id);
  const [states, seenMaps] = await Promise.all([store.getFeedStates(feedIds), store.getSeenMaps(feedIds)]);
  report.phasesMs.store += performance.now() - t;

  t = performance.now();
  const results = await pollFeeds(feeds, states, { ...options.poll, now: options.now, logger, force: options.force, onProgress: options.onProgress });
  report.phasesMs.fetch += performance.now() - t;

  const newStates = new Map<string, FeedState>();
  const changedMaps = new Map<string, SeenMap>();
  const backlogMaps = new Map<string, SeenMap>();
  const fresh: Entry[] = [];
  report.feeds.total = feeds.length;
  t = performance.now();
  // The parser (rss-parser, html-to-text…) loads only when some feed changed: a cycle of 304s never pays for it.
  const parseFeed = results.some((r) => r.outcome === 'ok') ? (await import('../parse/parse-feed.js')).parseFeed : undefined;
  for (const result of results) {
    const { feed } = result;
    let state = result.state;
    switch (result.outcome) {
      case 'ok': {
        try {
          const decoded = decodeFeedBytes(result.body ?? Buffer.alloc(0), result.contentType);
          const parsed = await parseFeed!(decoded.text, { feedId: feed.id, url: result.finalUrl ?? state.url });
          // A stored seen map means an earlier poll was recorded even if its feed state was not (crash in between).
          const firstPoll = state.urlChanged === true || (!state.polledOnce && !seenMaps.has(feed.id));
          const diff = diffEntries(parsed.entries, seenMaps.get(feed.id), {
            now,
            firstPoll,
            firstPollEntries: options.firstPollEntries,
            retentionDays: options.retentionDays,
          });
          if (diff.changed) changedMaps.set(feed.id, diff.seen);
          if (firstPoll && diff.fresh.length > 0) backlogMaps.set(feed.id, withoutKeys(diff.seen, diff.fresh));
          if (firstPoll) report.entries.backlog += parsed.entries.length - diff.fresh.length;
          fresh.push(...diff.fresh);
          state = recordParseSuccess(state, { title: parsed.title, link: parsed.link, entryCount: Object.keys(diff.seen).length }, now);
          report.feeds.ok += 1;
          if (diff.fresh.length > 0) logger.debug({ feed: feed.id, fresh: diff.fresh.length }, 'new entries');
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
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
  report.phasesMs.parse += performance.now() - t;
  report.entries.fresh = fresh.length;

  let batchSeq: number | undefined;
  if (!options.dryRun) {
    t = performance.now();
    // Order matters for crash safety: the batch first, then the seen maps. A crash in between re-detects the
    // entries next cycle (and digests dedupe by key) instead of losing them. A feed's first poll marks its backlog seen
    // before the batch: re-detected as a first poll again, its newest-N cut would drop entries that arrived meanwhile.
    if (backlogMaps.size > 0) await store.setSeenMaps(backlogMaps);
    // Digests show summaries, not full content: batches keep entries without contentHtml (often most of a feed's bytes).
    if (fresh.length > 0) batchSeq = await store.appendBatch(fresh.map(withoutContent), now);
    if (changedMaps.size > 0) await store.setSeenMaps(changedMaps);
    await store.setFeedStates([...newStates.values()]);
    report.phasesMs.store += performance.now() - t;
  }
  return { fresh, batchSeq, states: newStates };
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
