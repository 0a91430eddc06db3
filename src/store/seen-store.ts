import type { Entry } from '../model/entry.js';
import type { FeedState } from '../model/feed.js';

/** What the store remembers of one entry of a feed (keyed by Entry.key). */
export interface SeenRecord {
  /** ISO time the entry was first seen. */
  first: string;
  /** ISO time of the last poll that still carried the entry (retention counts from here). */
  last: string;
}

/** Remembered entries of one feed: Entry.key -> record. One store record per feed, so a cycle costs one getMany and one setMany. */
export type SeenMap = Record<string, SeenRecord>;

/** Entries that became new in one cycle; subscribers' cursors point into the sequence of batches. */
export interface Batch {
  /** Sequence number, 1, 2, 3… in the order cycles created them. */
  seq: number;
  /** ISO time of creation. */
  createdAt: string;
  entries: Entry[];
}

/** Delivery state of one subscriber. */
export interface SubscriberState {
  subscriberId: string;
  /** Every entry of batches <= cursor that matched the subscriber's selection has been delivered (or skipped by policy). */
  cursor: number;
  /** ISO time of the last successful delivery. */
  lastDeliveredAt?: string;
  /** The last schedule window (ISO instant) served, so a missed window is caught up once. */
  lastWindow?: string;
  /** Consecutive permanent failures (SMTP 5xx, Slack channel errors). */
  bounces: number;
  /** Set after too many bounces; the admin is told in the cycle summary. */
  bouncing: boolean;
  lastError?: string;
  /** Set when the subscriber was paused; used to cap the backlog on resume. */
  pausedAt?: string;
  /** Email address or Slack channel the bounce count belongs to; a changed address resets it. */
  address?: string;
  /** After a failed delivery: consecutive failures, the window that failed, and when to try again (backoff). */
  failures?: number;
  failedWindow?: string;
  retryAt?: string;
}

/** A held cycle lock; release it when the cycle ends. */
export interface CycleLock {
  /** Extend the lock's expiry while a long cycle runs. */
  refresh(): Promise<void>;
  release(): Promise<void>;
}

/** Persistent state of planet-digest: feed states, seen entries, batches, delivery ledger and the cycle lock. */
export interface SeenStore {
  /** Throws StoreError when the store cannot be reached. */
  ping(): Promise<void>;

  getFeedStates(feedIds: string[]): Promise<Map<string, FeedState>>;
  setFeedStates(states: FeedState[]): Promise<void>;

  getSeenMaps(feedIds: string[]): Promise<Map<string, SeenMap>>;
  setSeenMaps(maps: Map<string, SeenMap>): Promise<void>;

  /** Appends a batch of newly seen entries and returns its sequence number. Written BEFORE the seen maps, so a crash in between re-detects rather than loses entries. */
  appendBatch(entries: Entry[], now: Date): Promise<number>;
  /** Highest batch sequence number so far (0 for a fresh store). */
  latestBatchSeq(): Promise<number>;
  /** Batches with from < seq <= to that still exist (pruned ones are absent). */
  getBatches(from: number, to: number): Promise<Batch[]>;
  /** Deletes batches with seq <= upTo. */
  pruneBatches(upTo: number): Promise<number>;
  /** Lowest batch seq still stored, or latestBatchSeq()+1 when none. */
  oldestBatchSeq(): Promise<number>;

  getSubscriberStates(ids: string[]): Promise<Map<string, SubscriberState>>;
  /** Written per digest, right after the channel accepted it. */
  setSubscriberState(state: SubscriberState): Promise<void>;
  /** Batch write for bookkeeping that is not a delivery (new, paused or re-addressed subscribers). */
  setSubscriberStates(states: SubscriberState[]): Promise<void>;

  /** Small JSON values: last cycle summary, etc. */
  getMeta<T>(key: string): Promise<T | undefined>;
  setMeta<T>(key: string, value: T): Promise<void>;

  /** Takes the cycle lock, or returns undefined when another live cycle holds it. The lock expires after ttlMs unless refreshed. */
  acquireLock(name: string, ttlMs: number): Promise<CycleLock | undefined>;

  close(): Promise<void>;
}
