import { CORPUS_DIR } from '../helpers/corpus-dir.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeFeedBytes } from '../../src/fetch/decode-feed-bytes.js';
import { FetchError } from '../../src/fetch/fetch-error.js';
import { fetchFeed } from '../../src/fetch/fetch-feed.js';
import type { FetchOptions } from '../../src/fetch/fetch-feed.js';
import { createGuardedLookup } from '../../src/fetch/is-private-address.js';
import { NodeHttpClient } from '../../src/fetch/node-http-client.js';
import { FeedServer } from '../helpers/feed-server.js';

const CORPUS = CORPUS_DIR;
const RSS = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test ✓</title></channel></rss>';
const BASE: FetchOptions = { userAgent: 'planet-digest-test/1.0 (+https://example.invalid)', allowPrivate: true };

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

async function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FetchError);
  return err as FetchError;
}

/** A client whose "DNS" maps every host name to 127.0.0.1, so name-based URLs reach the local server only. */
function everyNameIsLocal(lookup = createGuardedLookup((_host, _opts, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]))): NodeHttpClient {
  return new NodeHttpClient({ allowPrivate: false, lookup });
}

describe('fetchFeed: conditional GET (RFC 9110 §13.1)', () => {
  it('sends User-Agent, Accept and Accept-Encoding, returns body and validators, then sends them back and gets 304', async () => {
    const etag = '"v1"';
    const lastModified = 'Tue, 15 Nov 1994 12:45:26 GMT';
    server.route('/feed.xml', (req, res) => {
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': 'max-age=120' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag, 'last-modified': lastModified }).end(RSS);
      }
    });
    const first = await fetchFeed(server.url('/feed.xml'), BASE);
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.status).toBe(200);
    expect(first.body.toString('utf8')).toBe(RSS);
    expect(first.bytes).toBe(Buffer.byteLength(RSS));
    expect(first.contentType).toBe('application/rss+xml; charset=utf-8');
    expect(first.finalUrl).toBe(server.url('/feed.xml'));
    expect(first.validators).toEqual({ etag, lastModified });
    expect(first.permanentRedirectTo).toBeUndefined();

    const req1 = server.requestsTo('/feed.xml')[0]!;
    expect(req1.headers['user-agent']).toBe(BASE.userAgent);
    expect(req1.headers['accept']).toMatch(/^application\/atom\+xml, application\/rss\+xml/);
    expect(req1.headers['accept-encoding']).toBe('gzip, deflate, br');
    expect(req1.headers['if-none-match']).toBeUndefined();

    const second = await fetchFeed(server.url('/feed.xml'), { ...BASE, validators: first.validators });
    expect(second).toEqual({ kind: 'not-modified', validators: { etag, lastModified }, maxAgeSeconds: 120, finalUrl: server.url('/feed.xml') });
    const req2 = server.requestsTo('/feed.xml')[1]!;
    expect(req2.headers['if-none-match']).toBe(etag);
    expect(req2.headers['if-modified-since']).toBe(lastModified);
  });

  it('keeps the old validators when a 304 comes without them, and takes new ones when it has them', async () => {
    server.route('/bare304', { status: 304 });
    server.route('/new304', { status: 304, headers: { etag: '"v2"' } });
    const old = { etag: '"v1"', lastModified: 'Tue, 15 Nov 1994 12:45:26 GMT' };
    expect(await fetchFeed(server.url('/bare304'), { ...BASE, validators: old })).toMatchObject({ kind: 'not-modified', validators: old });
    expect(await fetchFeed(server.url('/new304'), { ...BASE, validators: old })).toMatchObject({ kind: 'not-modified', validators: { etag: '"v2"', lastModified: old.lastModified } });
  });

  it('strips CR/LF from the User-Agent so a config value cannot inject headers', async () => {
    server.route('/ua', { body: RSS });
    await fetchFeed(server.url('/ua'), { ...BASE, userAgent: 'bot/1\r\nX-Evil: 1' });
    const req = server.requestsTo('/ua')[0]!;
    expect(req.headers['user-agent']).toBe('bot/1 X-Evil: 1');
    expect(req.headers['x-evil']).toBeUndefined();
  });
});

