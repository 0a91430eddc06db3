/**
 * A small world for delivery-guarantee tests: feeds that grow between cycles (served by a real FeedServer, with ETags and
 * 304s), a subscribers.json over them, and the bookkeeping that turns what subscribers received into per-entry counts.
 *
 * Entry identity is the entry's link, https://<feed>.example/posts/<n>, unique over the whole world; the plain-text part
 * of a digest lists each entry URL on its own line and Slack blocks carry <url|title> links, so counting never depends on
 * titles or layout. The expected set is computed from what the feed server actually served and each subscriber's
 * selection, resolved here independently of src/group.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { FeedServer } from '../../helpers/feed-server.js';
import { rssFeed, type TestItem } from '../../helpers/make-feed.js';

/** A feed of the world. */
export interface WorldFeed {
  id: string;
  tags: string[];
}

/** A subscriber of the world (email or Slack). */
export interface WorldSubscriber {
  id: string;
  email?: string;
  slack?: string;
  /** Feed ids, "tag:NAME" or "*". */
  feeds: string[];
  excludeFeeds?: string[];
}

const ENTRY_LINK = /https:\/\/([a-z0-9-]+)\.example\/posts\/(\d+)/g;

/** Entry links (https://<feed>.example/posts/<n>) found in a text, in order, with repeats. */
export function entryLinks(text: string): string[] {
  return [...text.matchAll(ENTRY_LINK)].map((m) => m[0]);
}

/** Entry links of a digest's plain-text part: only lines that are exactly an entry URL (how render-text lists them). */
export function entryLinksOfText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^https:\/\/[a-z0-9-]+\.example\/posts\/\d+$/.test(line));
}

/** Feeds that grow on demand; every 200 response is recorded as "served" (what a poller could have seen). */
export class GrowingFeeds {
  readonly items = new Map<string, TestItem[]>();
  /** Links served per feed in 200 responses. */
  readonly served = new Map<string, Set<string>>();
  /** Called on every feed request (before answering); may return a promise to hold the answer. */
  onRequest?: (feedId: string) => void | Promise<void>;
  private counter = 0;

  constructor(
    readonly server: FeedServer,
    readonly feeds: WorldFeed[],
  ) {
    for (const feed of feeds) {
      this.items.set(feed.id, []);
      this.served.set(feed.id, new Set());
      server.route(`/${feed.id}.xml`, async (req, res) => {
        await this.onRequest?.(feed.id);
        const body = rssFeed({ title: `Feed ${feed.id}`, link: `https://${feed.id}.example/`, items: [...this.items.get(feed.id)!].reverse() });
        const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { ETag: etag });
          res.end();
          return;
        }
        for (const item of this.items.get(feed.id)!) this.served.get(feed.id)!.add(item.link!);
        res.writeHead(200, { 'Content-Type': 'application/rss+xml', ETag: etag });
        res.end(body);
      });
    }
  }

  /** Adds `count` new entries to a feed (newest last); returns their links. */
  add(feedId: string, count = 1): string[] {
    const list = this.items.get(feedId);
    if (!list) throw new Error(`unknown feed ${feedId}`);
    const links: string[] = [];
    for (let i = 0; i < count; i++) {
      this.counter += 1;
      const n = this.counter;
      const link = `https://${feedId}.example/posts/${n}`;
      list.push({ id: `urn:${feedId}:${n}`, title: `Post ${n} of ${feedId}`, link, date: new Date(Date.UTC(2026, 4, 1) + n * 60_000).toISOString() });
      links.push(link);
    }
    return links;
  }

  /** Every link added so far, per feed. */
  allLinks(feedId: string): string[] {
    return (this.items.get(feedId) ?? []).map((i) => i.link!);
  }

  url(feedId: string): string {
    return this.server.url(`/${feedId}.xml`);
  }
}

/** Feed ids a subscriber selects, resolved from the world's own feed list (ids, tag:NAME, "*", minus excludeFeeds). */
export function resolveSelection(subscriber: WorldSubscriber, feeds: WorldFeed[]): Set<string> {
  const resolve = (refs: string[]): Set<string> => {
    const out = new Set<string>();
    for (const ref of refs) {
      for (const feed of feeds) {
        if (ref === '*' || ref === feed.id || (ref.startsWith('tag:') && feed.tags.includes(ref.slice(4)))) out.add(feed.id);
      }
    }
    return out;
  };
  const included = resolve(subscriber.feeds);
  for (const id of resolve(subscriber.excludeFeeds ?? [])) included.delete(id);
  return included;
}

/**
 * Writes subscribers.json for the world. By default maxPerSource 100 and firstPollEntries 1000, so every entry is listed
 * individually (digests never fall back to "and N more") and a feed's first poll counts all its entries as new;
 * `settings` overrides them.
 */
