/**
 * A static feed server for benchmarks (node:http on 127.0.0.1 only): N synthetic feeds at /feeds/NNNN.xml, answering
 * like nginx serving files: ETag and Last-Modified on every 200 and 304, conditional GET per RFC 9110 §13.1
 * (If-None-Match wins over If-Modified-Since), optional gzip (pre-compressed, so the server's CPU stays out of the
 * measurement), no Cache-Control. Bodies are generated once up front and after each change.
 *
 * Control endpoints (JSON answers), so the same server works from another process or from curl:
 *   POST /_control/change?fraction=0.1   prepend new entries to that share of the feeds (new ETag and Last-Modified)
 *   POST /_control/reset                 every feed back to its initial document
 *   GET  /_control/stats                 request and byte counters since the last reset-stats
 *   POST /_control/reset-stats
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { createSeededRandom, hashSeed } from './seeded-random.js';
import { generateSyntheticFeed, type SyntheticFeedStyle } from './synthetic-feed.js';

/** What the server serves. */
export interface StaticFeedServerOptions {
  feeds: number;
  entries: number;
  seed: number;
  /** Entries prepended to a feed by each change (default 2). */
  newPerChange?: number;
  /** Target HTML size per entry, characters (default 2000). */
  htmlChars?: number;
  /** Serve gzip to clients that accept it (default true, as most feed hosts do). */
  gzip?: boolean;
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
}

/** Counters of feed requests (control requests excluded). */
export interface FeedServerStats {
  requests: number;
  /** 200 answers. */
  ok: number;
  /** 304 answers. */
  notModified: number;
  notFound: number;
  /** Body bytes written (compressed when gzip was used). */
  wireBytes: number;
  /** Uncompressed size of the bodies sent. */
  bodyBytes: number;
  /** Server process resident set, bytes, now and at its peak. */
  rss: number;
  maxRss: number;
}

/** What the server holds for the current version of one feed. */
interface Representation {
  version: number;
  identity: Buffer;
  gzip?: Buffer;
  contentType: string;
  /** Opaque tag without quotes; the gzip representation's tag adds "-gz" (Apache does the same). */
  tag: string;
  lastModified: string;
  lastModifiedMs: number;
  style: SyntheticFeedStyle;
}

/** Facts about the generated corpus. */
export interface CorpusInfo {
  feeds: number;
  entries: number;
  /** Total uncompressed bytes of all current documents. */
  bytes: number;
  /** Total gzip bytes (0 when gzip is off). */
  gzipBytes: number;
  styles: Record<string, number>;
  contentTypes: Record<string, number>;
  generateMs: number;
}

const FEED_PATH = /^\/feeds\/(\d+)\.xml$/;

/** Path of feed `index`: /feeds/0007.xml. */
export function feedPath(index: number): string {
  return `/feeds/${String(index).padStart(4, '0')}.xml`;
}

/** Entity tags of an If-None-Match value (weak prefixes dropped: RFC 9110 §13.1.2 uses weak comparison); "*" kept. */
function entityTags(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/\*|(?:W\/)?"([^"]*)"/g)) out.push(m[0] === '*' ? '*' : (m[1] ?? ''));
  return out;
}

function acceptsGzip(value: string | undefined): boolean {
  if (!value) return false;
  for (const part of value.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== 'x-gzip') continue;
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  }
  return false;
}

/** The running server; create with StaticFeedServer.start. */
export class StaticFeedServer {
  private readonly reps: Representation[] = [];
  private changeRound = 0;
  private counters = { requests: 0, ok: 0, notModified: 0, notFound: 0, wireBytes: 0, bodyBytes: 0 };
  /** Set by start(). */
  corpus!: CorpusInfo;

  private constructor(
    private readonly server: Server,
    private readonly options: Required<Omit<StaticFeedServerOptions, 'port'>>,
    /** Port on 127.0.0.1. */
    readonly port: number,
  ) {}

