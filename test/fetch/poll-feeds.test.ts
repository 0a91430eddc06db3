import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { computeBackoffMs, initialFeedState, pollFeeds, recordParseFailure, recordParseSuccess } from '../../src/fetch/poll-feeds.js';
import type { PollOptions } from '../../src/fetch/poll-feeds.js';
import type { FeedConfig, FeedState } from '../../src/model/feed.js';
import { FeedServer } from '../helpers/feed-server.js';

const RSS = '<rss version="2.0"><channel><title>t</title></channel></rss>';
const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = new Date('2025-06-01T08:00:00.000Z');

let server: FeedServer;
beforeAll(async () => {
  server = await FeedServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

function feed(id: string, path = `/${id}`): FeedConfig {
  return { id, url: server.url(path), tags: [] };
}

function options(overrides: Partial<PollOptions> = {}): PollOptions {
  return { userAgent: 'planet-digest-test', allowPrivate: true, now: () => NOW, random: () => 0.5, timeoutMs: 5000, ...overrides };
}

function statesOf(results: { feed: FeedConfig; state: FeedState }[]): Map<string, FeedState> {
  return new Map(results.map((r) => [r.feed.id, r.state]));
}

function at(offsetMs: number): string {
  return new Date(NOW.getTime() + offsetMs).toISOString();
}

describe('computeBackoffMs', () => {
  it.each([
    [1, 0.5, 15 * MIN],
    [2, 0.5, 30 * MIN],
    [3, 0.5, 60 * MIN],
    [6, 0.5, 8 * HOUR],
    [7, 0.5, 16 * HOUR],
    [8, 0.5, 24 * HOUR], // 32 h capped at 24 h
    [50, 0.5, 24 * HOUR],
    [1, 0, 12 * MIN], // -20 %
    [1, 0.999999, 18 * MIN], // +20 %
    [8, 0, 0.8 * 24 * HOUR],
  ])('%i failures, random %f -> %i ms', (failures, random, expected) => {
    expect(computeBackoffMs(failures, { random: () => random })).toBeCloseTo(expected, -2);
  });

  it('honours custom base and ceiling', () => {
    expect(computeBackoffMs(3, { random: () => 0.5, backoffBaseMs: 1000, maxBackoffMs: 3000 })).toBe(3000);
    expect(computeBackoffMs(2, { random: () => 0.5, backoffBaseMs: 1000, maxBackoffMs: 3000 })).toBe(2000);
  });
});

describe('pollFeeds: state transitions', () => {
  it('stores validators on success, sends them back, keeps them on a bare 304', async () => {
    server.route('/a', (req, res) => {
      if (req.headers['if-none-match'] === '"e1"') res.writeHead(304).end();
      else res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"e1"', 'last-modified': 'Sat, 31 May 2025 10:00:00 GMT' }).end(RSS);
    });
    const f = feed('a');
    const [first] = await pollFeeds([f], new Map(), options());
    expect(first).toMatchObject({ outcome: 'ok', contentType: 'application/rss+xml', bytes: RSS.length, finalUrl: f.url });
    expect(first!.body?.toString()).toBe(RSS);
    expect(first!.state).toMatchObject({
      feedId: 'a',
      url: f.url,
      configuredUrl: f.url,
      validators: { etag: '"e1"', lastModified: 'Sat, 31 May 2025 10:00:00 GMT' },
      consecutiveFailures: 0,
      lastPollAt: NOW.toISOString(),
      lastSuccessAt: NOW.toISOString(),
      gone: false,
    });
    expect(first!.state.nextPollAt).toBeUndefined();

    const [second] = await pollFeeds([f], statesOf([first!]), options());
    expect(second!.outcome).toBe('not-modified');
    expect(second!.body).toBeUndefined();
    expect(second!.state.validators).toEqual(first!.state.validators);
    expect(server.requestsTo('/a')[1]!.headers['if-none-match']).toBe('"e1"');
  });

  it('backs off after a failure, skips until due, polls again when forced, resets on success', async () => {
    server.route('/flaky', [{ status: 500 }, { status: 500 }, { status: 200, body: RSS }]);
    const f = feed('flaky');
    const [r1] = await pollFeeds([f], new Map(), options());
    expect(r1).toMatchObject({ outcome: 'failed', bytes: 0 });
    expect(r1!.error).toMatchObject({ kind: 'http', status: 500 });
    expect(r1!.state).toMatchObject({
      consecutiveFailures: 1,
      failingSince: NOW.toISOString(),
      lastErrorAt: NOW.toISOString(),
      lastErrorKind: 'http',
      lastErrorStatus: 500,
      nextPollAt: at(15 * MIN),
      gone: false,
    });
    expect(r1!.state.lastError).toMatch(/HTTP 500/);

    const [skipped] = await pollFeeds([f], statesOf([r1!]), options());
    expect(skipped).toMatchObject({ outcome: 'skipped', skipReason: 'not-due', state: r1!.state });
    expect(server.requestsTo('/flaky')).toHaveLength(1);

    const later = new Date(NOW.getTime() + 16 * MIN);
    const [r2] = await pollFeeds([f], statesOf([r1!]), options({ now: () => later }));
    expect(r2!.state).toMatchObject({ consecutiveFailures: 2, failingSince: NOW.toISOString(), nextPollAt: new Date(later.getTime() + 30 * MIN).toISOString() });

    const [r3] = await pollFeeds([f], statesOf([r2!]), options({ now: () => later, force: true }));
    expect(r3!.outcome).toBe('ok');
    expect(r3!.state.consecutiveFailures).toBe(0);
    expect(r3!.state.failingSince).toBeUndefined();
    expect(r3!.state.lastSuccessAt).toBe(later.toISOString());
    expect(r3!.state.lastErrorStatus).toBe(500); // history stays for the health view
  });

  it('never disables a failing feed: the delay stays bounded after many failures', async () => {
    server.route('/broken', { status: 500 });
    let state: FeedState = { ...initialFeedState(feed('broken')), consecutiveFailures: 40 };
    const [r] = await pollFeeds([feed('broken')], new Map([['broken', state]]), options({ random: () => 0.999999 }));
    state = r!.state;
    expect(state.consecutiveFailures).toBe(41);
    expect(state.gone).toBe(false);
    expect(Date.parse(state.nextPollAt!) - NOW.getTime()).toBeLessThanOrEqual(1.2 * 24 * HOUR);
  });

  it.each([
    ['seconds', '7200', 2 * HOUR],
    ['an HTTP-date', new Date(NOW.getTime() + 3 * HOUR).toUTCString(), 3 * HOUR],
    ['a tiny value (backoff wins)', '5', 15 * MIN],
    ['an absurd value (capped at a week)', String(365 * 24 * 3600), 7 * 24 * HOUR],
  ])('429 with Retry-After as %s', async (_label, retryAfter, delay) => {
    server.route('/limited', { status: 429, headers: { 'retry-after': retryAfter } });
    const [r] = await pollFeeds([feed('limited')], new Map(), options());
    expect(r!.outcome).toBe('failed');
    expect(r!.state.nextPollAt).toBe(at(delay));
  });

  it('503 with Retry-After pushes the next poll too', async () => {
    server.route('/maint', { status: 503, headers: { 'retry-after': '3600' } });
    const [r] = await pollFeeds([feed('maint')], new Map(), options());
    expect(r!.state).toMatchObject({ lastErrorStatus: 503, nextPollAt: at(HOUR) });
  });

  it.each([
    ['max-age=600', 10 * MIN],
    ['public, max-age=864000', 24 * HOUR],
    ['no-cache', undefined],
  ])('Cache-Control %s sets the next poll', async (cacheControl, delay) => {
    server.route('/cached', { headers: { 'cache-control': cacheControl }, body: RSS });
    const [r] = await pollFeeds([feed('cached')], new Map(), options());
    expect(r!.outcome).toBe('ok');
    expect(r!.state.nextPollAt).toBe(delay === undefined ? undefined : at(delay));
    if (delay) {
      const [again] = await pollFeeds([feed('cached')], statesOf([r!]), options());
      expect(again!.outcome).toBe('skipped');
    }
  });

  it('410 marks the feed gone, which is then skipped even when forced, until its URL changes', async () => {
    server.route('/old', { status: 410 });
    server.route('/new', { body: RSS });
    const f = feed('g', '/old');
    const [r1] = await pollFeeds([f], new Map(), options());
    expect(r1!.outcome).toBe('gone');
    expect(r1!.error).toMatchObject({ kind: 'http', status: 410, gone: true });
    expect(r1!.state.gone).toBe(true);
    expect(r1!.state.nextPollAt).toBeUndefined();

    const [r2] = await pollFeeds([f], statesOf([r1!]), options({ force: true }));
    expect(r2).toMatchObject({ outcome: 'skipped', skipReason: 'gone' });
    expect(server.requestsTo('/old')).toHaveLength(1);

    const moved = { ...f, url: server.url('/new') };
    const [r3] = await pollFeeds([moved], statesOf([r2!]), options());
    expect(r3!.outcome).toBe('ok');
    expect(r3!.state).toMatchObject({ gone: false, url: moved.url, configuredUrl: moved.url, consecutiveFailures: 0 });
  });

  it('a 301 chain updates state.url and reports movedTo; the next poll goes straight there', async () => {
    server.route('/moving', { status: 301, headers: { location: '/moved' } });
    server.route('/moved', { body: RSS, headers: { etag: '"m"' } });
    const f = feed('m', '/moving');
    const [r1] = await pollFeeds([f], new Map(), options());
    expect(r1).toMatchObject({ outcome: 'ok', movedTo: server.url('/moved'), finalUrl: server.url('/moved') });
    expect(r1!.state).toMatchObject({ url: server.url('/moved'), configuredUrl: f.url, validators: { etag: '"m"' } });
    await pollFeeds([f], statesOf([r1!]), options({ force: true }));
    expect(server.requestsTo('/moving')).toHaveLength(1);
    expect(server.requestsTo('/moved')).toHaveLength(2);
  });

  it('a 302 does not move the feed', async () => {
    server.route('/temp', { status: 302, headers: { location: '/elsewhere' } });
    server.route('/elsewhere', { body: RSS });
    const [r] = await pollFeeds([feed('t', '/temp')], new Map(), options());
    expect(r!.outcome).toBe('ok');
    expect(r!.movedTo).toBeUndefined();
    expect(r!.state.url).toBe(server.url('/temp'));
    expect(r!.finalUrl).toBe(server.url('/elsewhere'));
  });

  it('a configured URL change resets url, validators, gone and backoff', async () => {
    server.route('/fresh', { body: RSS });
    const f = feed('c', '/fresh');
    const stale: FeedState = {
      ...initialFeedState({ ...f, url: server.url('/stale') }),
      url: server.url('/stale-moved'),
      validators: { etag: '"old"' },
      gone: true,
      consecutiveFailures: 5,
      failingSince: at(-HOUR),
      nextPollAt: at(HOUR),
      title: 'Kept',
      entryCount: 12,
    };
    const [r] = await pollFeeds([f], new Map([['c', stale]]), options());
    expect(r!.outcome).toBe('ok');
    expect(server.requestsTo('/fresh')[0]!.headers['if-none-match']).toBeUndefined();
    expect(r!.state).toMatchObject({ url: f.url, configuredUrl: f.url, gone: false, consecutiveFailures: 0, title: 'Kept', entryCount: 12 });
  });
});

describe('pollFeeds: parse results', () => {
  it('a parse failure counts, drops validators so the body is fetched again, and backs off further each time', async () => {
    server.route('/bad-xml', { body: '<rss><channel>', headers: { etag: '"b"' } });
    const f = feed('bx', '/bad-xml');
    const [r1] = await pollFeeds([f], new Map(), options());
    expect(r1!.outcome).toBe('ok');
    const s1 = recordParseFailure(r1!.state, 'unclosed <channel>', NOW, { random: () => 0.5 });
    expect(s1).toMatchObject({ consecutiveFailures: 1, lastErrorKind: 'parse', lastError: 'unclosed <channel>', validators: {}, nextPollAt: at(15 * MIN), failingSince: NOW.toISOString() });

    const later = new Date(NOW.getTime() + 20 * MIN);
    const [r2] = await pollFeeds([f], statesOf([{ feed: f, state: s1 }]), options({ now: () => later }));
    expect(r2!.outcome).toBe('ok');
    expect(server.requestsTo('/bad-xml')[1]!.headers['if-none-match']).toBeUndefined();
    // Still unparsed: the counters wait for recordParseSuccess.
    expect(r2!.state.consecutiveFailures).toBe(1);
    const s2 = recordParseFailure(r2!.state, 'unclosed <channel>', later, { random: () => 0.5 });
    expect(s2.consecutiveFailures).toBe(2);
    expect(s2.nextPollAt).toBe(new Date(later.getTime() + 30 * MIN).toISOString());
    expect(s2.failingSince).toBe(NOW.toISOString());

    const ok = recordParseSuccess(s2, { title: 'Fixed', link: 'https://example.org/', entryCount: 3 }, later);
    expect(ok).toMatchObject({ title: 'Fixed', link: 'https://example.org/', entryCount: 3, polledOnce: true, consecutiveFailures: 0, lastSuccessAt: later.toISOString() });
    expect(ok.failingSince).toBeUndefined();
  });

  describe('the same body again (a server that ignores conditional GET)', () => {
    const f = () => feed('same', '/same');
    const parsed = async () => {
      const [r] = await pollFeeds([f()], new Map(), options());
      expect(r!.outcome).toBe('ok');
      expect(r!.bodyHash).toMatch(/^[\w-]{43}$/);
      return { result: r!, state: recordParseSuccess(r!.state, { entryCount: 1, bodyHash: r!.bodyHash }, NOW) };
    };

    it('is not-modified once its parse was recorded: no body handed on, the hash kept', async () => {
      server.route('/same', { body: RSS });
      const { state } = await parsed();
      const [again] = await pollFeeds([f()], statesOf([{ feed: f(), state }]), options());
      expect(again).toMatchObject({ outcome: 'not-modified', sameBody: true, bytes: 0 });
      expect(again!.body).toBeUndefined();
      expect(again!.state.bodyHash).toBe(state.bodyHash);
      expect(server.requestsTo('/same')).toHaveLength(2);
    });

    it('a different body is handed on with its own hash', async () => {
      server.route('/same', [{ body: RSS }, { body: RSS.replace('<title>t</title>', '<title>t2</title>') }]);
      const { state } = await parsed();
      const [again] = await pollFeeds([f()], statesOf([{ feed: f(), state }]), options());
      expect(again!.outcome).toBe('ok');
      expect(again!.body?.toString()).toContain('<title>t2</title>');
      expect(again!.bodyHash).not.toBe(state.bodyHash);
    });

    it.each([
      ['its parse failed', (s: FeedState) => recordParseFailure(s, 'bad', NOW, { random: () => 0.5 })],
      ['its parse was not recorded with a hash', (s: FeedState) => recordParseSuccess(s, { entryCount: 1 }, NOW)],
      ['the configured URL changed', (s: FeedState) => ({ ...s, configuredUrl: server.url('/old') })],
      ['another version of planet-digest polls it (its parser may read more)', (s: FeedState) => s, { bodyHashSalt: '9.9.9' }],
    ] as Array<[string, (s: FeedState) => FeedState, Partial<PollOptions>?]>)('is parsed again when %s', async (_name, change, over = {}) => {
      server.route('/same', { body: RSS });
      const { state } = await parsed();
      const later = new Date(NOW.getTime() + 2 * HOUR);
      const [again] = await pollFeeds([f()], statesOf([{ feed: f(), state: change(state) }]), options({ now: () => later, ...over }));
      expect(again!.outcome).toBe('ok');
      expect(again!.body?.toString()).toBe(RSS);
    });
  });

  it('initialFeedState starts clean', () => {
    expect(initialFeedState({ id: 'x', url: 'https://example.org/feed', tags: [] })).toEqual({
      feedId: 'x',
      url: 'https://example.org/feed',
      configuredUrl: 'https://example.org/feed',
      validators: {},
      consecutiveFailures: 0,
      gone: false,
      entryCount: 0,
      polledOnce: false,
    });
  });
});

describe('pollFeeds: concurrency and isolation', () => {
  function slowRoute(delayMs: number): void {
    server.route('/slow', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
    });
  }

  it('honours the per-host limit', async () => {
    slowRoute(60);
    const feeds = Array.from({ length: 8 }, (_, i) => ({ id: `h${i}`, url: server.url(`/slow?i=${i}`), tags: [] }));
    const progress: [number, number][] = [];
    const results = await pollFeeds(feeds, new Map(), options({ perHostConcurrency: 2, concurrency: 16, onProgress: (d, t) => progress.push([d, t]) }));
    expect(results.every((r) => r.outcome === 'ok')).toBe(true);
    expect(server.requests).toHaveLength(8);
    expect(server.maxConcurrent).toBe(2);
    expect(progress).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, 8]));
  });

  describe('connections to a plain-HTTP server (a kept-alive one can stall each body on a delayed ACK)', () => {
    const polled = (ids: string[], etag?: string) => {
      const feeds = ids.map((id) => ({ id, url: server.url(`/${id}`), tags: [] }));
      const states = new Map(feeds.map((f) => [f.id, { ...initialFeedState(f), validators: etag ? { etag } : {} }]));
      return pollFeeds(feeds, states, options({ perHostConcurrency: 1 }));
    };
    const closing = () => server.requests.map((r) => r.headers.connection === 'close');

    it('a request without validators gets a connection of its own', async () => {
      for (const id of ['c0', 'c1', 'c2', 'c3']) server.route(`/${id}`, { headers: { 'content-type': 'application/rss+xml' }, body: RSS });
      const results = await polled(['c0', 'c1', 'c2', 'c3']);
      expect(results.map((r) => r.outcome)).toEqual(Array(4).fill('ok'));
      expect(closing()).toEqual([true, true, true, true]);
      expect(server.connections).toBe(4);
    });

    it('conditional requests answered 304 share one connection', async () => {
      for (const id of ['c0', 'c1', 'c2', 'c3']) server.route(`/${id}`, { status: 304, headers: { etag: '"v"' } });
      const results = await polled(['c0', 'c1', 'c2', 'c3'], '"v"');
      expect(results.map((r) => r.outcome)).toEqual(Array(4).fill('not-modified'));
      expect(closing()).toEqual([false, false, false, false]);
      // Reused (the agent may open a second one while the first is being released).
      expect(server.connections).toBeLessThan(3);
    });

    it('once the origin answers a conditional request with a body, its later requests get their own connections', async () => {
      for (const id of ['c0', 'c1', 'c3']) server.route(`/${id}`, { status: 304, headers: { etag: '"v"' } });
      server.route('/c2', { headers: { 'content-type': 'application/rss+xml', etag: '"w"' }, body: RSS });
      const results = await polled(['c0', 'c1', 'c2', 'c3'], '"v"');
      expect(results.map((r) => r.outcome)).toEqual(['not-modified', 'not-modified', 'ok', 'not-modified']);
      expect(closing()).toEqual([false, false, false, true]);
    });
  });

  it('hands each fetched result to onFetched as soon as it arrives, the same object the array returns', async () => {
    server.route('/fast', { body: RSS });
    slowRoute(150);
    server.route('/down', { status: 500 });
    const feeds = [feed('slow', '/slow'), feed('fast', '/fast'), feed('down', '/down')];
    const notDue: FeedState = { ...initialFeedState(feed('later', '/fast')), nextPollAt: at(HOUR) };
    feeds.push(feed('later', '/fast'));
    const seen: Array<{ id: string; outcome: string; hadBody: boolean; slowDone: boolean }> = [];
    const handed = new Set<unknown>();
    let slowDone = false;
    const results = await pollFeeds(feeds, new Map([['later', notDue]]), options({
      perHostConcurrency: 4,
      onFetched: (r) => {
        handed.add(r);
        if (r.feed.id === 'slow') slowDone = true;
        seen.push({ id: r.feed.id, outcome: r.outcome, hadBody: r.body !== undefined, slowDone });
      },
    }));
    // Due feeds only (never the skipped one), in arrival order: the fast feed before the slow one is done.
    expect(seen.map((s) => s.id).sort()).toEqual(['down', 'fast', 'slow']);
    expect(seen.find((s) => s.id === 'fast')).toMatchObject({ outcome: 'ok', hadBody: true, slowDone: false });
    expect(seen.find((s) => s.id === 'down')).toMatchObject({ outcome: 'failed', hadBody: false });
    expect(results.map((r) => r.feed.id)).toEqual(['slow', 'fast', 'down', 'later']);
    expect(results.filter((r) => handed.has(r)).map((r) => r.feed.id)).toEqual(['slow', 'fast', 'down']);
    expect(results[3]?.outcome).toBe('skipped');
  });

  it('keeps a fetch slot until onFetched settles: never more than `concurrency` bodies wait to be handled', async () => {
    server.route('/quick', { body: RSS });
    const feeds = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, url: server.url(`/quick?i=${i}`), tags: [] }));
    let waiting = 0;
    let maxWaiting = 0;
    let handled = 0;
    await pollFeeds(feeds, new Map(), options({
      concurrency: 2,
      perHostConcurrency: 2,
      onFetched: async () => {
        maxWaiting = Math.max(maxWaiting, ++waiting);
        await new Promise((resolve) => setTimeout(resolve, 30));
        waiting--;
        handled++;
      },
    }));
    expect(handled).toBe(6); // pollFeeds resolves only after every handler settled
    expect(maxWaiting).toBe(2);
    expect(server.requests).toHaveLength(6);
  });

  it('honours the total limit when it is the tighter one', async () => {
    slowRoute(60);
    const feeds = Array.from({ length: 8 }, (_, i) => ({ id: `g${i}`, url: server.url(`/slow?i=${i}`), tags: [] }));
    await pollFeeds(feeds, new Map(), options({ perHostConcurrency: 8, concurrency: 3 }));
    expect(server.maxConcurrent).toBe(3);
  });

  it('half the feeds failing does not affect the other half; results keep input order', async () => {
    server.route('/good', { body: RSS });
    server.route('/bad', { status: 500 });
    const feeds = Array.from({ length: 10 }, (_, i) => ({ id: `f${i}`, url: server.url(i % 2 === 0 ? `/good?i=${i}` : `/bad?i=${i}`), tags: [] }));
    feeds.push({ id: 'nohost', url: 'http://127.0.0.1:1/feed', tags: [] });
    const results = await pollFeeds(feeds, new Map(), options({ perHostConcurrency: 4 }));
    expect(results.map((r) => r.feed.id)).toEqual(feeds.map((f) => f.id));
    results.slice(0, 10).forEach((r, i) => {
      if (i % 2 === 0) {
        expect(r.outcome).toBe('ok');
        expect(r.body?.toString()).toBe(RSS);
        expect(r.state.consecutiveFailures).toBe(0);
      } else {
        expect(r.outcome).toBe('failed');
        expect(r.error?.status).toBe(500);
        expect(r.state.consecutiveFailures).toBe(1);
      }
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
    });
    expect(results[10]).toMatchObject({ outcome: 'failed', error: { kind: 'network' } });
  });

  it('skipped feeds are not fetched and keep their state', async () => {
    server.route('/due', { body: RSS });
    server.route('/later', { body: RSS });
    const later: FeedState = { ...initialFeedState(feed('later')), nextPollAt: at(HOUR) };
    const results = await pollFeeds([feed('later'), feed('due')], new Map([['later', later]]), options());
    expect(results.map((r) => r.outcome)).toEqual(['skipped', 'ok']);
    expect(results[0]!.state).toBe(later);
    expect(server.requestsTo('/later')).toHaveLength(0);
  });

  it('rejects when the run is cancelled', async () => {
    server.route('/hang', async (_req, _res, ctx) => {
      await ctx.closed;
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(pollFeeds([feed('hang')], new Map(), options({ signal: controller.signal }))).rejects.toThrow('stop');
  });
});
