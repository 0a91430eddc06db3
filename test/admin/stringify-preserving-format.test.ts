import { describe, expect, it } from 'vitest';
import { stringifyPreservingFormat } from '../../src/admin/stringify-preserving-format.js';
import { SUBSCRIBERS_JSON } from './subscribers-file.js';

type Doc = { feeds: Array<Record<string, unknown>>; subscribers: Array<Record<string, unknown>> };

const base: Doc = {
  feeds: [
    { id: 'a', url: 'https://a.example/feed', tags: ['x', 'y'] },
    { id: 'b', url: 'https://b.example/feed', tags: [] },
  ],
  subscribers: [{ id: 's1', name: 'One', email: 'one@example.org', feeds: ['a'] }],
};

const styles: Array<[string, string]> = [
  ['2 spaces', JSON.stringify(base, null, 2) + '\n'],
  ['4 spaces', JSON.stringify(base, null, 4) + '\n'],
  ['tabs', JSON.stringify(base, null, '\t') + '\n'],
  ['CRLF, no trailing newline', JSON.stringify(base, null, 2).replace(/\n/g, '\r\n')],
  ['minified', JSON.stringify(base)],
];

function edited(mutate: (d: Doc) => void): Doc {
  const copy = structuredClone(base);
  mutate(copy);
  return copy;
}

describe.each(styles)('stringifyPreservingFormat (%s)', (_name, original) => {
  const indentOf = (text: string): string | undefined => /\n([ \t]+)"/.exec(text)?.[1];

  it('gives the original text back when nothing changed', () => {
    expect(stringifyPreservingFormat(original, base)).toBe(original);
  });

  it.each([
    ['change a value', (d: Doc) => void (d.subscribers[0]!['name'] = 'Uno')],
    ['append an item', (d: Doc) => void d.subscribers.push({ id: 's2', name: 'Two', email: 'two@example.org', feeds: ['a', 'b'] })],
    ['remove an item', (d: Doc) => void d.feeds.splice(0, 1)],
    ['add a key', (d: Doc) => void (d.subscribers[0]!['paused'] = true)],
    ['delete a key', (d: Doc) => void delete d.subscribers[0]!['feeds']],
  ])('%s: result parses to the new value, keeps indentation, line endings and the end of the file', (_op, mutate) => {
    const value = edited(mutate);
    const out = stringifyPreservingFormat(original, value);
    expect(JSON.parse(out)).toEqual(value);
    expect(indentOf(out)).toBe(indentOf(original));
    expect(out.includes('\r\n')).toBe(original.includes('\r\n'));
    expect(out.replace(/\r\n/g, '').includes('\n')).toBe(original.replace(/\r\n/g, '').includes('\n'));
    expect(out.endsWith('\n')).toBe(original.endsWith('\n'));
  });

  it('formats an appended item exactly as JSON.stringify would in this style (same as its siblings)', () => {
    const value = edited((d) => void d.feeds.push({ id: 'c', url: 'https://c.example/feed', tags: ['z'] }));
    const unit = indentOf(original);
    const eol = original.includes('\r\n') ? '\r\n' : '\n';
    const expected = (unit === undefined ? JSON.stringify(value) : JSON.stringify(value, null, unit.length === 1 && unit !== ' ' ? '\t' : unit.length).replace(/\n/g, eol)) + (original.endsWith('\n') ? '\n' : '');
    expect(stringifyPreservingFormat(original, value)).toBe(expected);
  });
});

describe('stringifyPreservingFormat on a hand-formatted file', () => {
  const doc = JSON.parse(SUBSCRIBERS_JSON) as Doc & { settings: Record<string, unknown> };

  it('copies unchanged parts byte for byte: a change inside one entry leaves every other line alone', () => {
    const value = structuredClone(doc);
    value.subscribers[0]!['paused'] = true;
    const out = stringifyPreservingFormat(SUBSCRIBERS_JSON, value);
    const alice = SUBSCRIBERS_JSON.indexOf('        {\n            "name": "Alice"');
    const aliceEnd = SUBSCRIBERS_JSON.indexOf('\n        },', alice);
    expect(out.slice(0, aliceEnd)).toBe(SUBSCRIBERS_JSON.slice(0, aliceEnd));
    const tail = SUBSCRIBERS_JSON.slice(aliceEnd);
    expect(out.endsWith(tail)).toBe(true);
    expect(out.slice(aliceEnd, out.length - tail.length)).toBe(',\n            "paused": true');
  });

  it('keeps inline objects inline and lays out a new item like the last sibling', () => {
    const value = structuredClone(doc);
    value.feeds.push({ id: 'go', url: 'https://go.dev/blog/feed.atom', tags: ['go'] });
    const out = stringifyPreservingFormat(SUBSCRIBERS_JSON, value);
    expect(out).toContain('        { "id": "lwn", "url": "https://lwn.net/headlines/rss", "tags": ["systems", "linux"] },\n        { "id": "go", "url": "https://go.dev/blog/feed.atom", "tags": ["go"] }\n    ],');
  });

  it('keeps key order, including unusual orders and keys the edit did not touch', () => {
    const value = structuredClone(doc);
    value.subscribers[0]!['name'] = 'Alice A.';
    const out = stringifyPreservingFormat(SUBSCRIBERS_JSON, value);
    expect(out).toContain('{\n            "name": "Alice A.",\n            "id": "alice",');
    expect(out.indexOf('"$schema"')).toBeLessThan(out.indexOf('"settings"'));
  });

  it('keeps an inline array inline when items are added to it', () => {
    const value = structuredClone(doc);
    (value.subscribers[1]!['excludeFeeds'] as string[]).push('rust');
    expect(stringifyPreservingFormat(SUBSCRIBERS_JSON, value)).toContain('"excludeFeeds": ["lwn", "rust"],');
  });

  it('keeps the whitespace before and after the root value around the root value', () => {
    const text = '\n  {"a": 1}\n\n';
    expect(stringifyPreservingFormat(text, { a: 2 })).toBe('\n  {"a": 2}\n\n');
  });

  it('handles strings with escapes, unicode and nested empty containers', () => {
    const text = '{\n  "s": "quote \\" backslash \\\\ \\u00e9",\n  "e": [],\n  "o": {}\n}\n';
    expect(stringifyPreservingFormat(text, JSON.parse(text))).toBe(text);
    const out = stringifyPreservingFormat(text, { s: 'x', e: [1], o: { k: true } });
    expect(JSON.parse(out)).toEqual({ s: 'x', e: [1], o: { k: true } });
    expect(out).toBe('{\n  "s": "x",\n  "e": [1],\n  "o": {\n    "k": true\n  }\n}\n');
  });
});
