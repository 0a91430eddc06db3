import type { DigestConfig } from '../config/load-digest-config.js';
import type { Logger } from '../model/logger.js';
import { LockedError } from '../model/errors.js';
import type { SeenStore } from '../store/seen-store.js';
import type { PollOptions } from '../fetch/poll-feeds.js';
import type { CompiledTemplates } from '../template/load-template.js';
import { ingestFeeds } from './ingest-feeds.js';
import { deliverDigests, planDeliveries, type MailIdentity } from './deliver-digests.js';
import type { DigestChannels } from './digest-channels.js';
import { createRunReport, type RunReport } from './run-report.js';

/** Lock name and lifetime: a crashed cycle blocks the next one for at most this long. */
const CYCLE_LOCK = 'cycle';
const CYCLE_LOCK_TTL_MS = 10 * 60_000;

/** Everything a cycle needs, passed in (the CLI builds it from the environment; tests build it directly). */
export interface RunDeps {
  config: DigestConfig;
  store: SeenStore;
  channels: DigestChannels;
  /** Loaded lazily: a cycle with nothing to send never loads templates (or MJML). */
  templates: () => Promise<CompiledTemplates>;
  mail: MailIdentity;
  logger: Logger;
  now: () => Date;
  poll: Omit<PollOptions, 'now' | 'logger' | 'force' | 'onProgress'>;
  defaultSchedule: string;
  defaultTimezone: string;
  retentionDays: number;
  failingHours: number;
  sendConcurrency?: number;
  /** Lifetime of the cycle lock (default CYCLE_LOCK_TTL_MS); refreshed every third of it while the cycle runs. */
  lockTtlMs?: number;
  /** Progress of the long phases, for a progress line on a terminal. */
  onProgress?: (phase: 'fetch' | 'send', done: number, total: number) => void;
}

/** What to do this cycle. */
export interface RunOptions {
  /** Render but neither send nor record anything. */
  dryRun?: boolean;
  /** "all" (default): every active subscriber; "due": only subscribers whose schedule window has come. */
  audience?: 'all' | 'due';
  /** Only these subscribers (preview). */
  subscriberIds?: string[];
  /** Poll feeds even when backoff or Cache-Control says not yet. */
  forcePoll?: boolean;
  /** Daemon ticks: when nobody is due and feeds were polled less than this many minutes ago, do nothing. */
  idlePollMinutes?: number;
  /** Shutdown: digests not yet started are left for the next cycle; the one in flight finishes and is recorded. */
  signal?: AbortSignal;
}

/**
 * One digest cycle: poll -> parse -> diff -> record -> select -> group -> render -> send -> record delivery.
 * The one place that chains the stages. Per-feed and per-subscriber failures end up in the report, never as exceptions.
 */
