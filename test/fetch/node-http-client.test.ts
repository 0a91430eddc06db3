import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchError } from '../../src/fetch/fetch-error.js';
import { fetchFeed } from '../../src/fetch/fetch-feed.js';
import type { HttpRequest } from '../../src/fetch/fetch-feed.js';
import { HTTP_TIMEOUT_CODES, NodeHttpClient } from '../../src/fetch/node-http-client.js';
import { FeedServer } from '../helpers/feed-server.js';

const RSS = '<rss version="2.0"><channel><title>t</title></channel></rss>';

let server: FeedServer;
const clients: NodeHttpClient[] = [];
beforeAll(async () => {
  server = await FeedServer.start();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  server.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(options: Partial<ConstructorParameters<typeof NodeHttpClient>[0]> = {}): NodeHttpClient {
  const c = new NodeHttpClient({ allowPrivate: true, ...options });
  clients.push(c);
  return c;
}

function get(c: NodeHttpClient, path: string, extra: Partial<HttpRequest> = {}) {
  return c.request({ url: new URL(server.url(path)), headers: { accept: '*/*' }, signal: neverAborts(), reset: false, ...extra });
}

function neverAborts(): AbortSignal {
  return new AbortController().signal;
}

/** What the promise rejects with (undefined when it resolves). */
function rejectionOf<E>(promise: Promise<unknown>): Promise<E | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => e as E,
  );
}

async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A TCP server that accepts connections and never says anything: a TLS handshake to it never completes. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const s: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

/**
 * A raw HTTP/1.1 server answering RSS to every request without a Connection header, and closing the connection after
 * a request that carried "Connection: close" (what Python's http.server does).
 */
