/**
 * ingestFeeds reads a feed's seen map only when its body changed (a cycle of 304s reads none), still diffs every
 * changed feed against its own map, and fails the cycle when the store cannot give a map. Real SQLite store, feeds
 * served on 127.0.0.1 with ETags.
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

describe('ingestFeeds: seen maps read only for changed feeds', () => {
  let server: FeedServer;
  let dir: string;
  let store: SeenStore;
  const items = new Map<string, TestItem[]>(FEEDS.map((id) => [id, [{ id: `${id}-1`, title: `${id} first`, link: `https://${id}.example/1`, date: '2026-05-01T08:00:00Z' }]]));
  /** Feed ids of every getSeenMaps call, in order. */
  const reads: string[][] = [];
  let failReads = false;

  const feeds: FeedConfig[] = FEEDS.map((id) => ({ id, url: '', tags: [] }) as unknown as FeedConfig);
  const ingest = (now: Date, over: Partial<IngestOptions> = {}) => {
    const report = createRunReport(now, false);
    // Every feed is due every time: force, as `run --force-poll` does.
    const result = ingestFeeds(
      {
        feeds,
        store: spied,
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
  };
  let spied: SeenStore;

  beforeAll(async () => {
    server = await FeedServer.start();
    for (const id of FEEDS) {
      server.route(`/${id}.xml`, (req, res) => {
        const body = rssFeed({ title: id, link: `https://${id}.example/`, items: items.get(id)! });
        const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 12)}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/rss+xml', etag }).end(body);
      });
    }
    for (const feed of feeds) (feed as { url: string }).url = server.url(`/${feed.id}.xml`);
    dir = await mkdtemp(path.join(tmpdir(), 'pd-ingest-'));
    store = await openStore(`sqlite://${path.join(dir, 'store.sqlite')}`);
    spied = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getSeenMaps') {
          return async (ids: string[]) => {
            reads.push([...ids]);
            if (failReads) throw new Error('disk I/O error');
            return target.getSeenMaps(ids);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  });

  afterAll(async () => {
    await store?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('first poll: every feed changed, every map asked for, every entry new', async () => {
    const { result } = ingest(new Date('2026-05-02T00:00:00Z'));
    const { fresh } = await result;
    expect(fresh.map((e) => e.feedId).sort()).toEqual([...FEEDS].sort());
    expect(reads.flat().sort()).toEqual([...FEEDS].sort());
  });

  it('nothing changed (all 304): no seen map is read', async () => {
    reads.length = 0;
    const { result, report } = ingest(new Date('2026-05-02T01:00:00Z'));
    const { fresh } = await result;
    expect(report.feeds.notModified).toBe(3);
    expect(fresh).toEqual([]);
    expect(reads).toEqual([]);
  });

  it('one feed changed: only its map is read, and only its new entry is fresh', async () => {
    reads.length = 0;
    items.get('two')!.unshift({ id: 'two-2', title: 'two second', link: 'https://two.example/2', date: '2026-05-02T09:00:00Z' });
    const { result } = ingest(new Date('2026-05-02T10:00:00Z'));
    const { fresh } = await result;
    expect(fresh.map((e) => e.title)).toEqual(['two second']);
    expect(reads).toEqual([['two']]);
  });

  it('a store that cannot read a map fails the ingestion (nothing is recorded as a feed error)', async () => {
    reads.length = 0;
    failReads = true;
    items.get('three')!.unshift({ id: 'three-2', title: 'three second', link: 'https://three.example/2', date: '2026-05-02T11:00:00Z' });
    const { result } = ingest(new Date('2026-05-02T12:00:00Z'));
    await expect(result).rejects.toThrow('disk I/O error');
    failReads = false;
    // The entry was not recorded as seen: the next cycle finds it.
    const again = ingest(new Date('2026-05-02T13:00:00Z'));
    const { fresh } = await again.result;
    expect(fresh.map((e) => e.title)).toEqual(['three second']);
  });
});
