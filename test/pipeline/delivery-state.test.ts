import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnvConfig } from '../../src/config/load-env-config.js';
import { loadDigestConfig } from '../../src/config/load-digest-config.js';
import { createRuntime, type Runtime } from '../../src/cli/create-runtime.js';
import { silentLogger } from '../../src/model/logger.js';
import type { ChannelResult, DigestChannels, OutgoingEmail } from '../../src/pipeline/digest-channels.js';
import { rssFeed, type TestItem } from '../helpers/make-feed.js';
import { runCliCaptured } from '../helpers/run-cli.js';

/** Delivery bookkeeping across cycles: retries, Message-IDs, membership, retention. Feeds are local files. */
describe('delivery state across cycles', () => {
  let dir: string;
  let runtime: Runtime | undefined;
  const feeds: Record<string, TestItem[]> = {};

  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writeFeeds() {
    for (const [id, items] of Object.entries(feeds)) await writeFile(path.join(dir, `${id}.xml`), rssFeed({ title: id.toUpperCase(), link: `https://${id}.example/`, items }));
  }

  async function setUp(subscribers: object[], options: { retentionDays?: string; templates?: string } = {}) {
    dir = await mkdtemp(path.join(tmpdir(), 'pd-state-'));
    feeds.a = [{ id: 'a1', title: 'A one', link: 'https://a.example/1', date: '2026-05-01T00:00:00Z' }];
    feeds.b = [{ id: 'b1', title: 'B one', link: 'https://b.example/1', date: '2026-05-01T00:00:00Z' }];
    await writeFeeds();
    const file = path.join(dir, 'subscribers.json');
    await writeFile(file, JSON.stringify({ settings: { firstPollEntries: 5 }, feeds: [{ id: 'a', url: 'a.xml' }, { id: 'b', url: 'b.xml' }], subscribers }));
    const env = loadEnvConfig({
      DIGEST_STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`,
      DIGEST_CACHE_DIR: path.join(dir, 'cache'),
      DIGEST_RETENTION_DAYS: options.retentionDays,
      DIGEST_TEMPLATES: options.templates,
    });
    const clock = { now: new Date('2026-06-01T10:00:00Z') };
    const rt = await createRuntime({ env, config: await loadDigestConfig(file), logger: silentLogger, now: () => clock.now, version: 'test', requireSecret: false });
    runtime = rt;
    const sent: OutgoingEmail[] = [];
    let fail: ((m: OutgoingEmail) => ChannelResult | undefined) | undefined;
    const channels: DigestChannels = {
      async sendEmail(message) {
        const failure = fail?.(message);
        if (failure) return failure;
        sent.push(message);
        return { ok: true };
      },
      async sendSlack() {
        return { ok: true };
      },
      async close() {},
    };
    rt.deps.channels = channels;
    return { rt, sent, clock, file, setFail: (f: typeof fail) => (fail = f) };
  }

  it('a digest that failed is sent again with the same Message-ID, even after unrelated new batches', async () => {
    const { rt, sent, setFail } = await setUp([
      { id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['a'] },
      { id: 'bob', name: 'Bob', email: 'bob@example.org', feeds: ['b'] },
    ]);
    setFail((m) => (m.subscriberId === 'ada' ? { ok: false, permanent: false, message: 'connection refused' } : undefined));
    const first = await rt.run();
    expect(first.digests.failed).toBe(1);
    const attempted = first.digests.failures[0]!;
    expect(attempted.subscriberId).toBe('ada');

    // Only feed b changes: a new batch exists, but nothing new for ada.
    feeds.b!.unshift({ id: 'b2', title: 'B two', link: 'https://b.example/2', date: '2026-05-02T00:00:00Z' });
    await writeFeeds();
    let failedId: string | undefined;
    setFail((m) => {
      if (m.subscriberId === 'ada' && !failedId) {
        failedId = m.messageId;
        return { ok: false, permanent: false, message: 'still down' };
      }
      return undefined;
    });
    await rt.run();
    setFail(undefined);
    await rt.run();
    const ada = sent.filter((m) => m.subscriberId === 'ada');
    expect(ada).toHaveLength(1);
    expect(ada[0]!.messageId).toBe(failedId);
    expect(ada[0]!.text).toContain('A one');
  });

  it('a subscriber removed and added again starts afresh instead of getting everything since', async () => {
    const { rt, sent, file } = await setUp([{ id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['a'] }]);
    await rt.run();
    expect(sent).toHaveLength(1);
    const withoutAda = { settings: { firstPollEntries: 5 }, feeds: [{ id: 'a', url: 'a.xml' }], subscribers: [{ id: 'other', name: 'O', email: 'o@example.org', feeds: ['b'] }] };
    await writeFile(file, JSON.stringify({ ...withoutAda, feeds: [{ id: 'a', url: 'a.xml' }, { id: 'b', url: 'b.xml' }] }));
    rt.deps.config = await loadDigestConfig(file);
    feeds.a!.unshift({ id: 'a2', title: 'A two (while away)', link: 'https://a.example/2', date: '2026-05-02T00:00:00Z' });
    await writeFeeds();
    await rt.run();
    // Ada comes back; the next cycle finds one more entry. She gets only that one.
    await writeFile(file, JSON.stringify({ settings: { firstPollEntries: 5 }, feeds: [{ id: 'a', url: 'a.xml' }, { id: 'b', url: 'b.xml' }], subscribers: [{ id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['a'] }] }));
    rt.deps.config = await loadDigestConfig(file);
    feeds.a!.unshift({ id: 'a3', title: 'A three (back)', link: 'https://a.example/3', date: '2026-05-03T00:00:00Z' });
    await writeFeeds();
    await rt.run();
    const ada = sent.filter((m) => m.subscriberId === 'ada');
    expect(ada).toHaveLength(2);
    expect(ada[1]!.text).toContain('A three (back)');
    expect(ada[1]!.text).not.toContain('A two (while away)');
  });

  it('a feed whose URL changes follows the first-poll rule again instead of flooding its archive', async () => {
    const { rt, sent, file } = await setUp([{ id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['a'] }]);
    await rt.run();
    expect(sent).toHaveLength(1);
    // The blog moved: the new address serves its archive of 8 posts under new ids.
    const moved: TestItem[] = Array.from({ length: 8 }, (_, i) => ({ id: `new-${i}`, title: `Moved ${i}`, link: `https://a.example/moved/${i}`, date: `2026-05-${String(10 + i).padStart(2, '0')}T00:00:00Z` }));
    await writeFile(path.join(dir, 'a-moved.xml'), rssFeed({ title: 'A', link: 'https://a.example/', items: moved }));
    await writeFile(file, JSON.stringify({ settings: { firstPollEntries: 5 }, feeds: [{ id: 'a', url: 'a-moved.xml' }, { id: 'b', url: 'b.xml' }], subscribers: [{ id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['a'] }] }));
    rt.deps.config = await loadDigestConfig(file);
    const report = await rt.run();
    expect(report.entries.fresh).toBe(5);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.subject).toMatch(/^5 new posts/);
    expect(sent[1]!.text).toContain('Moved 7');
    expect(sent[1]!.text).not.toContain('Moved 2');
  });

  it('retention never prunes a batch an active subscriber has not received yet', async () => {
    const { rt, sent, clock } = await setUp([{ id: 'weekly', name: 'W', email: 'w@example.org', feeds: ['a'], schedule: 'weekly mon 08:00', timezone: 'UTC' }], { retentionDays: '2' });
    clock.now = new Date('2026-06-02T09:00:00Z'); // Tuesday: first poll, not due
    await rt.run({ audience: 'due' });
    clock.now = new Date('2026-06-05T09:00:00Z'); // Friday: the batch is older than 2 days; a cycle prunes
    feeds.a!.unshift({ id: 'a2', title: 'A two', link: 'https://a.example/2', date: '2026-05-02T00:00:00Z' });
    await writeFeeds();
    await rt.run({ audience: 'due' });
    clock.now = new Date('2026-06-08T08:00:00Z'); // Monday 08:00: due
    await rt.run({ audience: 'due' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toContain('A one');
    expect(sent[0]!.text).toContain('A two');
  });

  it('a scheduled digest that fails is retried with backoff, and a permanent failure counts one bounce per window', async () => {
    const { rt, sent, clock, setFail } = await setUp([{ id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['a'], schedule: 'daily 07:00', timezone: 'UTC' }]);
    clock.now = new Date('2026-06-01T06:00:00Z');
    await rt.run({ audience: 'due' }); // first poll, not due yet
    feeds.a!.unshift({ id: 'a2', title: 'A two', link: 'https://a.example/2', date: '2026-05-02T00:00:00Z' });
    await writeFeeds();
    let attempts = 0;
    setFail(() => {
      attempts += 1;
      return { ok: false, permanent: true, message: '550 mailbox unavailable' };
    });
    // Wake up every minute for an hour, like the daemon.
    for (let minute = 60; minute < 120; minute += 1) {
      clock.now = new Date(Date.parse('2026-06-01T06:00:00Z') + minute * 60_000);
      await rt.run({ audience: 'due', idlePollMinutes: 60 });
    }
    // 07:00, then 07:15, then 07:45: not sixty attempts.
    expect(attempts).toBe(3);
    const state = (await rt.store.getSubscriberStates(['ada'])).get('ada')!;
    expect(state.bounces).toBe(1);
    expect(state.bouncing).toBe(false);
    // The next windows fail too: the third one makes the subscriber bouncing, and nothing was lost or sent.
    for (const day of ['2026-06-02T07:00:00Z', '2026-06-03T07:00:00Z']) {
      clock.now = new Date(day);
      await rt.run({ audience: 'due' });
    }
    expect((await rt.store.getSubscriberStates(['ada'])).get('ada')!.bouncing).toBe(true);
    expect(sent).toHaveLength(0);
  });

  it('a broken template stops the cycle with exit 2 before anything is polled, sent or recorded', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pd-tpl-'));
    await mkdir(path.join(dir, 'tpl'));
    // The stock template with one MJML mistake: an attribute mj-text does not have.
    const stock = await readFile(path.resolve(import.meta.dirname, '../../templates/digest.mjml'), 'utf8');
    await writeFile(path.join(dir, 'tpl', 'digest.mjml'), stock.replace('<mj-text', '<mj-text not-an-attribute="1"'));
    await writeFile(path.join(dir, 'a.xml'), rssFeed({ title: 'A', link: 'https://a.example/', items: [{ id: 'a1', title: 'A one', link: 'https://a.example/1' }] }));
    await writeFile(path.join(dir, 'subscribers.json'), JSON.stringify({ feeds: [{ id: 'a', url: 'a.xml' }], subscribers: [{ id: 'ada', name: 'Ada', email: 'ada@example.org' }] }));
    const env = { DIGEST_STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`, DIGEST_OUTBOX: path.join(dir, 'outbox'), DIGEST_CACHE_DIR: path.join(dir, 'cache'), DIGEST_TEMPLATES: path.join(dir, 'tpl') };
    const result = await runCliCaptured(['run'], { env, cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/digest\.mjml/);
    expect(result.stderr).toMatch(/digest\.mjml:\d+|line \d+/);
    expect(result.stderr).toContain('not-an-attribute');
    // Nothing recorded: with the template fixed, the entry is still new.
    await rm(path.join(dir, 'tpl'), { recursive: true });
    const again = await runCliCaptured(['run'], { env: { ...env, DIGEST_TEMPLATES: undefined }, cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/1 new entry/);
  });
});
