import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startSlackApiServer, type SlackApiServer } from '../helpers/slack-api-server.js';
import { atomFeed, rssFeed, type TestItem } from '../helpers/make-feed.js';
import { runCliCaptured } from '../helpers/run-cli.js';

/** Serves a feed whose content can change, answering conditional GETs with 304 when the ETag matches (RFC 9110 §13.1.2). */
function serveChangingFeed(server: FeedServer, route: string, render: () => string, type: string): void {
  server.route(route, (req, res) => {
    const body = render();
    const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': type, ETag: etag });
    res.end(body);
  });
}

describe('planet-digest run, end to end against local feed, SMTP and Slack servers', () => {
  let feeds: FeedServer;
  let smtp: SmtpSink;
  let slack: SlackApiServer;
  let dir: string;
  let env: Record<string, string>;
  const alpha: TestItem[] = [
    { id: 'a1', title: 'Alpha one: AT&T <b>bold</b> claims', link: 'https://alpha.example/1', date: '2026-05-01T08:00:00Z', author: 'Ann' },
    { id: 'a2', title: 'Alpha two', link: 'https://alpha.example/2', date: '2026-05-02T08:00:00Z' },
  ];
  const beta: TestItem[] = [
    { id: 'urn:beta:1', title: 'Beta one', link: 'https://beta.example/1', date: '2026-05-03T08:00:00Z', author: 'Bea' },
    { id: 'urn:beta:2', title: 'Beta two', link: 'https://beta.example/2', date: '2026-05-04T08:00:00Z' },
  ];
  const gamma: TestItem[] = [{ id: 'g1', title: 'Gamma <!channel> ping', link: 'https://gamma.example/1', date: '2026-05-05T08:00:00Z' }];

  beforeAll(async () => {
    feeds = await FeedServer.start();
    serveChangingFeed(feeds, '/alpha.xml', () => rssFeed({ title: 'Alpha Blog', link: 'https://alpha.example/', items: alpha }), 'application/rss+xml');
    serveChangingFeed(feeds, '/beta.xml', () => atomFeed({ title: 'Beta Notes', link: 'https://beta.example/', items: beta }), 'application/atom+xml');
    serveChangingFeed(feeds, '/gamma.xml', () => rssFeed({ title: 'Gamma', link: 'https://gamma.example/', items: gamma }), 'application/rss+xml');
    feeds.route('/broken.xml', { status: 500, body: 'internal error' });
    smtp = await startSmtpSink();
    slack = await startSlackApiServer({ tokens: ['xoxb-test-token'] });
    dir = await mkdtemp(path.join(tmpdir(), 'pd-e2e-'));
    await writeFile(
      path.join(dir, 'subscribers.json'),
      JSON.stringify({
        settings: { title: 'Test digest', timezone: 'Europe/Berlin', firstPollEntries: 10 },
        feeds: [
          { id: 'alpha', url: feeds.url('/alpha.xml'), tags: ['x'] },
          { id: 'beta', url: feeds.url('/beta.xml'), title: 'Beta (configured title)' },
          { id: 'gamma', url: feeds.url('/gamma.xml') },
          { id: 'broken', url: feeds.url('/broken.xml') },
        ],
        subscribers: [
          { id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['alpha', 'beta', 'broken'] },
          { id: 'bob', name: 'Bob', email: 'bob@example.org', feeds: ['beta'] },
          { id: 'team', name: '#team', slack: { channel: 'C0TEAM0001' }, feeds: ['alpha', 'gamma'] },
        ],
      }),
    );
    env = {
      DIGEST_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
      DIGEST_OUTBOX: path.join(dir, 'outbox'),
      DIGEST_CACHE_DIR: path.join(dir, 'cache'),
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Digest <digest@example.org>',
      DIGEST_SECRET: 'test-secret-0123456789abcdef',
      DIGEST_BASE_URL: 'https://digest.example.org',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: slack.url,
      DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
    };
  });

  afterAll(async () => {
    await Promise.all([feeds?.close(), smtp?.stop(), slack?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = () => runCliCaptured(['run', '--subscribers', path.join(dir, 'subscribers.json')], { env, cwd: dir });
  const mailTo = (address: string) => smtp.messages.filter((m) => m.to && JSON.stringify(m.to).includes(address));

  it('cycle 1 delivers each subscriber their selection, grouped by source, while a broken feed is only reported', async () => {
    const result = await run();
    expect(result.stderr).not.toMatch(/error:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/3 digests sent: 2 email, 1 Slack/);
    expect(result.stdout).toMatch(/feed broken: .*500/);

    const ada = mailTo('ada@example.org');
    expect(ada).toHaveLength(1);
    const mail = ada[0]!;
    expect(mail.subject).toBe('4 new posts from Beta (configured title), Alpha Blog');
    // RSS titles may carry escaped markup (feedparser reads them as HTML): tags go, the entity is decoded once.
    expect(mail.text).toContain('Alpha one: AT&T bold claims');
    expect(mail.html).toContain('Alpha one: AT&amp;T bold claims');
    expect(mail.html).not.toContain('<b>bold');
    expect(mail.html).toContain('href="https://beta.example/2"');
    // Grouped by source, newest source first: Beta (newest entry May 4) before Alpha (May 2).
    expect(mail.text!.indexOf('Beta (configured title)')).toBeLessThan(mail.text!.indexOf('Alpha Blog'));
    expect(mail.text!.indexOf('Beta two')).toBeLessThan(mail.text!.indexOf('Beta one'));
    const header = (name: string) => mail.headerLines.find((h) => h.key === name)?.line;
    expect(header('list-unsubscribe')).toMatch(/^List-Unsubscribe:\s+<https:\/\/digest\.example\.org\/unsubscribe\?token=/);
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(header('auto-submitted')).toBe('Auto-Submitted: auto-generated');
    expect(mail.messageId).toMatch(/@example\.org>$/);

    const bob = mailTo('bob@example.org');
    expect(bob).toHaveLength(1);
    expect(bob[0]!.text).toContain('Beta one');
    expect(bob[0]!.text).not.toContain('Alpha');

    expect(slack.messages).toHaveLength(1);
    const post = slack.messages[0]!;
    expect(post.token).toBe('xoxb-test-token');
    expect(post.channel).toBe('C0TEAM0001');
    const blocksText = JSON.stringify(post.blocks);
    expect(blocksText).toContain('<https://alpha.example/2|Alpha two>');
    expect(blocksText).not.toContain('<!channel>');
    expect(blocksText).toContain('&lt;!channel&gt;');
    expect((post.blocks as object[])[0]).toMatchObject({ type: 'header' });
  });

  it('cycle 2 polls with validators, gets 304s and sends nothing', async () => {
    const before = feeds.requests.length;
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/no digest written|nothing sent|Nothing new/i);
    const conditional = feeds.requests.slice(before).filter((r) => r.path === '/alpha.xml');
    expect(conditional).toHaveLength(1);
    expect(conditional[0]!.headers['if-none-match']).toMatch(/^"[0-9a-f]{16}"$/);
    expect(smtp.messages).toHaveLength(2);
    expect(slack.messages).toHaveLength(1);
  });

  it('cycle 3 sends a new entry once, only to subscribers of its feed', async () => {
    alpha.push({ id: 'a3', title: 'Alpha three', link: 'https://alpha.example/3', date: '2026-05-06T08:00:00Z' });
    const result = await run();
    expect(result.code).toBe(0);
    const ada = mailTo('ada@example.org');
    expect(ada).toHaveLength(2);
    expect(ada[1]!.text).toContain('Alpha three');
    expect(ada[1]!.text).not.toContain('Alpha two');
    expect(ada[1]!.subject).toBe('1 new post from Alpha Blog');
    expect(mailTo('bob@example.org')).toHaveLength(1);
    expect(slack.messages).toHaveLength(2);
    expect(JSON.stringify(slack.messages[1]!.blocks)).toContain('Alpha three');
    expect(JSON.stringify(slack.messages[1]!.blocks)).not.toContain('Gamma');
  });

  it('a bad subscribers.json exits 2 and names the path of each problem, sending nothing', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        feeds: [{ id: 'ok', url: 'https://example.org/feed' }, { id: 'ok', url: '' }],
        subscribers: [
          { id: 'a', name: 'A', email: 'not-an-email', feeds: ['ok'] },
          { id: 'b', name: 'B', feeds: ['nope'] },
        ],
      }),
    );
    const sent = smtp.messages.length;
    for (const command of ['run', 'validate']) {
      const result = await runCliCaptured([command, '--subscribers', bad], { env, cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('subscribers[0].email');
      expect(result.stderr).toContain('feeds[1].url');
      expect(result.stderr).toMatch(/subscribers\[1\]/);
    }
    expect(smtp.messages.length).toBe(sent);
  });
});