describe('fetchFeed: redirects', () => {
  it('follows a 301/308 chain and reports the last permanent target', async () => {
    server.route('/a', { status: 301, headers: { location: '/b' } });
    server.route('/b', { status: 308, headers: { location: server.url('/c') } });
    server.route('/c', { body: RSS });
    const outcome = await fetchFeed(server.url('/a'), BASE);
    expect(outcome).toMatchObject({ kind: 'ok', finalUrl: server.url('/c'), permanentRedirectTo: server.url('/c') });
  });

  it('does not treat 302/307 as a move, and stops counting permanence after a temporary hop', async () => {
    server.route('/t1', { status: 302, headers: { location: '/t2' } });
    server.route('/t2', { status: 301, headers: { location: '/t3' } });
    server.route('/t3', { body: RSS });
    const temp = await fetchFeed(server.url('/t1'), BASE);
    expect(temp.kind).toBe('ok');
    expect(temp.finalUrl).toBe(server.url('/t3'));
    expect(temp.permanentRedirectTo).toBeUndefined();

    server.route('/p1', { status: 301, headers: { location: '/p2' } });
    server.route('/p2', { status: 307, headers: { location: '/p3' } });
    server.route('/p3', { body: RSS });
    expect(await fetchFeed(server.url('/p1'), BASE)).toMatchObject({ kind: 'ok', finalUrl: server.url('/p3'), permanentRedirectTo: server.url('/p2') });
  });

  it('reports a move that ends in a 304 too', async () => {
    server.route('/moved', { status: 301, headers: { location: '/here' } });
    server.route('/here', { status: 304 });
    expect(await fetchFeed(server.url('/moved'), { ...BASE, validators: { etag: '"x"' } })).toMatchObject({ kind: 'not-modified', permanentRedirectTo: server.url('/here') });
  });

  it('detects a redirect loop', async () => {
    server.route('/l1', { status: 302, headers: { location: '/l2' } });
    server.route('/l2', { status: 302, headers: { location: '/l1' } });
    const err = await fetchError(fetchFeed(server.url('/l1'), BASE));
    expect(err.kind).toBe('redirect');
    expect(err.message).toMatch(/loop/i);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxRedirects', async () => {
    for (let i = 0; i < 10; i++) server.route(`/r${i}`, { status: 302, headers: { location: `/r${i + 1}` } });
    const err = await fetchError(fetchFeed(server.url('/r0'), { ...BASE, maxRedirects: 3 }));
    expect(err.kind).toBe('redirect');
    expect(err.message).toMatch(/more than 3/);
    expect(server.requests).toHaveLength(4);
  });

  it.each([['ftp://example.invalid/feed.xml'], ['file:///etc/passwd'], ['javascript:alert(1)']])('refuses a redirect to %s', async (target) => {
    server.route('/bad', { status: 302, headers: { location: target } });
    const err = await fetchError(fetchFeed(server.url('/bad'), { ...BASE, allowedFileRoots: ['/'] }));
    expect(err.kind).toBe('redirect');
    expect(err.message).toMatch(/only http and https/);
  });

  it('fails clearly on a redirect without Location', async () => {
    server.route('/noloc', { status: 301 });
    const err = await fetchError(fetchFeed(server.url('/noloc'), BASE));
    expect(err).toMatchObject({ kind: 'redirect', status: 301 });
    expect(err.message).toMatch(/without a Location header/);
  });
});

