/*
 * KeyvSeenStore: the SeenStore on top of one Keyv instance (SQLite, Redis or PostgreSQL adapter).
 *
 * Key layout (keyv adds the namespace: "<ns>:<key>" for SQLite/PostgreSQL, "<ns>::<key>" for Redis):
 *   feed:<feedId>        FeedState                    conditional-GET validators and health of one feed
 *   seen:<feedId>        SeenMap                      remembered entries of one feed (one record per feed)
 *   batch:<seq>          Batch                        entries that became new in one cycle; seq = 1, 2, 3…
 *   meta:batch-seq       number                       highest batch seq written (may lag batch:<seq> by one after a crash)
 *   meta:batch-oldest    number                       lowest batch seq not pruned (may lag after a crash during a prune)
 *   sub:<subscriberId>   SubscriberState              delivery cursor and bounce state of one subscriber
 *   meta:<key>           any JSON                     small values (last cycle summary…); batch-seq/batch-oldest are reserved
 * The cycle lock is not a keyv value: keyv has no set-if-absent, so each backend keeps it natively (see *-cycle-lock.ts).
 *
 * Invariant the crash handling relies on: stored batches always form one contiguous run oldest..latest, because
 * appendBatch only writes latest+1 and pruneBatches only deletes a prefix, in ascending chunks.
 */
import type Keyv from 'keyv';
import type { Entry } from '../model/entry.js';
import { DigestError, StoreError } from '../model/errors.js';
import type { FeedState } from '../model/feed.js';
import { silentLogger, type Logger } from '../model/logger.js';
import type { CycleLockProvider } from './cycle-lock-provider.js';
import type { Batch, CycleLock, SeenMap, SeenStore, SubscriberState } from './seen-store.js';

const BATCH_SEQ = 'meta:batch-seq';
const BATCH_OLDEST = 'meta:batch-oldest';
const RESERVED_META = new Set(['batch-seq', 'batch-oldest']);
/** Keys per getMany/setMany/deleteMany call: bounds statement and reply sizes without a round trip per key. */
const CHUNK = 500;

const feedKey = (id: string): string => `feed:${id}`;
const seenKey = (id: string): string => `seen:${id}`;
const batchKey = (seq: number): string => `batch:${seq}`;
const subKey = (id: string): string => `sub:${id}`;
const metaKey = (key: string): string => `meta:${key}`;

/** What KeyvSeenStore needs besides the Keyv instance. */
export interface KeyvSeenStoreOptions {
  /** Cross-process lock of this backend. */
  locks: CycleLockProvider;
  /** How the store is named in error messages: its URL without password. */
  label: string;
  /** What to check when the backend fails (e.g. "Is Redis running at 127.0.0.1:6379?"). */
  hint?: string;
  logger?: Logger;
}

/** SeenStore over a Keyv instance; every adapter failure surfaces as a StoreError naming the store. */
export class KeyvSeenStore implements SeenStore {
  private readonly keyv: Keyv;
  private readonly locks: CycleLockProvider;
  private readonly label: string;
  private readonly hint: string | undefined;
  private readonly logger: Logger;
  private lastAdapterError: unknown;
  private closed = false;

  /** Wraps `keyv`; set `throwOnErrors: true` on it (openStore does), else keyv reports failures only as 'error' events. */
  constructor(keyv: Keyv, options: KeyvSeenStoreOptions) {
    this.keyv = keyv;
    this.locks = options.locks;
    this.label = options.label;
    this.hint = options.hint;
    this.logger = options.logger ?? silentLogger;
    // Keep the last adapter error: some adapters throw a generic "not connected" error and emit the real cause.
    this.keyv.on('error', (error: unknown) => {
      this.lastAdapterError = error;
      this.logger.debug({ err: error, store: this.label }, 'store adapter error');
    });
  }

  async ping(): Promise<void> {
    await this.run('reach the store', async () => {
      await this.keyv.has(BATCH_SEQ);
    });
  }

  getFeedStates(feedIds: string[]): Promise<Map<string, FeedState>> {
    return this.run('read feed states', () => this.readMany<FeedState>(feedIds, feedKey));
  }