export async function writeSubscribersFile(file: string, world: GrowingFeeds, subscribers: WorldSubscriber[], settings: Record<string, unknown> = {}): Promise<void> {
  await writeFile(
    file,
    JSON.stringify(
      {
        settings: { title: 'Fault digest', timezone: 'UTC', firstPollEntries: 1000, maxPerSource: 100, ...settings },
        feeds: world.feeds.map((f) => ({ id: f.id, url: world.url(f.id), tags: f.tags })),
        subscribers: subscribers.map((s) => ({
          id: s.id,
          name: s.id,
          ...(s.email ? { email: s.email } : {}),
          ...(s.slack ? { slack: { channel: s.slack } } : {}),
          feeds: s.feeds,
          ...(s.excludeFeeds ? { excludeFeeds: s.excludeFeeds } : {}),
        })),
      },
      null,
      2,
    ),
  );
}

/** One digest as a subscriber received it: who, which entry links, and a label for messages (run number etc.). */
export interface ReceivedDigest {
  subscriberId: string;
  links: string[];
  /** Free-form origin (e.g. run number) used to attribute repeats. */
  tag: number;
  messageId?: string;
}

/** How often each subscriber got each entry, against what they should have got exactly once. */
export interface DeliveryCount {
  /** Expected (subscriber, link) pairs that never arrived. */
  lost: Array<{ subscriberId: string; link: string }>;
  /** (subscriber, link) pairs that arrived more than once, with their count and the tags of the messages. */
  repeated: Array<{ subscriberId: string; link: string; count: number; tags: number[] }>;
  /** (subscriber, link) pairs that arrived but were not expected (another feed's entry, or an unserved one). */
  unexpected: Array<{ subscriberId: string; link: string }>;
  /** Total expected pairs and total received pairs. */
  expected: number;
  received: number;
}

/** Counts deliveries per subscriber and entry link against `expected` (subscriber id -> links). */
export function countDeliveries(digests: ReceivedDigest[], expected: Map<string, Set<string>>): DeliveryCount {
  const got = new Map<string, Map<string, number[]>>();
  let received = 0;
  for (const digest of digests) {
    let perSub = got.get(digest.subscriberId);
    if (!perSub) got.set(digest.subscriberId, (perSub = new Map()));
    for (const link of digest.links) {
      received += 1;
      const tags = perSub.get(link) ?? [];
      tags.push(digest.tag);
      perSub.set(link, tags);
    }
  }
  const result: DeliveryCount = { lost: [], repeated: [], unexpected: [], expected: 0, received };
  for (const [subscriberId, links] of expected) {
    const perSub = got.get(subscriberId) ?? new Map<string, number[]>();
    for (const link of links) {
      result.expected += 1;
      const tags = perSub.get(link);
      if (!tags) result.lost.push({ subscriberId, link });
      else if (tags.length > 1) result.repeated.push({ subscriberId, link, count: tags.length, tags });
    }
  }
  for (const [subscriberId, perSub] of got) {
    const want = expected.get(subscriberId) ?? new Set<string>();
    for (const link of perSub.keys()) if (!want.has(link)) result.unexpected.push({ subscriberId, link });
  }
  return result;
}

/** Expected links per subscriber: everything the feed server served from the feeds of their selection. */
export function expectedLinks(world: GrowingFeeds, subscribers: WorldSubscriber[]): Map<string, Set<string>> {
  const expected = new Map<string, Set<string>>();
  for (const subscriber of subscribers) {
    const links = new Set<string>();
    for (const feedId of resolveSelection(subscriber, world.feeds)) for (const link of world.served.get(feedId) ?? []) links.add(link);
    expected.set(subscriber.id, links);
  }
  return expected;
}

/** Slack posts (blocks of a parent and its thread replies) -> ReceivedDigests, one per parent message. */
export function digestsFromSlackPosts(
  posts: Array<{ channel: string; ts: string; thread_ts?: string; blocks?: unknown }>,
  byChannel: Map<string, string>,
  tagOf: (post: { ts: string }) => number,
): ReceivedDigest[] {
  const parents = new Map<string, ReceivedDigest>();
  const out: ReceivedDigest[] = [];
  for (const post of posts) {
    const subscriberId = byChannel.get(post.channel);
    if (!subscriberId) throw new Error(`post to unknown channel ${post.channel}`);
    // Slack links are <url|title>; entry links are the ones pointing at /posts/<n>.
    const links = entryLinks(JSON.stringify(post.blocks ?? []));
    if (post.thread_ts) {
      const parent = parents.get(`${post.channel}/${post.thread_ts}`);
      if (!parent) throw new Error(`reply to unknown thread ${post.thread_ts}`);
      parent.links.push(...links);
      continue;
    }
    const digest: ReceivedDigest = { subscriberId, links, tag: tagOf(post) };
    parents.set(`${post.channel}/${post.ts}`, digest);
    out.push(digest);
  }
  return out;
}
