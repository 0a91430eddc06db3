import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type { Validators } from '../model/feed.js';
import { FetchError } from './fetch-error.js';
import { isPrivateAddress } from './is-private-address.js';
import { HTTP_TIMEOUT_CODES, NodeHttpClient } from './node-http-client.js';
import { parseCacheHeaders } from './parse-cache-headers.js';
import type { HeaderValue } from './parse-cache-headers.js';
import { formatBytes, readCappedBody } from './read-capped-body.js';
import { readFeedFile } from './read-feed-file.js';

/** One GET as fetchFeed sends it (redirects are fetchFeed's business: one request per hop). */
export interface HttpRequest {
  url: URL;
  /** Lower-case names. */
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Send "Connection: close": this request gets a connection of its own (see fetchHttp). */
  reset: boolean;
}

/** A response head and its unread body. */
export interface HttpResponse {
  statusCode: number;
  /** Lower-case names; repeated headers as node:http gives them. */
  headers: IncomingHttpHeaders;
  body: Readable;
}

/** What fetchFeed needs from an HTTP client (NodeHttpClient; tests give one with their own DNS). */
export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** How fetchFeed fetches one feed. */
export interface FetchOptions {
  /** Validators from the previous poll, sent as If-None-Match / If-Modified-Since (RFC 9110 §13.1). */
  validators?: Validators;
  /** Sent as User-Agent (CR/LF removed). */
  userAgent: string;
  /** Total time for the whole fetch including redirects and body, ms (default 30000). */
  timeoutMs?: number;
  /** TCP+TLS connect timeout per connection, ms (default 10000). */
  connectTimeoutMs?: number;
  /** Maximum body size AFTER decompression, bytes (default 10 MiB). */
  maxBytes?: number;
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number;
  /** false: refuse hosts that are or resolve to loopback/private/link-local/unique-local/CGNAT/multicast addresses. */
  allowPrivate: boolean;
  /** Local feed files are read only under these directories; a relative path resolves against the first. */
  allowedFileRoots?: string[];
  /** Cancels the fetch; the signal's reason is thrown as is (not a FetchError). */
  signal?: AbortSignal;
  /** Clock for Retry-After dates (default: real time). */
  now?: () => Date;
  /** HTTP client to use (one shared per run, or a test's). It must do its own address guarding: only literal IPs are checked here. */
  client?: HttpClient;
  /**
   * Plain-HTTP origins that answered a conditional request with a whole body, shared by the fetches of one run (see
   * fetchHttp): their later requests get connections of their own too. fetchFeed adds to it.
   */
  bodyOrigins?: Set<string>;
}

/** Result of a fetch that did not fail. */
export type FetchOutcome =
  | {
      kind: 'ok';
      status: number;
      /** Decoded (Content-Encoding and gzip removed) body bytes; charset decoding is decodeFeedBytes' job. */
      body: Buffer;
      contentType?: string;
      /** URL the body came from, after redirects (base for relative links); a file: URL for local files. */
      finalUrl: string;
      /** The last 301/308 target when every hop up to it was permanent: the feed moved there. */
      permanentRedirectTo?: string;
      /** Validators of this response, to send next time. */
      validators: Validators;
      /** Cache-Control max-age of the response (no-cache/no-store: 0). */
      maxAgeSeconds?: number;
      /** Body length in bytes (decoded). */
      bytes: number;
    }
  | {
      kind: 'not-modified';
      /** The response's validators, or the ones sent when the 304 carried none. */
      validators: Validators;
      maxAgeSeconds?: number;
      finalUrl: string;
      permanentRedirectTo?: string;
    };

/** Accept header: feed types first, generic XML/JSON after, anything else last (servers doing content negotiation pick a feed). */
export const FEED_ACCEPT =
  'application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.5, */*;q=0.1';