describe('fetchFeed: HTTP errors', () => {
  it('410 is gone', async () => {
    server.route('/gone', { status: 410 });
    const err = await fetchError(fetchFeed(server.url('/gone'), BASE));
    expect(err).toMatchObject({ kind: 'http', status: 410, gone: true, code: 'FETCH_FAILED', url: server.url('/gone') });
    expect(err.message).toContain(server.url('/gone'));
  });

  it('404 names the URL and says what to do', async () => {
    const err = await fetchError(fetchFeed(server.url('/missing'), BASE));
    expect(err).toMatchObject({ kind: 'http', status: 404 });
    expect(err.gone).toBeUndefined();
    expect(err.message).toBe(`HTTP 404 from ${server.url('/missing')}: check the feed URL`);
  });

  it('429 with Retry-After in seconds', async () => {
    server.route('/busy', { status: 429, headers: { 'retry-after': '120' } });
    const err = await fetchError(fetchFeed(server.url('/busy'), BASE));
    expect(err).toMatchObject({ kind: 'http', status: 429, retryAfterSeconds: 120 });
    expect(err.message).toMatch(/rate limited; will retry after 120 s/);
  });

  it('429 with Retry-After as an HTTP-date, relative to the injected clock', async () => {
    const now = new Date('2025-03-01T12:00:00Z');
    server.route('/busy-date', { status: 429, headers: { 'retry-after': new Date(now.getTime() + 300_000).toUTCString() } });
    const err = await fetchError(fetchFeed(server.url('/busy-date'), { ...BASE, now: () => now }));
    expect(err.retryAfterSeconds).toBe(300);
  });

  it('503 with and without Retry-After', async () => {
    server.route('/down', { status: 503 });
    server.route('/down-ra', { status: 503, headers: { 'retry-after': '3600' } });
    const plain = await fetchError(fetchFeed(server.url('/down'), BASE));
    expect(plain).toMatchObject({ kind: 'http', status: 503 });
    expect(plain.retryAfterSeconds).toBeUndefined();
    expect(plain.message).toMatch(/server error; will retry later/);
    expect((await fetchError(fetchFeed(server.url('/down-ra'), BASE))).retryAfterSeconds).toBe(3600);
  });

  it('refuses an unsupported Content-Encoding', async () => {
    server.route('/compress', { headers: { 'content-encoding': 'compress' }, body: 'xx' });
    const err = await fetchError(fetchFeed(server.url('/compress'), BASE));
    expect(err.kind).toBe('http');
    expect(err.message).toMatch(/Unsupported Content-Encoding "compress"/);
  });

  it('connection refused is a network error', async () => {
    const closed = await FeedServer.start();
    const url = closed.url('/feed');
    await closed.close();
    const err = await fetchError(fetchFeed(url, BASE));
    expect(err.kind).toBe('network');
    expect(err.message).toContain(url);
  });
});

describe('fetchFeed: timeouts and size limits', () => {
  it('times out on a server that never answers', async () => {
    server.route('/slow', async (_req, _res, ctx) => {
      await ctx.closed; // hold the request until the client gives up
    });
    const err = await fetchError(fetchFeed(server.url('/slow'), { ...BASE, timeoutMs: 300 }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/Timed out after 300 ms/);
  });

  it('times out on a body that trickles', async () => {
    server.route('/trickle', async (_req, res, ctx) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.write('<rss>');
      await ctx.closed;
    });
    expect((await fetchError(fetchFeed(server.url('/trickle'), { ...BASE, timeoutMs: 300 }))).kind).toBe('timeout');
  });

  it('stops an endless body at the cap', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    server.route('/endless', async (_req, res, ctx) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      let open = true;
      void ctx.closed.then(() => (open = false));
      while (open) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              res.off('drain', done).off('close', done);
              resolve();
            };
            res.on('drain', done).on('close', done);
          });
        }
      }
    });
    const err = await fetchError(fetchFeed(server.url('/endless'), { ...BASE, maxBytes: 1024 * 1024 }));
    expect(err.kind).toBe('too-large');
    expect(err.message).toMatch(/exceeds the 1 MiB limit/);
    // The client hung up soon after the cap, not after many more megabytes (socket buffers allow some slack).
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses at once when Content-Length is over the cap', async () => {
    server.route('/big', { headers: { 'content-length': String(2 * 1024 * 1024) }, body: Buffer.alloc(2 * 1024 * 1024) });
    const err = await fetchError(fetchFeed(server.url('/big'), { ...BASE, maxBytes: 1024 * 1024 }));
    expect(err.kind).toBe('too-large');
    expect(err.message).toMatch(/Content-Length/);
  });
});

