/**
 * The bundled CLI (scripts/build-bundle.mjs, what `npm run build` ships and bin/planet-digest.js runs): built from the
 * current sources into a temporary package folder (bin/ copied, package.json, templates/, schema/ and node_modules/
 * linked), then started as a real process: --help, --version, and two offline cycles over the sample feeds plus feeds
 * served on 127.0.0.1, so a chunk that fails to load, an external that cannot be found, or a path resolved from
 * import.meta.url that moved with the bundle breaks CI here.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer } from '../helpers/feed-server.js';
import { rssFeed } from '../helpers/make-feed.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const HTTP_FEEDS = 6;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the bundled CLI (dist/ from npm run build)', () => {
  let pkg: string;
  let work: string;
  let server: FeedServer;

  /** `node PKG/bin/planet-digest.js ...args` in the work folder, like an installed planet-digest. */
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<Result> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(pkg, 'bin', 'planet-digest.js'), ...args], {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          DIGEST_STORE_URL: `sqlite://${path.join(work, 'store.sqlite')}`,
          DIGEST_OUTBOX: path.join(work, 'outbox'),
          DIGEST_CACHE_DIR: path.join(work, 'cache'),
          DIGEST_LOG_LEVEL: 'warn',
          ...env,
        },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
    }
  };

  beforeAll(async () => {
    pkg = await mkdtemp(path.join(tmpdir(), 'pd-bundle-'));
    work = path.join(pkg, 'work');
    await mkdir(work);
    await cp(path.join(repo, 'bin'), path.join(pkg, 'bin'), { recursive: true });
    for (const name of ['package.json', 'templates', 'schema', 'node_modules']) await symlink(path.join(repo, name), path.join(pkg, name));
    // No src/ in the package folder: bin/ must run the bundle, never fall back to the sources.
    await run(process.execPath, [path.join(repo, 'scripts', 'build-bundle.mjs'), '--outdir', path.join(pkg, 'dist')], { cwd: repo });

    server = await FeedServer.start();
    for (let i = 0; i < HTTP_FEEDS; i++) {
      const xml = rssFeed({
        title: `Served feed ${i}`,
        link: `https://served.example/${i}/`,
        items: [{ id: `s${i}-1`, title: `Served entry ${i}`, link: `https://served.example/${i}/1`, date: '2026-05-01T00:00:00Z' }],
      });
      server.route(`/feed-${i}.xml`, (req, res) => {
        // Slow enough that the per-host limit decides how many are in flight at once.
        setTimeout(() => {
          if (req.headers['if-none-match'] === '"v1"') {
            res.writeHead(304, { etag: '"v1"' }).end();
            return;
          }
          res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"' }).end(xml);
        }, 150);
      });
    }
    await cp(path.join(repo, 'examples', 'feeds'), path.join(work, 'feeds'), { recursive: true });
    const samples = (await readdir(path.join(work, 'feeds'))).filter((f) => f.endsWith('.xml'));
    await writeFile(
      path.join(work, 'subscribers.json'),
      JSON.stringify({
        settings: { title: 'Bundle digest', timezone: 'Europe/Berlin', firstPollEntries: 2 },
        feeds: [
          ...samples.map((f) => ({ id: f.replace(/\.xml$/, ''), url: `feeds/${f}`, tags: [] })),
          ...Array.from({ length: HTTP_FEEDS }, (_, i) => ({ id: `served-${i}`, url: server.url(`/feed-${i}.xml`), tags: [] })),
        ],
        subscribers: [
          { id: 'ada', name: 'Ada', email: 'ada@example.org', feeds: ['*'] },
          { id: 'news', name: 'News channel', slack: { channel: 'C0123456789' }, feeds: ['*'] },
        ],
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (pkg) await rm(pkg, { recursive: true, force: true });
  });

  it('--help and --version work from the bundle', async () => {
    const help = await cli(['--help']);
    expect(help.stderr).not.toContain('running from source');
    expect(help.code).toBe(0);
    for (const command of ['run', 'daemon', 'preview', 'inspect', 'validate', 'feeds', 'subscribers', 'serve']) expect(help.stdout).toContain(command);
    const version = await cli(['--version']);
    const { version: expected } = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(expected);
  });

  it('runs offline cycles: local and served feeds, email and Slack outbox, DIGEST_FEED_PER_HOST, then nothing new', async () => {
    const first = await cli(['run'], { DIGEST_FEED_PER_HOST: '4' });
    expect(first.stderr).not.toContain('running from source');
    expect(first.code, first.stderr).toBe(0);
    const feedCount = HTTP_FEEDS + (await readdir(path.join(work, 'feeds'))).length;
    expect(first.stdout).toContain(`${feedCount} feeds polled (${feedCount} updated, 0 not modified, 0 failed)`);
    // Six feeds on one host with DIGEST_FEED_PER_HOST=4: more than the default 2 at once, never more than 4.
    expect(server.maxConcurrent).toBeGreaterThan(2);
    expect(server.maxConcurrent).toBeLessThanOrEqual(4);
    expect(server.requests[0]?.headers['user-agent']).toMatch(/^planet-digest\//);

    const days = await readdir(path.join(work, 'outbox'));
    const files = (await Promise.all(days.map(async (d) => (await readdir(path.join(work, 'outbox', d))).map((f) => path.join(work, 'outbox', d, f))))).flat();
    const html = files.find((f) => path.basename(f).startsWith('ada-') && f.endsWith('.html'));
    expect(html, files.join('\n')).toBeDefined();
    const page = await readFile(html!, 'utf8');
    for (let i = 0; i < HTTP_FEEDS; i++) expect(page).toContain(`Served entry ${i}`);
    expect(files.some((f) => path.basename(f).startsWith('news-'))).toBe(true);
    // The build compiled the stock template (dist/template-cache): the run used it and compiled nothing into its cache.
    expect((await readdir(path.join(pkg, 'dist', 'template-cache'))).filter((f) => /^digest-[0-9a-f]{64}\.json$/.test(f))).toHaveLength(1);
    expect(await readdir(path.join(work, 'cache')).catch(() => [])).not.toContain('templates');

    server.reset();
    for (let i = 0; i < HTTP_FEEDS; i++) server.route(`/feed-${i}.xml`, [{ status: 304, headers: { etag: '"v1"' }, delayMs: 150 }]);
    const second = await cli(['run']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('Nothing new for any subscriber');
    expect(server.requests).toHaveLength(HTTP_FEEDS);
    for (const request of server.requests) expect(request.headers['if-none-match']).toBe('"v1"');
    // Default politeness: 2 at once per host.
    expect(server.maxConcurrent).toBe(2);
  });

  it('carries one copy of luxon, the one whose defaults src/schedule/pin-cron-defaults.ts pins', async () => {
    // cron-parser require()s luxon's CommonJS build and src/ imports its ES build; two copies would leave cron-parser's
    // defaults unpinned (its first use would load ICU's locale and zone data on every cycle).
    const chunks = await readdir(path.join(pkg, 'dist', 'chunks'));
    const texts = await Promise.all(chunks.filter((f) => f.endsWith('.js')).map((f) => readFile(path.join(pkg, 'dist', 'chunks', f), 'utf8')));
    const copies = texts.map((t) => t.match(/function systemLocale\d*\(/g)?.length ?? 0).reduce((a, b) => a + b, 0);
    expect(copies).toBe(1);
  });

  it('reports a bad DIGEST_FEED_PER_HOST by name, exit 2', async () => {
    const bad = await cli(['run'], { DIGEST_FEED_PER_HOST: '0' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('DIGEST_FEED_PER_HOST');
  });
});
