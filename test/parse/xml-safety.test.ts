import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../src/model/errors.js';
import { parseFeed } from '../../src/parse/parse-feed.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'parse');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const options = { feedId: 'hostile', url: 'https://example.com/feed.xml' };

async function rejection(text: string): Promise<ParseError> {
  try {
    await parseFeed(text, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return err as ParseError;
  }
  throw new Error('parseFeed did not reject');
}

describe('entity expansion attacks are refused before the XML parser runs', () => {
  it.each([
    ['billion laughs (nested general entities)', 'billion-laughs.xml', /entity "lol1" whose value refers to other entities.*billion laughs/],
    ['nested parameter entities', 'parameter-entity-laughs.xml', /entity "bomb" whose value refers to other entities/],
    ['quadratic blowup (one big entity used many times)', 'quadratic-blowup.xml', /entity expansion would exceed 1000000 characters/],
  ])('%s', async (_name, file, message) => {
    const heapBefore = process.memoryUsage().heapUsed;
    const err = await rejection(fixture(file));
    expect(err.code).toBe('PARSE_FAILED');
    expect(err.message).toMatch(/^refused: /);
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/refused for safety/);
    // Nothing was expanded: memory use stayed small (a billion-laughs expansion would need gigabytes).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('what the libraries do on their own: sax does not expand DTD entities, so rss-parser fails on the reference', async () => {
    // This is why the pre-scan exists: without it, a feed using a harmless internal entity would fail, and the
    // attack files would fail with an unhelpful "Invalid character entity" instead of a clear refusal.
    await expect(new Parser().parseString(fixture('billion-laughs.xml'))).rejects.toThrow(/Invalid character entity/);
    await expect(new Parser().parseString(fixture('internal-entity.xml'))).rejects.toThrow(/Invalid character entity/);
  });
});

describe('external entities and DTDs are never fetched (XXE)', () => {
  let server: Server;
  let port = 0;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/xml-dtd' }).end('<!ENTITY leak "LEAKED">');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a reference to an external general entity (file:) is refused with an XXE message', async () => {
    const err = await rejection(fixture('xxe-system-file.xml'));
    expect(err.message).toMatch(/refused: the document refers to external entity "xxe"; external entities are never fetched \(XXE protection\)/);
    expect(err.message).not.toMatch(/root:/);
  });

  it('an external DTD and external parameter entities are ignored: the feed parses and nothing is requested', async () => {
    const feed = await parseFeed(fixture('xxe-remote.xml').replaceAll('{{PORT}}', String(port)), options);
    expect(feed.title).toBe('Feed with remote DTD references');
    expect(feed.entries.map((e) => e.title)).toEqual(['One']);
    // Give any stray request time to arrive before asserting there was none.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toEqual([]);
  });
});

describe('harmless internal entities still work', () => {
  it('expands literal internal entities as text (not markup) and leaves CDATA alone', async () => {
    const feed = await parseFeed(fixture('internal-entity.xml'), options);
    expect(feed.title).toBe('Example & Co news');
    expect(feed.entries[0]).toMatchObject({ id: 'tag:example.com,2024:post-1', title: 'Hello from Example & Co', summary: 'CDATA keeps &site; literally' });
  });
});
