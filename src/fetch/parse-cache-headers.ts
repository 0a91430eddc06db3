import type { Validators } from '../model/feed.js';

/** Header value as node:http gives it (repeated headers may come as an array). */
export type HeaderValue = string | string[] | undefined;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** IMF-fixdate / RFC 850 / asctime, as RFC 9110 §5.6.7 requires recipients to accept; undefined when invalid. */
export function parseHttpDate(value: string): Date | undefined {
  const v = value.trim();
  if (!/^[A-Za-z]{3,9},? /.test(v)) return undefined;
  // asctime has no zone but means GMT; Date.parse would read it as local time.
  const ms = Date.parse(/^[A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}$/.test(v) ? `${v} GMT` : v);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; seconds from `now`, never negative; undefined if invalid. */
export function parseRetryAfter(value: HeaderValue, now: Date): number | undefined {
  const v = first(value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const date = parseHttpDate(v);
  if (!date) return undefined;
  return Math.max(0, Math.ceil((date.getTime() - now.getTime()) / 1000));
}

/**
 * Freshness lifetime from Cache-Control (RFC 9111 §5.2.2.1 max-age); no-store / no-cache count as 0 (poll
 * normally). Repeated headers are combined; undefined when there is no usable directive.
 */
export function parseMaxAge(value: HeaderValue): number | undefined {
  const v = Array.isArray(value) ? value.join(',') : value;
  if (!v) return undefined;
  let maxAge: number | undefined;
  let noCache = false;
  for (const directive of v.split(',')) {
    const m = /^\s*([A-Za-z-]+)\s*(?:=\s*"?([^",]*)"?)?\s*$/.exec(directive);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    if (name === 'no-store' || name === 'no-cache') noCache = true;
    else if (name === 'max-age' && m[2] !== undefined && /^\d+$/.test(m[2].trim())) maxAge = Number(m[2].trim());
  }
  if (noCache) return 0;
  return maxAge;
}

/** Caching-related facts of one response. */
export interface CacheHeaders {
  /** ETag / Last-Modified to send back next time (RFC 9110 §8.8); absent ones are left out. */
  validators: Validators;
  maxAgeSeconds?: number;
  retryAfterSeconds?: number;
}

// A validator is replayed in a request header: refuse control characters and silly sizes from hostile servers.
function cleanValidator(value: HeaderValue): string | undefined {
  const v = first(value)?.trim();
  if (!v || v.length > 1024 || [...v].some((ch) => ch < ' ' || ch === '\u007f')) return undefined;
  return v;
}

/** Validators, Cache-Control max-age and Retry-After of a response (lower-case header names, as node:http gives them). */
export function parseCacheHeaders(headers: Record<string, HeaderValue>, now: Date): CacheHeaders {
  const validators: Validators = {};
  const etag = cleanValidator(headers['etag']);
  if (etag) validators.etag = etag;
  const lastModified = cleanValidator(headers['last-modified']);
  if (lastModified && parseHttpDate(lastModified)) validators.lastModified = lastModified;
  const result: CacheHeaders = { validators };
  const maxAge = parseMaxAge(headers['cache-control']);
  if (maxAge !== undefined) result.maxAgeSeconds = maxAge;
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) result.retryAfterSeconds = retryAfter;
  return result;
}
