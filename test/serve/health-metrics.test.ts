import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/model/errors.js';
import { createRunReport, type RunReport } from '../../src/pipeline/run-report.js';
import { openStore } from '../../src/store/open-store.js';
import type { SeenStore } from '../../src/store/seen-store.js';
import { createServeFixture, type ServeFixture } from './serve-fixture.js';

const METRIC_NAMES = {
  planet_digest_feeds_polled_total: 'counter',
  planet_digest_feeds_failed_total: 'counter',
  planet_digest_entries_new_total: 'counter',
  planet_digest_digests_sent_total: 'counter',
  planet_digest_digests_failed_total: 'counter',
  planet_digest_cycle_duration_seconds: 'histogram',
  planet_digest_unsubscribes_total: 'counter',
  planet_digest_last_cycle_timestamp_seconds: 'gauge',
  planet_digest_last_cycle_digests_failed: 'gauge',
  planet_digest_last_cycle_feeds_failed: 'gauge',
} as const;

/** A cycle with known, distinct numbers: 3 ok + 2 not modified + 1 failed feed, 7 new entries, 1.5 s. */
function sampleReport(): RunReport {
  const report = createRunReport(new Date('2024-05-01T07:00:00.000Z'), false);
  report.finishedAt = '2024-05-01T07:00:01.500Z';
  report.durationMs = 1500;
  report.feeds = { ...report.feeds, total: 6, ok: 3, notModified: 2, failed: 1 };
  report.entries = { fresh: 7, backlog: 40 };
  report.digests = {
    ...report.digests,
    due: 7,
    sent: 6,
    failed: 1,
    byChannel: { email: { sent: 4, failed: 1 }, slack: { sent: 2, failed: 0 } },
  };
  return report;
}

/** Prometheus text format -> { types: name -> type, samples: 'name{labels}' -> value }. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(sample[1] as string, Number(sample[2]));
  }
  return { types, samples };
}

/** A SeenStore that answers nothing: every call rejects the way KeyvSeenStore does when the database is gone. */
function unreachableStore(): SeenStore {
  const fail = () => Promise.reject(new StoreError('Store sqlite:///gone/s.sqlite: cannot reach the store: SQLITE_CANTOPEN'));
  return new Proxy({} as SeenStore, { get: (_, key) => (key === 'then' ? undefined : fail) });
}