  async setFeedStates(states: FeedState[]): Promise<void> {
    await this.run('write feed states', () => this.writeMany(states.map((s) => ({ key: feedKey(s.feedId), value: s }))));
  }

  getSeenMaps(feedIds: string[]): Promise<Map<string, SeenMap>> {
    return this.run('read seen entries', () => this.readMany<SeenMap>(feedIds, seenKey));
  }

  async setSeenMaps(maps: Map<string, SeenMap>): Promise<void> {
    await this.run('write seen entries', () => this.writeMany([...maps].map(([id, map]) => ({ key: seenKey(id), value: map }))));
  }

  appendBatch(entries: Entry[], now: Date): Promise<number> {
    return this.run('append a batch', async () => {
      // Only the holder of the cycle lock appends, so read-then-write has no competitor. The batch is written before the
      // counter: a crash in between leaves batch:<n+1> with counter n, which latestBatchSeq() detects by probing.
      const seq = (await this.readLatestSeq()) + 1;
      const batch: Batch = { seq, createdAt: now.toISOString(), entries };
      await this.writeOne(batchKey(seq), batch);
      await this.writeOne(BATCH_SEQ, seq);
      return seq;
    });
  }

  latestBatchSeq(): Promise<number> {
    return this.run('read the latest batch number', () => this.readLatestSeq());
  }

  getBatches(from: number, to: number): Promise<Batch[]> {
    return this.run(`read batches ${from + 1}..${to}`, async () => {
      let start = Math.max(0, Math.floor(from));
      const end = Math.floor(to);
      if (end <= start) return [];
      // A far-behind cursor would ask for thousands of long-pruned keys; skip to the oldest batch still stored.
      if (end - start > CHUNK) start = Math.max(start, (await this.readOldestSeq()) - 1);
      const seqs: number[] = [];
      for (let seq = start + 1; seq <= end; seq += 1) seqs.push(seq);
      const batches: Batch[] = [];
      for (const chunk of chunks(seqs)) {
        const values = await this.keyv.getMany<Batch>(chunk.map(batchKey));
        for (const value of values) if (value !== undefined && value !== null) batches.push(value);
      }
      return batches;
    });
  }

  pruneBatches(upTo: number): Promise<number> {
    return this.run(`prune batches up to ${upTo}`, async () => {
      const latest = await this.readLatestSeq();
      const oldest = await this.readOldestSeq(latest);
      const end = Math.min(Math.floor(upTo), latest);
      if (end < oldest) return 0;
      const seqs: number[] = [];
      for (let seq = oldest; seq <= end; seq += 1) seqs.push(seq);
      // Delete first, then move the marker: a crash in between leaves a marker that is too low, which readOldestSeq()
      // corrects by probing; the other order could leave batches that nothing ever deletes.
      for (const chunk of chunks(seqs)) await this.keyv.deleteMany(chunk.map(batchKey));
      await this.writeOne(BATCH_OLDEST, end + 1);
      return seqs.length;
    });
  }

  oldestBatchSeq(): Promise<number> {
    return this.run('read the oldest batch number', () => this.readOldestSeq());
  }

  getSubscriberStates(ids: string[]): Promise<Map<string, SubscriberState>> {
    return this.run('read subscriber states', () => this.readMany<SubscriberState>(ids, subKey));
  }

  async setSubscriberState(state: SubscriberState): Promise<void> {
    await this.run(`write the state of subscriber "${state.subscriberId}"`, () => this.writeOne(subKey(state.subscriberId), state));
  }

  async setSubscriberStates(states: SubscriberState[]): Promise<void> {
    if (states.length === 0) return;
    await this.run(`write ${states.length} subscriber states`, () => this.writeMany(states.map((s) => ({ key: subKey(s.subscriberId), value: s }))));
  }

  getMeta<T>(key: string): Promise<T | undefined> {
    return this.run(`read meta "${key}"`, async () => {
      const value = await this.keyv.get<T>(metaKey(key));
      return value ?? undefined;
    });
  }

