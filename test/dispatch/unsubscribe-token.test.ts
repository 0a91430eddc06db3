import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/model/errors.js';
import { signUnsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '../../src/dispatch/unsubscribe-token.js';

const SECRET = 'test-secret-0123456789abcdef';
const ISSUED = new Date('2025-11-25T07:00:00.000Z');
const DAY = 86_400_000;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function swapChar(s: string, index: number): string {
  const c = s[index] as string;
  return s.slice(0, index) + (c === 'A' ? 'B' : 'A') + s.slice(index + 1);
}

describe('signUnsubscribeToken / verifyUnsubscribeToken', () => {
  const token = signUnsubscribeToken(SECRET, { subscriberId: 'alice', issuedAt: ISSUED });
  const [body, sig] = token.split('.') as [string, string];

  it('produces a compact, URL-safe token', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(token.length).toBeLessThan(80);
  });

  it.each([
    ['alice'],
    ['team.alpha'], // dots in the id must survive the "<seconds>.<id>" payload
    ['zoë-ünïcode'],
    ['a.b.c.d'],
  ])('round-trips subscriber id %j', (subscriberId) => {
    const t = signUnsubscribeToken(SECRET, { subscriberId, issuedAt: ISSUED });
    expect(verifyUnsubscribeToken(SECRET, t, { now: new Date(ISSUED.getTime() + DAY) })).toEqual({ ok: true, subscriberId, issuedAt: ISSUED });
  });

  const tamperedBody = Buffer.from(`${Math.floor(ISSUED.getTime() / 1000)}.mallory`).toString('base64url');
  const lastChar = sig[sig.length - 1] as string;
  // The last base64url character of a 32-byte MAC has 2 unused bits: flipping the lowest gives another spelling of the same bytes.
  const otherSpelling = sig.slice(0, -1) + B64URL[B64URL.indexOf(lastChar) ^ 1];

  it.each<[string, string, { now: Date; maxAgeDays?: number }, string]>([
    ['tampered payload', `${tamperedBody}.${sig}`, { now: ISSUED }, 'bad-signature'],
    ['tampered signature', `${body}.${swapChar(sig, 10)}`, { now: ISSUED }, 'bad-signature'],
    ['truncated signature', `${body}.${sig.slice(0, 20)}`, { now: ISSUED }, 'bad-signature'],
    ['non-canonical signature spelling', `${body}.${otherSpelling}`, { now: ISSUED }, 'bad-signature'],
    ['expired (91 days)', token, { now: new Date(ISSUED.getTime() + 91 * DAY) }, 'expired'],
    ['expired (custom max age)', token, { now: new Date(ISSUED.getTime() + 2 * DAY), maxAgeDays: 1 }, 'expired'],
    ['empty', '', { now: ISSUED }, 'malformed'],
    ['no dot', 'abcdef', { now: ISSUED }, 'malformed'],
    ['three parts', `${body}.${sig}.x`, { now: ISSUED }, 'malformed'],
    ['bad characters', `${body}.${sig.slice(0, -1)}=`, { now: ISSUED }, 'malformed'],
    ['empty part', `.${sig}`, { now: ISSUED }, 'malformed'],
    ['huge', `${'a'.repeat(5000)}.${sig}`, { now: ISSUED }, 'malformed'],
  ])('rejects %s', (_name, candidate, options, reason) => {
    expect(verifyUnsubscribeToken(SECRET, candidate, options)).toEqual({ ok: false, reason });
  });

  it('proves the non-canonical spelling decodes to the same MAC (so the check above is meaningful)', () => {
    expect(otherSpelling).not.toBe(sig);
    expect(Buffer.from(otherSpelling, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
  });

  it('rejects a token signed with another secret', () => {
    const foreign = signUnsubscribeToken('another-secret-0123456789', { subscriberId: 'alice', issuedAt: ISSUED });
    expect(verifyUnsubscribeToken(SECRET, foreign, { now: ISSUED })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('accepts a token exactly at the default 90-day limit, not a second later', () => {
    expect(verifyUnsubscribeToken(SECRET, token, { now: new Date(ISSUED.getTime() + 90 * DAY) }).ok).toBe(true);
    expect(verifyUnsubscribeToken(SECRET, token, { now: new Date(ISSUED.getTime() + 90 * DAY + 1000) })).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses an empty secret with a ConfigError naming DIGEST_SECRET', () => {
    expect(() => signUnsubscribeToken('', { subscriberId: 'alice', issuedAt: ISSUED })).toThrow(ConfigError);
    expect(() => verifyUnsubscribeToken('', token, { now: ISSUED })).toThrow(/DIGEST_SECRET/);
  });
});

describe('unsubscribeUrl', () => {
  it.each([
    ['https://digest.example.org', 'https://digest.example.org/unsubscribe?token=T.S'],
    ['https://digest.example.org/', 'https://digest.example.org/unsubscribe?token=T.S'],
    ['https://example.org/planet/', 'https://example.org/planet/unsubscribe?token=T.S'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/unsubscribe?token=T.S'],
  ])('%s -> %s', (base, expected) => {
    expect(unsubscribeUrl(base, 'T.S')).toBe(expected);
  });

  it('builds a link whose token verifies', () => {
    const token = signUnsubscribeToken(SECRET, { subscriberId: 'bob', issuedAt: ISSUED });
    const url = new URL(unsubscribeUrl('https://digest.example.org', token));
    expect(verifyUnsubscribeToken(SECRET, url.searchParams.get('token') ?? '', { now: ISSUED })).toMatchObject({ ok: true, subscriberId: 'bob' });
  });

  it.each(['not a url', 'ftp://example.org'])('refuses base %j with a ConfigError', (base) => {
    expect(() => unsubscribeUrl(base, 'T.S')).toThrow(ConfigError);
  });
});
