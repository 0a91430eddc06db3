import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import type { FeedConfig, FeedState } from '../model/feed.js';
import type { Logger } from '../model/logger.js';
import { NodeHttpClient } from './node-http-client.js';
import { FetchError } from './fetch-error.js';
import { fetchFeed } from './fetch-feed.js';
import type { FetchOptions, FetchOutcome, HttpClient } from './fetch-feed.js';

/** Backoff tuning shared by pollFeeds and recordParseFailure. */
export interface BackoffOptions {
  /** First retry delay, ms (default 15 min); doubles per consecutive failure. */
  backoffBaseMs?: number;
  /** Ceiling of the delay before jitter, ms (default 24 h). Failing feeds are retried forever, never disabled. */
  maxBackoffMs?: number;
  /** Uniform [0, 1) source for the ±20 % jitter (default Math.random); inject a constant in tests. */
  random?: () => number;
}

/** pollFeeds options: FetchOptions (validators, signal and now are per-run here) plus scheduling. */
export interface PollOptions extends Omit<FetchOptions, 'validators' | 'now'>, BackoffOptions {
  /** Feeds fetched at once in total (default 16). */
  concurrency?: number;
  /** Feeds fetched at once per host (default 2), to be polite to shared hosts. */
  perHostConcurrency?: number;
  /** Poll even feeds whose nextPollAt is in the future (not gone ones). */
  force?: boolean;
  now: () => Date;
  logger?: Logger;
  /**
   * Mixed into each body's hash (FeedState.bodyHash): pass the software version, so that a new version parses every
   * body once again (a parser fix may find entries the old one missed) instead of taking the same bytes as read.
   */
  bodyHashSalt?: string;
  /** Called after each fetched feed: done out of the number of feeds due this run. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called with each due feed's result as soon as its fetch ends (the same object the returned array holds), so a
   * body can be parsed while the other feeds download and be dropped from the result afterwards. The feed's fetch
   * slot stays taken until a returned promise settles: when parsing is slower than the network, at most
   * `concurrency` bodies wait for it instead of all of them. Must not throw or reject.
   */
  onFetched?: (result: PollResult) => void | Promise<void>;
}

