import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../model/errors.js';

/** Default lifetime of an unsubscribe link: a digest found in an old mailbox should still unsubscribe. */
export const DEFAULT_TOKEN_MAX_AGE_DAYS = 90;

/** Result of verifyUnsubscribeToken. */
export type UnsubscribeTokenCheck =
  | { ok: true; subscriberId: string; issuedAt: Date }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

// Domain separation: a MAC made with the same secret for another purpose can never pass as an unsubscribe token.
const CONTEXT = 'planet-digest/unsubscribe/v1\n';
const B64URL = /^[A-Za-z0-9_-]+$/;
const PAYLOAD = /^(\d{1,12})\.([\s\S]+)$/;
const MAC_BYTES = 32;
// Guards the HMAC and the decoder against absurd inputs from a hostile query string.
const MAX_TOKEN_LENGTH = 1024;

/**
 * Sign a compact unsubscribe token: base64url("<issuedAtSeconds>.<subscriberId>") + "." + base64url(HMAC-SHA256).
 * The subscriber id is readable by the subscriber (it is theirs); the MAC makes it unforgeable (RFC 8058 §3 asks that
 * the one-click URL identify the recipient without further confirmation).
 */
export function signUnsubscribeToken(secret: string, payload: { subscriberId: string; issuedAt: Date }): string {
  assertSecret(secret);
  if (!payload.subscriberId) throw new TypeError('signUnsubscribeToken: subscriberId is empty');
  const seconds = Math.floor(payload.issuedAt.getTime() / 1000);
  if (!Number.isFinite(seconds) || seconds < 0) throw new TypeError('signUnsubscribeToken: issuedAt is not a valid date');
  const body = Buffer.from(`${seconds}.${payload.subscriberId}`, 'utf8').toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/**
 * Check a token from an unsubscribe link. The MAC is compared in constant time and checked before the payload is
 * trusted; a token older than `maxAgeDays` (default 90) is "expired". A token "from the future" with a valid MAC is
 * accepted: only we could have signed it, and rejecting it would punish a clock correction.
 */
export function verifyUnsubscribeToken(secret: string, token: string, options: { now: Date; maxAgeDays?: number }): UnsubscribeTokenCheck {
  assertSecret(secret);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [body, signature] = parts as [string, string];
  if (!B64URL.test(body) || !B64URL.test(signature)) return { ok: false, reason: 'malformed' };

  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secret, body);
  // timingSafeEqual needs equal lengths; a wrong length is a bad signature, and checking it leaks nothing secret.
  // The canonical-encoding check refuses the other spellings of the same MAC (unused low bits of the last character).
  if (given.length !== MAC_BYTES || given.toString('base64url') !== signature || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }

  const match = PAYLOAD.exec(Buffer.from(body, 'base64url').toString('utf8'));
  if (!match) return { ok: false, reason: 'malformed' };
  const issuedAt = new Date(Number(match[1]) * 1000);
  const maxAgeMs = (options.maxAgeDays ?? DEFAULT_TOKEN_MAX_AGE_DAYS) * 86_400_000;
  if (options.now.getTime() - issuedAt.getTime() > maxAgeMs) return { ok: false, reason: 'expired' };
  return { ok: true, subscriberId: match[2] as string, issuedAt };
}

/** The one-click unsubscribe link: `${baseUrl}/unsubscribe?token=…` (a path in baseUrl is kept, trailing slashes are not). */
export function unsubscribeUrl(baseUrl: string, token: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (cause) {
    throw new ConfigError(undefined, [{ path: 'DIGEST_BASE_URL', message: `not a URL: "${baseUrl}"` }], { cause, hint: 'Set DIGEST_BASE_URL to the public address of `planet-digest serve`, e.g. https://digest.example.org' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(undefined, [{ path: 'DIGEST_BASE_URL', message: `expected an http(s) URL, got "${baseUrl}"` }]);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/unsubscribe`;
  url.search = '';
  url.hash = '';
  url.searchParams.set('token', token);
  return url.href;
}

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(CONTEXT).update(body).digest();
}

function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new ConfigError(undefined, [{ path: 'DIGEST_SECRET', message: 'the unsubscribe secret is empty' }], { hint: 'Set DIGEST_SECRET to a long random value, e.g. $(openssl rand -hex 32).' });
  }
}
