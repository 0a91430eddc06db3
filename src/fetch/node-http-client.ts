import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { HttpClient, HttpRequest, HttpResponse } from './fetch-feed.js';
import { createGuardedLookup } from './is-private-address.js';

/** Options of NodeHttpClient. */
export interface NodeHttpClientOptions {
  /** false: connections only go to public addresses (host names are resolved through the private-address guard). */
  allowPrivate: boolean;
  /** TCP+TLS connect timeout, ms (default 10000). */
  connectTimeoutMs?: number;
  /** Longest silence while waiting for headers or between body chunks, ms (default 30000); fetchFeed's total timeout applies on top. */
  timeoutMs?: number;
  /** Host name resolution (tests). Without allowPrivate it must do its own guarding, like createGuardedLookup. */
  lookup?: LookupFunction;
  /** How long a connection stays pooled without a request, ms (default KEEP_ALIVE_MS). */
  keepAliveMs?: number;
}

/**
 * Idle time after which a pooled connection is closed (undici's default too): shorter than the keep-alive timeouts
 * servers commonly use (Apache 5 s, nginx 75 s), so a connection is rarely reused just as its server closes it. A
 * server's shorter Keep-Alive hint wins.
 */
export const KEEP_ALIVE_MS = 4000;

/** Errors of a request sent on a pooled connection its server had closed. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

type StaleSocketError = NodeJS.ErrnoException & { staleSocket?: boolean };

/**
 * Whether the agent pools the socket it just finished a response on (`keep`: node's own answer), and for how long:
 * `idleMs`, or less when the server's Keep-Alive header (its "timeout" parameter) says so. Node's own Agent refuses a
 * hint of a second or less but otherwise keeps idle sockets forever unless given a `timeout`, which would also apply
 * while connecting.
 */
function poolIdle(keep: boolean, socket: Socket, idleMs: number): boolean {
  const hint = /(?:^|,)\s*timeout=(\d+)/i.exec(keepAliveHeader(socket) ?? '')?.[1];
  // One second below the server's hint, as undici does: its close may already be on the way.
  const ms = hint === undefined ? idleMs : Math.min(idleMs, Number(hint) * 1000 - 1000);
  if (!keep || ms <= 0) return false;
  socket.setTimeout(ms);
  return true;
}

/** A keep-alive http.Agent whose pooled connections close once idle (poolIdle). */
class IdleHttpAgent extends http.Agent {
  constructor(readonly idleMs: number) {
    super({ keepAlive: true, scheduling: 'lifo' });
  }

  override keepSocketAlive(socket: Socket): boolean {
    return poolIdle((http.Agent.prototype.keepSocketAlive as (s: Socket) => boolean).call(this, socket), socket, this.idleMs);
  }
}

/** The same for https. */
class IdleHttpsAgent extends https.Agent {
  constructor(readonly idleMs: number) {
    super({ keepAlive: true, scheduling: 'lifo' });
  }

  override keepSocketAlive(socket: Socket): boolean {
    return poolIdle((https.Agent.prototype.keepSocketAlive as (s: Socket) => boolean).call(this, socket), socket, this.idleMs);
  }
}

/** The Keep-Alive header of the response just read on this socket. */
function keepAliveHeader(socket: Socket): string | undefined {
  // The agent's own keepSocketAlive reads it the same way: the socket's current ClientRequest and its response.
  const value = (socket as Socket & { _httpMessage?: { res?: IncomingMessage } })._httpMessage?.res?.headers['keep-alive'];
  return typeof value === 'string' ? value : undefined;
}

/** Error codes of the client's own timeouts (fetchFeed maps them to FetchError kinds). */
export const HTTP_TIMEOUT_CODES = { connect: 'ERR_CONNECT_TIMEOUT', idle: 'ERR_IDLE_TIMEOUT' } as const;

