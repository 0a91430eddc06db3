import { mkdtemp, readFile, rm, writeFile, copyFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '../helpers/run-cli.js';
import { FeedServer } from '../helpers/feed-server.js';
import { rssFeed } from '../helpers/make-feed.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('the command line, against a temp copy of subscribers.json', () => {
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pd-cli-'));
    file = path.join(dir, 'subscribers.json');
    await writeFile(
      file,
      JSON.stringify(
        {
          settings: { title: 'CLI digest' },
          feeds: [{ id: 'local', url: 'local.xml', tags: ['python'] }],
          subscribers: [{ id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['local'] }],
        },
        null,
        4,
      ) + '\n',
    );
    await writeFile(
      path.join(dir, 'local.xml'),
      rssFeed({ title: 'Local Blog', link: 'https://local.example/', items: [{ id: 'x1', title: 'Hello', link: 'https://local.example/1', date: '2026-05-01T00:00:00Z' }] }),
    );
    env = { DIGEST_STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`, DIGEST_OUTBOX: path.join(dir, 'outbox'), DIGEST_CACHE_DIR: path.join(dir, 'cache') };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (...argv: string[]) => runCliCaptured(argv, { env, cwd: dir });

  it('--help teaches: every command with examples, and the exit codes', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const command of ['run', 'daemon', 'preview', 'inspect', 'validate', 'feeds', 'subscribers', 'serve']) expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 some digests not delivered, 2 configuration error/);
    const run = await cli('run', '--help');
    expect(run.stdout).toContain('--dry-run');
    expect(run.stdout).toContain('Examples:');
  });

  it('an unknown command or option exits 2 with a pointer to --help', async () => {
    const result = await cli('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command/);
    expect(result.stderr).toContain('--help');
  });

  it('subscribers add / list / show / pause / resume / set / remove edit the file and keep its formatting', async () => {
    const added = await cli('subscribers', 'add', '--id', 'team', '--name', '#team', '--slack', 'C0TEAM0001', '--feeds', 'tag:python', '--schedule', 'weekdays 09:00', '--timezone', 'America/New_York');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\{\n {4}"settings"/); // still 4-space indented
    const doc = JSON.parse(text);
    expect(doc.subscribers.map((s: { id: string }) => s.id)).toEqual(['ada', 'team']);

    const list = await cli('subscribers', 'list');
    expect(list.stdout).toMatch(/team\s+#team\s+slack:C0TEAM0001/);
    expect((await cli('subscribers', 'show', 'team')).stdout).toContain('receives 1 feed: local');

    expect((await cli('subscribers', 'pause', 'ada')).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).subscribers[0].paused).toBe(true);
    expect((await cli('subscribers', 'resume', 'ada')).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).subscribers[0].paused).toBe(false);
    expect((await cli('subscribers', 'set', 'ada', 'timezone', 'Europe/Berlin')).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).subscribers[0].timezone).toBe('Europe/Berlin');
    expect((await cli('subscribers', 'remove', 'team')).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).subscribers).toHaveLength(1);
  });

  it.each([
    ['an invalid email', ['subscribers', 'add', '--name', 'X', '--email', 'not-an-email'], /email/],
    ['an unknown time zone', ['subscribers', 'set', 'ada', 'timezone', 'Mars/Olympus'], /time ?zone/i],
    ['a bad schedule', ['subscribers', 'set', 'ada', 'schedule', 'every other tuesday'], /schedule/i],
    ['an unknown subscriber', ['subscribers', 'remove', 'nobody'], /no subscriber with id "nobody"/],
    ['a feed still in use', ['feeds', 'remove', 'local'], /ada/],
  ])('%s is refused with exit 2 and the file untouched', async (_name, argv, message) => {
    const before = await readFile(file, 'utf8');
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp') || f.endsWith('.lock'))).toEqual([]);
  });

  it('feeds import / export round-trip an OPML file', async () => {
    await copyFile(path.join(repo, 'test/fixtures/opml/feedly.opml'), path.join(dir, 'feedly.opml'));
    const imported = await cli('feeds', 'import', 'feedly.opml');
    expect(imported.code).toBe(0);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(doc.feeds.length).toBeGreaterThan(1);
    const exported = await cli('feeds', 'export');
    expect(exported.code).toBe(0);
    for (const feed of doc.feeds.filter((f: { url: string }) => f.url.startsWith('http'))) expect(exported.stdout).toContain(feed.url.replace(/&/g, '&amp;'));
  });

  it('feeds shows health from the store after a run, as a table and as JSON', async () => {
    const run = await cli('run');
    expect(run.code).toBe(0);
    const json = JSON.parse((await cli('feeds', '--json')).stdout) as { feeds: Array<{ id: string; state: string; entriesKnown: number; lastSuccess?: string }> };
    const local = json.feeds.find((f) => f.id === 'local')!;
    expect(local.state).toBe('ok');
    expect(local.entriesKnown).toBe(1);
    expect(local.lastSuccess).toMatch(/^\d{4}-/);
    const table = await cli('feeds');
    expect(table.stdout).toMatch(/^ID\s+STATE/m);
    expect(table.stdout).toMatch(/local\s+ok/);
  });
});

describe('planet-digest inspect', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await FeedServer.start();
    server.route('/feed.xml', {
      headers: { 'content-type': 'application/rss+xml' },
      body: rssFeed({ title: 'Inspected', link: 'https://inspected.example/', items: [{ id: 'i1', title: 'First & best', link: '/relative/1', date: '2026-05-01T10:00:00Z', author: 'Ann' }] }),
    });
  });
  afterAll(async () => server.close());

  it('--json prints the documented shape with absolute links and ISO dates', async () => {
    const result = await runCliCaptured(['inspect', server.url('/feed.xml'), '--json', '--allow-private'], { env: {}, cwd: repo });
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.feed).toMatchObject({ title: 'Inspected', link: 'https://inspected.example/' });
    expect(out.entries).toEqual([
      { id: 'i1', title: 'First & best', link: `${server.url('/relative/1')}`, published: '2026-05-01T10:00:00.000Z', author: 'Ann', summary: 'About First & best.' },
    ]);
  });

  it('refuses a private address unless allowed, naming the URL', async () => {
    const result = await runCliCaptured(['inspect', server.url('/feed.xml')], { env: { DIGEST_ALLOW_PRIVATE_NETWORKS: 'false' }, cwd: repo });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('127.0.0.1');
  });
});

describe('planet-digest run --dry-run', () => {
  it('renders and reports what would go out, but neither sends nor records anything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pd-dry-'));
    try {
      await writeFile(path.join(dir, 'feed.xml'), rssFeed({ title: 'Dry', link: 'https://dry.example/', items: [{ id: 'd1', title: 'Dry one', link: 'https://dry.example/1', date: '2026-05-01T00:00:00Z' }] }));
      await writeFile(path.join(dir, 'subscribers.json'), JSON.stringify({ feeds: [{ id: 'dry', url: 'feed.xml' }], subscribers: [{ id: 'ada', name: 'Ada', email: 'ada@example.org' }] }));
      const env = { DIGEST_STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`, DIGEST_OUTBOX: path.join(dir, 'outbox'), DIGEST_CACHE_DIR: path.join(dir, 'cache') };
      const dry = await runCliCaptured(['run', '--dry-run'], { env, cwd: dir });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('would email ada@example.org: "1 new post from Dry" (1 entry)');
      expect((await readdir(dir)).includes('outbox')).toBe(false);
      // Nothing was recorded: the real run afterwards still finds the entry new and writes the digest.
      const real = await runCliCaptured(['run'], { env, cwd: dir });
      expect(real.stdout).toMatch(/1 new entry/);
      expect((await readdir(path.join(dir, 'outbox'))).length).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('help of subscribers set', () => {
  it('lists exactly the keys the editor accepts', async () => {
    const { SUBSCRIBER_FIELDS } = await import('../../src/admin/subscriber-commands.js');
    const { SETTABLE_SUBSCRIBER_KEYS } = await import('../../src/cli/subscribers-command.js');
    expect([...SETTABLE_SUBSCRIBER_KEYS].sort()).toEqual(Object.keys(SUBSCRIBER_FIELDS).sort());
  });
});
