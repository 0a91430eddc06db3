/**
 * ingestFeeds reads a feed's seen map only when its body changed (a cycle of 304s, or of 200s carrying the bytes whose
 * entries were recorded last time, reads none), still diffs every changed feed against its own map, and fails the
 * cycle when the store cannot give a map. Real SQLite store, feeds served on 127.0.0.1 by a server that answers
 * conditional GET with 304, and by one that ignores it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedConfig } from '../../src/model/feed.js';
import { silentLogger } from '../../src/model/logger.js';
import { ingestFeeds, type IngestOptions } from '../../src/pipeline/ingest-feeds.js';
import { createRunReport } from '../../src/pipeline/run-report.js';
import { openStore } from '../../src/store/open-store.js';
import type { SeenStore } from '../../src/store/seen-store.js';
import { FeedServer } from '../helpers/feed-server.js';
import { rssFeed, type TestItem } from '../helpers/make-feed.js';

const FEEDS = ['one', 'two', 'three'];

/** Starts one ingestion of `feeds` at `now`; every feed is due every time (force, as `run --force-poll` does). */
function startIngest(feeds: FeedConfig[], store: SeenStore, now: Date, over: Partial<IngestOptions> = {}) {
  const report = createRunReport(now, false);
  const result = ingestFeeds(
    {
      feeds,
      store,
      logger: silentLogger,
      now: () => now,
      poll: { userAgent: 'planet-digest-test', allowPrivate: true },
      firstPollEntries: 10,
      retentionDays: 90,
      failingHours: 48,
      force: true,
      dryRun: false,
      ...over,
    },
    report,
  );
  return { result, report };
}

/** The store, with every getSeenMaps call's feed ids pushed to `reads` (and failing while `failing()` says so). */
function spyOnSeenMapReads(store: SeenStore, reads: string[][], failing: () => boolean): SeenStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'getSeenMaps') {
        return async (ids: string[]) => {
          reads.push([...ids]);
          if (failing()) throw new Error('disk I/O error');
          return target.getSeenMaps(ids);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** How the feed server answers: 304 for a matching ETag, or the whole body every time (no validators at all). */
const SERVERS: [string, boolean][] = [
  ['answers conditional GET with 304', true],
  ['ignores conditional GET and sends the same bytes again', false],
];

describe.each(SERVERS)('ingestFeeds, against a server that %s', (_name, conditional) => {
  let server: FeedServer;
  let dir: string;
  let store: SeenStore;
  const items = new Map<string, TestItem[]>(FEEDS.map((id) => [id, [{ id: `${id}-1`, title: `${id} first`, link: `https://${id}.example/1`, date: '2026-05-01T08:00:00Z' }]]));
  /** Feed ids of every getSeenMaps call, in order. */
  const reads: string[][] = [];
  let failReads = false;
  let spied: SeenStore;
  const feeds: FeedConfig[] = [];
  const ingest = (now: Date) => startIngest(feeds, spied, now);

  beforeAll(async () => {
    server = await FeedServer.start();
    for (const id of FEEDS) {
      server.route(`/${id}.xml`, (req, res) => {
        const body = rssFeed({ title: id, link: `https://${id}.example/`, items: items.get(id)! });
        if (!conditional) {
          res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(body);
          return;
        }
        const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 12)}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/rss+xml', etag }).end(body);
      });
      feeds.push({ id, url: server.url(`/${id}.xml`), tags: [] });
    }
    dir = await mkdtemp(path.join(tmpdir(), 'pd-ingest-'));
    store = await openStore(`sqlite://${path.join(dir, 'store.sqlite')}`);
    spied = spyOnSeenMapReads(store, reads, () => failReads);
  });

  afterAll(async () => {
    await store?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('first poll: every feed changed, every map asked for, every entry new, each body hash stored', async () => {
    const { result, report } = ingest(new Date('2026-05-02T00:00:00Z'));
    const { fresh, states, batch, batchSeq } = await result;
    expect(report.feeds.ok).toBe(3);
    // The batch handed to delivery is the stored one, field for field (so delivery need not read it back).
    expect(batch?.entries).toBe(fresh);
    expect(await store.getBatches(batchSeq! - 1, batchSeq!)).toStrictEqual([batch]);
    expect(fresh.map((e) => e.feedId).sort()).toEqual([...FEEDS].sort());
    expect(reads.flat().sort()).toEqual([...FEEDS].sort());
    const stored = await store.getFeedStates(FEEDS);
    for (const id of FEEDS) {
      expect(states.get(id)?.bodyHash).toMatch(/^[\w-]{43}$/);
      expect(stored.get(id)?.bodyHash).toBe(states.get(id)?.bodyHash);
    }
  });

  it('nothing changed: all three not modified, nothing parsed, no seen map read', async () => {
    reads.length = 0;
    const { result, report } = ingest(new Date('2026-05-02T01:00:00Z'));
    const { fresh } = await result;
    expect(server.requestsTo('/one.xml')).toHaveLength(2);
    expect(report.feeds.notModified).toBe(3);
    expect(report.feeds.ok).toBe(0);
    expect(fresh).toEqual([]);
    expect(reads).toEqual([]);
  });

  it('one feed changed: only its map is read, and only its new entry is fresh', async () => {
    reads.length = 0;
    items.get('two')!.unshift({ id: 'two-2', title: 'two second', link: 'https://two.example/2', date: '2026-05-02T09:00:00Z', html: '<p>The <b>second</b> post</p>' });
    const { result, report } = ingest(new Date('2026-05-02T10:00:00Z'));
    const { fresh } = await result;
    expect(report.feeds.ok).toBe(1);
    expect(fresh.map((e) => e.title)).toEqual(['two second']);
    // Its summary was converted (the known entry beside it needed none).
    expect(fresh[0]?.summary).toBe('The second post');
    expect(reads).toEqual([['two']]);
  });

  it('a store that cannot read a map fails the ingestion; the same bytes next cycle are parsed and nothing is lost', async () => {
    reads.length = 0;
    failReads = true;
    items.get('three')!.unshift({ id: 'three-2', title: 'three second', link: 'https://three.example/2', date: '2026-05-02T11:00:00Z' });
    await expect(ingest(new Date('2026-05-02T12:00:00Z')).result).rejects.toThrow('disk I/O error');
    failReads = false;
    // Neither the validators nor the hash of that body were recorded: the next cycle parses it and finds the entry.
    const { fresh } = await ingest(new Date('2026-05-02T13:00:00Z')).result;
    expect(fresh.map((e) => e.title)).toEqual(['three second']);
  });
});