describe('/healthz and /metrics', () => {
  let fx: ServeFixture;
  beforeEach(async () => {
    fx = await createServeFixture();
  });
  afterEach(() => fx.dispose());

  it('healthz: 200 with lastCycle read from the store, also after a restart', async () => {
    await fx.store.setMeta('last-cycle', sampleReport());
    let server = await fx.start();
    const expected = {
      status: 'ok',
      store: 'reachable',
      lastCycle: {
        finishedAt: '2024-05-01T07:00:01.500Z',
        durationMs: 1500,
        result: 'some digests failed',
        feeds: { ok: 3, notModified: 2, failed: 1 },
        newEntries: 7,
        digests: { sent: 6, failed: 1 },
      },
    };
    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(expected);

    await fx.restart();
    server = await fx.start();
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expected);
    expect((await fetch(`${server.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });

  it('healthz: a clean cycle reads "ok"; no cycle yet gives lastCycle null', async () => {
    const server = await fx.start();
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok', store: 'reachable', lastCycle: null });
    const clean = sampleReport();
    clean.digests = { ...clean.digests, failed: 0, byChannel: { email: { sent: 4, failed: 0 }, slack: { sent: 2, failed: 0 } } };
    await fx.store.setMeta('last-cycle', clean);
    const body = (await (await fetch(`${server.url}/healthz`)).json()) as { lastCycle: { result: string } };
    expect(body.lastCycle.result).toBe('ok');
  });

  const brokenStores: Array<[string, (fx: ServeFixture) => Promise<SeenStore>]> = [
    ['a store whose every call rejects', async () => unreachableStore()],
    [
      'a closed SQLite store',
      async (f) => {
        const store = await openStore(`sqlite://${f.dir}/other.sqlite`);
        await store.setMeta('last-cycle', sampleReport());
        await store.close();
        return store;
      },
    ],
    [
      'a store whose ping never answers',
      async (f) => ({ ...bindAll(f.store), ping: () => new Promise<void>(() => undefined) }),
    ],
  ];

  it.each(brokenStores)('healthz: 503 with %s; /metrics still answers', async (_, make) => {
    const server = await fx.start({ store: await make(fx), healthTimeoutMs: 300 });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; store: string; lastCycle: unknown };
    expect(body.status).toBe('unavailable');
    expect(body.store).toMatch(/^unreachable: ./);
    expect(body.lastCycle).toBeNull();
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(parsePrometheus(await metrics.text()).samples.get('planet_digest_feeds_polled_total')).toBe(0);
  });

  it('metrics: every metric is exposed in Prometheus text format, zero before any cycle', async () => {
    const server = await fx.start();
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const { types, samples } = parsePrometheus(await res.text());
    expect(Object.fromEntries(types)).toEqual(METRIC_NAMES);
    for (const channel of ['email', 'slack']) {
      expect(samples.get(`planet_digest_digests_sent_total{channel="${channel}"}`)).toBe(0);
      expect(samples.get(`planet_digest_digests_failed_total{channel="${channel}"}`)).toBe(0);
    }
    expect(samples.get('planet_digest_cycle_duration_seconds_count')).toBe(0);
    // No cycle in the store: the gauges stay at their initial 0.
    expect(samples.get('planet_digest_last_cycle_timestamp_seconds')).toBe(0);
  });

  it('metrics: recordCycle adds up across cycles; last-cycle gauges come from the store', async () => {
    const server = await fx.start();
    const report = sampleReport();
    server.recordCycle(report);
    server.recordCycle({ ...report, durationMs: 45_000 });
    await fx.store.setMeta('last-cycle', report);

    const { samples } = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
    const expected: Record<string, number> = {
      planet_digest_feeds_polled_total: 10,
      planet_digest_feeds_failed_total: 2,
      planet_digest_entries_new_total: 14,
      'planet_digest_digests_sent_total{channel="email"}': 8,
      'planet_digest_digests_sent_total{channel="slack"}': 4,
      'planet_digest_digests_failed_total{channel="email"}': 2,
      'planet_digest_digests_failed_total{channel="slack"}': 0,
      planet_digest_cycle_duration_seconds_count: 2,
      planet_digest_cycle_duration_seconds_sum: 46.5,
      'planet_digest_cycle_duration_seconds_bucket{le="1"}': 0,
      'planet_digest_cycle_duration_seconds_bucket{le="2"}': 1,
      'planet_digest_cycle_duration_seconds_bucket{le="30"}': 1,
      'planet_digest_cycle_duration_seconds_bucket{le="60"}': 2,
      'planet_digest_cycle_duration_seconds_bucket{le="+Inf"}': 2,
      planet_digest_unsubscribes_total: 0,
      planet_digest_last_cycle_timestamp_seconds: Date.parse('2024-05-01T07:00:01.500Z') / 1000,
      planet_digest_last_cycle_digests_failed: 1,
      planet_digest_last_cycle_feeds_failed: 1,
    };
    expect(Object.fromEntries(Object.keys(expected).map((k) => [k, samples.get(k)]))).toEqual(expected);
  });

  it('metrics: two servers in one process keep separate registries', async () => {
    const a = await fx.start();
    const b = await fx.start();
    a.recordCycle(sampleReport());
    const read = async (url: string) => parsePrometheus(await (await fetch(`${url}/metrics`)).text()).samples.get('planet_digest_entries_new_total');
    expect(await read(a.url)).toBe(7);
    expect(await read(b.url)).toBe(0);
  });
});

/** The store's methods bound to it, so a spread copy can override one of them. */
function bindAll(store: SeenStore): SeenStore {
  const proto = Object.getPrototypeOf(store) as object;
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(proto)) {
    const value = (store as unknown as Record<string, unknown>)[key];
    if (key !== 'constructor' && typeof value === 'function') out[key] = (value as (...args: unknown[]) => unknown).bind(store);
  }
  return out as unknown as SeenStore;
}