const DEFAULTS = { timeoutMs: 30_000, connectTimeoutMs: 10_000, maxBytes: 10 * 1024 * 1024, maxRedirects: 5 };
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type Location = { kind: 'http'; url: URL } | { kind: 'file' } | { kind: 'other'; scheme: string };

function classifyLocation(input: string): Location {
  // Drive-letter, absolute and dot-relative paths are files even though some parse as URLs ("C:\feeds").
  if (/^[A-Za-z]:[\\/]/.test(input) || /^[/\\.]/.test(input)) return { kind: 'file' };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { kind: 'file' };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'http', url };
  if (url.protocol === 'file:') return { kind: 'file' };
  return { kind: 'other', scheme: url.protocol };
}

function firstHeader(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function headerLine(value: string): string {
  return value.replace(/[\r\n\0]+/g, ' ').trim();
}

/** Literal IP hosts never go through DNS, so the lookup guard cannot see them: check them here, on every hop. */
function assertPublicLiteral(url: URL, original: string): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) {
    throw new FetchError('refused', `Refusing to fetch ${url.href}: ${host} is a private or loopback address; set allowPrivate to allow feeds on the local network`, {
      url: original,
      hint: 'enable allowPrivate only if you trust every configured feed URL',
    });
  }
}

function httpAdvice(status: number, retryAfter: number | undefined): string {
  if (status === 404) return 'check the feed URL';
  if (status === 410) return 'the feed was removed; it will not be polled again until its URL changes in the configuration';
  if (status === 401 || status === 403) return 'the server refuses access; check the URL (feeds needing credentials are not supported)';
  if (status === 429) return retryAfter !== undefined ? `rate limited; will retry after ${retryAfter} s` : 'rate limited; will retry later';
  if (status >= 500) return retryAfter !== undefined ? `server error; will retry after ${retryAfter} s` : 'server error; will retry later';
  return 'check the feed URL';
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

function messageOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === 'string' && m && !parts.includes(m)) parts.push(m);
  }
  return parts.join(': ') || String(err);
}

/** Map a low-level error (node:http, net, tls, zlib) to a FetchError with a kind and advice. */
function classifyError(err: unknown, url: string, options: { connectTimeoutMs: number }): FetchError {
  const codes = errorCodes(err);
  const has = (re: RegExp): boolean => codes.some((c) => re.test(c));
  const detail = messageOf(err);
  const host = ((): string => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (has(/^ERR_PRIVATE_ADDRESS$/)) {
    return new FetchError('refused', `Refusing to fetch ${url}: ${detail}; set allowPrivate to allow feeds on the local network`, { url, cause: err });
  }
  if (codes.includes(HTTP_TIMEOUT_CODES.connect)) return new FetchError('timeout', `Could not connect to ${host} within ${options.connectTimeoutMs} ms (${url}); will retry later`, { url, cause: err });
  if (codes.includes(HTTP_TIMEOUT_CODES.idle) || codes.includes('ETIMEDOUT')) return new FetchError('timeout', `Timed out fetching ${url} (${detail}); will retry later`, { url, cause: err });
  if (has(/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EAI_NODATA)$/)) return new FetchError('dns', `Cannot resolve host ${host} (${url}): check the feed URL`, { url, cause: err });
  if (has(/^(ERR_TLS|ERR_SSL|ERR_OSSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/) || has(/CERT/)) {
    return new FetchError('tls', `TLS error fetching ${url}: ${detail}; the site's certificate or TLS setup is broken`, { url, cause: err });
  }
  if (has(/^(Z_|ERR__|ERR_BROTLI)/)) return new FetchError('network', `Corrupt compressed body from ${url}: ${detail}; will retry later`, { url, cause: err });
  if (has(/^ECONNREFUSED$/)) return new FetchError('network', `Connection refused by ${host} (${url}); the server is down or the port is wrong, will retry later`, { url, cause: err });
  return new FetchError('network', `Network error fetching ${url}: ${detail}; will retry later`, { url, cause: err });
}

/** Destroy a body we will not read further (a body read to its end leaves its connection reusable). */
function closeBody(body: Readable): void {
  body.on('error', () => undefined);
  if (!body.destroyed) body.destroy();
}

/** Bytes of an unwanted body (redirect, 304, error page) read so its connection can be reused. */
const DISCARD_LIMIT = 64 * 1024;

function discard(body: Readable): void {
  // Read a little so the connection can be reused, but never a hostile endless body.
  let seen = 0;
  body.on('error', () => undefined);
  body.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) body.destroy();
  });
  body.resume();
}