async function closingServer(): Promise<{ port: number; requests: () => number; connections: () => number; closeAll: () => void; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  let requests = 0;
  const s: Server = createServer((socket) => {
    sockets.push(socket);
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        requests++;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(RSS)}\r\n\r\n${RSS}`);
        if (/^connection:\s*close\s*$/im.test(head)) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as AddressInfo).port,
    requests: () => requests,
    connections: () => sockets.length,
    closeAll: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

describe('NodeHttpClient', () => {
  it('returns status, lower-case headers and the body, and reuses the connection for the next request', async () => {
    server.route('/feed', { headers: { 'content-type': 'application/rss+xml', ETag: '"a"' }, body: RSS });
    const c = client();
    for (let i = 0; i < 3; i++) {
      const res = await get(c, '/feed');
      expect(res.statusCode).toBe(200);
      expect(res.headers['etag']).toBe('"a"');
      expect(await readAll(res.body)).toBe(RSS);
    }
    expect(server.requests.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive', 'keep-alive']);
    expect(server.connections).toBe(1);
  });

  it('a reset request says "Connection: close" and gets a connection of its own', async () => {
    server.route('/feed', { body: RSS });
    const c = client();
    for (let i = 0; i < 3; i++) await readAll((await get(c, '/feed', { reset: true })).body);
    expect(server.requests.map((r) => r.headers.connection)).toEqual(['close', 'close', 'close']);
    expect(server.connections).toBe(3);
  });

  it('keeps a connection the server closes out of the pool: 60 reset requests, 2 at a time, all succeed', async () => {
    // Like Python's http.server: HTTP/1.1 answers without a Connection header, the socket closed after the response
    // when the request asked for it. A keep-alive agent put such sockets back in its pool, and the next request on
    // one failed with "socket hang up".
    const closing = await closingServer();
    try {
      const c = client();
      let next = 0;
      const failures: unknown[] = [];
      await Promise.all(
        [0, 1].map(async () => {
          while (next++ < 60) {
            try {
              const res = await c.request({ url: new URL(`http://127.0.0.1:${closing.port}/feed`), headers: {}, signal: neverAborts(), reset: true });
              expect(await readAll(res.body)).toBe(RSS);
            } catch (error) {
              failures.push(error);
            }
          }
        }),
      );
      expect(failures).toEqual([]);
      expect(closing.requests()).toBe(60);
      expect(closing.connections()).toBe(60);
    } finally {
      await closing.close();
    }
  });

  it('gives up on a TLS handshake that never completes after connectTimeoutMs, and fetchFeed says it could not connect', async () => {
    const silent = await silentServer();
    try {
      const c = client({ connectTimeoutMs: 150, timeoutMs: 10_000 });
      const err = await rejectionOf<NodeJS.ErrnoException>(c.request({ url: new URL(`https://127.0.0.1:${silent.port}/feed`), headers: {}, signal: neverAborts(), reset: false }));
      expect(err?.code).toBe(HTTP_TIMEOUT_CODES.connect);

      const viaFetch = await fetchFeed(`https://127.0.0.1:${silent.port}/feed`, { userAgent: 't', allowPrivate: true, connectTimeoutMs: 150, timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(viaFetch).toBeInstanceOf(FetchError);
      expect((viaFetch as FetchError).kind).toBe('timeout');
      expect((viaFetch as FetchError).message).toMatch(/Could not connect to 127\.0\.0\.1:\d+ within 150 ms/);
    } finally {
      await silent.close();
    }
  });

  it('fails a body that stops arriving for timeoutMs with the idle-timeout code', async () => {
    server.route('/stall', async (_req, res, ctx) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.write('<rss>');
      await ctx.closed;
    });
    const res = await get(client({ timeoutMs: 150 }), '/stall');
    const err = await rejectionOf<NodeJS.ErrnoException>(readAll(res.body));
    expect(err?.code).toBe(HTTP_TIMEOUT_CODES.idle);
  });

  it('fails a server that never answers with the idle-timeout code', async () => {
    server.route('/silent', async (_req, _res, ctx) => {
      await ctx.closed;
    });
    const err = await rejectionOf<NodeJS.ErrnoException>(get(client({ timeoutMs: 150 }), '/silent'));
    expect(err?.code).toBe(HTTP_TIMEOUT_CODES.idle);
  });

  it('is cancelled by its signal before the response, with the signal reason as the cause', async () => {
    server.route('/silent', async (_req, _res, ctx) => {
      await ctx.closed;
    });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = get(client(), '/silent', { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    const err = await rejectionOf<Error>(pending);
    expect(err?.name).toBe('AbortError');
    expect(err?.cause).toBe(reason);
  });

  it('is cancelled by its signal while the body arrives: fetchFeed throws the reason', async () => {
    server.route('/stall', async (_req, res, ctx) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.write('<rss>');
      await ctx.closed;
    });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = fetchFeed(server.url('/stall'), { userAgent: 't', allowPrivate: true, signal: controller.signal, client: client() });
    // Once the head is there (the request was recorded and the first bytes written), cancel mid-body.
    setTimeout(() => controller.abort(reason), 100);
    await expect(pending).rejects.toBe(reason);
  });

  it('sends no credentials written into the URL', async () => {
    server.route('/feed', { body: RSS });
    const c = client();
    const url = new URL(server.url('/feed'));
    url.username = 'user';
    url.password = 'secret';
    await readAll((await c.request({ url, headers: {}, signal: neverAborts(), reset: false })).body);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it.each([
    { when: 'after keepAliveMs without a request', keepAliveMs: 100, headers: {}, waitMs: 400 },
    // Our own idle limit is far longer here: only the server's hint can close it this soon.
    { when: 'a second before the time its server announced (Keep-Alive: timeout=2)', keepAliveMs: 60_000, headers: { 'keep-alive': 'timeout=2' }, waitMs: 1500 },
  ])('closes a pooled connection $when', async ({ keepAliveMs, headers, waitMs }) => {
    const closed: number[] = [];
    const plain = createHttpServer({ keepAliveTimeout: 60_000 }, (_req, res) => res.writeHead(200, headers).end(RSS));
    plain.on('connection', (socket) => socket.on('close', () => closed.push(Date.now())));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const c = client({ keepAliveMs });
      const url = new URL(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`);
      await readAll((await c.request({ url, headers: {}, signal: neverAborts(), reset: false })).body);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      expect(closed).toHaveLength(1);
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('sends a request again on a connection of its own when the pooled one turns out closed by the server', async () => {
    const closing = await closingServer();
    try {
      const c = client();
      const url = new URL(`http://127.0.0.1:${closing.port}/feed`);
      expect(await readAll((await c.request({ url, headers: {}, signal: neverAborts(), reset: false })).body)).toBe(RSS);
      // The server closes the idle connection; the client has not noticed yet (its event loop is busy) when the next
      // request takes that connection from the pool.
      closing.closeAll();
      const until = Date.now() + 100;
      while (Date.now() < until) {
        // busy: no I/O callbacks run
      }
      const res = await c.request({ url, headers: {}, signal: neverAborts(), reset: false });
      expect(await readAll(res.body)).toBe(RSS);
      expect(closing.requests()).toBe(2);
      expect(closing.connections()).toBe(2);
    } finally {
      await closing.close();
    }
  });

  it('refuses, without allowPrivate, a host name that resolves to a private address before connecting', async () => {
    server.route('/feed', { body: RSS });
    const c = new NodeHttpClient({ allowPrivate: false });
    clients.push(c);
    const err = await rejectionOf<NodeJS.ErrnoException>(c.request({ url: new URL(`http://localhost:${server.port}/feed`), headers: {}, signal: neverAborts(), reset: false }));
    expect(err?.code).toBe('ERR_PRIVATE_ADDRESS');
    expect(server.requests).toHaveLength(0);
  });
});
