import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../model/logger.js';
import type { SeenStore } from '../store/seen-store.js';
import type { RunReport } from '../pipeline/run-report.js';
import { verifyUnsubscribeToken } from '../dispatch/unsubscribe-token.js';
import { unsubscribePage, type PageKind } from './unsubscribe-page.js';

/** What the HTTP endpoints need, passed in. */
export interface ServerOptions {
  host: string;
  port: number;
  store: SeenStore;
  secret: string;
  logger: Logger;
  now?: () => Date;
  /** Removes the subscriber for good (subscribers.json through editSubscribersFile). Returns false when already gone. */
  unsubscribe: (subscriberId: string) => Promise<boolean>;
  /** Token lifetime in days. */
  tokenMaxAgeDays?: number;
  /** How long /healthz waits for the store before answering 503 (default 5000 ms). */
  healthTimeoutMs?: number;
}

/** A running server: where it listens, how to feed it cycle reports (daemon --serve), how to stop it. */
export interface DigestServer {
  url: string;
  recordCycle(report: RunReport): void;
  close(): Promise<void>;
}

/**
 * The HTTP side: one-click unsubscribe (RFC 8058), /healthz and /metrics (Prometheus text format).
 * GET /unsubscribe only shows a confirmation page, because mail scanners follow GET links; POST unsubscribes.
 */