async function fetchHttp(start: URL, original: string, options: FetchOptions, client: HttpClient, signal: AbortSignal): Promise<FetchOutcome> {
  const now = options.now ?? (() => new Date());
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
  const maxRedirects = options.maxRedirects ?? DEFAULTS.maxRedirects;
  const sent = options.validators ?? {};
  const headers: Record<string, string> = {
    'user-agent': headerLine(options.userAgent),
    accept: FEED_ACCEPT,
    'accept-encoding': 'gzip, deflate, br',
  };
  if (sent.etag) headers['if-none-match'] = headerLine(sent.etag);
  if (sent.lastModified) headers['if-modified-since'] = headerLine(sent.lastModified);

  const visited = new Set<string>();
  let current = start;
  let allPermanent = true;
  let permanentRedirectTo: string | undefined;
  for (let redirects = 0; ; ) {
    if (!options.allowPrivate) assertPublicLiteral(current, original);
    current.hash = '';
    visited.add(current.href);
    // A plain-HTTP request expecting a body gets a connection of its own ("Connection: close"). Servers that write a
    // response's head and body in two sends without TCP_NODELAY (Python's http.server, many small self-hosted feed
    // services) meet the client's delayed ACK on a kept-alive connection: Nagle holds the body until that ACK, ~40 ms
    // per feed on loopback or a LAN; a new connection ACKs at once. A body is expected without validators, or from an
    // origin that sent one to a conditional request this run (it ignores conditional GET, or its feeds change). Other
    // conditional requests mostly get a 304, which has no body, and keep reusing connections, as HTTPS always does
    // (its handshake costs more; such servers are rare). 220 feeds from one such server, 2 at a time: first poll
    // 7.6 -> 4.2 s; a cycle of 200s ignoring validators 3.5-4.7 -> 1.1 s; a cycle of 304s stays at 0.6 s.
    const conditional = headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined;
    const reset = current.protocol === 'http:' && (!conditional || options.bodyOrigins?.has(current.origin) === true);
    const res = await client.request({ url: current, headers, signal, reset });
    const status = res.statusCode;

    if (REDIRECTS.has(status)) {
      discard(res.body);
      const location = firstHeader(res.headers['location']);
      if (!location) throw new FetchError('redirect', `HTTP ${status} from ${current.href} without a Location header; check the feed URL`, { url: original, status });
      let next: URL;
      try {
        next = new URL(location, current);
      } catch (err) {
        throw new FetchError('redirect', `HTTP ${status} from ${current.href} redirects to an invalid URL "${headerLine(location).slice(0, 200)}"; check the feed URL`, { url: original, status, cause: err });
      }
      next.hash = '';
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new FetchError('redirect', `${current.href} redirects to a ${next.protocol} URL; only http and https redirects are followed`, { url: original, status });
      }
      if (visited.has(next.href)) throw new FetchError('redirect', `Redirect loop: ${current.href} redirects back to ${next.href}; check the feed URL`, { url: original, status });
      if (++redirects > maxRedirects) throw new FetchError('redirect', `Too many redirects (more than ${maxRedirects}) starting at ${original}; update the feed URL to its final address`, { url: original, status });
      if (status === 301 || status === 308) {
        if (allPermanent) permanentRedirectTo = next.href;
      } else {
        allPermanent = false;
      }
      current = next;
      continue;
    }

    const cache = parseCacheHeaders(res.headers, now());
    const moved = permanentRedirectTo !== undefined ? { permanentRedirectTo } : {};
    const maxAge = cache.maxAgeSeconds !== undefined ? { maxAgeSeconds: cache.maxAgeSeconds } : {};

    if (status === 304) {
      discard(res.body);
      // RFC 9110 §15.4.5: a 304 may omit validators; keep using the ones we sent.
      const validators: Validators = { ...sent, ...cache.validators };
      return { kind: 'not-modified', validators, finalUrl: current.href, ...moved, ...maxAge };
    }

    if (status >= 200 && status < 300) {
      if (conditional && current.protocol === 'http:') options.bodyOrigins?.add(current.origin);
      const contentEncoding = res.headers['content-encoding'];
      const encoding = Array.isArray(contentEncoding) ? contentEncoding.join(',') : contentEncoding;
      const declaredLength = Number(firstHeader(res.headers['content-length']));
      if (!encoding && Number.isFinite(declaredLength) && declaredLength > maxBytes) {
        closeBody(res.body);
        throw new FetchError('too-large', `Body of ${current.href} is ${formatBytes(declaredLength)} (Content-Length), over the ${formatBytes(maxBytes)} limit; raise maxBytes if the feed really is that large`, {
          url: original,
          status,
        });
      }
      let body: Buffer;
      try {
        body = await readCappedBody(res.body, { maxBytes, contentEncoding: encoding, url: current.href });
      } finally {
        closeBody(res.body);
      }
      const contentType = firstHeader(res.headers['content-type']);
      return {
        kind: 'ok',
        status,
        body,
        ...(contentType ? { contentType } : {}),
        finalUrl: current.href,
        ...moved,
        validators: cache.validators,
        ...maxAge,
        bytes: body.length,
      };
    }

    discard(res.body);
    const retryAfter = status === 429 || status === 503 ? cache.retryAfterSeconds : undefined;
    const where = current.href === start.href ? current.href : `${current.href} (redirected from ${original})`;
    throw new FetchError('http', `HTTP ${status} from ${where}: ${httpAdvice(status, retryAfter)}`, {
      url: original,
      status,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      ...(status === 410 ? { gone: true } : {}),
    });
  }
}

