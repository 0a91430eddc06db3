/**
 * Delivery guarantee under SMTP faults, across cycles: `planet-digest run` (in-process, real SQLite file, real feed
 * server, real SMTP server) while the SMTP server refuses a message with 451, drops a connection mid-DATA, answers 550
 * for one recipient and is down for a whole cycle. New entries appear between cycles. After the faults clear, every
 * subscriber has every entry of their selection exactly once; the 550 subscriber bounces, is marked bouncing after 3
 * cycles and, once their address is fixed, gets the whole backlog exactly once.
 *
 * And the one ambiguity SMTP itself has: the connection breaks after the server took a message but before its reply.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { openStore } from '../../src/store/open-store.js';
import { verifyUnsubscribeToken } from '../../src/dispatch/unsubscribe-token.js';
import {
  countDeliveries,
  entryLinksOfText,
  expectedLinks,
  GrowingFeeds,
  writeSubscribersFile,
  type ReceivedDigest,
  type WorldFeed,
  type WorldSubscriber,
} from './helpers/digest-world.js';
import { startSlowSmtpSink, type SlowSmtpSink } from './helpers/slow-smtp-sink.js';

const SECRET = 'faults-secret-0123456789abcdef';

const FEEDS: WorldFeed[] = [
  { id: 'alpha', tags: ['news'] },
  { id: 'beta', tags: ['news', 'tech'] },
  { id: 'gamma', tags: ['tech'] },
  { id: 'delta', tags: [] },
];

const SUBSCRIBERS: WorldSubscriber[] = [
  { id: 'ada', email: 'ada@example.org', feeds: ['alpha', 'beta'] },
  { id: 'bob', email: 'bob@example.org', feeds: ['tag:tech'] },
  { id: 'carol', email: 'carol@example.org', feeds: ['alpha'] },
  { id: 'dave', email: 'dave@example.org', feeds: ['*'], excludeFeeds: ['gamma'] },
  { id: 'erin', email: 'erin@example.org', feeds: ['delta', 'gamma'] },
  { id: 'fay', email: 'fay@example.org', feeds: ['*'] },
];

describe('SMTP faults across cycles: nothing lost, nothing doubled', () => {
  let feedServer: FeedServer;
  let world: GrowingFeeds;
  let smtp: SmtpSink;
  let dir: string;
  let file: string;
  let env: Record<string, string>;
  let subscribers = SUBSCRIBERS;
  /** Index into smtp.deliveries where each cycle started, to tag messages with their cycle. */
  const cycleStarts: number[] = [];

  beforeAll(async () => {
    feedServer = await FeedServer.start();
    world = new GrowingFeeds(feedServer, FEEDS);
    world.add('alpha', 3);
    world.add('beta', 2);
    world.add('gamma', 2);
    world.add('delta', 1);
    smtp = await startSmtpSink();
    dir = await mkdtemp(path.join(tmpdir(), 'pd-smtp-faults-'));
    file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, subscribers);
    env = {
      DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
      DIGEST_OUTBOX: path.join(dir, 'outbox'),
      DIGEST_CACHE_DIR: path.join(dir, 'cache'),
      SMTP_URL: smtp.url,
      // Fast retries: 3 tries, 20 ms then 40 ms (+ jitter), so a whole cycle with the server down takes well under a second.
      SMTP_RETRY_ATTEMPTS: '3',
      SMTP_RETRY_BASE_MS: '20',
      MAIL_FROM: 'Digest <digest@example.org>',
      DIGEST_SECRET: SECRET,
      DIGEST_BASE_URL: 'https://digest.example.org',
      DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
    };
  });

  afterAll(async () => {
    await Promise.all([feedServer?.close(), smtp?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async () => {
    cycleStarts.push(smtp.deliveries.length);
    return runCliCaptured(['run', '--subscribers', file], { env, cwd: dir });
  };
  const received = (): ReceivedDigest[] => {
    const byAddress = new Map(subscribers.map((s) => [s.email!.toLowerCase(), s.id]));
    return smtp.deliveries.map((d, i) => {
      const rcpt = d.rcptTo[0]!.toLowerCase();
      const subscriberId = byAddress.get(rcpt) ?? (rcpt === 'carol@example.org' ? 'carol' : `unknown:${rcpt}`);
      const cycle = cycleStarts.filter((start) => start <= i).length;
      return { subscriberId, links: entryLinksOfText(d.parsed.text ?? ''), tag: cycle, messageId: d.parsed.messageId };
    });
  };
  const carolState = async () => {
    const store = await openStore(env.DIGEST_STORE_URL!);
    try {
      return (await store.getSubscriberStates(['carol'])).get('carol');
    } finally {
      await store.close();
    }
  };

  it('cycle 1: a 451 and a connection dropped mid-DATA are retried within the cycle; the 550 recipient bounces; exit 1', async () => {
    await smtp.setFaults({
      rejectData: [{ attempt: 3, code: 451, message: 'Try again later (test)' }],
      dropMidData: [{ attempt: 5, afterBytes: 200 }],
      rejectRecipients: [{ address: 'carol@example.org', code: 550, message: 'No such user (test)' }],
    });
    const result = await run();
    expect(result.code).toBe(1);
    expect(smtp.stats.failedData).toBe(2); // the 451 and the drop happened, and were retried
    expect(smtp.stats.rejectedRecipients).toBe(1);
    expect(smtp.deliveries).toHaveLength(5); // everyone but carol, each once
    expect(new Set(smtp.deliveries.map((d) => d.rcptTo[0])).size).toBe(5);
    expect(result.stdout).toMatch(/5 digests sent: 5 email/);
    expect(result.stdout).toMatch(/FAILED email digest for carol: The mail server refused the digest for subscriber "carol" <carol@example\.org>: .*550/);
    expect(await carolState()).toMatchObject({ bounces: 1, bouncing: false, cursor: 0 });
  });

  it('cycle 2: the SMTP server is down the whole cycle; every digest fails transiently and stays queued; exit 1', async () => {
    world.add('alpha', 1);
    world.add('gamma', 2);
    await smtp.setFaults({ down: true, rejectRecipients: [{ address: 'carol@example.org', code: 550 }] });
    const before = smtp.deliveries.length;
    const result = await run();
    expect(result.code).toBe(1);
    expect(smtp.deliveries.length).toBe(before);
    // Who had something new: alpha (ada, carol, dave, fay) and gamma (bob, erin, fay) — everyone.
    const failed = [...result.stdout.matchAll(/^FAILED email digest for (\w+): .*$/gm)];
    expect(failed.map((m) => m[1]).sort()).toEqual(['ada', 'bob', 'carol', 'dave', 'erin', 'fay']);
    for (const line of failed) expect(line[0]).toMatch(/after 3 attempts: .*It stays queued and is tried again next run.* \(\d+ entries kept for the next cycle\)$/);
    // A server that is down says nothing about the address: carol's bounce count is unchanged.
    expect(await carolState()).toMatchObject({ bounces: 1, bouncing: false });
  });

  it('cycle 3: the server is back; the queued entries and the new ones arrive together; carol bounces again; exit 1', async () => {
    world.add('beta', 1);
    world.add('delta', 1);
    await smtp.setFaults({ rejectRecipients: [{ address: 'carol@example.org', code: 550 }] });
    const before = smtp.deliveries.length;
    const result = await run();
    expect(result.code).toBe(1);
    expect(smtp.deliveries.length - before).toBe(5);
    expect(result.stdout).toMatch(/FAILED email digest for carol: /);
    expect(await carolState()).toMatchObject({ bounces: 2, bouncing: false });
  });

  it('cycle 4: the third 550 in a row marks carol bouncing, listed in the summary; exit 1', async () => {
    world.add('alpha', 1);
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Bouncing, no longer sent to: carol \(fix the address in subscribers\.json to retry\)/);
    expect(await carolState()).toMatchObject({ bounces: 3, bouncing: true, cursor: 0 });
  });

  it('cycle 5: carol is no longer tried but still listed; the others get the new entries; exit 0', async () => {
    world.add('beta', 1);
    world.add('gamma', 1);
    const rejectedBefore = smtp.stats.rejectedRecipients;
    const result = await run();
    expect(result.code).toBe(0);
    expect(smtp.stats.rejectedRecipients).toBe(rejectedBefore);
    expect(result.stdout).toMatch(/Bouncing, no longer sent to: carol/);
    expect(result.stdout).not.toMatch(/FAILED/);
  });

  it('after the faults: every subscriber has every entry of their selection exactly once; carol has nothing yet', () => {
    const count = countDeliveries(
      received().filter((d) => d.subscriberId !== 'carol'),
      new Map([...expectedLinks(world, subscribers)].filter(([id]) => id !== 'carol')),
    );
    expect(count.lost).toEqual([]);
    expect(count.repeated).toEqual([]);
    expect(count.unexpected).toEqual([]);
    expect(count.expected).toBeGreaterThan(40);
    // The expectation is built from what the feed server served: every entry added was served.
    for (const feed of FEEDS) expect([...world.served.get(feed.id)!].sort()).toEqual(world.allLinks(feed.id).sort());
    expect(smtp.deliveries.some((d) => d.rcptTo.includes('carol@example.org'))).toBe(false);
  });

  it('cycle 6: with carol\'s address fixed, her whole queued backlog arrives once, in one digest; exit 0', async () => {
    subscribers = SUBSCRIBERS.map((s) => (s.id === 'carol' ? { ...s, email: 'carol.new@example.org' } : s));
    await writeSubscribersFile(file, world, subscribers);
    await smtp.setFaults({});
    const before = smtp.deliveries.length;
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/Bouncing/);
    const fresh = smtp.deliveries.slice(before);
    expect(fresh.map((d) => d.rcptTo[0])).toEqual(['carol.new@example.org']);
    const count = countDeliveries(received(), expectedLinks(world, subscribers));
    expect(count.lost).toEqual([]);
    expect(count.repeated).toEqual([]);
    expect(count.unexpected).toEqual([]);
    expect(count.received).toBe(count.expected);
    expect(await carolState()).toMatchObject({ bounces: 0, bouncing: false });
  });

  it('the List-Unsubscribe URL of a delivered digest verifies; tampered it is refused; 91 days later it has expired', () => {
    const delivery = smtp.deliveries.find((d) => d.rcptTo[0] === 'ada@example.org')!;
    const line = delivery.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
    const url = new URL(/<(https:[^>]+)>/.exec(line)![1]!);
    expect(url.origin + url.pathname).toBe('https://digest.example.org/unsubscribe');
    const token = url.searchParams.get('token')!;
    const sentAt = delivery.parsed.date!;

    const valid = verifyUnsubscribeToken(SECRET, token, { now: sentAt });
    expect(valid).toMatchObject({ ok: true, subscriberId: 'ada' });
    expect(verifyUnsubscribeToken('another-secret-0123456789abcdef', token, { now: sentAt })).toEqual({ ok: false, reason: 'bad-signature' });

    const [body, mac] = token.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const tampered of [`${flip(body, 2)}.${mac}`, `${body}.${flip(mac, 5)}`, `${body}.${flip(mac, mac.length - 1)}`]) {
      expect(tampered).not.toBe(token);
      expect(verifyUnsubscribeToken(SECRET, tampered, { now: sentAt }).ok).toBe(false);
    }

    const later = new Date(sentAt.getTime() + 91 * 86_400_000);
    expect(verifyUnsubscribeToken(SECRET, token, { now: later })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyUnsubscribeToken(SECRET, token, { now: new Date(sentAt.getTime() + 89 * 86_400_000) }).ok).toBe(true);
  });
});