describe('fetchFeed: compression', () => {
  const body = Buffer.from(RSS.repeat(50));
  it.each([
    ['gzip', zlib.gzipSync(body)],
    ['x-gzip', zlib.gzipSync(body)],
    ['deflate', zlib.deflateSync(body)],
    ['deflate', zlib.deflateRawSync(body)], // the common mistake: raw deflate sent as "deflate"
    ['br', zlib.brotliCompressSync(body)],
    ['gzip, br', zlib.brotliCompressSync(zlib.gzipSync(body))],
  ])('decodes Content-Encoding %s', async (encoding, compressed) => {
    server.route('/z', { headers: { 'content-encoding': encoding, 'content-type': 'application/rss+xml' }, body: compressed });
    const outcome = await fetchFeed(server.url('/z'), BASE);
    expect(outcome.kind).toBe('ok');
    if (outcome.kind === 'ok') {
      expect(outcome.body.equals(body)).toBe(true);
      expect(outcome.bytes).toBe(body.length);
    }
  });

  it('gunzips a body that starts with the gzip magic but has no Content-Encoding (node-feedparser compressed.xml)', async () => {
    const gz = readFileSync(CORPUS + 'node-feedparser/feeds/compressed.xml');
    server.route('/feed.gz', { headers: { 'content-type': 'application/rss+xml' }, body: gz });
    const outcome = await fetchFeed(server.url('/feed.gz'), BASE);
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect(outcome.body.equals(zlib.gunzipSync(gz))).toBe(true);
    const decoded = decodeFeedBytes(outcome.body, outcome.contentType);
    expect(decoded.encoding).toBe('windows-1251');
    expect(decoded.text).toContain('<title>Новости Оренбурга и области / Раздел Новости</title>');
  });

  it('reports a corrupt gzip body', async () => {
    server.route('/corrupt', { headers: { 'content-encoding': 'gzip' }, body: Buffer.concat([zlib.gzipSync(body).subarray(0, 40), Buffer.alloc(40, 7)]) });
    const err = await fetchError(fetchFeed(server.url('/corrupt'), BASE));
    expect(err.kind).toBe('network');
  });

  describe('decompression bombs', () => {
    let gzipBomb: Buffer;
    let brotliBomb: Buffer;
    beforeAll(async () => {
      // 1 GiB of zeros, compressed by streaming (never held in memory uncompressed).
      const compress = async (z: zlib.Gzip | zlib.BrotliCompress): Promise<Buffer> => {
        const zeros = Buffer.alloc(1024 * 1024);
        const chunks: Buffer[] = [];
        await pipeline(
          Readable.from(
            (function* () {
              for (let i = 0; i < 1024; i++) yield zeros;
            })(),
          ),
          z,
          async function (source: AsyncIterable<Buffer>) {
            for await (const c of source) chunks.push(c);
          },
        );
        return Buffer.concat(chunks);
      };
      gzipBomb = await compress(zlib.createGzip({ level: 9, strategy: zlib.constants.Z_RLE }));
      brotliBomb = await compress(zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }));
    }, 20_000);

    it.each([
      ['gzip', 'gzip'],
      ['br', 'br'],
      ['gzip without Content-Encoding', undefined],
    ])('refuses a 1 GiB %s bomb with bounded memory', async (_label, encoding) => {
      const bomb = encoding === 'br' ? brotliBomb : gzipBomb;
      expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
      server.route('/bomb', { headers: { 'content-type': 'application/rss+xml', ...(encoding ? { 'content-encoding': encoding } : {}) }, body: bomb });
      const before = process.memoryUsage().rss;
      const err = await fetchError(fetchFeed(server.url('/bomb'), BASE));
      const growth = process.memoryUsage().rss - before;
      expect(err.kind).toBe('too-large');
      expect(err.message).toMatch(/10 MiB limit/);
      expect(growth).toBeLessThan(100 * 1024 * 1024);
    });
  });
});

