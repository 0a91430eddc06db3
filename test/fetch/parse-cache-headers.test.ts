import { describe, expect, it } from 'vitest';
import { parseCacheHeaders, parseMaxAge, parseRetryAfter } from '../../src/fetch/parse-cache-headers.js';

const NOW = new Date('2025-06-01T08:00:00Z');

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each([
    ['120', 120],
    [' 0 ', 0],
    ['Sun, 01 Jun 2025 08:05:00 GMT', 300],
    ['Sunday, 01-Jun-25 08:05:00 GMT', 300], // RFC 850
    ['Sun Jun  1 08:05:00 2025', 300], // asctime (no zone: GMT per RFC 9110)
    ['Sun, 01 Jun 2025 07:00:00 GMT', 0], // in the past
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
    [['60', '90'], 60],
  ])('%j -> %s', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('parseMaxAge (RFC 9111 §5.2.2.1)', () => {
  it.each([
    ['max-age=600', 600],
    ['public, max-age=3600, must-revalidate', 3600],
    ['max-age="60"', 60],
    ['s-maxage=100', undefined],
    ['no-cache', 0],
    ['max-age=600, no-store', 0],
    ['max-age=abc', undefined],
    [['public', 'max-age=30'], 30],
    [undefined, undefined],
  ])('%j -> %s', (value, expected) => {
    expect(parseMaxAge(value)).toBe(expected);
  });
});

describe('parseCacheHeaders', () => {
  it('collects validators, max-age and Retry-After', () => {
    expect(
      parseCacheHeaders({ etag: 'W/"abc"', 'last-modified': 'Sat, 31 May 2025 10:00:00 GMT', 'cache-control': 'max-age=60', 'retry-after': '30' }, NOW),
    ).toEqual({ validators: { etag: 'W/"abc"', lastModified: 'Sat, 31 May 2025 10:00:00 GMT' }, maxAgeSeconds: 60, retryAfterSeconds: 30 });
  });

  it('drops validators that could not be replayed safely', () => {
    expect(parseCacheHeaders({ etag: '"a\u0001b"', 'last-modified': 'yesterday' }, NOW).validators).toEqual({});
    expect(parseCacheHeaders({ etag: `"${'x'.repeat(2000)}"` }, NOW).validators).toEqual({});
  });
});