/** What happened to one feed in a poll. */
export interface PollResult {
  feed: FeedConfig;
  /** skipped: not due yet or gone earlier (see skipReason); gone: this poll got 410. */
  outcome: 'ok' | 'not-modified' | 'skipped' | 'failed' | 'gone';
  skipReason?: 'not-due' | 'gone';
  /** The new state to save (for ok, call recordParseSuccess / recordParseFailure after parsing). */
  state: FeedState;
  /** Decoded body for ok outcomes; charset decoding is decodeFeedBytes' job. */
  body?: Buffer;
  contentType?: string;
  /** URL the body came from after redirects: the base for relative links. */
  finalUrl?: string;
  /** Set when a 301/308 chain moved the feed: the new state.url (worth a log line). */
  movedTo?: string;
  error?: FetchError;
  durationMs: number;
  /** Decoded body size (0 unless ok). */
  bytes: number;
  /** ok: the body's hash, for recordParseSuccess to remember (see FeedState.bodyHash). */
  bodyHash?: string;
  /** not-modified because the server sent 200 with the very body recorded last time (it ignored conditional GET). */
  sameBody?: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DEFAULT_BACKOFF_BASE_MS = 15 * MINUTE;
const DEFAULT_MAX_BACKOFF_MS = 24 * HOUR;
/** Cache-Control max-age is honoured up to a day so a silly value cannot stall a feed. */
const MAX_CACHE_DELAY_MS = 24 * HOUR;
/** Retry-After beyond a week is treated as a week: a hostile or broken server cannot disable a feed. */
const MAX_RETRY_AFTER_MS = 7 * 24 * HOUR;

/** State of a feed never polled before. */
export function initialFeedState(feed: FeedConfig): FeedState {
  return { feedId: feed.id, url: feed.url, configuredUrl: feed.url, validators: {}, consecutiveFailures: 0, gone: false, entryCount: 0, polledOnce: false };
}

/**
 * Delay before the next try after `failures` consecutive failures: min(max, base · 2^(failures-1)) with ±20 % jitter
 * so feeds that failed together do not retry in lockstep.
 */
export function computeBackoffMs(failures: number, options: BackoffOptions = {}): number {
  const base = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const random = options.random ?? Math.random;
  const delay = Math.min(max, base * 2 ** Math.max(0, failures - 1));
  return Math.round(delay * (1 + (random() * 2 - 1) * 0.2));
}

function iso(date: Date, plusMs = 0): string {
  return new Date(date.getTime() + plusMs).toISOString();
}

/** Adopt a configuration change: a new configured URL resets the URL, validators, gone flag and backoff. */
function reconcileConfig(feed: FeedConfig, state: FeedState | undefined): FeedState {
  if (!state) return initialFeedState(feed);
  if (state.configuredUrl === feed.url && state.feedId === feed.id) return state;
  const next: FeedState = { ...state, feedId: feed.id, url: feed.url, configuredUrl: feed.url, validators: {}, gone: false, consecutiveFailures: 0 };
  // A new URL may serve the same posts under new ids: its next successful poll follows the first-poll rule again,
  // so subscribers get its newest entries, not its whole archive.
  if (state.polledOnce) next.urlChanged = true;
  delete next.failingSince;
  delete next.bodyHash;
  delete next.nextPollAt;
  return next;
}

function withFailure(state: FeedState, error: FetchError, now: Date, backoff: BackoffOptions): FeedState {
  const failures = state.consecutiveFailures + 1;
  const next: FeedState = {
    ...state,
    lastPollAt: iso(now),
    lastErrorAt: iso(now),
    lastError: error.message,
    lastErrorKind: error.kind,
    consecutiveFailures: failures,
    failingSince: state.failingSince ?? iso(now),
  };
  if (error.status !== undefined) next.lastErrorStatus = error.status;
  else delete next.lastErrorStatus;
  if (error.gone) {
    next.gone = true;
    delete next.nextPollAt;
    return next;
  }
  let delay = computeBackoffMs(failures, backoff);
  if (error.retryAfterSeconds !== undefined) delay = Math.max(delay, Math.min(error.retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS));
  next.nextPollAt = iso(now, delay);
  return next;
}

function withSuccess(state: FeedState, outcome: FetchOutcome, now: Date): FeedState {
  const next: FeedState = { ...state, lastPollAt: iso(now), validators: outcome.validators, gone: false };
  if (outcome.permanentRedirectTo) next.url = outcome.permanentRedirectTo;
  // After a parse failure the counters stay until recordParseSuccess confirms the new body parses, so a feed
  // that keeps serving broken XML still backs off instead of looking healthy on every fetch.
  const parsePending = outcome.kind === 'ok' && state.lastErrorKind === 'parse' && state.consecutiveFailures > 0;
  if (!parsePending) {
    next.consecutiveFailures = 0;
    next.lastSuccessAt = iso(now);
    delete next.failingSince;
  }
  if (outcome.maxAgeSeconds !== undefined && outcome.maxAgeSeconds > 0) next.nextPollAt = iso(now, Math.min(outcome.maxAgeSeconds * 1000, MAX_CACHE_DELAY_MS));
  else delete next.nextPollAt;
  return next;
}

/**
 * Count a body that fetched fine but did not parse as a failure of kind 'parse': backoff like any failure, and
 * validators dropped so the next poll downloads the body again instead of getting a 304 for broken content.
 */
export function recordParseFailure(state: FeedState, message: string, now: Date, backoff: BackoffOptions = {}): FeedState {
  const failures = state.consecutiveFailures + 1;
  const next: FeedState = {
    ...state,
    validators: {},
    lastErrorAt: iso(now),
    lastError: message,
    lastErrorKind: 'parse',
    consecutiveFailures: failures,
    failingSince: state.failingSince ?? iso(now),
    nextPollAt: iso(now, computeBackoffMs(failures, backoff)),
  };
  delete next.lastErrorStatus;
  delete next.bodyHash;
  return next;
}

/**
 * Record a successful parse: feed title/link and entry count remembered, health reset, first-poll done, and the body's
 * hash (PollResult.bodyHash) so that the same bytes are not parsed again. Call it only for a parse whose entries are
 * recorded along with this state.
 */
export function recordParseSuccess(state: FeedState, info: { title?: string; link?: string; entryCount: number; bodyHash?: string }, now: Date): FeedState {
  const next: FeedState = { ...state, entryCount: info.entryCount, polledOnce: true, consecutiveFailures: 0, lastSuccessAt: iso(now) };
  delete next.urlChanged;
  if (info.bodyHash !== undefined) next.bodyHash = info.bodyHash;
  else delete next.bodyHash;
  if (info.title !== undefined) next.title = info.title;
  if (info.link !== undefined) next.link = info.link;
  delete next.failingSince;
  return next;
}

function hashBody(body: Buffer, salt: string): string {
  return createHash('sha256').update(salt).update('\0').update(body).digest('base64url');
}

function hostKey(url: string): string {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host.toLowerCase() : u.protocol;
  } catch {
    return 'file:';
  }
}

