import { createHash } from 'node:crypto';

/** The fields an entry's identity may come from, as the feed gives them (link already absolute). */
export interface IdentitySource {
  /** RSS <guid>. */
  guid?: string;
  /** Atom <id> or JSON Feed "id". */
  id?: string;
  /** The entry's link (absolute). */
  link?: string;
  title?: string;
  /** The date string as written in the feed (published, else updated). */
  date?: string;
  /**
   * Last resort, hashed only when title and date are both empty (e.g. the entry's text and author), so that two
   * entries with nothing else to tell them apart do not collapse into one. A function is called only then (the text
   * can be costly to produce).
   */
  fallback?: string | (() => string);
}

/** Longest id kept; longer ids (seen in the wild: whole URLs with huge query strings) are cut, which stays stable. */
const MAX_ID_LENGTH = 2048;

/**
 * Identity of an entry within its feed: the guid / atom:id / JSON Feed id when present, else the link, else
 * "sha1:" + hex SHA-1 of title + "\n" + date (of "\n\n" + `fallback` when both are empty). Editing an entry's title or content does not change its identity
 * unless the feed gives neither id nor link (then there is nothing better to go on).
 */
export function identifyEntry(raw: IdentitySource): string {
  for (const candidate of [raw.guid, raw.id, raw.link]) {
    const v = candidate?.trim();
    if (v) return v.length > MAX_ID_LENGTH ? v.slice(0, MAX_ID_LENGTH) : v;
  }
  const title = (raw.title ?? '').trim();
  const date = (raw.date ?? '').trim();
  const basis = title || date ? `${title}\n${date}` : `\n\n${((typeof raw.fallback === 'function' ? raw.fallback() : raw.fallback) ?? '').trim()}`;
  return 'sha1:' + createHash('sha1').update(basis, 'utf8').digest('hex');
}

/**
 * Short storage key of an entry: base64url(SHA-256(feedId + "\n" + id)), first 22 characters (132 bits).
 * This format is a storage contract: changing it makes every stored entry look new, so it must never change.
 */
export function entryKey(feedId: string, id: string): string {
  return createHash('sha256').update(`${feedId}\n${id}`, 'utf8').digest('base64url').slice(0, 22);
}

/** Query parameters that only track the click (campaign, ad and mailing-list ids); they never select content. */
const TRACKING_PARAMS = new Set([
  'fbclid', 'gclid', 'dclid', 'gclsrc', 'msclkid', 'yclid', 'twclid', 'igshid', 'mc_cid', 'mc_eid', '_hsenc', '_hsmi',
  'mkt_tok', 'oly_anon_id', 'oly_enc_id', 'vero_conv', 'vero_id', 'wickedid', 'rb_clickid', 's_cid', '__s',
]);

function isTrackingParam(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('utm_') || TRACKING_PARAMS.has(n);
}

/**
 * Canonical form of a link for cross-feed duplicate detection (the same article reached through two feeds).
 * Conservative on purpose, because two different articles must never collapse into one: lower-cases scheme and host,
 * drops the default port, the fragment, tracking parameters (utm_*, fbclid, gclid, …), an empty query and a trailing
 * slash on a non-root path. It keeps the scheme (http vs https), "www.", the remaining parameters and their order.
 * A string that is not an absolute http(s) URL is returned trimmed and otherwise unchanged.
 */
export function canonicalLink(url: string): string {
  const trimmed = url.trim();
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    return trimmed;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return trimmed;
  u.hash = '';
  u.username = '';
  u.password = '';
  const kept: Array<[string, string]> = [];
  for (const [k, v] of u.searchParams) if (!isTrackingParam(k)) kept.push([k, v]);
  if (kept.length !== [...u.searchParams].length) {
    // Rebuild only when something was dropped, so untouched queries keep their exact encoding.
    u.search = kept.length ? '?' + new URLSearchParams(kept).toString() : '';
  }
  if (u.search === '') u.search = ''; // drops a bare trailing "?"
  if (u.pathname.length > 1 && u.pathname.endsWith('/')) u.pathname = u.pathname.replace(/\/+$/, '') || '/';
  return u.toString().replace(/\?$/, '');
}
