import { access, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/model/logger.js';
import { signUnsubscribeToken, unsubscribeUrl } from '../../src/dispatch/unsubscribe-token.js';
import { createServer, type DigestServer } from '../../src/serve/create-server.js';
import { createServeFixture, SECRET, subscriberIds, subscribersText, type ServeFixture } from './serve-fixture.js';

const DAY_MS = 86_400_000;
const ONE_CLICK = { 'content-type': 'application/x-www-form-urlencoded' };

function tokenFor(subscriberId: string, issuedAt = new Date(), secret = SECRET): string {
  return signUnsubscribeToken(secret, { subscriberId, issuedAt });
}

function getPage(server: DigestServer, token: string, method = 'GET'): Promise<Response> {
  return fetch(`${server.url}/unsubscribe?token=${encodeURIComponent(token)}`, { method });
}

/** The RFC 8058 one-click POST a mail provider sends. */
function postOneClick(server: DigestServer, query: string): Promise<Response> {
  return fetch(`${server.url}/unsubscribe${query}`, { method: 'POST', headers: ONE_CLICK, body: 'List-Unsubscribe=One-Click' });
}

function postToken(server: DigestServer, token: string): Promise<Response> {
  return postOneClick(server, `?token=${encodeURIComponent(token)}`);
}

/** Flips one character of the token's signature part to another base64url character. */
function tamperSignature(token: string): string {
  const i = token.length - 5;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

/** Keeps alice's signature but claims to be for `other`: the attack a forwarded digest would invite. */
function swapSubscriber(token: string, other: string): string {
  const [body, mac] = token.split('.') as [string, string];
  const seconds = Buffer.from(body, 'base64url').toString('utf8').split('.')[0];
  return `${Buffer.from(`${seconds}.${other}`, 'utf8').toString('base64url')}.${mac}`;
}

/** Sends raw bytes and returns the status line (for request targets fetch would never produce). */
function rawStatusLine(server: DigestServer, requestLine: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

describe('one-click unsubscribe (RFC 8058)', () => {
  let fx: ServeFixture;
  let server: DigestServer;
  let original: string;

  beforeEach(async () => {
    fx = await createServeFixture();
    server = await fx.start();
    original = await readFile(fx.file, 'utf8');
  });
  afterEach(() => fx.dispose());

  it('binds where it is told, on 127.0.0.1 here', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('GET with a valid token shows a confirmation form and changes nothing', async () => {
    const token = tokenFor('alice');
    // Mail scanners follow links, sometimes more than once, and may send HEAD first.
    const head = await getPage(server, token, 'HEAD');
    expect(head.status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await getPage(server, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const html = await res.text();
      expect(html).toContain('Unsubscribe from this digest?');
      expect(html).toMatch(/<form method="post" action="[^"]+"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe<\/button><\/form>/);
      expect(html).not.toMatch(/<script/i);
    }
    expect(await readFile(fx.file, 'utf8')).toBe(original);
    expect(await subscriberIds(fx.file)).toEqual(['alice', 'bob', 'team-news']);
  });

  it('the form posts back to the same path and token, also behind a path prefix', async () => {
    const token = tokenFor('alice');
    const html = await (await getPage(server, token)).text();
    const action = (/action="([^"]+)"/.exec(html)?.[1] ?? '').replace(/&amp;/g, '&');
    // The link in the email (DIGEST_BASE_URL with a path, as behind a reverse proxy) is where the page was loaded from.
    const pageUrl = unsubscribeUrl('https://digest.example.org/planet', token);
    const target = new URL(action, pageUrl);
    expect(target.pathname).toBe('/planet/unsubscribe');
    expect(target.searchParams.get('token')).toBe(token);
    // Direct (no prefix) it resolves to our own endpoint.
    expect(new URL(action, `${server.url}/unsubscribe?token=x`).href).toBe(`${server.url}/unsubscribe?token=${encodeURIComponent(token)}`);
  });

  it.each(['alice', 'bob', 'team-news'])('POST removes %s from subscribers.json and keeps the rest byte for byte', async (id) => {
    const res = await postToken(server, tokenFor(id));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('You are unsubscribed');
    expect(html).not.toContain('already');
    const rest = ['alice', 'bob', 'team-news'].filter((x) => x !== id);
    expect(await readFile(fx.file, 'utf8')).toBe(subscribersText(rest));
    expect(await subscriberIds(fx.file)).toEqual(rest);
    // The editor's lock is released and the previous version kept.
    await expect(access(`${fx.file}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(`${fx.file}.bak`, 'utf8')).toBe(original);
  });

  it('a second POST answers "already" and changes nothing; the metric counts one unsubscribe', async () => {
    const token = tokenFor('bob');
    expect((await postToken(server, token)).status).toBe(200);
    const after = await readFile(fx.file, 'utf8');
    const again = await postToken(server, token);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already unsubscribed');
    expect(await readFile(fx.file, 'utf8')).toBe(after);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^planet_digest_unsubscribes_total 1$/m);
    // The token is a credential: it must not be written to the logs.
    expect(JSON.stringify(fx.logger.lines)).not.toContain(token);
    expect(fx.logger.lines.filter((l) => l.msg === 'unsubscribed (one-click)').map((l) => l.obj)).toEqual([{ subscriber: 'bob' }]);
  });

  it('concurrent POSTs: the same token twice gives one "done" and one "already"; different subscribers both go', async () => {
    const token = tokenFor('alice');
    const pages = await Promise.all([postToken(server, token), postToken(server, token), postToken(server, tokenFor('team-news'))]);
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    const texts = await Promise.all(pages.map((p) => p.text()));
    const aliceAlready = texts.slice(0, 2).filter((t) => t.includes('already unsubscribed'));
    expect(aliceAlready).toHaveLength(1);
    expect(texts[2]).not.toContain('already');
    expect(await readFile(fx.file, 'utf8')).toBe(subscribersText(['bob']));
  });

  it('a valid token for an id not in the file answers "already" and touches nobody else', async () => {
    // Ids are case-sensitive: "Alice" is not "alice".
    const res = await postToken(server, tokenFor('Alice'));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('already unsubscribed');
    expect(await readFile(fx.file, 'utf8')).toBe(original);
  });

  const now = Date.now();
  const badTokens: Array<[string, () => string]> = [
    ['tampered signature', () => tamperSignature(tokenFor('alice'))],
    ['payload swapped to another subscriber', () => swapSubscriber(tokenFor('alice'), 'bob')],
    ['expired (91 days old)', () => tokenFor('alice', new Date(now - 91 * DAY_MS))],
    ['signed with another secret', () => tokenFor('alice', new Date(), 'some-other-secret')],
    ['garbage', () => 'not-a-token'],
    ['empty', () => ''],
    ['two dots', () => `${tokenFor('alice')}.x`],
    ['very long', () => 'A'.repeat(5000) + '.' + 'B'.repeat(43)],
    ['non-ASCII', () => 'älice.signatur€'],
  ];

  it('bad tokens get 403 with one identical body for every reason, on GET and POST, and change nothing', async () => {
    const bodies = new Set<string>();
    const statuses = new Set<number>();
    const requests: Array<() => Promise<Response>> = [
      ...badTokens.flatMap(([, make]) => [() => getPage(server, make()), () => postToken(server, make())]),
      // No token at all, or the token in the wrong parameter.
      () => postOneClick(server, ''),
      () => postOneClick(server, `?t=${tokenFor('alice')}`),
      () => fetch(`${server.url}/unsubscribe`),
    ];
    for (const request of requests) {
      const res = await request();
      statuses.add(res.status);
      bodies.add(`${res.headers.get('content-type')}|${res.headers.get('content-length')}|${await res.text()}`);
    }
    expect([...statuses]).toEqual([403]);
    expect(bodies.size).toBe(1);
    const [body] = [...bodies];
    expect(body).toContain('This link is not valid');
    expect(body).not.toContain('<form');
    expect(await readFile(fx.file, 'utf8')).toBe(original);
    // The counter proves the requests reached the handler and none of them unsubscribed anybody.
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^planet_digest_unsubscribes_total 0$/m);
  });

  it('a token within its lifetime works, one past tokenMaxAgeDays does not', async () => {
    expect((await getPage(server, tokenFor('alice', new Date(now - 89 * DAY_MS)))).status).toBe(200);
    const strict = await fx.start({ tokenMaxAgeDays: 7 });
    expect((await getPage(strict, tokenFor('alice', new Date(now - 6 * DAY_MS)))).status).toBe(200);
    const old = tokenFor('alice', new Date(now - 8 * DAY_MS));
    expect((await getPage(strict, old)).status).toBe(403);
    expect((await postToken(strict, old)).status).toBe(403);
    expect(await readFile(fx.file, 'utf8')).toBe(original);
  });

  it('a body larger than the bound does not stop the POST: the token decides', async () => {
    const res = await fetch(`${server.url}/unsubscribe?token=${tokenFor('alice')}`, { method: 'POST', headers: ONE_CLICK, body: `List-Unsubscribe=One-Click&pad=${'x'.repeat(64 * 1024)}` });
    expect(res.status).toBe(200);
    expect(await subscriberIds(fx.file)).toEqual(['bob', 'team-news']);
  });

  it('when the file cannot be edited: 500 error page, file untouched, error logged without the token', async () => {
    const broken = original.replace('"subscribers": [', '"subscribers": [,');
    await writeFile(fx.file, broken, 'utf8');
    const token = tokenFor('alice');
    const res = await postToken(server, token);
    expect(res.status).toBe(500);
    const html = await res.text();
    expect(html).toContain('Something went wrong');
    expect(html).not.toContain('JSON');
    expect(await readFile(fx.file, 'utf8')).toBe(broken);
    const errors = fx.logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0]?.obj)).toContain('not valid JSON');
    expect(JSON.stringify(fx.logger.lines)).not.toContain(token);
  });

  it.each([
    ['PUT', '/unsubscribe', 'GET, HEAD, POST'],
    ['DELETE', '/unsubscribe', 'GET, HEAD, POST'],
    ['PATCH', '/unsubscribe', 'GET, HEAD, POST'],
    ['OPTIONS', '/unsubscribe', 'GET, HEAD, POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/healthz', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
    ['PUT', '/metrics', 'GET, HEAD'],
  ])('%s %s -> 405 with Allow', async (method, pathname, allow) => {
    const res = await fetch(`${server.url}${pathname}?token=${tokenFor('alice')}`, { method, body: method === 'GET' ? undefined : 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await res.text()).toBe('method not allowed\n');
    expect(await readFile(fx.file, 'utf8')).toBe(original);
  });

  it.each(['/', '/unsubscribe/', '/unsubscribe/alice', '/Unsubscribe', '/healthz/x', '/admin', '//evil.example/unsubscribe'])('GET %s -> 404', async (pathname) => {
    const res = await fetch(`${server.url}${pathname}?token=${tokenFor('alice')}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not found\n');
  });

  it('a request target that is not a URL gets 400, not 500', async () => {
    expect(await rawStatusLine(server, 'GET http://[ HTTP/1.1')).toBe('HTTP/1.1 400 Bad Request');
    // Absolute-form (as a forward proxy would send it) still reaches the endpoint.
    expect(await rawStatusLine(server, `GET http://127.0.0.1/unsubscribe?token=${tokenFor('alice')} HTTP/1.1`)).toBe('HTTP/1.1 200 OK');
  });

  it('the removal survives a restart of server and store', async () => {
    const token = tokenFor('alice');
    expect((await postToken(server, token)).status).toBe(200);
    await fx.restart();
    const restarted = await fx.start();
    expect(await subscriberIds(fx.file)).toEqual(['bob', 'team-news']);
    const again = await postToken(restarted, token);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already unsubscribed');
    expect(await readFile(fx.file, 'utf8')).toBe(subscribersText(['bob', 'team-news']));
  });

  it('refuses to start without a secret, naming DIGEST_SECRET', async () => {
    const start = createServer({ host: '127.0.0.1', port: 0, store: fx.store, secret: '', logger: silentLogger, unsubscribe: async () => true });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/DIGEST_SECRET/);
  });
});
