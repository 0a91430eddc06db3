/**
 * Delivery guarantee under Slack API faults: `planet-digest run` (in-process, real SQLite file, real feed server, the
 * local Slack Web API server) while one channel is rate-limited (429, Retry-After 1), one gets an HTTP 500, one does not
 * exist (channel_not_found) and one is rate-limited for longer than a run waits. The others go on; the missing channel
 * gets a clear error naming its subscriber; the 429/500 digests arrive after retry, within the cycle or in the next; each
 * entry reaches each channel exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { startSlackApiServer, type SlackApiServer } from '../helpers/slack-api-server.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { countDeliveries, digestsFromSlackPosts, expectedLinks, GrowingFeeds, writeSubscribersFile, type WorldFeed, type WorldSubscriber } from './helpers/digest-world.js';

const FEEDS: WorldFeed[] = [
  { id: 'alpha', tags: ['news'] },
  { id: 'beta', tags: ['news'] },
  { id: 'gamma', tags: [] },
];

const SUBSCRIBERS: WorldSubscriber[] = [
  { id: 'limited', slack: 'C0LIMITED1', feeds: ['alpha', 'gamma'] },
  { id: 'flaky', slack: 'C0FLAKY001', feeds: ['tag:news'] },
  { id: 'gone', slack: 'C0GONE0001', feeds: ['*'] },
  { id: 'fine', slack: 'C0FINE0001', feeds: ['beta'] },
  { id: 'later', slack: 'C0LATER001', feeds: ['*'], excludeFeeds: ['beta'] },
];

describe('Slack faults: the other channels go on, retried digests arrive exactly once', () => {
  let feedServer: FeedServer;
  let world: GrowingFeeds;
  let slack: SlackApiServer;
  let dir: string;
  let file: string;
  let env: Record<string, string>;
  const cycleOfTs = new Map<string, number>();
  let cycle = 0;

  beforeAll(async () => {
    feedServer = await FeedServer.start();
    world = new GrowingFeeds(feedServer, FEEDS);
    world.add('alpha', 3);
    world.add('beta', 2);
    world.add('gamma', 2);
    slack = await startSlackApiServer({ tokens: ['xoxb-faults'] });
    dir = await mkdtemp(path.join(tmpdir(), 'pd-slack-faults-'));
    file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, SUBSCRIBERS);
    env = {
      DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
      DIGEST_OUTBOX: path.join(dir, 'outbox'),
      DIGEST_CACHE_DIR: path.join(dir, 'cache'),
      SLACK_BOT_TOKEN: 'xoxb-faults',
      SLACK_API_URL: slack.url,
      DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
    };
  });

  afterAll(async () => {
    await Promise.all([feedServer?.close(), slack?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async () => {
    cycle += 1;
    const before = slack.messages.length;
    const result = await runCliCaptured(['run', '--subscribers', file], { env, cwd: dir });
    for (const m of slack.messages.slice(before)) cycleOfTs.set(m.ts, cycle);
    return result;
  };
  const postsTo = (channel: string) => slack.messages.filter((m) => m.channel === channel && !m.thread_ts);
  const callsTo = (channel: string) => slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel);

  it('cycle 1: 429 and 500 are retried within the cycle, channel_not_found names the subscriber, a long Retry-After waits for the next cycle; exit 1', async () => {
    slack.setFaults([
      { method: 'chat.postMessage', channel: 'C0LIMITED1', times: 2, fault: { kind: 'rate-limited', retryAfter: 1 } },
      { method: 'chat.postMessage', channel: 'C0FLAKY001', times: 1, fault: { kind: 'http', status: 500 } },
      { method: 'chat.postMessage', channel: 'C0GONE0001', fault: { kind: 'error', error: 'channel_not_found' } },
      // Longer than the 30 s a run waits for Retry-After: the digest fails transiently and stays queued.
      { method: 'chat.postMessage', channel: 'C0LATER001', times: 1, fault: { kind: 'rate-limited', retryAfter: 120 } },
    ]);
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/3 digests sent: 0 email, 3 Slack/);
    expect(result.stdout).toMatch(
      /FAILED slack digest for gone: Slack channel C0GONE0001 of subscriber "gone" was not found \(channel_not_found\)\. Check slack\.channel in subscribers\.json/,
    );
    expect(result.stdout).toMatch(/FAILED slack digest for later: Slack rate-limited posting to C0LATER001 \(subscriber "later"\).* \(\d+ entries kept for the next cycle\)/);
    // Retried and delivered in this cycle: two 429s then success, one 500 then success.
    expect(callsTo('C0LIMITED1').map((c) => c.status)).toEqual([429, 429, 200]);
    expect(callsTo('C0FLAKY001').map((c) => c.status)).toEqual([500, 200]);
    expect(postsTo('C0LIMITED1')).toHaveLength(1);
    expect(postsTo('C0FLAKY001')).toHaveLength(1);
    expect(postsTo('C0FINE0001')).toHaveLength(1);
    expect(postsTo('C0LATER001')).toHaveLength(0);
    expect(postsTo('C0GONE0001')).toHaveLength(0);
  });

  it('cycle 2: the rate-limited channel gets its queued entries with the new ones, in one digest; the missing channel fails again; exit 1', async () => {
    world.add('alpha', 1);
    world.add('beta', 2);
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED slack digest for gone: .*channel_not_found/);
    expect(result.stdout).not.toMatch(/FAILED slack digest for (limited|flaky|fine|later)/);
    expect(postsTo('C0LATER001')).toHaveLength(1);
  });

  it('cycle 3 (no faults but the missing channel): every channel has every entry of its selection exactly once', async () => {
    world.add('gamma', 1);
    const result = await run();
    expect(result.code).toBe(1);
    const byChannel = new Map(SUBSCRIBERS.map((s) => [s.slack!, s.id]));
    const digests = digestsFromSlackPosts(slack.messages, byChannel, (p) => cycleOfTs.get(p.ts) ?? 0);
    const expected = expectedLinks(world, SUBSCRIBERS);
    // channel_not_found is permanent: nothing reached #gone; its entries stay queued (and it bounces).
    expected.set('gone', new Set());
    const count = countDeliveries(digests, expected);
    expect(count.lost).toEqual([]);
    expect(count.repeated).toEqual([]);
    expect(count.unexpected).toEqual([]);
    expect(count.expected).toBeGreaterThan(20);
    expect(count.received).toBe(count.expected);
    // "later" got cycle 1's entries in cycle 2, not lost and not twice.
    const later = digests.filter((d) => d.subscriberId === 'later');
    expect(later.map((d) => d.tag)).toEqual([2, 3]);
  });
});
