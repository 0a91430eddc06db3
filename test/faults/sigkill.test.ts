/**
 * Hard crashes: real `planet-digest run` processes (bin/planet-digest.js through tsx, a SQLite file store, a real feed
 * server and a slow real SMTP server) are killed with SIGKILL at chosen points — while polling and ingesting feeds, right
 * after rendering, after the k-th message of the run was accepted (before or just after the 250 reply) and at random
 * moments. New entries appear before every run. Then runs without faults drain what is queued. Counting what each
 * subscriber received per entry link: nothing is lost, and each kill repeats at most one message (the one in flight).
 *
 * The kill plan comes from a seeded PRNG (FAULTS_SEED overrides the seed, FAULTS_KILLS the number of kills, default 20);
 * the figures are printed for the closing note.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { countDeliveries, entryLinksOfText, expectedLinks, GrowingFeeds, writeSubscribersFile, type WorldFeed, type WorldSubscriber } from './helpers/digest-world.js';
import { startSlowSmtpSink, type SlowDelivery, type SlowSmtpSink } from './helpers/slow-smtp-sink.js';
import { spawnRun, type RunExit } from './helpers/spawn-run.js';
import { createSeededRandom } from '../../bench/lib/seeded-random.js';

const SEED = Number(process.env.FAULTS_SEED ?? 20260601);
/** Kills per test run: 20 keeps the test near a minute on 2 cores (each process spends ~2.5 s CPU starting tsx); raise it locally. */
const KILLS = Number(process.env.FAULTS_KILLS ?? 20);
/**
 * On a machine loaded far beyond its cores, process start-up alone can take 5–10 s; after this long no new kill is started,
 * so the test still ends (with fewer kills, all still checked) instead of timing out.
 */
const KILL_BUDGET_MS = Number(process.env.FAULTS_BUDGET_MS ?? 150_000);


const FEEDS: WorldFeed[] = Array.from({ length: 6 }, (_, i) => ({ id: `f${i + 1}`, tags: [i % 2 === 0 ? 'odd' : 'even', ...(i < 3 ? ['low'] : [])] }));

const SELECTIONS: Array<Pick<WorldSubscriber, 'feeds' | 'excludeFeeds'>> = [
  { feeds: ['f1'] },
  { feeds: ['f2', 'f3'] },
  { feeds: ['*'] },
  { feeds: ['tag:even'] },
  { feeds: ['tag:odd'] },
  { feeds: ['*'], excludeFeeds: ['f1'] },
  { feeds: ['tag:low'] },
  { feeds: ['f4', 'f5', 'f6'] },
  { feeds: ['f6'] },
  { feeds: ['tag:low'], excludeFeeds: ['tag:even'] },
  { feeds: ['f1', 'f4'] },
  { feeds: ['*'] },
  { feeds: ['f3', 'f5'] },
  { feeds: ['tag:even', 'f1'] },
  { feeds: ['f2'] },
  { feeds: ['*'], excludeFeeds: ['f6', 'f5'] },
];
const SUBSCRIBERS: WorldSubscriber[] = SELECTIONS.map((sel, i) => {
  const id = `s${String(i + 1).padStart(2, '0')}`;
  return { id, email: `${id}@example.org`, ...sel };
});

/** Where a run is killed. */
type KillPoint =
  /** d ms after the j-th feed request of the run arrived: polling, parsing, diffing, storing the batch, planning. */
  | { kind: 'ingest'; nth: number; delayMs: number }
  /** d ms after the run connected to SMTP: rendering is done, the first message is on its way. */
  | { kind: 'connect'; delayMs: number }
  /** When the k-th message of the run was accepted: before the 250 reached the client, or d ms after it. */
  | { kind: 'message'; nth: number; when: 'before-reply' | 'after-reply'; delayMs: number }
  /** d ms after the first feed request: anywhere in the cycle. */
  | { kind: 'random'; delayMs: number };

