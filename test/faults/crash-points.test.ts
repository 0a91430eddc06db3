/**
 * Every crash point of a cycle, deterministically. A SIGKILL from outside (sigkill.test.ts) lands at random; the windows
 * between two store writes last a few milliseconds and are rarely hit. Here a cycle (the real pipeline, a real SQLite
 * file, real feed and SMTP servers) is frozen right after its i-th store write, or right after the channel accepted its
 * k-th digest: from that instant the store, the lock and the channels never answer again, which is what the next cycle
 * sees of a process that died there. Digests go one at a time (sendConcurrency 1), so the one message in flight is the
 * only one a crash can leave unrecorded.
 *
 * The crashed cycle is a first poll of every feed (with the default firstPollEntries 3: only the newest 3 entries are
 * new, the rest is backlog). Then 4 entries appear in every feed, and two cycles run normally. Checked at every point:
 * nothing recorded as new is lost, no backlog entry is delivered, at most one digest is repeated.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { loadEnvConfig } from '../../src/config/load-env-config.js';
import { loadDigestConfig } from '../../src/config/load-digest-config.js';
import { createRuntime } from '../../src/cli/create-runtime.js';
import { silentLogger } from '../../src/model/logger.js';
import type { SeenStore } from '../../src/store/seen-store.js';
import type { DigestChannels } from '../../src/pipeline/digest-channels.js';
import { countDeliveries, entryLinksOfText, GrowingFeeds, resolveSelection, writeSubscribersFile, type WorldFeed, type WorldSubscriber } from './helpers/digest-world.js';

const WRITES = new Set(['appendBatch', 'setSeenMaps', 'setFeedStates', 'setSubscriberState', 'setSubscriberStates', 'setMeta', 'pruneBatches']);
const INGEST_WRITES = new Set(['appendBatch', 'setSeenMaps', 'setFeedStates']);
const LOCK_TTL_SECONDS = 1;
const never = <T>() => new Promise<T>(() => {});

/** Where the crashed cycle stops. */
type CrashPoint = { after: 'write'; nth: number } | { after: 'accept'; nth: number };

/** A switch that freezes a store, its locks and the channels at a crash point, recording the writes done before. */
class Freezer {
  frozen = false;
  writes: string[] = [];
  accepts = 0;
  reached!: () => void;
  readonly reachedPromise = new Promise<void>((resolve) => (this.reached = resolve));

  constructor(readonly point: CrashPoint) {}

  freeze(): void {
    this.frozen = true;
    this.reached();
  }

  store(inner: SeenStore): SeenStore {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const name = String(prop);
        return async (...args: unknown[]) => {
          if (this.frozen) return never();
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (this.frozen) return never();
          if (name === 'acquireLock' && result) return this.lock(result as { refresh(): Promise<void>; release(): Promise<void> });
          if (WRITES.has(name)) {
            this.writes.push(name);
            if (this.point.after === 'write' && this.writes.length === this.point.nth) this.freeze();
          }
          return result;
        };
      },
    });
  }

  lock(inner: { refresh(): Promise<void>; release(): Promise<void> }) {
    return {
      refresh: () => (this.frozen ? never<void>() : inner.refresh()),
      release: () => (this.frozen ? never<void>() : inner.release()),
    };
  }

  channels(inner: DigestChannels): DigestChannels {
    return {
      sendEmail: async (message) => {
        if (this.frozen) return never();
        const result = await inner.sendEmail(message);
        if (this.frozen) return never();
        if (result.ok) {
          this.accepts += 1;
          // Accepted by the server, not yet recorded: the instant a crash leaves one digest to be sent again.
          if (this.point.after === 'accept' && this.accepts === this.point.nth) this.freeze();
        }
        return result;
      },
      sendSlack: (subscriber, message) => (this.frozen ? never() : inner.sendSlack(subscriber, message)),
      close: () => inner.close(),
    };
  }
}

