import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/model/errors.js';
import { buildDigestHeaders, digestMessageId, formatRfc5322Date, sanitizeHeaderValue } from '../../src/dispatch/build-digest-headers.js';

const DATE = new Date('2025-11-25T07:00:05.000Z');
const base = {
  subscriberId: 'alice',
  listId: 'planet-digest.example.org',
  messageId: '<digest.abc@example.org>',
  date: DATE,
};

describe('buildDigestHeaders', () => {
  it('gives every list and auto-reply header for an https link and a mailto', () => {
    expect(
      buildDigestHeaders({ ...base, unsubscribeHttpsUrl: 'https://digest.example.org/unsubscribe?token=abc.def', unsubscribeMailto: 'unsubscribe@example.org' }),
    ).toEqual({
      'List-Unsubscribe': '<https://digest.example.org/unsubscribe?token=abc.def>, <mailto:unsubscribe@example.org?subject=unsubscribe%20alice>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': '<planet-digest.example.org>',
      'Auto-Submitted': 'auto-generated',
      Precedence: 'bulk',
      'X-Auto-Response-Suppress': 'OOF',
      'Message-ID': '<digest.abc@example.org>',
      Date: 'Tue, 25 Nov 2025 07:00:05 +0000',
    });
  });

  it.each<[string, Partial<Parameters<typeof buildDigestHeaders>[0]>, string | undefined, boolean]>([
    ['https link only', { unsubscribeHttpsUrl: 'https://d.example.org/unsubscribe?token=t' }, '<https://d.example.org/unsubscribe?token=t>', true],
    // RFC 8058 §3.1: one-click needs an HTTPS URI; a local http link is listed but not one-click.
    ['http link (local setup)', { unsubscribeHttpsUrl: 'http://127.0.0.1:8080/unsubscribe?token=t' }, '<http://127.0.0.1:8080/unsubscribe?token=t>', false],
    ['mailto only, with prefix', { unsubscribeMailto: 'mailto:leave@example.org' }, '<mailto:leave@example.org?subject=unsubscribe%20alice>', false],
    ['mailto with its own query', { unsubscribeMailto: 'leave@example.org?subject=stop' }, '<mailto:leave@example.org?subject=stop>', false],
    ['no unsubscribe target', {}, undefined, false],
  ])('%s', (_name, extra, listUnsubscribe, oneClick) => {
    const headers = buildDigestHeaders({ ...base, ...extra });
    expect(headers['List-Unsubscribe']).toBe(listUnsubscribe);
    expect('List-Unsubscribe-Post' in headers).toBe(oneClick);
  });

  it('normalises the Message-ID and List-Id brackets', () => {
    const headers = buildDigestHeaders({ ...base, messageId: 'digest.abc@example.org', listId: '<planet-digest.example.org>' });
    expect(headers['Message-ID']).toBe('<digest.abc@example.org>');
    expect(headers['List-Id']).toBe('<planet-digest.example.org>');
  });

  it('keeps CR, LF and control characters out of every value (header injection)', () => {
    const headers = buildDigestHeaders({
      subscriberId: 'alice\r\nBcc: evil@example.org',
      listId: 'planet-digest.example.org\r\nBcc: evil@example.org',
      unsubscribeHttpsUrl: 'https://d.example.org/unsubscribe?token=a\r\nX-Injected: 1',
      unsubscribeMailto: 'leave@example.org',
      messageId: '<id@example.org>\r\nX-Injected: 2',
      date: DATE,
    });
    for (const [key, value] of Object.entries(headers)) {
      // eslint-disable-next-line no-control-regex
      expect(value, key).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
    expect(headers['List-Id']).toMatch(/^<[^<>\s]+>$/);
    expect(headers['List-Unsubscribe']).not.toMatch(/\s(?!<)/); // the only whitespace separates the two targets
  });

  it.each([
    ['listId without a dot', { listId: 'planetdigest' }],
    ['non-http unsubscribe link', { unsubscribeHttpsUrl: 'javascript:alert(1)' }],
    ['mailto that is not an address', { unsubscribeMailto: 'nobody' }],
  ])('refuses %s with a ConfigError', (_name, extra) => {
    expect(() => buildDigestHeaders({ ...base, ...extra })).toThrow(ConfigError);
  });
});

describe('digestMessageId', () => {
  const input = { subscriberId: 'alice', fromSeq: 10, entryKeys: ['k1', 'k2', 'k3'], domain: 'example.org' };

  it('is an RFC 5322 msg-id on the given domain', () => {
    expect(digestMessageId(input)).toMatch(/^<digest\.[0-9a-f]{40}@example\.org>$/);
  });

  it('is stable for the same digest content, whatever the key order', () => {
    expect(digestMessageId({ ...input })).toBe(digestMessageId(input));
    expect(digestMessageId({ ...input, entryKeys: ['k3', 'k1', 'k2'] })).toBe(digestMessageId(input));
  });

  it.each([
    ['another subscriber', { subscriberId: 'bob' }],
    ['another range start', { fromSeq: 11 }],
    ['another entry', { entryKeys: ['k1', 'k2', 'k4'] }],
    ['one entry fewer', { entryKeys: ['k1', 'k2'] }],
    // JSON framing: shifting text between fields must not collide
    ['shifted fields', { subscriberId: 'alice","k1', entryKeys: ['k2', 'k3'] }],
  ])('changes with %s', (_name, change) => {
    expect(digestMessageId({ ...input, ...change })).not.toBe(digestMessageId(input));
  });

  it.each([
    ['Example.ORG', '@example.org>'],
    ['bücher.example', '@xn--bcher-kva.example>'],
    ['', '@planet-digest.invalid>'],
    ['evil>\r\n.org', '@evil.org>'],
  ])('domain %j ends as %s', (domain, suffix) => {
    expect(digestMessageId({ ...input, domain }).endsWith(suffix)).toBe(true);
  });
});

describe('sanitizeHeaderValue / formatRfc5322Date', () => {
  it.each([
    ['plain', 'plain'],
    ['a\r\nb', 'a b'],
    ['a\nb\rc', 'a b c'],
    ['tab\there', 'tab here'],
    ['nul\u0000byte', 'nul byte'],
    ['line\u2028separator', 'line separator'],
    ['c1\u0085nel', 'c1 nel'],
    ['  padded  \r\n', 'padded'],
    ['Ünïcödé ✓', 'Ünïcödé ✓'],
  ])('%j -> %j', (input, expected) => {
    expect(sanitizeHeaderValue(input)).toBe(expected);
  });

  it('formats dates with a numeric zone', () => {
    expect(formatRfc5322Date(new Date('2024-02-29T23:59:59Z'))).toBe('Thu, 29 Feb 2024 23:59:59 +0000');
  });
});