export async function createServer(options: ServerOptions): Promise<DigestServer> {
  const now = options.now ?? (() => new Date());
  const healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  // Fail at start-up, not on every click: an empty secret makes the verifier throw ConfigError (naming DIGEST_SECRET).
  verifyUnsubscribeToken(options.secret, '', { now: now() });
  const registry = new Registry();
  const metrics = {
    feedsPolled: new Counter({ name: 'planet_digest_feeds_polled_total', help: 'Feeds polled (200 or 304).', registers: [registry] }),
    feedsFailed: new Counter({ name: 'planet_digest_feeds_failed_total', help: 'Feed polls that failed.', registers: [registry] }),
    entriesNew: new Counter({ name: 'planet_digest_entries_new_total', help: 'New entries found.', registers: [registry] }),
    digestsSent: new Counter({ name: 'planet_digest_digests_sent_total', help: 'Digests delivered.', labelNames: ['channel'], registers: [registry] }),
    digestsFailed: new Counter({ name: 'planet_digest_digests_failed_total', help: 'Digests not delivered.', labelNames: ['channel'], registers: [registry] }),
    cycleSeconds: new Histogram({ name: 'planet_digest_cycle_duration_seconds', help: 'Duration of digest cycles.', buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300], registers: [registry] }),
    unsubscribes: new Counter({ name: 'planet_digest_unsubscribes_total', help: 'One-click unsubscribes.', registers: [registry] }),
    lastCycle: new Gauge({ name: 'planet_digest_last_cycle_timestamp_seconds', help: 'End of the last cycle (from the store).', registers: [registry] }),
    lastCycleFailed: new Gauge({ name: 'planet_digest_last_cycle_digests_failed', help: 'Digests not delivered in the last cycle (from the store).', registers: [registry] }),
    lastCycleFeedsFailed: new Gauge({ name: 'planet_digest_last_cycle_feeds_failed', help: 'Feeds failing in the last cycle (from the store).', registers: [registry] }),
  };
  for (const channel of ['email', 'slack']) {
    metrics.digestsSent.inc({ channel }, 0);
    metrics.digestsFailed.inc({ channel }, 0);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The path only: the query carries the unsubscribe token, a credential that must not end up in logs.
      options.logger.error({ err: error instanceof Error ? error.message : String(error), path: pathOf(req.url) }, 'request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = parseTarget(req.url);
    if (!url) return send(res, 400, 'text/plain; charset=utf-8', 'bad request\n');
    if (url.pathname === '/unsubscribe') return handleUnsubscribe(req, res, url);
    if (url.pathname === '/healthz' || url.pathname === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET, HEAD');
      if (url.pathname === '/healthz') return handleHealth(res);
      const last = await withTimeout(options.store.getMeta<RunReport>('last-cycle'), healthTimeoutMs).catch(() => undefined);
      if (last) {
        metrics.lastCycle.set(Date.parse(last.finishedAt) / 1000);
        metrics.lastCycleFailed.set(last.digests.failed);
        metrics.lastCycleFeedsFailed.set(last.feeds.failed);
      }
      return send(res, 200, registry.contentType, await registry.metrics());
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }

  async function handleUnsubscribe(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    // HEAD is GET without a body (RFC 9110 §9.3.2); neither changes anything.
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return notAllowed(res, 'GET, HEAD, POST');
    // The body of an RFC 8058 POST is "List-Unsubscribe=One-Click"; we read (and bound) it but the token decides.
    if (req.method === 'POST') await readBody(req, 4096);
    const token = url.searchParams.get('token') ?? '';
    const verdict = verifyUnsubscribeToken(options.secret, token, { now: now(), maxAgeDays: options.tokenMaxAgeDays });
    if (!verdict.ok) {
      // Reveal nothing about why: a tampered, expired or made-up token all look the same.
      return page(res, 403, 'invalid');
    }
    // A relative action ("?token=…" resolves against the page's own path), so the form still posts to the right place
    // when a reverse proxy serves us under a path prefix (DIGEST_BASE_URL=https://host/digest).
    if (req.method !== 'POST') return page(res, 200, 'confirm', `?token=${encodeURIComponent(token)}`);
    let removed: boolean;
    try {
      removed = await options.unsubscribe(verdict.subscriberId);
    } catch (error) {
      // Not a 2xx, so a mail provider's one-click POST knows it did not work; the person gets a page, not a stack.
      options.logger.error({ err: error instanceof Error ? error.message : String(error), subscriber: verdict.subscriberId }, 'unsubscribe failed');
      return page(res, 500, 'error');
    }
    if (removed) {
      metrics.unsubscribes.inc();
      options.logger.info({ subscriber: verdict.subscriberId }, 'unsubscribed (one-click)');
    }
    return page(res, 200, removed ? 'done' : 'already');
  }

  async function handleHealth(res: http.ServerResponse): Promise<void> {
    let storeOk = true;
    let storeError: string | undefined;
    try {
      await withTimeout(options.store.ping(), healthTimeoutMs);
    } catch (error) {
      storeOk = false;
      storeError = error instanceof Error ? error.message : String(error);
    }
    const last = storeOk ? await withTimeout(options.store.getMeta<RunReport>('last-cycle'), healthTimeoutMs).catch(() => undefined) : undefined;
    const body = {
      status: storeOk ? 'ok' : 'unavailable',
      store: storeOk ? 'reachable' : `unreachable: ${storeError}`,
      lastCycle: last
        ? {
            finishedAt: last.finishedAt,
            durationMs: last.durationMs,
            result: last.digests.failed > 0 ? 'some digests failed' : 'ok',
            feeds: { ok: last.feeds.ok, notModified: last.feeds.notModified, failed: last.feeds.failed },
            newEntries: last.entries.fresh,
            digests: { sent: last.digests.sent, failed: last.digests.failed },
          }
        : null,
    };
    send(res, storeOk ? 200 : 503, 'application/json', JSON.stringify(body) + '\n');
  }

  function page(res: http.ServerResponse, status: number, kind: PageKind, action?: string): void {
    res.setHeader('Cache-Control', 'no-store');
    // frame-ancestors: no other site may frame the button and trick a click on it (default-src does not cover framing).
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    send(res, status, 'text/html; charset=utf-8', unsubscribePage(kind, action));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    recordCycle(report) {
      metrics.feedsPolled.inc(report.feeds.ok + report.feeds.notModified);
      metrics.feedsFailed.inc(report.feeds.failed);
      metrics.entriesNew.inc(report.entries.fresh);
      for (const channel of ['email', 'slack'] as const) {
        metrics.digestsSent.inc({ channel }, report.digests.byChannel[channel].sent);
        metrics.digestsFailed.inc({ channel }, report.digests.byChannel[channel].failed);
      }
      metrics.cycleSeconds.observe(report.durationMs / 1000);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const DEFAULT_HEALTH_TIMEOUT_MS = 5000;

/** The request target as a URL, or undefined when it cannot be one (answered with 400). */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    // Origin-form ("/path?q") is appended to a fixed origin, so "//host/unsubscribe" stays a path instead of a host.
    return target?.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** The path of a request target without its query. */
function pathOf(target: string | undefined): string {
  return (target ?? '/').split('?')[0] as string;
}

/** Rejects with a timeout error when `promise` takes longer than `ms` (a hung store must not hang /healthz). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function notAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

async function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
