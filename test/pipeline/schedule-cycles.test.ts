import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnvConfig } from '../../src/config/load-env-config.js';
import { loadDigestConfig } from '../../src/config/load-digest-config.js';
import { createRuntime, type Runtime } from '../../src/cli/create-runtime.js';
import { silentLogger } from '../../src/model/logger.js';
import { FeedServer } from '../helpers/feed-server.js';
import { rssFeed, type TestItem } from '../helpers/make-feed.js';

/**
 * The daemon's cycle (audience "due") driven by a fake clock, tick by tick across daylight-saving changes: each
 * subscriber gets one digest per scheduled window, at the right instant, and every entry exactly once.
 */
describe('scheduled cycles with a fake clock', () => {
  let server: FeedServer | undefined;
  let dir: string | undefined;
  let runtime: Runtime | undefined;

  afterEach(async () => {
    await runtime?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function setUp(subscribers: object[], clock: { now: Date }, settings: object = { firstPollEntries: 0, maxPerSource: 50 }) {
    server = await FeedServer.start();
    const start = clock.now.getTime();
    // One new entry every 3 hours of fake time, newest first, the feed keeps its last 50.
    server.route('/feed.xml', (_req, res) => {
      const items: TestItem[] = [];
      for (let t = Math.floor(clock.now.getTime() / 10_800_000) * 10_800_000; t > start - 86_400_000 && items.length < 50; t -= 10_800_000) {
        items.push({ id: `e-${t}`, title: `Entry at ${new Date(t).toISOString()}`, link: `https://example.org/${t}`, date: new Date(t).toISOString() });
      }
      res.writeHead(200, { 'Content-Type': 'application/rss+xml' });
      res.end(rssFeed({ title: 'Clockwork', link: 'https://example.org/', items }));
    });
    dir = await mkdtemp(path.join(tmpdir(), 'pd-sched-'));
    const file = path.join(dir, 'subscribers.json');
    await writeFile(file, JSON.stringify({ settings, feeds: [{ id: 'clock', url: server.url('/feed.xml') }], subscribers }));
    const env = loadEnvConfig({ DIGEST_STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`, DIGEST_CACHE_DIR: path.join(dir, 'cache'), DIGEST_ALLOW_PRIVATE_NETWORKS: 'true' });
    runtime = await createRuntime({ env, config: await loadDigestConfig(file), logger: silentLogger, now: () => clock.now, version: 'test', requireSecret: false, collect: true });
    return runtime;
  }

  /** Advances the clock in steps, running a due-only cycle at each, like the daemon's wake-ups. */
  async function drive(rt: Runtime, clock: { now: Date }, until: Date, stepMinutes: number) {
    while (clock.now < until) {
      // Feeds are polled on every wake-up here (idle polls would otherwise wait DIGEST_POLL_MINUTES).
      await rt.run({ audience: 'due', forcePoll: true });
      clock.now = new Date(clock.now.getTime() + stepMinutes * 60_000);
    }
  }

  function deliveries(rt: Runtime, id: string) {
    return rt.collected!.emails.filter((m) => m.subscriberId === id);
  }

  function entryLinks(text: string): string[] {
    return [...text.matchAll(/https:\/\/example\.org\/\d+/g)].map((m) => m[0]);
  }

  it('Berlin 02:30 daily across the autumn fall-back night, Honolulu twice daily, Auckland weekly: once per window', async () => {
    const clock = { now: new Date('2026-10-23T12:00:00Z') };
    const rt = await setUp(
      [
        { id: 'berlin', name: 'B', email: 'b@example.org', schedule: 'daily 02:30', timezone: 'Europe/Berlin' },
        { id: 'honolulu', name: 'H', email: 'h@example.org', schedule: 'twice-daily 07:00,19:00', timezone: 'Pacific/Honolulu' },
        { id: 'auckland', name: 'A', email: 'a@example.org', schedule: 'weekly mon 08:00', timezone: 'Pacific/Auckland' },
      ],
      clock,
    );
    await drive(rt, clock, new Date('2026-10-27T12:00:00Z'), 15);

    const berlin = deliveries(rt, 'berlin').map((m) => m.date.toISOString());
    // 24 Oct 02:30 CEST = 00:30Z; 25 Oct (fall-back day) 02:30 CEST, the first of the two = 00:30Z; then 02:30 CET = 01:30Z.
    expect(berlin).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
    // Honolulu (UTC-10, no DST): 07:00 = 17:00Z, 19:00 = 05:00Z next day; 23 Oct 17:00Z .. 27 Oct 05:00Z.
    expect(deliveries(rt, 'honolulu')).toHaveLength(8);
    for (const m of deliveries(rt, 'honolulu')) expect(['17:00', '05:00']).toContain(m.date.toISOString().slice(11, 16));
    // Auckland (UTC+13 in southern summer): Monday 26 Oct 08:00 NZDT = Sunday 25 Oct 19:00Z.
    expect(deliveries(rt, 'auckland').map((m) => m.date.toISOString())).toEqual(['2026-10-25T19:00:00.000Z']);

    // Every entry reached each subscriber at most once, and all entries before its last digest reached it.
    for (const id of ['berlin', 'honolulu']) {
      const links = deliveries(rt, id).flatMap((m) => entryLinks(m.text));
      expect(new Set(links).size).toBe(links.length);
      const last = deliveries(rt, id).at(-1)!.date.getTime();
      const expected = [];
      // Entries already in the feed at the first poll are its backlog (firstPollEntries 0); every later one is due.
      for (let t = new Date('2026-10-23T12:00:00Z').getTime() + 10_800_000; t <= last; t += 10_800_000) expected.push(`https://example.org/${t}`);
      expect(new Set(links)).toEqual(new Set(expected));
    }
  });

  it('New York 02:30 daily across the spring-forward night fires once that day, at 03:30 local', async () => {
    const clock = { now: new Date('2027-03-13T00:00:00Z') };
    const rt = await setUp([{ id: 'ny', name: 'N', email: 'n@example.org', schedule: 'daily 02:30', timezone: 'America/New_York' }], clock);
    await drive(rt, clock, new Date('2027-03-16T00:00:00Z'), 15);
    // 13 Mar 02:30 EST = 07:30Z; 14 Mar 02:30 does not exist -> 03:30 EDT = 07:30Z; 15 Mar 02:30 EDT = 06:30Z.
    expect(deliveries(rt, 'ny').map((m) => m.date.toISOString())).toEqual(['2027-03-13T07:30:00.000Z', '2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z']);
  });

  it('a window missed while the daemon was down is caught up once at start', async () => {
    const clock = { now: new Date('2026-06-01T02:30:00Z') };
    const rt = await setUp([{ id: 'berlin', name: 'B', email: 'b@example.org', schedule: 'daily 07:00', timezone: 'Europe/Berlin' }], clock);
    await drive(rt, clock, new Date('2026-06-01T06:00:00Z'), 15); // 07:00 CEST = 05:00Z served, with the 03:00Z entry
    expect(deliveries(rt, 'berlin')).toHaveLength(1);
    // Down for three days and a half; on restart one catch-up digest, not three.
    clock.now = new Date('2026-06-04T16:00:00Z');
    await drive(rt, clock, new Date('2026-06-04T17:00:00Z'), 15);
    expect(deliveries(rt, 'berlin')).toHaveLength(2);
    expect(deliveries(rt, 'berlin')[1]!.date.toISOString()).toBe('2026-06-04T16:00:00.000Z');
  });

  it('run --now semantics: only the subscribers due at that instant', async () => {
    const clock = { now: new Date('2026-06-01T05:00:00Z') }; // 07:00 in Berlin, 17:00 in Auckland
    const rt = await setUp(
      [
        { id: 'seven-berlin', name: 'S', email: 's@example.org', schedule: 'daily 07:00', timezone: 'Europe/Berlin' },
        { id: 'eight-berlin', name: 'E', email: 'e@example.org', schedule: 'daily 08:00', timezone: 'Europe/Berlin' },
        { id: 'five-pm-auckland', name: 'F', email: 'f@example.org', schedule: 'daily 17:00', timezone: 'Pacific/Auckland' },
      ],
      clock,
      { firstPollEntries: 5, maxPerSource: 50 },
    );
    const report = await rt.run({ audience: 'due' });
    expect(report.digests.due).toBe(2);
    expect(rt.collected!.emails.map((m) => m.subscriberId).sort()).toEqual(['five-pm-auckland', 'seven-berlin']);
  });
});
