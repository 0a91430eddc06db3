import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressObject } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnvConfig } from '../../src/config/load-env-config.js';
import { loadDigestConfig } from '../../src/config/load-digest-config.js';
import { createRuntime, type Runtime } from '../../src/cli/create-runtime.js';
import { verifyUnsubscribeToken } from '../../src/dispatch/unsubscribe-token.js';
import { silentLogger } from '../../src/model/logger.js';
import type { DigestChannels, OutgoingEmail } from '../../src/pipeline/digest-channels.js';
import type { SeenStore } from '../../src/store/seen-store.js';
import { rssFeed, type TestItem } from '../helpers/make-feed.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawHeaders } from '../dispatch/mail-fixtures.js';

const SECRET = 'delivery-queue-secret-0123456789abcdef';
const NOW = new Date('2026-06-01T10:00:00Z');

/**
 * The delivery loop at the level of a whole cycle: one MIME encoding per rendered digest stitched per recipient, one
 * bounded send queue across digest groups, subscriber states written in batches. Feeds are local files; SMTP is a real
 * server on 127.0.0.1 where it matters.
 */
describe('deliverDigests: shared MIME, one send queue, batched state writes', () => {
  let dir: string;
  const runtimes: Runtime[] = [];
  let sink: SmtpSink | undefined;

  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.close();
    await sink?.stop();
    sink = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writeFeeds(feeds: Record<string, TestItem[]>) {
    for (const [id, items] of Object.entries(feeds)) await writeFile(path.join(dir, `${id}.xml`), rssFeed({ title: `${id.toUpperCase()} Ünïcödé`, link: `https://${id}.example/`, items }));
  }

  async function runtime(subscribers: object[], feedIds: string[], env: Record<string, string | undefined>, collect = false): Promise<Runtime> {
    const file = path.join(dir, 'subscribers.json');
    await writeFile(file, JSON.stringify({ settings: { firstPollEntries: 5, title: 'Queue test ✓' }, feeds: feedIds.map((id) => ({ id, url: `${id}.xml` })), subscribers }));
    const rt = await createRuntime({
      env: loadEnvConfig({ DIGEST_STORE_URL: `sqlite://${path.join(dir, collect ? 'dry.sqlite' : 's.sqlite')}`, DIGEST_CACHE_DIR: path.join(dir, collect ? 'dry-cache' : 'cache'), DIGEST_SECRET: SECRET, DIGEST_BASE_URL: 'https://digest.example.org', ...env }),
      config: await loadDigestConfig(file),
      logger: silentLogger,
      now: () => NOW,
      version: 'test',
      requireSecret: false,
      collect,
    });
    runtimes.push(rt);
    return rt;
  }

  const items = (feed: string, n: number, from = 1): TestItem[] =>
    Array.from({ length: n }, (_, i) => ({ id: `${feed}${from + i}`, title: `${feed.toUpperCase()} post ${from + i} — café`, link: `https://${feed}.example/${from + i}`, date: `2026-05-${String(from + i).padStart(2, '0')}T00:00:00Z` }));

  it('members of one group get one shared body with their own link, address, To and Message-ID, decoding to what personalizeEmail makes', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pd-queue-'));
    await writeFeeds({ a: items('a', 3), b: items('b', 2) });
    sink = await startSmtpSink();
    const subscribers = [
      { id: 'ada', name: 'Zoë Ågren', email: 'ada@example.org', feeds: ['a', 'b'] },
      { id: 'bob', name: 'Bob', email: 'bob@example.org', feeds: ['a', 'b'] },
      { id: 'cat', name: 'Cat', email: 'cat@example.org', feeds: ['b'] },
    ];
    const rt = await runtime(subscribers, ['a', 'b'], { SMTP_URL: sink.url });
    const report = await rt.run();
    expect(report.digests.sent).toBe(3);
    expect(report.digests.rendered).toBe(2); // ada and bob share one render
    expect(sink.deliveries).toHaveLength(3);
    const byRcpt = new Map(sink.deliveries.map((d) => [d.rcptTo[0]!, d]));

    // The same cycle as a dry run keeps the messages in memory: their html/text are personalizeEmail's output.
    const dry = await runtime(subscribers, ['a', 'b'], {}, true);
    await dry.run({ dryRun: true });
    const collected = new Map((dry.collected?.emails ?? []).map((m) => [m.to, m]));
    expect(collected.size).toBe(3);

    const urls = new Map<string, string>();
    for (const s of subscribers) {
      const delivered = byRcpt.get(s.email)!;
      const parsed = delivered.parsed;
      const expected = collected.get(s.email)!;
      expect(parsed.html).toBe(expected.html);
      expect(parsed.text).toBe(expected.text);
      expect(parsed.subject).toBe(expected.subject);
      expect(parsed.messageId).toBe(expected.messageId);
      const to = (parsed.to as AddressObject).value[0]!;
      expect(to).toEqual({ address: s.email, name: s.name });
      // Their own one-click link (RFC 8058): in List-Unsubscribe, List-Unsubscribe-Post, and the footers.
      const link = /<(https:[^>]+)>/.exec(rawHeaders(delivered.raw).get('list-unsubscribe')?.[0] ?? '')?.[1];
      expect(link).toBeDefined();
      const token = new URL(link!).searchParams.get('token')!;
      expect(verifyUnsubscribeToken(SECRET, token, { now: NOW })).toMatchObject({ ok: true, subscriberId: s.id });
      expect(rawHeaders(delivered.raw).get('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
      expect(parsed.text).toContain(link);
      expect(parsed.html).toContain(`href="${link}"`);
      expect(parsed.text).toContain(`because ${s.email} is subscribed`);
      urls.set(s.id, link!);
    }
    const ada = byRcpt.get('ada@example.org')!.parsed;
    const bob = byRcpt.get('bob@example.org')!.parsed;
    expect(ada.messageId).not.toBe(bob.messageId);
    // Apart from the recipient's own values the two bodies are the same.
    const swap = (s: string) => s.replaceAll(urls.get('ada')!, urls.get('bob')!).replaceAll('ada@example.org', 'bob@example.org');
    expect(swap(ada.html as string)).toBe(bob.html);
    expect(swap(ada.text!)).toBe(bob.text);
    expect(ada.text).not.toContain(urls.get('bob'));
  });

  it('keeps sending across group boundaries with at most sendConcurrency in flight, and records every state in few writes', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pd-queue-'));
    const feedIds = ['a', 'b', 'c', 'd', 'e'];
    await writeFeeds(Object.fromEntries(feedIds.map((f) => [f, items(f, 2)])));
    // 8 distinct selections × 5 subscribers, plus 30 subscribers of feed e only (nothing new for them in cycle 2).
    const selections = [['a'], ['b'], ['c'], ['d'], ['a', 'b'], ['c', 'd'], ['a', 'c'], ['b', 'd']];
    const subscribers = [
      ...selections.flatMap((feeds, g) => Array.from({ length: 5 }, (_, i) => ({ id: `g${g}-${i}`, name: `G${g} ${i}`, email: `g${g}-${i}@example.org`, feeds }))),
      ...Array.from({ length: 30 }, (_, i) => ({ id: `e-${i}`, name: `E ${i}`, email: `e-${i}@example.org`, feeds: ['e'] })),
    ];
    const rt = await runtime(subscribers, feedIds, {});
    await rt.run(); // cycle 1: everyone gets the first entries

    // Cycle 2: feeds a-d gain an entry; e does not.
    await writeFeeds({ ...Object.fromEntries(['a', 'b', 'c', 'd'].map((f) => [f, items(f, 3)])), e: items('e', 2) });
    const concurrency = 3;
    rt.deps.sendConcurrency = concurrency;
    const inFlight = new Map<string, number>(); // digest (subject + entry keys) -> sends in flight
    let maxInFlight = 0;
    let startedWhileAnotherDigestInFlight = 0;
    const sent: OutgoingEmail[] = [];
    const channels: DigestChannels = {
      async sendEmail(message) {
        const digest = `${message.entryKeys.join(',')}`;
        if ([...inFlight].some(([other, n]) => other !== digest && n > 0)) startedWhileAnotherDigestInFlight += 1;
        inFlight.set(digest, (inFlight.get(digest) ?? 0) + 1);
        maxInFlight = Math.max(maxInFlight, [...inFlight.values()].reduce((a, b) => a + b, 0));
        await new Promise((resolve) => setTimeout(resolve, 5 + (sent.length % 3) * 5));
        inFlight.set(digest, inFlight.get(digest)! - 1);
        sent.push(message);
        return { ok: true };
      },
      async sendSlack() {
        return { ok: true };
      },
      async close() {},
    };
    rt.deps.channels = channels;
    const writes: number[] = [];
    const store = rt.deps.store;
    rt.deps.store = new Proxy(store, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'setSubscriberState') return (s: unknown) => (writes.push(1), (value as (s: unknown) => Promise<void>).call(target, s));
        if (prop === 'setSubscriberStates') return (s: unknown[]) => (writes.push(s.length), (value as (s: unknown[]) => Promise<void>).call(target, s));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as SeenStore;

    const report = await rt.run();
    expect(report.digests.sent).toBe(40);
    expect(report.digests.empty).toBe(30);
    expect(new Set(sent.map((m) => m.subscriberId)).size).toBe(40);
    expect(maxInFlight).toBeLessThanOrEqual(concurrency);
    expect(maxInFlight).toBe(concurrency);
    // The pool never drains between digests: later digests start while earlier ones are still being sent.
    expect(startedWhileAnotherDigestInFlight).toBeGreaterThan(0);

    // Every state was recorded: 40 deliveries and 30 empties, the empties in batches rather than one write each.
    expect(writes.reduce((a, b) => a + b, 0)).toBe(70);
    expect(writes.length).toBeLessThan(70);
    const states = await store.getSubscriberStates(subscribers.map((s) => s.id));
    const latest = await store.latestBatchSeq();
    expect([...states.values()].filter((s) => s.cursor === latest)).toHaveLength(70);
    expect([...states.values()].filter((s) => s.lastDeliveredAt === NOW.toISOString())).toHaveLength(70);

    // Nothing left: a third cycle sends nothing.
    const third = await rt.run();
    expect(third.digests.sent).toBe(0);
  });

  it('a failing state write ends the cycle with that error, after the sends in flight finished', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pd-queue-'));
    await writeFeeds({ a: items('a', 2), b: items('b', 2) });
    const subscribers = Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, name: `S ${i}`, email: `s${i}@example.org`, feeds: [i % 2 ? 'a' : 'b'] }));
    const rt = await runtime(subscribers, ['a', 'b'], {});
    rt.deps.sendConcurrency = 2;
    let inFlight = 0;
    let sends = 0;
    rt.deps.channels = {
      async sendEmail() {
        inFlight += 1;
        sends += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return { ok: true };
      },
      async sendSlack() {
        return { ok: true };
      },
      async close() {},
    };
    const store = rt.deps.store;
    let stateWrites = 0;
    rt.deps.store = new Proxy(store, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'setSubscriberStates') {
          return async (s: unknown[]) => {
            // Planning's own write (new subscribers) goes through; the third delivery write fails.
            if ((stateWrites += 1) === 3) throw new Error('disk full');
            return (value as (s: unknown[]) => Promise<void>).call(target, s);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as SeenStore;
    await expect(rt.run()).rejects.toThrow(/disk full/);
    expect(inFlight).toBe(0);
    // It stopped early instead of sending everyone a digest it could not record.
    expect(sends).toBeLessThan(10);
  });
});
