/**
 * One cycle at a time per store: two real `planet-digest run` processes started at once on the same store (a SQLite file,
 * then a real redis-server). Exactly one does the work; the other exits at once with code 3 and says why. The feed
 * server holds its answers until one of the two has exited, so the winner is certainly still holding the lock when the
 * loser tries. Afterwards every entry reached every subscriber exactly once.
 *
 * And a crashed run's lock: a run SIGKILLed while holding the lock leaves it behind (the next run is refused), and once the
 * lock's TTL (DIGEST_LOCK_TTL_SECONDS) has passed a new run proceeds and delivers what was queued.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startRedis, type RedisServer } from '../helpers/start-redis.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { openStore } from '../../src/store/open-store.js';
import { countDeliveries, entryLinksOfText, expectedLinks, GrowingFeeds, writeSubscribersFile, type WorldFeed, type WorldSubscriber } from './helpers/digest-world.js';
import { startSlowSmtpSink, type SlowSmtpSink } from './helpers/slow-smtp-sink.js';
import { spawnRun, type RunExit } from './helpers/spawn-run.js';

const FEEDS: WorldFeed[] = [
  { id: 'alpha', tags: ['a'] },
  { id: 'beta', tags: ['a'] },
  { id: 'gamma', tags: [] },
];
const SUBSCRIBERS: WorldSubscriber[] = [
  { id: 'ada', email: 'ada@example.org', feeds: ['alpha'] },
  { id: 'bob', email: 'bob@example.org', feeds: ['tag:a'] },
  { id: 'cy', email: 'cy@example.org', feeds: ['*'] },
  { id: 'dee', email: 'dee@example.org', feeds: ['gamma', 'beta'] },
];
const LOCKED_MESSAGE = /^error: another planet-digest cycle is running on this store\. It holds the lock for at most 10 minutes after it stops; try again later\.$/m;

function baseEnv(dir: string, smtpUrl: string): Record<string, string> {
  return {
    DIGEST_OUTBOX: path.join(dir, 'outbox'),
    DIGEST_CACHE_DIR: path.join(dir, 'cache'),
    SMTP_URL: smtpUrl,
    SMTP_RETRY_BASE_MS: '20',
    MAIL_FROM: 'Digest <digest@example.org>',
    DIGEST_SECRET: 'concurrent-secret-0123456789abcdef',
    DIGEST_BASE_URL: 'https://digest.example.org',
    DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
  };
}

describe.each(['sqlite', 'redis'] as const)('two runs at once on one %s store', (backend) => {
  let feedServer: FeedServer;
  let world: GrowingFeeds;
  let smtp: SmtpSink;
  let redis: RedisServer | undefined;
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    feedServer = await FeedServer.start();
    world = new GrowingFeeds(feedServer, FEEDS);
    for (const feed of FEEDS) world.add(feed.id, 2);
    smtp = await startSmtpSink();
    dir = await mkdtemp(path.join(tmpdir(), `pd-concurrent-${backend}-`));
    file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, SUBSCRIBERS);
    if (backend === 'redis') redis = await startRedis();
    env = { ...baseEnv(dir, smtp.url), DIGEST_STORE_URL: redis ? redis.url : `sqlite://${path.join(dir, 'store.sqlite')}` };
  });

  afterAll(async () => {
    await Promise.all([feedServer?.close(), smtp?.stop(), redis?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts two runs at once; feed answers wait until one of them exited. */
  const raceTwo = async (): Promise<{ winner: RunExit; loser: RunExit; feedRequests: number }> => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Safety valve: if nobody exits (both took the lock?), let the feeds answer so the test fails on its assertions.
    const valve = setTimeout(release, 45_000);
    let feedRequests = 0;
    world.onRequest = async () => {
      feedRequests += 1;
      await gate;
    };
    const a = spawnRun({ cwd: dir, subscribersFile: file, env });
    const b = spawnRun({ cwd: dir, subscribersFile: file, env });
    let firstExit: 'a' | 'b' | undefined;
    void a.exited.then(() => {
      firstExit ??= 'a';
      release();
    });
    void b.exited.then(() => {
      firstExit ??= 'b';
      release();
    });
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    clearTimeout(valve);
    world.onRequest = undefined;
    const winner = ea.code === 3 ? eb : ea;
    const loser = ea.code === 3 ? ea : eb;
    // The loser is the one that exited first, while the winner was still waiting for its feeds.
    expect(firstExit).toBe(loser === ea ? 'a' : 'b');
    return { winner, loser, feedRequests };
  };

  it('on a fresh store: one run does the work, the other exits 3 at once; each entry reached each subscriber once', { timeout: 90_000 }, async () => {
    const { winner, loser, feedRequests } = await raceTwo();
    expect([winner.code, loser.code].sort()).toEqual([0, 3]);
    expect(loser.stderr).toMatch(LOCKED_MESSAGE);
    expect(loser.stdout).toBe('');
    expect(winner.stderr).not.toMatch(/error:/);
    expect(winner.stdout).toMatch(/4 digests sent: 4 email/);
    expect(feedRequests).toBe(FEEDS.length); // only the winner polled
    expect(smtp.messages).toHaveLength(SUBSCRIBERS.length);

    const byAddress = new Map(SUBSCRIBERS.map((s) => [s.email!, s.id]));
    const received = smtp.deliveries.map((d, i) => ({ subscriberId: byAddress.get(d.rcptTo[0]!)!, links: entryLinksOfText(d.parsed.text ?? ''), tag: i }));
    const count = countDeliveries(received, expectedLinks(world, SUBSCRIBERS));
    expect(count.lost).toEqual([]);
    expect(count.repeated).toEqual([]);
    expect(count.unexpected).toEqual([]);
    expect(count.received).toBe(count.expected);
    expect(count.expected).toBeGreaterThan(10);
  });
});