/**
 * Poll the due feeds (nextPollAt passed or force; gone feeds only after their configured URL changed) with total
 * and per-host concurrency limits. One result per feed, in input order; per-feed failures are values, never
 * exceptions. Only cancellation through options.signal rejects.
 */
export async function pollFeeds(feeds: FeedConfig[], states: Map<string, FeedState>, options: PollOptions): Promise<PollResult[]> {
  const runStart = options.now();
  const logger = options.logger;
  const results: (PollResult | undefined)[] = new Array(feeds.length);
  const due: { index: number; feed: FeedConfig; state: FeedState }[] = [];

  feeds.forEach((feed, index) => {
    const state = reconcileConfig(feed, states.get(feed.id));
    if (state.gone) {
      results[index] = { feed, outcome: 'skipped', skipReason: 'gone', state, durationMs: 0, bytes: 0 };
    } else if (!options.force && state.nextPollAt && Date.parse(state.nextPollAt) > runStart.getTime()) {
      results[index] = { feed, outcome: 'skipped', skipReason: 'not-due', state, durationMs: 0, bytes: 0 };
    } else {
      due.push({ index, feed, state });
    }
  });

  const global = pLimit(options.concurrency ?? 16);
  const perHost = new Map<string, LimitFunction>();
  const limiterFor = (url: string): LimitFunction => {
    const key = hostKey(url);
    let limit = perHost.get(key);
    if (!limit) perHost.set(key, (limit = pLimit(options.perHostConcurrency ?? 2)));
    return limit;
  };

  let ownClient: HttpClient | undefined;
  const client = options.client ?? (ownClient = new NodeHttpClient({ allowPrivate: options.allowPrivate, connectTimeoutMs: options.connectTimeoutMs, timeoutMs: options.timeoutMs }));
  const fetchOptions: FetchOptions = {
    userAgent: options.userAgent,
    timeoutMs: options.timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxBytes: options.maxBytes,
    maxRedirects: options.maxRedirects,
    allowPrivate: options.allowPrivate,
    allowedFileRoots: options.allowedFileRoots,
    signal: options.signal,
    now: options.now,
    client,
    bodyOrigins: new Set(),
  };

  let done = 0;
  const pollOne = async ({ index, feed, state }: (typeof due)[number]): Promise<void> => {
    const started = performance.now();
    let result: PollResult;
    try {
      const outcome = await fetchFeed(state.url, { ...fetchOptions, validators: state.validators });
      const next = withSuccess(state, outcome, options.now());
      result = { feed, outcome: outcome.kind, state: next, finalUrl: outcome.finalUrl, durationMs: performance.now() - started, bytes: 0 };
      if (outcome.kind === 'ok') {
        const bodyHash = hashBody(outcome.body, options.bodyHashSalt ?? '');
        if (bodyHash === state.bodyHash) {
          // Nothing in it can be new: the entries of these very bytes were recorded. Not parsing also leaves the seen
          // map alone, which is right: retention only forgets entries a feed stopped carrying.
          result.outcome = 'not-modified';
          result.sameBody = true;
        } else {
          result.body = outcome.body;
          result.bytes = outcome.bytes;
          result.bodyHash = bodyHash;
          if (outcome.contentType) result.contentType = outcome.contentType;
        }
      }
      if (outcome.permanentRedirectTo && outcome.permanentRedirectTo !== state.url) result.movedTo = outcome.permanentRedirectTo;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const error = err instanceof FetchError ? err : new FetchError('network', `Unexpected error fetching ${state.url}: ${(err as Error)?.message ?? String(err)}`, { url: state.url, cause: err });
      const next = withFailure(state, error, options.now(), options);
      result = { feed, outcome: error.gone ? 'gone' : 'failed', state: next, error, durationMs: performance.now() - started, bytes: 0 };
    }
    results[index] = result;
    logger?.debug({ feedId: feed.id, outcome: result.outcome, durationMs: Math.round(result.durationMs), bytes: result.bytes, ...(result.sameBody ? { sameBody: true } : {}), ...(result.error ? { error: result.error.message } : {}) }, 'feed polled');
    options.onProgress?.(++done, due.length);
    await options.onFetched?.(result);
  };

  try {
    // Per-host limit outside the global one: a task waiting for its host never holds a global slot.
    await Promise.all(due.map((d) => limiterFor(d.state.url)(() => global(() => pollOne(d)))));
  } finally {
    if (ownClient) await ownClient.close().catch(() => undefined);
  }
  return results.map((r) => r!);
}
