import type { FetchErrorKind } from '../model/feed.js';
import type { ChannelKind } from '../model/subscriber.js';

/** One feed that could not be polled or parsed this cycle. */
export interface FeedFailure {
  feedId: string;
  url: string;
  kind: FetchErrorKind | 'gone';
  message: string;
  consecutiveFailures: number;
  nextPollAt?: string;
}

/** One digest that was not delivered this cycle. */
export interface DeliveryFailure {
  subscriberId: string;
  channel: ChannelKind;
  /** Permanent failures (bounces, channel_not_found) count towards "bouncing"; others are retried next cycle. */
  permanent: boolean;
  message: string;
  /** Entries carried over to the next cycle. */
  entries: number;
}

/** What one cycle did; printed as the summary, stored for /healthz, exported as metrics. */
export interface RunReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  /** A daemon tick with nobody due and fresh feeds: nothing was done. */
  idle?: boolean;
  feeds: {
    total: number;
    ok: number;
    notModified: number;
    skipped: number;
    failed: number;
    gone: number;
    failures: FeedFailure[];
    moved: Array<{ feedId: string; from: string; to: string }>;
    /** Feeds failing for longer than the configured time (DIGEST_FAILING_HOURS). */
    longFailing: Array<{ feedId: string; since: string }>;
  };
  entries: { fresh: number; backlog: number };
  digests: {
    due: number;
    sent: number;
    failed: number;
    empty: number;
    paused: number;
    bouncing: string[];
    byChannel: Record<ChannelKind, { sent: number; failed: number }>;
    failures: DeliveryFailure[];
    /** Distinct digests rendered (subscribers with the same selection share one). */
    rendered: number;
  };
  /** Files written by the outbox channels (when not sending for real). */
  outboxFiles: string[];
  phasesMs: { fetch: number; parse: number; store: number; select: number; render: number; compose: number; send: number };
}

/** An empty report to fill during a cycle. */
export function createRunReport(startedAt: Date, dryRun: boolean): RunReport {
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    durationMs: 0,
    dryRun,
    feeds: { total: 0, ok: 0, notModified: 0, skipped: 0, failed: 0, gone: 0, failures: [], moved: [], longFailing: [] },
    entries: { fresh: 0, backlog: 0 },
    digests: {
      due: 0,
      sent: 0,
      failed: 0,
      empty: 0,
      paused: 0,
      bouncing: [],
      byChannel: { email: { sent: 0, failed: 0 }, slack: { sent: 0, failed: 0 } },
      failures: [],
      rendered: 0,
    },
    outboxFiles: [],
    phasesMs: { fetch: 0, parse: 0, store: 0, select: 0, render: 0, compose: 0, send: 0 },
  };
}