describe('crash after every store write and every accepted digest of a first-poll cycle', () => {
  let feedServer: FeedServer;
  let scenario = 0;
  const figures: string[] = [];

  beforeAll(async () => {
    feedServer = await FeedServer.start();
  });
  afterAll(async () => {
    await feedServer?.close();
    if (figures.length > 0) console.log(`[faults/crash-points]\n${figures.join('\n')}`);
  });

  /** What one scenario found. */
  interface Outcome {
    label: string;
    expected: number;
    lost: number;
    unexpected: number;
    repeated: number;
  }

  const describeOutcome = (o: Outcome) => `  ${o.label}: ${o.expected} expected, ${o.lost} lost, ${o.unexpected} unexpected, ${o.repeated} repeated digests`;

  /** Runs one scenario; undefined when the crash point was not reached (the cycle has fewer writes/digests). */
  async function crashAt(point: CrashPoint): Promise<Outcome | undefined> {
    scenario += 1;
    const prefix = `c${scenario}`;
    const feeds: WorldFeed[] = [
      { id: `${prefix}-a`, tags: ['x'] },
      { id: `${prefix}-b`, tags: ['x'] },
      { id: `${prefix}-c`, tags: [] },
    ];
    const subscribers: WorldSubscriber[] = [
      { id: 'ann', email: 'ann@example.org', feeds: [feeds[0]!.id, feeds[1]!.id] },
      { id: 'ben', email: 'ben@example.org', feeds: ['*'] },
      { id: 'cat', email: 'cat@example.org', feeds: ['tag:x'], excludeFeeds: [feeds[0]!.id] },
      { id: 'dan', email: 'dan@example.org', feeds: [feeds[2]!.id] },
    ];
    const world = new GrowingFeeds(feedServer, feeds);
    for (const feed of feeds) world.add(feed.id, 5);
    const initial = new Map(feeds.map((f) => [f.id, world.allLinks(f.id)]));
    const smtp = await startSmtpSink();
    const dir = await mkdtemp(path.join(tmpdir(), 'pd-crash-points-'));
    const file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, subscribers, { firstPollEntries: 3 });
    const env: Record<string, string> = {
      DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
      DIGEST_OUTBOX: path.join(dir, 'outbox'),
      DIGEST_CACHE_DIR: path.join(dir, 'cache'),
      SMTP_URL: smtp.url,
      SMTP_MAX_CONNECTIONS: '1',
      MAIL_FROM: 'Digest <digest@example.org>',
      DIGEST_SECRET: 'crash-points-secret-0123456789abcdef',
      DIGEST_BASE_URL: 'https://digest.example.org',
      DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
      DIGEST_LOCK_TTL_SECONDS: String(LOCK_TTL_SECONDS),
    };
    try {
      // Cycle 1, frozen at the crash point.
      const freezer = new Freezer(point);
      const runtime = await createRuntime({
        env: loadEnvConfig(env),
        config: await loadDigestConfig(file),
        logger: silentLogger,
        now: () => new Date(),
        version: 'test',
        requireSecret: true,
      });
      runtime.deps.store = freezer.store(runtime.store);
      runtime.deps.channels = freezer.channels(runtime.deps.channels);
      runtime.deps.sendConcurrency = 1;
      const cycle = runtime.run().then(() => 'finished' as const);
      const outcome = await Promise.race([cycle, freezer.reachedPromise.then(() => 'crashed' as const)]);
      const crashedAt = Date.now();
      if (outcome === 'finished') {
        await runtime.close();
        return undefined;
      }
      const delivered1 = smtp.deliveries.length;
      const ingestRecorded = freezer.writes.some((w) => INGEST_WRITES.has(w));

      // New entries, then normal cycles once the dead cycle's lock has expired.
      const arrivals = new Map(feeds.map((f) => [f.id, world.add(f.id, 4)]));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, crashedAt + LOCK_TTL_SECONDS * 1000 + 100 - Date.now())));
      const second = await runCliCaptured(['run', '--subscribers', file], { env, cwd: dir });
      expect(second.code, second.stderr + second.stdout).toBe(0);
      const third = await runCliCaptured(['run', '--subscribers', file], { env, cwd: dir });
      expect(third.code, third.stderr).toBe(0);
      expect(third.stdout).toMatch(/Nothing new for any subscriber/);
      // The frozen cycle's connections go; its pending promises never settle.
      await runtime.close().catch(() => undefined);

      // What must have arrived: when the crashed poll recorded anything, it was the feed's first poll (its newest 3 are
      // new) and every later entry is new; when it recorded nothing, the second cycle's poll is the first one.
      const expected = new Map<string, Set<string>>();
      for (const subscriber of subscribers) {
        const links = new Set<string>();
        for (const feedId of resolveSelection(subscriber, feeds)) {
          const all = [...initial.get(feedId)!, ...arrivals.get(feedId)!];
          const firstPollNew = ingestRecorded ? [...initial.get(feedId)!.slice(-3), ...arrivals.get(feedId)!] : all.slice(-3);
          for (const link of firstPollNew) links.add(link);
        }
        expected.set(subscriber.id, links);
      }
      const byAddress = new Map(subscribers.map((s) => [s.email!, s.id]));
      const received = smtp.deliveries.map((d, i) => ({ subscriberId: byAddress.get(d.rcptTo[0]!)!, links: entryLinksOfText(d.parsed.text ?? ''), tag: i < delivered1 ? 1 : 2 }));
      const count = countDeliveries(received, expected);
      const repeatedMessages = received.filter((m, i) => m.links.some((l) => received.slice(i + 1).some((n) => n.subscriberId === m.subscriberId && n.links.includes(l))));
      const label = `crash after ${point.after} ${point.nth} (${freezer.writes.join(', ') || 'no writes'})`;
      return { label, expected: count.expected, lost: count.lost.length, unexpected: count.unexpected.length, repeated: repeatedMessages.length };
    } finally {
      await smtp.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Crashes at nth = 1, 2, … until a cycle finishes before reaching the point. Scenarios are independent (own store,
   * SMTP server and feeds), so four run at once: most of a scenario is waiting for the dead cycle's lock to expire.
   */
  async function sweep(after: CrashPoint['after'], max: number, parallel = 4): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (let start = 1; start <= max; start += parallel) {
      const points = Array.from({ length: Math.min(parallel, max - start + 1) }, (_, i) => start + i);
      const batch = await Promise.all(points.map((nth) => crashAt({ after, nth })));
      for (const outcome of batch) {
        if (!outcome) return outcomes;
        outcomes.push(outcome);
      }
    }
    return outcomes;
  }

  it('after each store write: nothing lost, nothing unexpected, nothing repeated', { timeout: 120_000 }, async () => {
    const outcomes = await sweep('write', 40);
    figures.push(...outcomes.map(describeOutcome));
    // Planning, ingest (backlog, batch, seen maps, feed states), last-poll, 4 deliveries, the cycle summary.
    expect(outcomes.length).toBeGreaterThanOrEqual(9);
    expect(outcomes.filter((o) => o.lost + o.unexpected + o.repeated > 0)).toEqual([]);
  });

  it('after each accepted digest, before it was recorded: nothing lost, exactly that digest repeated', { timeout: 60_000 }, async () => {
    const outcomes = await sweep('accept', 10);
    figures.push(...outcomes.map(describeOutcome));
    expect(outcomes).toHaveLength(4);
    expect(outcomes.filter((o) => o.lost + o.unexpected > 0 || o.repeated !== 1)).toEqual([]);
  });
});