describe('fetchFeed: private-address guard', () => {
  it('refuses a literal loopback address unless allowPrivate', async () => {
    server.route('/feed', { body: RSS });
    const err = await fetchError(fetchFeed(server.url('/feed'), { ...BASE, allowPrivate: false }));
    expect(err.kind).toBe('refused');
    expect(err.message).toMatch(/127\.0\.0\.1 is a private or loopback address; set allowPrivate/);
    expect(server.requests).toHaveLength(0);
    expect((await fetchFeed(server.url('/feed'), { ...BASE, allowPrivate: true })).kind).toBe('ok');
  });

  it.each([['localhost'], ['[::1]'], ['[::ffff:127.0.0.1]'], ['2130706433'], ['0x7f.1'], ['169.254.169.254'], ['10.1.2.3'], ['[fd00::1]']])(
    'refuses http://%s/ before connecting',
    async (host) => {
      const err = await fetchError(fetchFeed(`http://${host}:${server.port}/feed`, { ...BASE, allowPrivate: false }));
      expect(err.kind).toBe('refused');
      expect(server.requests).toHaveLength(0);
    },
  );

  it('refuses a host name that resolves to a private address (checked at connect time)', async () => {
    const client = everyNameIsLocal();
    server.route('/feed', { body: RSS });
    try {
      const err = await fetchError(fetchFeed(`http://feeds.example:${server.port}/feed`, { ...BASE, allowPrivate: false, client }));
      expect(err.kind).toBe('refused');
      expect(err.message).toMatch(/feeds\.example resolves to the non-public address 127\.0\.0\.1/);
      expect(server.requests).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('re-checks every redirect hop', async () => {
    // "DNS" without the guard, so the first hop reaches the local server by name; its redirect to a loopback literal must be refused.
    const client = everyNameIsLocal(((_h, opts, cb) => (opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as Parameters<typeof everyNameIsLocal>[0]);
    server.route('/hop', { status: 302, headers: { location: server.url('/feed') } });
    server.route('/feed', { body: RSS });
    try {
      const err = await fetchError(fetchFeed(`http://feeds.example:${server.port}/hop`, { ...BASE, allowPrivate: false, client }));
      expect(err.kind).toBe('refused');
      expect(server.requests.map((r) => r.path)).toEqual(['/hop']);
    } finally {
      await client.close();
    }
  });
});

describe('fetchFeed: schemes and local files', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    const base = mkdtempSync(path.join(tmpdir(), 'pd-fetch-'));
    root = path.join(base, 'feeds');
    outside = path.join(base, 'secret');
    mkdirSync(path.join(root, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(root, 'sub', 'local.xml'), RSS);
    writeFileSync(path.join(root, 'local.xml.gz'), zlib.gzipSync(RSS));
    writeFileSync(path.join(outside, 'private.xml'), RSS);
    symlinkSync(path.join(outside, 'private.xml'), path.join(root, 'escape.xml'));
    writeFileSync(path.join(root, 'big.xml'), Buffer.alloc(2048, 'a'));
  });
  afterAll(() => {
    rmSync(path.dirname(root), { recursive: true, force: true });
  });

  it.each([
    ['a relative path (resolved against the first root)', (): string => 'sub/local.xml'],
    ['an absolute path', (): string => path.join(root, 'sub', 'local.xml')],
    ['a file: URL', (): string => pathToFileURL(path.join(root, 'sub', 'local.xml')).href],
  ])('reads %s inside an allowed root', async (_label, location) => {
    const outcome = await fetchFeed(location(), { ...BASE, allowedFileRoots: [root] });
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect(outcome.body.toString()).toBe(RSS);
    expect(outcome.finalUrl).toMatch(/^file:\/\/.*\/sub\/local\.xml$/);
    expect(outcome.validators.etag).toMatch(/^W\/"file-/);
  });

  it('answers not-modified for an unchanged file when given its validators', async () => {
    const first = await fetchFeed('sub/local.xml', { ...BASE, allowedFileRoots: [root] });
    const second = await fetchFeed('sub/local.xml', { ...BASE, allowedFileRoots: [root], validators: first.validators });
    expect(second.kind).toBe('not-modified');
  });

  it('gunzips a .gz file and the corpus gzip feeds', async () => {
    const gz = await fetchFeed('local.xml.gz', { ...BASE, allowedFileRoots: [root] });
    expect(gz.kind === 'ok' && gz.body.toString()).toBe(RSS);
    const nshipster = await fetchFeed('invalid-characters-gzipped.xml', { ...BASE, allowedFileRoots: [CORPUS + 'node-feedparser/feeds'] });
    expect(nshipster.kind).toBe('ok');
    if (nshipster.kind === 'ok') {
      expect(nshipster.body.subarray(0, 5).toString()).toBe('<?xml');
      expect(decodeFeedBytes(nshipster.body).text).toContain('NSHipster');
    }
  });

  it.each([
    ['a path outside every root', (): string => path.join(outside, 'private.xml'), /outside the allowed directories/],
    ['a relative path climbing out', (): string => '../secret/private.xml', /outside the allowed directories/],
    ['a symlink leading outside', (): string => 'escape.xml', /links to .*outside the allowed directories/],
  ])('refuses %s', async (_label, location, message) => {
    const err = await fetchError(fetchFeed(location(), { ...BASE, allowedFileRoots: [root] }));
    expect(err.kind).toBe('refused');
    expect(err.message).toMatch(message);
  });

  it('refuses local files entirely without allowedFileRoots', async () => {
    const err = await fetchError(fetchFeed(path.join(root, 'sub', 'local.xml'), BASE));
    expect(err.kind).toBe('refused');
    expect(err.message).toMatch(/not enabled/);
  });

  it('reports a missing file and an oversized one', async () => {
    const missing = await fetchError(fetchFeed('nope.xml', { ...BASE, allowedFileRoots: [root] }));
    expect(missing.kind).toBe('file');
    expect(missing.message).toMatch(/no such file; check the path/);
    const big = await fetchError(fetchFeed('big.xml', { ...BASE, allowedFileRoots: [root], maxBytes: 1024 }));
    expect(big.kind).toBe('too-large');
  });

  it.each([['ftp://example.invalid/feed.xml'], ['gopher://example.invalid/1'], ['data:text/xml,<rss/>'], ['javascript:alert(1)']])('refuses the scheme of %s', async (url) => {
    const err = await fetchError(fetchFeed(url, { ...BASE, allowedFileRoots: [root] }));
    expect(err.kind).toBe('refused');
    expect(err.message).toMatch(/unsupported scheme ".*:"; use an http\(s\) URL or a local file path/);
  });
});

describe('fetchFeed: cancellation', () => {
  it('throws the signal reason, not a FetchError', async () => {
    server.route('/hang', async (_req, _res, ctx) => {
      await ctx.closed;
    });
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    setTimeout(() => controller.abort(reason), 50);
    await expect(fetchFeed(server.url('/hang'), { ...BASE, signal: controller.signal })).rejects.toBe(reason);
  });
});