/**
 * Fetch one feed over http(s) or from a local file. Conditional GET with the given validators, manual bounded
 * redirects (each hop re-checked against the private-address guard), streaming decompression with the size cap on
 * decoded bytes, total and connect timeouts. Returns ok / not-modified; every failure is a thrown FetchError,
 * except cancellation through options.signal, which throws the signal's reason.
 */
export async function fetchFeed(url: string, options: FetchOptions): Promise<FetchOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  options.signal?.throwIfAborted();

  const location = classifyLocation(url);
  let ownClient: HttpClient | undefined;
  try {
    if (location.kind === 'other') {
      throw new FetchError('refused', `Refusing to fetch ${url}: unsupported scheme "${location.scheme}"; use an http(s) URL or a local file path`, { url });
    }
    if (location.kind === 'file') {
      return await readFeedFile(url, { allowedFileRoots: options.allowedFileRoots, maxBytes: options.maxBytes ?? DEFAULTS.maxBytes, validators: options.validators, signal });
    }
    const client = options.client ?? (ownClient = new NodeHttpClient({ allowPrivate: options.allowPrivate, connectTimeoutMs, timeoutMs }));
    return await fetchHttp(location.url, url, options, client, signal);
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (err instanceof FetchError) throw err;
    if (timeout.aborted) {
      throw new FetchError('timeout', `Timed out after ${timeoutMs} ms fetching ${url}; the server is slow or unreachable, will retry later`, { url, cause: err });
    }
    throw classifyError(err, url, { connectTimeoutMs });
  } finally {
    if (ownClient) await ownClient.close().catch(() => undefined);
  }
}
