/**
 * A small real HTTP server for tests (node:http on 127.0.0.1, port 0), reusable by every area that fetches feeds.
 *
 *   const server = await FeedServer.start();
 *   server.route('/feed.xml', { headers: { 'content-type': 'application/rss+xml' }, body: xml });
 *   server.route('/seq', [{ status: 200, body: 'a' }, { status: 304 }]);   // served in order, the last one repeats
 *   server.route('/slow', async (req, res) => { await sleep(500); res.end('late'); });
 *   const url = server.url('/feed.xml');
 *   ... server.requestsTo('/feed.xml')[0].headers['user-agent'] ...
 *   await server.close();
 *
 * Unknown paths answer 404. Every request is recorded (method, path with query, headers, time) before its route
 * runs, and the server tracks how many requests are in flight at once (`maxConcurrent`).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A canned response. */
export interface RouteResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string | number | string[]>;
  body?: string | Uint8Array;
  /** Wait this long before answering (ms). */
  delayMs?: number;
}

/** Context passed to a handler route. */
export interface RouteContext {
  /** 1 for the first request to this route, 2 for the second, … */
  count: number;
  /** Resolves when the client goes away (response closed), useful for endless or slow bodies. */
  closed: Promise<void>;
}

/** A route computed per request; it must end the response (or leave it hanging on purpose). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>;

/** What was received. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string (what routes match on). */
  path: string;
  /** Path with the query string. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Date.now() at arrival. */
  at: number;
}

type Route = RouteResponse | RouteResponse[] | RouteHandler;

/** A node:http server on 127.0.0.1 with per-path routes and request recording. */
export class FeedServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests being handled right now, and the most seen at once since start/reset. */
  active = 0;
  maxConcurrent = 0;
  /** TCP connections accepted since start/reset. */
  connections = 0;
  private readonly routes = new Map<string, Route>();
  private readonly counts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    /** Port the server listens on. */
    readonly port: number,
  ) {}

  /** Start listening on 127.0.0.1 with an OS-assigned port. */
  static async start(): Promise<FeedServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const instance = new FeedServer(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => void instance.handle(req, res));
    server.on('connection', () => instance.connections++);
    return instance;
  }

  /** "http://127.0.0.1:PORT" */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Absolute URL of a path on this server. */
  url(path: string): string {
    return this.origin + path;
  }

  /** Register (or replace) what a path answers: a response, a sequence of responses (last repeats) or a handler. */
  route(path: string, route: Route): this {
    this.routes.set(path, route);
    this.counts.set(path, 0);
    return this;
  }

  /** Recorded requests for one path. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Forget routes, recorded requests and concurrency figures. */
  reset(): void {
    this.routes.clear();
    this.counts.clear();
    this.requests.length = 0;
    this.maxConcurrent = 0;
    this.connections = 0;
  }

  /** Stop the server, cutting open connections (endless bodies included). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, url, headers: req.headers, at: Date.now() });
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    // In flight until the response is fully handed to the socket (or the client went away), whichever comes first.
    let inFlight = true;
    const settle = (): void => {
      if (inFlight) this.active--;
      inFlight = false;
    };
    res.once('finish', settle);
    void closed.then(settle);
    const route = this.routes.get(path);
    const count = (this.counts.get(path) ?? 0) + 1;
    this.counts.set(path, count);
    try {
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      } else if (typeof route === 'function') {
        await route(req, res, { count, closed });
      } else {
        const r = Array.isArray(route) ? route[Math.min(count, route.length) - 1]! : route;
        if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
        if (res.destroyed) return;
        res.writeHead(r.status ?? 200, r.headers);
        res.end(r.body);
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  }
}