function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Feed requests over node:http and node:https: a keep-alive Agent per scheme for the run, and a plain one for
 * plain-HTTP requests that want a connection of their own. Node's own client rather than undici, whose code and
 * WebAssembly HTTP parser cost memory and time in every cycle: 220 feeds from the peer benchmark's server, medians of
 * 3 A/B pairs, peak RSS 74 -> 70 MB when nothing changed, 92 -> 82 MB for a server ignoring conditional GET,
 * 104 -> 101 MB for 5 new items in 50 feeds, wall times 8-15% lower. Connect timeout, idle timeout and the
 * private-address guard (a DNS lookup that refuses non-public addresses, so the address connected to is the one
 * checked) are applied here. `close()` it after the run.
 */
export class NodeHttpClient implements HttpClient {
  readonly #http: http.Agent;
  readonly #httpOnce: http.Agent;
  readonly #https: https.Agent;
  readonly #httpsOnce: https.Agent;
  readonly #lookup?: LookupFunction;
  readonly #connectTimeoutMs: number;
  readonly #timeoutMs: number;

  constructor(options: NodeHttpClientOptions) {
    const idleMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
    // LIFO: the most recently used connection is the one least likely to have been closed by the server meanwhile.
    this.#http = new IdleHttpAgent(idleMs);
    this.#https = new IdleHttpsAgent(idleMs);
    // Requests that want a connection of their own. Not the keep-alive agent with a "Connection: close" header: node
    // keeps such a socket in the pool when the response does not say "close" itself (Python's http.server), and the
    // next request on it fails with "socket hang up" once the server has closed it (half of 220 feeds did).
    this.#httpOnce = new http.Agent({ keepAlive: false });
    this.#httpsOnce = new https.Agent({ keepAlive: false });
    this.#lookup = options.lookup ?? (options.allowPrivate ? undefined : createGuardedLookup());
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends one GET; resolves with the status, headers and unread body once the response head arrives. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.#send(req, req.reset);
    } catch (error) {
      // A pooled connection the server closed while it sat idle fails the request that reuses it before any response
      // (node's documentation of request.reusedSocket advises this retry). A GET is safe to send again; the retry
      // gets a connection of its own, so it cannot meet another stale one.
      if (!(error as StaleSocketError).staleSocket || req.signal.aborted) throw error;
      return this.#send(req, true);
    }
  }

  #send(req: HttpRequest, own: boolean): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const secure = req.url.protocol === 'https:';
      // Credentials in a feed URL are not sent (node would turn them into Basic authentication, in clear over http).
      const url = new URL(req.url);
      url.username = '';
      url.password = '';
      // "Connection: close" (RFC 9110 §7.6.1): the agent then closes this connection after the response.
      const headers = own ? { ...req.headers, connection: 'close' } : req.headers;
      const agent = secure ? (own ? this.#httpsOnce : this.#https) : own ? this.#httpOnce : this.#http;
      const outgoing = (secure ? https : http).request(url, { method: 'GET', headers, agent, signal: req.signal, ...(this.#lookup ? { lookup: this.#lookup } : {}) });
      let response: IncomingMessage | undefined;
      // Settling twice is harmless; an error after the response reaches the body stream's reader too.
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (!response && outgoing.reusedSocket && STALE_SOCKET_CODES.has(error.code ?? '')) (error as StaleSocketError).staleSocket = true;
        reject(error);
      });
      outgoing.setTimeout(this.#timeoutMs, () => {
        const err = timeoutError(HTTP_TIMEOUT_CODES.idle, `no data from ${url.host} for ${this.#timeoutMs} ms`);
        // Destroyed through the request alone, a body being read would fail with a bare "aborted" (ECONNRESET).
        if (response && !response.destroyed) response.destroy(err);
        outgoing.destroy(err);
      });
      outgoing.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => {
          outgoing.destroy(timeoutError(HTTP_TIMEOUT_CODES.connect, `connecting to ${url.host} took more than ${this.#connectTimeoutMs} ms`));
        }, this.#connectTimeoutMs);
        const done = (): void => clearTimeout(timer);
        socket.once(secure ? 'secureConnect' : 'connect', done);
        socket.once('close', done);
      });
      outgoing.on('response', (res) => {
        response = res;
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      outgoing.end();
    });
  }

  /** Closes every connection, idle or not. */
  async close(): Promise<void> {
    this.#http.destroy();
    this.#httpOnce.destroy();
    this.#https.destroy();
    this.#httpsOnce.destroy();
  }
}