export async function runDigest(deps: RunDeps, options: RunOptions = {}): Promise<RunReport> {
  const dryRun = options.dryRun ?? false;
  const started = deps.now();
  const report = createRunReport(started, dryRun);
  // A broken template must stop the cycle before anything is polled, sent or recorded (exit 2), not halfway.
  if (deps.config.subscribers.some((s) => !s.slack && !s.paused)) await deps.templates();
  const lockTtlMs = deps.lockTtlMs ?? CYCLE_LOCK_TTL_MS;
  const lock = dryRun ? undefined : await deps.store.acquireLock(CYCLE_LOCK, lockTtlMs);
  if (!dryRun && !lock) {
    throw new LockedError('another planet-digest cycle is running on this store', {
      hint: `It holds the lock for at most ${formatTtl(lockTtlMs)} after it stops; try again later.`,
    });
  }
  // Losing the lock (another run took it over after we stalled past the TTL) stops our deliveries: two senders
  // working from the same cursors would double digests.
  const lost = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  const refresher = lock
    ? setInterval(() => {
        lock.refresh().catch((error: unknown) => {
          deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'lost the cycle lock; stopping deliveries');
          lost.abort();
        });
      }, lockTtlMs / 3)
    : undefined;
  refresher?.unref();
  try {
    const subscribers = options.subscriberIds
      ? deps.config.subscribers.filter((s) => options.subscriberIds!.includes(s.id))
      : deps.config.subscribers;
    const previousSeq = await deps.store.latestBatchSeq();
    const plans = await planDeliveries(
      {
        subscribers,
        settings: deps.config.settings,
        store: deps.store,
        now: started,
        audience: options.audience ?? 'all',
        defaultSchedule: deps.defaultSchedule,
        defaultTimezone: deps.defaultTimezone,
        previousSeq,
        dryRun,
        wholeList: !options.subscriberIds,
      },
      report,
    );
    if (plans.length === 0 && options.idlePollMinutes !== undefined) {
      const lastPoll = await deps.store.getMeta<string>('last-poll');
      if (lastPoll && started.getTime() - Date.parse(lastPoll) < options.idlePollMinutes * 60_000) {
        report.idle = true;
        return report;
      }
    }
    const ingest = await ingestFeeds(
      {
        feeds: deps.config.feeds,
        store: deps.store,
        logger: deps.logger,
        now: deps.now,
        poll: deps.poll,
        firstPollEntries: deps.config.settings.firstPollEntries,
        retentionDays: deps.retentionDays,
        failingHours: deps.failingHours,
        force: options.forcePoll ?? false,
        dryRun,
        onProgress: deps.onProgress ? (d, t) => deps.onProgress!('fetch', d, t) : undefined,
      },
      report,
    );
    if (!dryRun) await deps.store.setMeta('last-poll', started.toISOString());
    const now = deps.now();
    const latestSeq = dryRun ? previousSeq + (ingest.fresh.length > 0 ? 1 : 0) : (ingest.batchSeq ?? previousSeq);
    await deliverDigests(
      {
        plans,
        feeds: deps.config.feeds,
        feedStates: ingest.states,
        settings: deps.config.settings,
        store: deps.store,
        channels: deps.channels,
        templates: deps.templates,
        mail: deps.mail,
        logger: deps.logger,
        now,
        latestSeq,
        heldBatch: dryRun ? (ingest.fresh.length > 0 ? { seq: latestSeq, createdAt: now.toISOString(), entries: ingest.fresh } : undefined) : ingest.batch,
        dryRun,
        sendConcurrency: deps.sendConcurrency ?? 8,
        signal,
        onProgress: deps.onProgress ? (d, t) => deps.onProgress!('send', d, t) : undefined,
      },
      report,
    );
    if (!dryRun) await pruneOldBatches(deps, now);
  } finally {
    if (refresher) clearInterval(refresher);
    const finished = deps.now();
    report.finishedAt = finished.toISOString();
    report.durationMs = finished.getTime() - started.getTime();
    if (!dryRun && !report.idle) {
      await deps.store.setMeta('last-cycle', report).catch((error: unknown) => deps.logger.warn({ err: String(error) }, 'could not store the cycle summary'));
    }
    await lock?.release().catch(() => undefined);
  }
  return report;
}

function formatTtl(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}` : `${Math.ceil(ms / 1000)} seconds`;
}

/** Batches older than the retention period go; subscribers that far behind get what is left (README: retention). */
async function pruneOldBatches(deps: RunDeps, now: Date): Promise<void> {
  // Retention is counted in days: looking once a day is enough, and spares every other cycle reading batches.
  const lastPrune = await deps.store.getMeta<string>('last-prune');
  if (lastPrune && now.getTime() - Date.parse(lastPrune) < 86_400_000) return;
  await deps.store.setMeta('last-prune', now.toISOString());
  const oldest = await deps.store.oldestBatchSeq();
  const latest = await deps.store.latestBatchSeq();
  if (oldest > latest) return;
  const cutoff = now.getTime() - deps.retentionDays * 86_400_000;
  let upTo = 0;
  // Batches are created in time order, so walk from the oldest until one is young enough.
  for (let seq = oldest; seq <= latest; seq += 50) {
    const chunk = await deps.store.getBatches(seq - 1, Math.min(seq + 49, latest));
    const old = chunk.filter((b) => Date.parse(b.createdAt) < cutoff);
    if (old.length > 0) upTo = Math.max(...old.map((b) => b.seq));
    if (old.length < chunk.length) break;
  }
  // Never prune what an active subscriber has not received yet (a weekly digest, a failing mailbox). Paused and
  // bouncing subscribers do not hold batches back: on return they get at most settings.resumeCap entries anyway.
  const active = deps.config.subscribers.filter((s) => !s.paused);
  const states = await deps.store.getSubscriberStates(active.map((s) => s.id));
  for (const state of states.values()) if (!state.bouncing) upTo = Math.min(upTo, state.cursor);
  if (upTo > 0) {
    const removed = await deps.store.pruneBatches(upTo);
    deps.logger.debug({ removed, upTo }, 'pruned old batches');
  }
}
