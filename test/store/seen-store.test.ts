import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/model/entry.js';
import { StoreError } from '../../src/model/errors.js';
import type { FeedState } from '../../src/model/feed.js';
import { openStore } from '../../src/store/open-store.js';
import type { Batch, SeenMap, SeenStore, SubscriberState } from '../../src/store/seen-store.js';
import { backends, type StoreTarget } from './store-backends.js';

function entry(feedId: string, n: number): Entry {
  return {
    id: `https://example.org/${feedId}/${n}`,
    key: `${feedId}:${n}`,
    feedId,
    // A leading ":" and non-ASCII text must survive the serializer unchanged.
    title: n === 1 ? ':colon first — “quoted” ünïcode' : `Post ${n}`,
    link: `https://example.org/${feedId}/${n}`,
    published: new Date(Date.UTC(2024, 0, n)).toISOString(),
    summary: `Summary ${n}`,
    contentHtml: `<p>Body <b>${n}</b></p>`,
    firstSeen: '2024-02-01T00:00:00.000Z',
  };
}

function feedState(feedId: string): FeedState {
  return {
    feedId,
    url: `https://example.org/${feedId}/feed.xml`,
    configuredUrl: `https://example.org/${feedId}/rss`,
    validators: { etag: '"abc"', lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT' },
    title: `Feed ${feedId}`,
    lastPollAt: '2024-02-01T00:00:00.000Z',
    lastErrorKind: 'http',
    lastErrorStatus: 503,
    consecutiveFailures: 2,
    gone: false,
    entryCount: 3,
    polledOnce: true,
  };
}

describe.each(backends)('$name store', (backend) => {
  const opened: SeenStore[] = [];
  /** Opens a store and closes it after the test. */
  async function open(target: StoreTarget): Promise<SeenStore> {
    const store = await openStore(target.url, { namespace: target.namespace });
    opened.push(store);
    return store;
  }

  beforeAll(() => backend.start());
  afterAll(() => backend.stop());
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('starts empty', async () => {
    const store = await open(backend.fresh());
    await store.ping();
    expect(await store.latestBatchSeq()).toBe(0);
    expect(await store.oldestBatchSeq()).toBe(1);
    expect(await store.getBatches(0, 10)).toEqual([]);
    expect(await store.getFeedStates(['a'])).toEqual(new Map());
    expect(await store.getSeenMaps([])).toEqual(new Map());
    expect(await store.getSubscriberStates(['s'])).toEqual(new Map());
    expect(await store.getMeta('summary')).toBeUndefined();
  });

  it('round-trips feed states, leaving unknown feeds out', async () => {
    const store = await open(backend.fresh());
    await store.setFeedStates([feedState('a'), feedState('b')]);
    const states = await store.getFeedStates(['a', 'b', 'missing']);
    expect([...states.keys()].sort()).toEqual(['a', 'b']);
    expect(states.get('a')).toEqual(feedState('a'));
    await store.setFeedStates([{ ...feedState('a'), consecutiveFailures: 0, gone: true }]);
    expect((await store.getFeedStates(['a'])).get('a')).toMatchObject({ consecutiveFailures: 0, gone: true });
  });

  it('round-trips seen maps and overwrites them per feed', async () => {
    const store = await open(backend.fresh());
    const a: SeenMap = { 'a:1': { first: '2024-01-01T00:00:00.000Z', last: '2024-01-02T00:00:00.000Z' }, ':odd key': { first: 'x', last: 'y' } };
    const b: SeenMap = { 'b:1': { first: '2024-01-03T00:00:00.000Z', last: '2024-01-03T00:00:00.000Z' } };
    await store.setSeenMaps(new Map([['a', a], ['b', b]]));
    expect(await store.getSeenMaps(['a', 'b', 'c'])).toEqual(new Map([['a', a], ['b', b]]));
    const a2: SeenMap = { 'a:2': { first: '2024-01-05T00:00:00.000Z', last: '2024-01-05T00:00:00.000Z' } };
    await store.setSeenMaps(new Map([['a', a2]]));
    expect(await store.getSeenMaps(['a', 'b'])).toEqual(new Map([['a', a2], ['b', b]]));
  });

  it('appends batches in sequence and returns those in (from, to]', async () => {
    const store = await open(backend.fresh());
    const now = new Date('2024-03-01T12:00:00.000Z');
    expect(await store.appendBatch([entry('a', 1), entry('a', 2)], now)).toBe(1);
    expect(await store.appendBatch([entry('b', 1)], now)).toBe(2);
    expect(await store.appendBatch([], now)).toBe(3);
    expect(await store.latestBatchSeq()).toBe(3);
    const batches = await store.getBatches(1, 3);
    expect(batches).toEqual<Batch[]>([
      { seq: 2, createdAt: '2024-03-01T12:00:00.000Z', entries: [entry('b', 1)] },
      { seq: 3, createdAt: '2024-03-01T12:00:00.000Z', entries: [] },
    ]);
    expect((await store.getBatches(0, 1))[0]?.entries).toEqual([entry('a', 1), entry('a', 2)]);
    expect(await store.getBatches(3, 3)).toEqual([]);
    expect(await store.getBatches(2, 10)).toHaveLength(1);
  });

  it('prunes batches and reports the oldest one left', async () => {
    const store = await open(backend.fresh());
    for (let i = 1; i <= 5; i += 1) await store.appendBatch([entry('a', i)], new Date());
    expect(await store.pruneBatches(2)).toBe(2);
    expect(await store.oldestBatchSeq()).toBe(3);
    expect((await store.getBatches(0, 5)).map((b) => b.seq)).toEqual([3, 4, 5]);
    expect(await store.pruneBatches(2)).toBe(0);
    // Pruning past the end removes everything but keeps the sequence going.
    expect(await store.pruneBatches(100)).toBe(3);
    expect(await store.latestBatchSeq()).toBe(5);
    expect(await store.oldestBatchSeq()).toBe(6);
    expect(await store.getBatches(0, 5)).toEqual([]);
    expect(await store.appendBatch([entry('a', 6)], new Date())).toBe(6);
    expect(await store.oldestBatchSeq()).toBe(6);
    expect((await store.getBatches(5, 6)).map((b) => b.seq)).toEqual([6]);
  });

  it('counts a batch written just before a crash, before the counter was bumped', async () => {
    const target = backend.fresh();
    const store = await open(target);
    await store.appendBatch([entry('a', 1)], new Date());
    await store.appendBatch([entry('a', 2)], new Date());
    // Play the crashed process: it wrote batch:3 (first step of appendBatch) and died before meta:batch-seq.
    const raw = backend.raw(target);
    const orphan: Batch = { seq: 3, createdAt: '2024-03-01T00:00:00.000Z', entries: [entry('a', 3)] };
    await raw.set('batch:3', orphan);
    expect(await raw.get('meta:batch-seq')).toBe(2);

    expect(await store.latestBatchSeq()).toBe(3);
    expect(await store.getBatches(2, 3)).toEqual([orphan]);
    expect(await store.appendBatch([entry('a', 4)], new Date())).toBe(4);
    expect(await raw.get('meta:batch-seq')).toBe(4);
    // A crash in the middle of a prune (batches deleted, marker not moved) is also corrected.
    await raw.deleteMany(['batch:1', 'batch:2']);
    expect(await store.oldestBatchSeq()).toBe(3);
    expect(await store.pruneBatches(3)).toBe(1);
    expect(await store.oldestBatchSeq()).toBe(4);
    await raw.disconnect();
  });

  it('round-trips subscriber states and meta values, and keeps the batch counters out of setMeta', async () => {
    const store = await open(backend.fresh());
    const state: SubscriberState = { subscriberId: 'ann', cursor: 7, lastDeliveredAt: '2024-03-01T07:00:00.000Z', bounces: 1, bouncing: false, lastError: '550 no such user' };
    await store.setSubscriberState(state);
    await store.setSubscriberState({ subscriberId: 'bob', cursor: 0, bounces: 0, bouncing: false });
    const states = await store.getSubscriberStates(['ann', 'bob', 'cy']);
    expect(states.get('ann')).toEqual(state);
    expect([...states.keys()].sort()).toEqual(['ann', 'bob']);

    await store.setMeta('last-cycle', { ok: 3, failed: ['x'] });
    expect(await store.getMeta('last-cycle')).toEqual({ ok: 3, failed: ['x'] });
    await expect(store.setMeta('batch-seq', 99)).rejects.toBeInstanceOf(StoreError);
    expect(await store.latestBatchSeq()).toBe(0);
  });

  it('keeps everything across close and reopen, and separates namespaces', async () => {
    const target = backend.fresh();
    const first = await openStore(target.url, { namespace: target.namespace });
    await first.setFeedStates([feedState('a')]);
    await first.setSeenMaps(new Map([['a', { k: { first: 'f', last: 'l' } }]]));
    await first.appendBatch([entry('a', 1)], new Date('2024-03-01T00:00:00.000Z'));
    await first.setSubscriberState({ subscriberId: 's', cursor: 1, bounces: 0, bouncing: false });
    await first.setMeta('m', 'v');
    await first.close();

    const again = await open(target);
    expect((await again.getFeedStates(['a'])).get('a')).toEqual(feedState('a'));
    expect((await again.getSeenMaps(['a'])).get('a')).toEqual({ k: { first: 'f', last: 'l' } });
    expect(await again.latestBatchSeq()).toBe(1);
    expect((await again.getBatches(0, 1))[0]?.entries).toEqual([entry('a', 1)]);
    expect((await again.getSubscriberStates(['s'])).get('s')?.cursor).toBe(1);
    expect(await again.getMeta('m')).toBe('v');

    const other = await open({ url: target.url, namespace: `${target.namespace}-other` });
    expect(await other.latestBatchSeq()).toBe(0);
    expect(await other.getFeedStates(['a'])).toEqual(new Map());
  });
});
