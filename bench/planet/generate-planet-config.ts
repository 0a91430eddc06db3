/**
 * A Planet-scale subscribers.json for the benchmark: F feeds with topic tags, and S subscribers (email and Slack)
 * whose selections are drawn from ~50 "interest profiles" (tag sets, some with keywords, a few "everything about X"),
 * each subscriber taking a profile as is or with a small personal twist (one extra feed, one excluded tag, one more
 * keyword) and one of a few time zones. Popular profiles are drawn more often (Zipf-like), so there are many distinct
 * selections yet real sharing, as on a real planet. Deterministic for a given seed.
 */
import { createSeededRandom, hashSeed, type SeededRandom } from '../lib/seeded-random.js';

/** What generatePlanetConfig builds. */
export interface PlanetConfigOptions {
  seed: number;
  feeds: number;
  emailSubscribers: number;
  slackSubscribers: number;
  /** URL of feed i. */
  feedUrl: (index: number) => string;
  firstPollEntries: number;
  maxPerSource: number;
  /** Interest profiles (default 50). */
  profiles?: number;
}

/** An interest profile: what a group of like-minded subscribers reads. */
export interface InterestProfile {
  feeds: string[];
  include: string[];
  exclude: string[];
  /** Feeds some members add on top (personal twist). */
  extraFeeds: string[];
  /** Tags some members exclude. */
  excludeTags: string[];
  /** Keywords some members add. */
  extraKeywords: string[];
}

/**
 * Topic tags: one per 5 feeds (at least 10), each feed carrying 1–2, so a tag selects ~7 feeds whatever the planet's
 * size and a subscriber's selection stays around 10 feeds (the 10 sources × 5 entries digest the issue takes as
 * typical): growing F grows ingestion, not the digests; growing S grows delivery.
 */
function topicsFor(feedCount: number): string[] {
  const n = Math.max(10, Math.round(feedCount / 5));
  return Array.from({ length: n }, (_, i) => `topic-${String(i).padStart(3, '0')}`);
}
/** Words of the synthetic feeds' titles and summaries (bench/lib/synthetic-feed.ts), usable as keywords. */
const KEYWORDS = ['release', 'server', 'parser', 'memory', 'latency', 'cache', 'thread', 'kernel', 'compiler', 'runtime', 'benchmark', 'network', 'query', 'schema', 'migration', 'deploy', 'container', 'cluster', 'backup', 'security', 'plugin', 'framework'];
const PHRASES = ['"memory latency"', '"cache server"', '"kernel release"', '"query schema"'];
const TIMEZONES: Array<[string, number]> = [
  ['UTC', 0.4],
  ['Europe/Berlin', 0.25],
  ['America/New_York', 0.25],
  ['Asia/Tokyo', 0.1],
];

function feedId(i: number): string {
  return `f${String(i).padStart(5, '0')}`;
}

function pickDistinct<T>(rng: SeededRandom, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]!);
  return out;
}

function weighted<T>(rng: SeededRandom, items: ReadonlyArray<[T, number]>): T {
  let r = rng.next() * items.reduce((s, [, w]) => s + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** The profiles over the tags in use: mostly 1–2 tags (some 3), a third with include keywords, a few "every feed, but only about X". */
export function generateProfiles(seed: number, count: number, feedCount: number, topics: readonly string[]): InterestProfile[] {
  const rng = createSeededRandom(hashSeed(seed, 'profiles'));
  const profiles: InterestProfile[] = [];
  for (let p = 0; p < count; p++) {
    const everything = p % 25 === 24; // 2 of 50: "*" narrowed by a phrase
    const tags = pickDistinct(rng, topics, rng.chance(0.15) ? 3 : rng.int(1, 2));
    profiles.push({
      feeds: everything ? ['*'] : tags.map((t) => `tag:${t}`),
      include: everything ? [rng.pick(PHRASES)] : rng.chance(0.3) ? pickDistinct(rng, KEYWORDS, rng.int(1, 2)) : [],
      exclude: rng.chance(0.15) ? [rng.pick(KEYWORDS)] : [],
      extraFeeds: Array.from({ length: 8 }, () => feedId(rng.int(0, feedCount - 1))),
      excludeTags: pickDistinct(rng, topics, 4),
      extraKeywords: pickDistinct(rng, KEYWORDS, 4),
    });
  }
  return profiles;
}

/** Facts about the generated subscribers (printed with the figures). */
export interface PlanetConfigStats {
  profiles: number;
  /** Distinct (channel, selection, time zone) combinations: an upper bound of the digests rendered per cycle. */
  distinctSelections: number;
}

/** The subscribers.json document (input form, validated by the program as usual). */
export function generatePlanetConfig(options: PlanetConfigOptions): { doc: Record<string, unknown>; stats: PlanetConfigStats } {
  const { seed } = options;
  const rngFeeds = createSeededRandom(hashSeed(seed, 'feed-tags'));
  const topics = topicsFor(options.feeds);
  const feeds = Array.from({ length: options.feeds }, (_, i) => ({
    id: feedId(i),
    url: options.feedUrl(i),
    tags: pickDistinct(rngFeeds, topics, rngFeeds.int(1, 2)),
  }));
  // Only tags some feed carries: the program rejects a selection naming a tag no feed has (few feeds, few tags).
  const used = [...new Set(feeds.flatMap((f) => f.tags))].sort();
  const profiles = generateProfiles(seed, options.profiles ?? 50, options.feeds, used);
  const zipf: Array<[number, number]> = profiles.map((_, i) => [i, 1 / Math.pow(i + 1, 0.8)]);
  const rng = createSeededRandom(hashSeed(seed, 'subscribers'));
  const distinct = new Set<string>();

  const selectionOf = (): Record<string, unknown> => {
    const profile = profiles[weighted(rng, zipf)]!;
    const feedsRef = [...profile.feeds];
    const excludeFeeds: string[] = [];
    const include = [...profile.include];
    const r = rng.next();
    if (r < 0.55) {
      // the profile as is
    } else if (r < 0.75) {
      feedsRef.push(rng.pick(profile.extraFeeds));
    } else if (r < 0.85) {
      excludeFeeds.push(`tag:${rng.pick(profile.excludeTags)}`);
    } else {
      include.push(rng.pick(profile.extraKeywords));
    }
    const timezone = weighted(rng, TIMEZONES);
    const selection: Record<string, unknown> = { feeds: feedsRef, timezone };
    if (excludeFeeds.length > 0) selection.excludeFeeds = excludeFeeds;
    if (include.length > 0 || profile.exclude.length > 0) selection.keywords = { include, exclude: profile.exclude };
    return selection;
  };

  const subscribers: Array<Record<string, unknown>> = [];
  for (let i = 0; i < options.emailSubscribers; i++) {
    const selection = selectionOf();
    distinct.add(JSON.stringify(['email', selection]));
    subscribers.push({ id: `s${String(i).padStart(6, '0')}`, name: `Subscriber ${i}`, email: `s${String(i).padStart(6, '0')}@example.org`, ...selection });
  }
  for (let i = 0; i < options.slackSubscribers; i++) {
    const selection = selectionOf();
    distinct.add(JSON.stringify(['slack', selection]));
    subscribers.push({ id: `slack${String(i).padStart(4, '0')}`, name: `#channel-${i}`, slack: { channel: `C${String(i).padStart(9, '0')}` }, ...selection });
  }
  return {
    doc: {
      settings: { title: 'Planet benchmark', firstPollEntries: options.firstPollEntries, maxPerSource: options.maxPerSource },
      feeds,
      subscribers,
    },
    stats: { profiles: profiles.length, distinctSelections: distinct.size },
  };
}