  async setMeta<T>(key: string, value: T): Promise<void> {
    if (RESERVED_META.has(key)) {
      throw new StoreError(`meta key "${key}" is reserved for the batch sequence`, { hint: 'Use another meta key name.' });
    }
    await this.run(`write meta "${key}"`, () => this.writeOne(metaKey(key), value));
  }

  acquireLock(name: string, ttlMs: number): Promise<CycleLock | undefined> {
    return this.run(`take the cycle lock "${name}"`, async () => {
      const lock = await this.locks.acquire(name, ttlMs);
      if (lock === undefined) return undefined;
      return {
        refresh: () => this.run(`refresh the cycle lock "${name}"`, () => lock.refresh()),
        release: () => this.run(`release the cycle lock "${name}"`, () => lock.release()),
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.run('close the store', async () => {
      await this.keyv.disconnect();
    });
  }

  private async readMany<T>(ids: string[], keyOf: (id: string) => string): Promise<Map<string, T>> {
    const result = new Map<string, T>();
    for (const chunk of chunks([...new Set(ids)])) {
      const values = await this.keyv.getMany<T>(chunk.map(keyOf));
      chunk.forEach((id, i) => {
        const value = values[i];
        if (value !== undefined && value !== null) result.set(id, value);
      });
    }
    return result;
  }

  private async writeMany(entries: Array<{ key: string; value: unknown }>): Promise<void> {
    for (const chunk of chunks(entries)) {
      // Adapters with a native setMany (Redis, PostgreSQL) return nothing and throw on failure; keyv's fallback returns booleans.
      const results: unknown = await this.keyv.setMany(chunk);
      if (Array.isArray(results) && results.some((ok) => ok === false)) throw this.lastAdapterErrorOr('the adapter reported a failed write');
    }
  }

  private async writeOne(key: string, value: unknown): Promise<void> {
    if ((await this.keyv.set(key, value)) === false) throw this.lastAdapterErrorOr(`the adapter reported a failed write of ${key}`);
  }

  private async readCounter(key: string): Promise<number | undefined> {
    const value = await this.keyv.get<unknown>(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new StoreError(`Store ${this.label}: ${key} holds ${JSON.stringify(value)}, not a batch number`, {
        hint: 'The store was modified by something else than planet-digest; restore it from a backup.',
      });
    }
    return value;
  }

  private async readLatestSeq(): Promise<number> {
    let seq = (await this.readCounter(BATCH_SEQ)) ?? 0;
    // A crash between writing batch:<n+1> and the counter leaves the counter one behind; the batch is real, count it.
    while (await this.keyv.has(batchKey(seq + 1))) seq += 1;
    return seq;
  }

  /** Lowest stored seq, or latest+1 when none; the marker may lag after a crash mid-prune, so probe from it. */
  private async readOldestSeq(knownLatest?: number): Promise<number> {
    const latest = knownLatest ?? (await this.readLatestSeq());
    const marker = Math.max(1, (await this.readCounter(BATCH_OLDEST)) ?? 1);
    if (marker > latest) return latest + 1;
    if (await this.keyv.has(batchKey(marker))) return marker;
    // Stored batches are a contiguous run ending at latest, so binary-search its first seq in (marker, latest + 1].
    let lo = marker;
    let hi = latest + 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.keyv.has(batchKey(mid))) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  private lastAdapterErrorOr(message: string): Error {
    return this.lastAdapterError instanceof Error ? this.lastAdapterError : new Error(message);
  }

  /** Runs one store operation and turns any adapter failure into a StoreError naming the store and the operation. */
  private async run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof DigestError) throw error;
      let detail = describeError(error);
      const last = this.lastAdapterError;
      // @keyv/redis throws a generic "not connected … throwOnConnectError" error; the real reason went out as an event.
      if (last !== undefined && last !== error && /not connected|failed to connect|client is closed/i.test(detail)) {
        detail = describeError(last);
      }
      throw new StoreError(`Store ${this.label}: could not ${what}: ${detail}`, { cause: error, hint: this.hint });
    }
  }
}

/** A readable one-line description of an adapter error (Node's AggregateError of a dual-stack connect has no message). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.message !== '') return error.message;
    return typeof code === 'string' ? code : error.name;
  }
  return String(error);
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