function killPlan(random: () => number, kills: number): KillPoint[] {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const plan: KillPoint[] = [];
  // About 15% while ingesting, 10% right after rendering, 10% at random moments, the rest at the k-th message.
  const ingest = Math.max(1, Math.round(kills * 0.15));
  const connect = Math.max(1, Math.round(kills * 0.1));
  const randomly = Math.max(1, Math.round(kills * 0.1));
  for (let i = 0; i < ingest; i++) plan.push({ kind: 'ingest', nth: int(1, FEEDS.length), delayMs: int(0, 150) });
  for (let i = 0; i < connect; i++) plan.push({ kind: 'connect', delayMs: int(0, 30) });
  for (let i = 0; i < randomly; i++) plan.push({ kind: 'random', delayMs: int(0, 1200) });
  for (let i = 0; plan.length < kills; i++) plan.push({ kind: 'message', nth: int(1, 9), when: i % 2 === 0 ? 'before-reply' : 'after-reply', delayMs: int(0, 15) });
  // Shuffle (Fisher–Yates), so kinds interleave and each starts from a different state.
  for (let i = plan.length - 1; i > 0; i--) {
    const j = int(0, i);
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}

function describeKill(k: KillPoint): string {
  switch (k.kind) {
    case 'ingest':
      return `ingest (feed request ${k.nth} + ${k.delayMs} ms)`;
    case 'connect':
      return `after render (SMTP connect + ${k.delayMs} ms)`;
    case 'message':
      return `message ${k.nth} ${k.when}${k.when === 'after-reply' ? ` + ${k.delayMs} ms` : ''}`;
    case 'random':
      return `random (first feed request + ${k.delayMs} ms)`;
  }
}

interface RunRecord {
  run: number;
  kill?: KillPoint;
  exit: RunExit;
  killed: boolean;
  messages: number;
}

describe('SIGKILL at random points of a cycle: nothing lost, at most one repeat per kill', () => {
  let feedServer: FeedServer;
  let world: GrowingFeeds;
  let sink: SlowSmtpSink;
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    feedServer = await FeedServer.start();
    world = new GrowingFeeds(feedServer, FEEDS);
    for (const feed of FEEDS) world.add(feed.id, 2);
    // 30 ms per message: a run of ~16 digests spends about half a second sending, one message at a time.
    sink = await startSlowSmtpSink({ delayMs: 30 });
    dir = await mkdtemp(path.join(tmpdir(), 'pd-sigkill-'));
    file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, SUBSCRIBERS);
    env = {
      DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
      DIGEST_OUTBOX: path.join(dir, 'outbox'),
      DIGEST_CACHE_DIR: path.join(dir, 'cache'),
      SMTP_URL: sink.url,
      // One connection: one message in flight at a time (FAULTS_SMTP_CONNECTIONS overrides, to measure the pooled default).
      SMTP_MAX_CONNECTIONS: process.env.FAULTS_SMTP_CONNECTIONS ?? '1',
      SMTP_RETRY_BASE_MS: '20',
      MAIL_FROM: 'Digest <digest@example.org>',
      DIGEST_SECRET: 'sigkill-secret-0123456789abcdef',
      DIGEST_BASE_URL: 'https://digest.example.org',
      DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
      // A killed run leaves its lock behind; with 1 s it has expired by the time the next process is up.
      DIGEST_LOCK_TTL_SECONDS: '1',
    };
  });

  afterAll(async () => {
    await Promise.all([feedServer?.close(), sink?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`kills ${KILLS} runs at planned points, then drains: no entry lost, each kill repeats at most one message`, { timeout: 300_000 }, async () => {
    const random = createSeededRandom(SEED).next;
    const plan = killPlan(random, KILLS);
    const runs: RunRecord[] = [];
    let lockedRetries = 0;
    const t0 = Date.now();

    /** Runs one process, killing it at `kill` (if the run gets that far). */
    const runOnce = async (kill?: KillPoint): Promise<RunRecord> => {
      const runNo = runs.length + 1;
      sink.tag = runNo;
      const before = sink.deliveries.length;
      // Spawned first; the hooks below run from the event loop, long before the process could reach a kill point.
      const proc = spawnRun({ cwd: dir, subscribersFile: file, env });
      const killLater = (ms: number) => setTimeout(() => proc.kill(), ms);
      let feedRequests = 0;
      let messages = 0;
      let armed = kill !== undefined;
      world.onRequest = () => {
        feedRequests += 1;
        if (!armed || !kill) return;
        if ((kill.kind === 'ingest' && feedRequests === kill.nth) || (kill.kind === 'random' && feedRequests === 1)) {
          armed = false;
          killLater(kill.delayMs);
        }
      };
      // A message the previous (killed) run sent can be accepted after this run began: it is that run's, not this one's.
      const ours = (delivery: SlowDelivery) => delivery.tag === runNo;
      sink.hooks = {
        onConnection: () => {
          if (armed && kill?.kind === 'connect') {
            armed = false;
            killLater(kill.delayMs);
          }
        },
        beforeReply: (delivery) => {
          if (!ours(delivery)) return;
          messages += 1;
          if (armed && kill?.kind === 'message' && messages === kill.nth && kill.when === 'before-reply') {
            armed = false;
            proc.kill(); // synchronous: the 250 is written after the process is gone
          }
        },
        afterReply: (delivery) => {
          if (!ours(delivery)) return;
          if (armed && kill?.kind === 'message' && messages === kill.nth && kill.when === 'after-reply') {
            armed = false;
            killLater(kill.delayMs);
          }
        },
      };
      const exit = await proc.exited;
      world.onRequest = undefined;
      sink.hooks = {};
      const record: RunRecord = { run: runNo, kill, exit, killed: exit.signal === 'SIGKILL', messages: sink.deliveries.slice(before).filter(ours).length };
      runs.push(record);
      return record;
    };

    /** Runs once more whenever a run exits 3 because the lock of the run killed before has not expired yet. */
    const runRetryingWhileLocked = async (kill?: KillPoint): Promise<RunRecord> => {
      for (;;) {
        const record = await runOnce(kill);
        if (record.exit.code === 3) {
          expect(record.exit.stderr).toMatch(/another planet-digest cycle is running on this store/);
          lockedRetries += 1;
          await new Promise((resolve) => setTimeout(resolve, 300));
          continue;
        }
        return record;
      }
    };

    let budgetReached = false;
    for (const kill of plan) {
      if (Date.now() - t0 > KILL_BUDGET_MS) {
        budgetReached = true;
        break;
      }
      // New entries for a few feeds before every run, so every run has digests to send.
      const changed = new Set<string>();
      for (let i = 0; i < 3; i++) changed.add(FEEDS[Math.floor(random() * FEEDS.length)]!.id);
      for (const feedId of changed) world.add(feedId, 1 + Math.floor(random() * 2));
      const record = await runRetryingWhileLocked(kill);
      if (!record.killed) {
        // The kill point was not reached (e.g. fewer messages than k): the run must have completed cleanly.
        expect(record.exit.code, record.exit.stderr).toBe(0);
      }
    }

    // Drain: runs without faults until one sends nothing.
    const drain: RunRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const record = await runRetryingWhileLocked();
      expect(record.exit.code, record.exit.stderr).toBe(0);
      drain.push(record);
      if (record.messages === 0) break;
    }
    expect(drain.at(-1)!.messages).toBe(0);
    expect(drain.at(-1)!.exit.stdout).toMatch(/Nothing new for any subscriber/);

    // Count: every (subscriber, entry) of their selection, against what the feed server served.
    for (const feed of FEEDS) expect([...world.served.get(feed.id)!].sort()).toEqual(world.allLinks(feed.id).sort());
    const byAddress = new Map(SUBSCRIBERS.map((s) => [s.email!, s.id]));
    const received = await Promise.all(
      sink.deliveries.map(async (d) => {
        const parsed = await simpleParser(d.raw);
        return { subscriberId: byAddress.get(d.rcptTo[0]!)!, links: entryLinksOfText(parsed.text ?? ''), tag: d.tag, index: d.index };
      }),
    );
    const count = countDeliveries(received, expectedLinks(world, SUBSCRIBERS));

    // A message is a repeat when some entry in it reached the same subscriber again later.
    const laterCopies = (m: (typeof received)[number]) => received.filter((l) => l.index > m.index && l.subscriberId === m.subscriberId && l.links.some((x) => m.links.includes(x)));
    const repeated = received.map((m) => ({ m, later: laterCopies(m) })).filter((r) => r.later.length > 0);
    const repeatedMessages = repeated.map((r) => r.m);
    // Which later message repeated what (for the log: a failure names the messages to look at).
    for (const { m, later } of repeated) {
      const by = later.map((l) => `message ${l.index} of run ${l.tag} (${l.links.filter((x) => m.links.includes(x)).length} of its ${l.links.length} entries)`);
      console.log(`[faults/sigkill] repeat: message ${m.index} of run ${m.tag} to ${m.subscriberId} (${m.links.length} entries), again in ${by.join(', ')}`);
    }
    const repeatsByRun = new Map<number, number>();
    for (const m of repeatedMessages) repeatsByRun.set(m.tag, (repeatsByRun.get(m.tag) ?? 0) + 1);
    const killed = runs.filter((r) => r.killed);

    const figures = {
      seed: SEED,
      processes: runs.length,
      kills: killed.length,
      killPointsNotReached: runs.filter((r) => r.kill && !r.killed && r.exit.code !== 3).length,
      lockedRetries,
      budgetReached,
      drainRuns: drain.length,
      messages: sink.deliveries.length,
      expectedPairs: count.expected,
      receivedPairs: count.received,
      lost: count.lost.length,
      repeatedMessages: repeatedMessages.length,
      repeatedPairs: count.repeated.length,
      seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
    console.log(`[faults/sigkill] ${JSON.stringify(figures)}`);
    for (const r of runs) {
      const repeats = repeatsByRun.get(r.run) ?? 0;
      console.log(
        `[faults/sigkill] run ${String(r.run).padStart(2)}: ${r.kill ? describeKill(r.kill).padEnd(36) : 'no fault'.padEnd(36)} ` +
          `${r.killed ? 'KILLED' : `exit ${r.exit.code}`} after ${r.exit.ms} ms, ${r.messages} messages accepted, ${repeats} repeated later`,
      );
    }

    // Nearly every kill point is reached (a run usually has more than 9 digests to send), so nearly all runs are killed.
    const planned = runs.filter((r) => r.kill && r.exit.code !== 3).length;
    expect(planned).toBeGreaterThanOrEqual(budgetReached ? 5 : KILLS);
    expect(killed.length).toBeGreaterThanOrEqual(Math.floor(planned * 0.8));
    expect(count.expected).toBeGreaterThan(planned * 10);
    expect(count.lost).toEqual([]);
    expect(count.unexpected).toEqual([]);
    // Never the same entry twice within one message.
    for (const m of received) expect(new Set(m.links).size, `message ${m.index}`).toBe(m.links.length);
    // With one SMTP connection, what a kill repeats is the run's last message (the one in flight), never an earlier,
    // recorded one whose repeat would hide inside the same allowance.
    if ((process.env.FAULTS_SMTP_CONNECTIONS ?? '1') === '1') {
      for (const m of repeatedMessages) {
        const last = received.filter((x) => x.tag === m.tag).at(-1)!;
        expect(m.index, `message ${m.index} of run ${m.tag} was repeated but the run's last message is ${last.index}`).toBe(last.index);
      }
    }
    // Repeats come only from killed runs, at most one message per kill.
    for (const r of runs) {
      const repeats = repeatsByRun.get(r.run) ?? 0;
      expect(repeats, `run ${r.run} (${r.killed ? 'killed' : 'not killed'}) repeated ${repeats} messages`).toBeLessThanOrEqual(r.killed ? 1 : 0);
    }
  });
});