  /** Generate every feed, then listen on 127.0.0.1. */
  static async start(options: StaticFeedServerOptions): Promise<StaticFeedServer> {
    const full = { newPerChange: 2, htmlChars: 2000, gzip: true, ...options };
    const server = createServer({ keepAliveTimeout: 30_000 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const instance = new StaticFeedServer(server, full, (server.address() as AddressInfo).port);
    const started = performance.now();
    for (let i = 0; i < full.feeds; i++) instance.reps.push(instance.build(i, 0));
    instance.corpus = instance.describeCorpus(performance.now() - started);
    server.on('request', (req, res) => instance.handle(req, res));
    return instance;
  }

  /** "http://127.0.0.1:PORT" */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Change round(fraction × feeds) feeds, chosen by the seed and the change round; returns their indices, sorted. */
  change(fraction: number): number[] {
    const count = Math.max(0, Math.min(this.reps.length, Math.round(fraction * this.reps.length)));
    const rng = createSeededRandom(hashSeed(this.options.seed, 'change', ++this.changeRound));
    const order = this.reps.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const chosen = order.slice(0, count).sort((a, b) => a - b);
    for (const i of chosen) this.reps[i] = this.build(i, this.reps[i]!.version + 1);
    return chosen;
  }

  /** Every feed back to version 0 and the change sequence restarted, so each benchmark run sees the same bytes. */
  reset(): void {
    this.changeRound = 0;
    this.reps.forEach((rep, i) => {
      if (rep.version !== 0) this.reps[i] = this.build(i, 0);
    });
  }

  /** Counters since the last resetStats. */
  stats(): FeedServerStats {
    return { ...this.counters, rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 };
  }

  resetStats(): void {
    this.counters = { requests: 0, ok: 0, notModified: 0, notFound: 0, wireBytes: 0, bodyBytes: 0 };
  }

  /** Stop listening, cutting keep-alive connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private build(index: number, version: number): Representation {
    const { seed, entries, newPerChange, htmlChars, gzip } = this.options;
    const feed = generateSyntheticFeed({ seed, index, entries, version, newPerChange, htmlChars, selfUrl: this.origin + feedPath(index) });
    const identity = Buffer.from(feed.body, 'utf8');
    const rep: Representation = {
      version,
      identity,
      contentType: feed.contentType,
      tag: createHash('sha1').update(identity).digest('hex').slice(0, 20),
      lastModified: feed.lastModified.toUTCString(),
      lastModifiedMs: feed.lastModified.getTime(),
      style: feed.style,
    };
    if (gzip) rep.gzip = gzipSync(identity);
    return rep;
  }

  private describeCorpus(generateMs: number): CorpusInfo {
    const styles: Record<string, number> = {};
    const contentTypes: Record<string, number> = {};
    let bytes = 0;
    let gzipBytes = 0;
    for (const rep of this.reps) {
      styles[rep.style] = (styles[rep.style] ?? 0) + 1;
      contentTypes[rep.contentType] = (contentTypes[rep.contentType] ?? 0) + 1;
      bytes += rep.identity.length;
      gzipBytes += rep.gzip?.length ?? 0;
    }
    return { feeds: this.reps.length, entries: this.options.entries, bytes, gzipBytes, styles, contentTypes, generateMs: Math.round(generateMs) };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname.startsWith('/_control/')) return this.control(req, res, url);
    this.counters.requests++;
    const m = FEED_PATH.exec(url.pathname);
    const rep = m ? this.reps[Number(m[1])] : undefined;
    if (!rep || (req.method !== 'GET' && req.method !== 'HEAD')) {
      this.counters.notFound++;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const gz = rep.gzip !== undefined && acceptsGzip(req.headers['accept-encoding']);
    const etag = `"${rep.tag}${gz ? '-gz' : ''}"`;
    const headers: Record<string, string | number> = { etag, 'last-modified': rep.lastModified };
    if (rep.gzip) headers['vary'] = 'Accept-Encoding';

    // RFC 9110 §13.1.2/§13.2.2: If-None-Match decides when present; If-Modified-Since only otherwise.
    const inm = req.headers['if-none-match'];
    let notModified = false;
    if (inm !== undefined) {
      notModified = entityTags(inm).some((t) => t === '*' || t === rep.tag || t === `${rep.tag}-gz`);
    } else if (req.headers['if-modified-since']) {
      const since = Date.parse(req.headers['if-modified-since']);
      notModified = !Number.isNaN(since) && rep.lastModifiedMs <= since;
    }
    if (notModified) {
      this.counters.notModified++;
      res.writeHead(304, headers).end();
      return;
    }
    const body = gz ? rep.gzip! : rep.identity;
    headers['content-type'] = rep.contentType;
    headers['content-length'] = body.length;
    if (gz) headers['content-encoding'] = 'gzip';
    this.counters.ok++;
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    this.counters.wireBytes += body.length;
    this.counters.bodyBytes += rep.identity.length;
    res.writeHead(200, headers).end(body);
  }

  private control(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    const action = url.pathname.slice('/_control/'.length);
    try {
      if (action === 'stats' && req.method === 'GET') return json(200, this.stats());
      if (req.method !== 'POST') return json(405, { error: `use POST for /_control/${action}` });
      if (action === 'change') {
        const fraction = Number(url.searchParams.get('fraction') ?? '0.1');
        if (!(fraction >= 0 && fraction <= 1)) return json(400, { error: 'fraction must be a number between 0 and 1' });
        return json(200, { changed: this.change(fraction) });
      }
      if (action === 'reset') {
        this.reset();
        return json(200, { ok: true });
      }
      if (action === 'reset-stats') {
        this.resetStats();
        return json(200, { ok: true });
      }
      return json(404, { error: `unknown control action "${action}"` });
    } catch (err) {
      return json(500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
