import { createHash } from 'node:crypto';
import { ConfigError } from '../model/errors.js';

// Pure helpers (no I/O): header values for a digest email. node:crypto is computation, not I/O.

/** Input of buildDigestHeaders. */
export interface DigestHeadersInput {
  subscriberId: string;
  /** RFC 2919 list identifier, e.g. "planet-digest.example.org" (angle brackets optional). */
  listId: string;
  /** One-click unsubscribe link. An https URL also gets List-Unsubscribe-Post (RFC 8058); an http one (local setups) does not. */
  unsubscribeHttpsUrl?: string;
  /** Address (with or without "mailto:") that unsubscribes by mail; gets "?subject=unsubscribe <subscriberId>" when it has no query. */
  unsubscribeMailto?: string;
  /** Message-ID, with or without angle brackets. */
  messageId: string;
  date: Date;
}

/**
 * Headers every digest carries (RFC 5322 Message-ID/Date included for completeness; transports that set those from
 * their own fields may drop them):
 * - List-Unsubscribe (RFC 2369) with the https link and/or the mailto address;
 * - List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058), only when the link is https (RFC 8058 §3.1);
 * - List-Id (RFC 2919);
 * - Auto-Submitted: auto-generated (RFC 3834 §5) and Precedence: bulk / X-Auto-Response-Suppress: OOF, so vacation
 *   responders (including Exchange's) stay quiet.
 * Every value has CR, LF and other control characters removed.
 */
export function buildDigestHeaders(input: DigestHeadersInput): Record<string, string> {
  const headers: Record<string, string> = {};
  const targets: string[] = [];
  let oneClick = false;
  if (input.unsubscribeHttpsUrl) {
    const url = parseHttpUrl(input.unsubscribeHttpsUrl);
    targets.push(`<${url.href}>`);
    oneClick = url.protocol === 'https:';
  }
  if (input.unsubscribeMailto) targets.push(`<${mailtoUri(input.unsubscribeMailto, input.subscriberId)}>`);
  if (targets.length > 0) headers['List-Unsubscribe'] = targets.join(', ');
  if (oneClick) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  headers['List-Id'] = `<${listIdValue(input.listId)}>`;
  headers['Auto-Submitted'] = 'auto-generated';
  headers['Precedence'] = 'bulk';
  headers['X-Auto-Response-Suppress'] = 'OOF';
  headers['Message-ID'] = `<${input.messageId.replace(/^<|>$/g, '')}>`;
  headers['Date'] = formatRfc5322Date(input.date);
  for (const key of Object.keys(headers)) headers[key] = sanitizeHeaderValue(headers[key] as string);
  return headers;
}

/**
 * Message-ID of a digest, stable for the same content (RFC 5322 §3.6.4): sha256 over subscriber, the cursor it starts
 * from and the entry keys (order-insensitive). Batches that add nothing for this subscriber do not change it, so a
 * digest re-sent after a crash carries the same Message-ID, mail clients and providers can recognise the duplicate,
 * and outbox files keep the same name.
 */
export function digestMessageId(input: { subscriberId: string; fromSeq: number; entryKeys: string[]; domain: string }): string {
  const keys = [...input.entryKeys].sort();
  const hash = createHash('sha256')
    // JSON keeps the fields unambiguous (no separator can be forged by an id containing it).
    .update(JSON.stringify(['planet-digest/v1', input.subscriberId, input.fromSeq, keys]))
    .digest('hex');
  return `<digest.${hash.slice(0, 40)}@${messageIdDomain(input.domain)}>`;
}

/** Remove CR, LF and every other control character (C0, DEL, C1, U+2028/2029) and collapse the gaps to one space. */
export function sanitizeHeaderValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/** RFC 5322 §3.3 date-time in UTC ("Tue, 25 Nov 2025 18:27:00 +0000"); toUTCString's "GMT" is an obsolete zone. */
export function formatRfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

function parseHttpUrl(raw: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(sanitizeHeaderValue(raw));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError(undefined, [{ path: 'unsubscribeHttpsUrl', message: `expected an http(s) URL, got "${raw}"` }], {
      hint: 'Set DIGEST_BASE_URL to the public https address of `planet-digest serve`.',
    });
  }
  return url;
}

function mailtoUri(raw: string, subscriberId: string): string {
  const address = sanitizeHeaderValue(raw).replace(/^mailto:/i, '');
  if (!/^[^\s@<>]+@[^\s@<>?]+(\?\S*)?$/.test(address)) {
    throw new ConfigError(undefined, [{ path: 'DIGEST_UNSUBSCRIBE_MAILTO', message: `expected an email address, got "${raw}"` }]);
  }
  if (address.includes('?')) return `mailto:${encodeURI(address)}`;
  return `mailto:${encodeURI(address)}?subject=${encodeURIComponent(`unsubscribe ${subscriberId}`)}`;
}

// RFC 2919 §2: list-id = list-label "." list-id-namespace, made of dot-atom text.
function listIdValue(raw: string): string {
  const id = sanitizeHeaderValue(raw)
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/g, '-')
    .replace(/^\.+|\.+$/g, '')
    .replace(/\.{2,}/g, '.');
  if (!id.includes('.')) {
    throw new ConfigError(undefined, [{ path: 'listId', message: `"${raw}" is not a list id such as planet-digest.example.org (RFC 2919)` }]);
  }
  return id;
}

function messageIdDomain(raw: string): string {
  let ascii = raw.trim().toLowerCase();
  try {
    // IDNA: an internationalised domain becomes its xn-- form instead of losing its letters below.
    ascii = new URL(`http://${ascii}`).hostname;
  } catch {
    // not a host name; the filter below keeps what is usable
  }
  const domain = ascii
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/^\.+|\.+$/g, '');
  // .invalid (RFC 2606) rather than a made-up domain when the sender address gave none.
  return domain || 'planet-digest.invalid';
}