describe('a crashed run leaves its lock until the lock TTL passes', () => {
  let feedServer: FeedServer;
  let world: GrowingFeeds;
  let sink: SlowSmtpSink;
  let dir: string;
  let file: string;
  let env: Record<string, string>;
  const TTL_SECONDS = 8;

  beforeAll(async () => {
    feedServer = await FeedServer.start();
    world = new GrowingFeeds(feedServer, FEEDS);
    for (const feed of FEEDS) world.add(feed.id, 3);
    sink = await startSlowSmtpSink({ delayMs: 100 });
    dir = await mkdtemp(path.join(tmpdir(), 'pd-lock-ttl-'));
    file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, SUBSCRIBERS);
    env = { ...baseEnv(dir, sink.url), DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`, DIGEST_LOCK_TTL_SECONDS: String(TTL_SECONDS), SMTP_MAX_CONNECTIONS: '1' };
  });

  afterAll(async () => {
    await Promise.all([feedServer?.close(), sink?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL while holding the lock: the next run is refused; after the TTL a new run proceeds and nothing is lost', { timeout: 90_000 }, async () => {
    // Run 1: killed when its first message is accepted (the 250 never reaches it).
    sink.tag = 1;
    const first = spawnRun({ cwd: dir, subscribersFile: file, env });
    sink.hooks = { beforeReply: () => void first.kill() };
    const killed = await first.exited;
    const killedAt = Date.now();
    sink.hooks = {};
    expect(killed.signal).toBe('SIGKILL');
    expect(sink.deliveries).toHaveLength(1);

    // The lock is still there: a run is refused (in-process, so it surely starts within the TTL), and so is the store.
    const refused = await runCliCaptured(['run', '--subscribers', file], { env, cwd: dir });
    expect(Date.now() - killedAt, 'the check ran after the TTL; it proves nothing on a machine this loaded').toBeLessThan(TTL_SECONDS * 1000);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/another planet-digest cycle is running on this store\. It holds the lock for at most 8 seconds after it stops/);
    const store = await openStore(env.DIGEST_STORE_URL!);
    try {
      expect(await store.acquireLock('cycle', 60_000)).toBeUndefined();
    } finally {
      await store.close();
    }
    expect(sink.deliveries).toHaveLength(1);

    // After the TTL: a new process takes the expired lock and delivers what was queued.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + TTL_SECONDS * 1000 + 200 - Date.now())));
    sink.tag = 2;
    const next = await spawnRun({ cwd: dir, subscribersFile: file, env }).exited;
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/4 digests sent/);

    const byAddress = new Map(SUBSCRIBERS.map((s) => [s.email!, s.id]));
    const received = await Promise.all(
      sink.deliveries.map(async (d) => ({ subscriberId: byAddress.get(d.rcptTo[0]!)!, links: entryLinksOfText((await simpleParser(d.raw)).text ?? ''), tag: d.tag })),
    );
    const count = countDeliveries(received, expectedLinks(world, SUBSCRIBERS));
    expect(count.lost).toEqual([]);
    expect(count.unexpected).toEqual([]);
    // The one message in flight at the kill is repeated, once.
    const repeatedSubscribers = new Set(count.repeated.map((r) => r.subscriberId));
    expect(repeatedSubscribers.size).toBe(1);
    expect(count.repeated.every((r) => r.count === 2 && r.tags[0] === 1)).toBe(true);
  });
});