describe('a connection lost after the server took the message (RFC 1047): the one SMTP ambiguity', () => {
  let feedServer: FeedServer;
  let world: GrowingFeeds;
  let sink: SlowSmtpSink;
  let dir: string;

  beforeAll(async () => {
    feedServer = await FeedServer.start();
    world = new GrowingFeeds(feedServer, FEEDS);
    for (const feed of FEEDS) world.add(feed.id, 2);
    sink = await startSlowSmtpSink();
    dir = await mkdtemp(path.join(tmpdir(), 'pd-smtp-ambiguous-'));
  });

  afterAll(async () => {
    await Promise.all([feedServer?.close(), sink?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the retry sends that digest again with the same Message-ID, so the copy is recognisable; nothing else repeats, nothing is lost', async () => {
    const file = path.join(dir, 'subscribers.json');
    await writeSubscribersFile(file, world, SUBSCRIBERS);
    // The server records the 2nd message, then the connection breaks before its 250.
    sink.hooks = { dropReply: (d) => d.index === 2 };
    const result = await runCliCaptured(['run', '--subscribers', file], {
      cwd: dir,
      env: {
        DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
        DIGEST_OUTBOX: path.join(dir, 'outbox'),
        DIGEST_CACHE_DIR: path.join(dir, 'cache'),
        SMTP_URL: sink.url,
        SMTP_RETRY_BASE_MS: '20',
        DIGEST_SECRET: SECRET,
        DIGEST_BASE_URL: 'https://digest.example.org',
        DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
      },
    });
    expect(result.code).toBe(0);
    const parsed = await Promise.all(sink.deliveries.map(async (d) => ({ to: d.rcptTo[0]!, mail: await simpleParser(d.raw) })));
    expect(parsed).toHaveLength(SUBSCRIBERS.length + 1);
    const ids = parsed.map((p) => p.mail.messageId);
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(twice).toEqual([parsed[1]!.mail.messageId]);
    const byAddress = new Map(SUBSCRIBERS.map((s) => [s.email!, s.id]));
    const count = countDeliveries(
      parsed.map((p, i) => ({ subscriberId: byAddress.get(p.to)!, links: entryLinksOfText(p.mail.text ?? ''), tag: i })),
      expectedLinks(world, SUBSCRIBERS),
    );
    expect(count.lost).toEqual([]);
    expect(new Set(count.repeated.map((r) => r.subscriberId))).toEqual(new Set([byAddress.get(parsed[1]!.to)]));
  });
});
