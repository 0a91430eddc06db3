import { decodeHTMLStrict } from 'entities';
import type { XmlDocument } from './parse-xml-document.js';
import type { RawEntry, RawFeed, TextValue } from './raw-feed.js';
import { isHttpUrl, resolveBase, resolveUrl } from './resolve-url.js';
import { attr, childElements, childrenNamed, firstChild, hasElementChildren, serializeChildren, textContent, type XmlNode } from './xml-node.js';

/**
 * Reads the feed and its entries out of a parsed Atom / RSS / RDF document. Relative links resolve against xml:base
 * (inherited element by element, XML Base §4.2), then against `documentUrl`.
 */
export function readXmlFeed(doc: XmlDocument, documentUrl: string, rootAttributes: Record<string, string>): RawFeed {
  const rootBase = resolveBase(rootAttributes['xml:base'], documentUrl);
  if (doc.kind === 'atom') return readAtom(doc, resolveBase(attr(doc.feed, 'xml:base'), documentUrl));
  const channelBase = resolveBase(attr(doc.feed, 'xml:base'), rootBase);
  const feed: RawFeed = {
    format: doc.kind,
    entries: doc.items.map((item) => readRssItem(item, resolveBase(attr(item, 'xml:base'), channelBase))),
    warnings: [...doc.warnings],
  };
  const channel = doc.feed;
  const title = firstChild(channel, 'rss:title', 'dc:title', 'atom:title');
  if (title) feed.title = rssText(title, 'auto');
  feed.link = rssLink(channel, channelBase);
  const description = firstChild(channel, 'rss:description', 'dc:description', 'atom:subtitle', 'itunes:subtitle', 'itunes:summary');
  if (description) feed.description = rssText(description, description['#name'].startsWith('itunes:') ? 'auto' : 'html');
  return feed;
}

function readAtom(doc: XmlDocument, feedBase: string | undefined): RawFeed {
  const root = doc.feed;
  const feed: RawFeed = {
    format: 'atom',
    entries: doc.items.map((entry) => readAtomEntry(entry, resolveBase(attr(entry, 'xml:base'), feedBase))),
    warnings: [...doc.warnings],
  };
  const title = firstChild(root, 'atom:title', 'dc:title');
  if (title) feed.title = atomText(title);
  const link = atomAlternate(root, feedBase);
  if (link) feed.link = link;
  const subtitle = firstChild(root, 'atom:subtitle', 'atom:tagline', 'dc:description');
  if (subtitle) feed.description = atomText(subtitle);
  return feed;
}

function readAtomEntry(entry: XmlNode, base: string | undefined): RawEntry {
  const raw: RawEntry = { authors: [] };
  const id = firstChild(entry, 'atom:id');
  if (id) raw.id = textContent(id).trim() || undefined;
  raw.link = atomAlternate(entry, base);
  const title = firstChild(entry, 'atom:title', 'dc:title');
  if (title) raw.title = atomText(title);
  const summary = firstChild(entry, 'atom:summary', 'dc:description') ?? firstChild(entry, 'media:description') ?? firstChild(firstChild(entry, 'media:group'), 'media:description');
  if (summary) raw.summary = summary['#name'].startsWith('media:') ? rssText(summary, 'auto') : atomText(summary);
  const content = childrenNamed(entry, 'atom:content').find((c) => attr(c, 'src') === undefined);
  if (content) raw.content = atomText(content, true);
  // feedparser keeps the last of repeated date elements; so do we, for comparable results.
  raw.published = lastText(entry, 'atom:published') ?? lastText(entry, 'atom:issued') ?? lastText(entry, 'atom:created') ?? lastText(entry, 'dc:date');
  raw.updated = lastText(entry, 'atom:updated') ?? lastText(entry, 'atom:modified') ?? lastText(entry, 'dcterms:modified');
  raw.authors = atomAuthors(entry);
  if (!raw.authors.length) raw.authors = childrenNamed(entry, 'dc:creator').map((n) => plainName(textContent(n))).filter(Boolean);
  return raw;
}

function readRssItem(item: XmlNode, base: string | undefined): RawEntry {
  const raw: RawEntry = { authors: [] };
  const guid = firstChild(item, 'rss:guid');
  if (guid) {
    raw.guid = textContent(guid).trim() || undefined;
  }
  // RSS 1.0 items are identified by rdf:about (usually their URL).
  const atomId = firstChild(item, 'atom:id');
  raw.id = (atomId ? textContent(atomId).trim() : attr(item, 'rdf:about')?.trim()) || undefined;
  raw.link = rssLink(item, base);
  if (!raw.link && raw.guid && attr(guid, 'isPermaLink')?.trim().toLowerCase() !== 'false') {
    // RSS 2.0: a guid that is a permalink is the item's URL.
    const asUrl = resolveUrl(raw.guid, base);
    if (isHttpUrl(asUrl) && /^https?:\/\//i.test(raw.guid)) raw.link = asUrl;
  }
  const title = firstChild(item, 'rss:title', 'dc:title', 'atom:title', 'media:title') ?? firstChild(firstChild(item, 'media:group'), 'media:title');
  if (title) raw.title = title['#name'] === 'atom:title' ? atomText(title) : rssText(title, 'auto');
  const description =
    firstChild(item, 'rss:description', 'dc:description', 'atom:summary', 'itunes:summary', 'itunes:subtitle', 'media:description') ??
    firstChild(firstChild(item, 'media:group'), 'media:description');
  if (description) {
    raw.summary = description['#name'] === 'atom:summary' ? atomText(description) : rssText(description, /^(itunes|media):/.test(description['#name']) ? 'auto' : 'html');
  }
  // content:encoded is the standard; xhtml:body, <body> and <fullitem> are older conventions feedparser also reads.
  const encoded = firstChild(item, 'content:encoded', 'xhtml:body', 'rss:body', 'atom:content', 'rss:fullitem');
  if (encoded) {
    if (encoded['#name'] === 'xhtml:body' || encoded['#name'] === 'rss:body') raw.content = { value: serializeChildren(encoded), type: 'xhtml' };
    else if (encoded['#name'] === 'atom:content') raw.content = atomText(encoded, true);
    else raw.content = rssText(encoded, 'html');
  }
  raw.published =
    lastText(item, 'rss:pubDate') ?? lastText(item, 'dc:date') ?? lastText(item, 'atom:published') ?? lastText(item, 'dcterms:issued') ?? lastText(item, 'dcterms:created');
  raw.updated = lastText(item, 'atom:updated') ?? lastText(item, 'dcterms:modified');
  raw.authors = firstKindOnly(item);
  if (!raw.authors.length) raw.authors = atomAuthors(item);
  return raw;
}

/** Authors from the first author element kind present, so "author" and "dc:creator" for the same person do not repeat. */
function firstKindOnly(item: XmlNode): string[] {
  for (const kind of ['rss:author', 'dc:creator', 'dc:author', 'itunes:author']) {
    const names = childrenNamed(item, kind).map((n) => plainName(textContent(n))).filter(Boolean);
    if (names.length) return [...new Set(names)];
  }
  return [];
}

function atomAuthors(node: XmlNode): string[] {
  const out: string[] = [];
  for (const a of childrenNamed(node, 'atom:author')) {
    const name = textContent(firstChild(a, 'atom:name')).trim();
    const email = textContent(firstChild(a, 'atom:email')).trim();
    const v = collapse(name || email || (hasElementChildren(a) ? '' : textContent(a)));
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The site link of an RSS channel or item: <link> text, else an atom:link rel=alternate. */
function rssLink(node: XmlNode | undefined, base: string | undefined): string | undefined {
  for (const link of childrenNamed(node, 'rss:link')) {
    const href = attr(link, 'href') ?? textContent(link);
    const resolved = resolveUrl(href, resolveBase(attr(link, 'xml:base'), base));
    if (resolved) return resolved;
  }
  return atomAlternate(node, base);
}

const HTML_TYPES = new Set(['', 'text/html', 'application/xhtml+xml', 'html']);

/** The alternate link among atom:link children (rel defaults to alternate; an HTML type is preferred). */
function atomAlternate(node: XmlNode | undefined, base: string | undefined): string | undefined {
  const candidates: Array<{ href: string; html: boolean }> = [];
  for (const link of childrenNamed(node, 'atom:link')) {
    const rel = (attr(link, 'rel') ?? 'alternate').trim().toLowerCase();
    if (rel !== 'alternate' && rel !== 'http://www.iana.org/assignments/relation/alternate') continue;
    const linkBase = resolveBase(attr(link, 'xml:base'), base);
    const href = resolveUrl(attr(link, 'href') ?? (hasElementChildren(link) ? undefined : textContent(link)), linkBase);
    if (!href) continue;
    candidates.push({ href, html: HTML_TYPES.has((attr(link, 'type') ?? '').trim().toLowerCase()) });
  }
  return (candidates.find((c) => c.html) ?? candidates[0])?.href;
}

/**
 * An Atom text construct (RFC 4287 §3.1) or Atom 0.3 content construct (type = MIME type, mode = xml|escaped|base64).
 * `isContent` allows other MIME types (§4.1.3): text/* is text, XML types are inline markup, anything else is skipped.
 */
function atomText(node: XmlNode, isContent = false): TextValue | undefined {
  const type = (attr(node, 'type') ?? '').trim().toLowerCase();
  const mode = (attr(node, 'mode') ?? '').trim().toLowerCase();
  let value = textContent(node);
  // Atom 1.0 §4.1.3.3: content of another media type is Base64 (feedparser applies this to text constructs too).
  const binary = type.includes('/') && !type.startsWith('text/') && !/[/+]xml$/.test(type) && !type.endsWith('/html');
  if (mode === 'base64' || (binary && mode === '')) {
    const compact = value.replace(/\s+/g, '');
    const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(compact) && compact.length % 4 === 0 ? Buffer.from(compact, 'base64').toString('utf8') : undefined;
    // Only text is worth keeping: a binary payload (an image as content) or a value that was not Base64 after all
    // (an unknown media type holding plain text) stays as written.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point here
    if (decoded !== undefined && !/[\u0000-\u0008\ufffd]/.test(decoded)) value = decoded;
    else if (mode === 'base64') return undefined;
    if (binary) return { value, type: 'text' };
  }
  const isXhtml = type === 'xhtml' || type === 'application/xhtml+xml' || (isContent && /[/+]xml$/.test(type));
  if (isXhtml && mode !== 'escaped' && mode !== 'base64') {
    // Atom 1.0 wraps XHTML in one <div> that is not part of the content (§3.1.1.3).
    const kids = childElements(node);
    const onlyDiv = kids.length === 1 && kids[0]?.$ns?.local === 'div' && textContent({ '#name': '', $$: (node.$$ ?? []).filter((c) => c !== kids[0]) }).trim() === '';
    return { value: serializeChildren(onlyDiv && type === 'xhtml' ? kids[0] : node).trim(), type: 'xhtml' };
  }
  if (hasElementChildren(node) && mode !== 'base64') {
    // Markup where text was declared: keep it as markup rather than lose it.
    return { value: serializeChildren(node), type: 'xhtml' };
  }
  if (type === 'html' || type === 'text/html' || (mode === 'escaped' && type !== 'text/plain' && type !== 'text')) return { value, type: 'html' };
  if (type === '' || type === 'text' || type.startsWith('text/')) return { value, type: 'text' };
  if (isContent) return undefined;
  return { value, type: 'text' };
}

/** RSS text: markup children are serialized; otherwise `html` says it is escaped HTML, `auto` guesses (feedparser's rule). */
function rssText(node: XmlNode, mode: 'auto' | 'html'): TextValue {
  if (hasElementChildren(node)) return { value: serializeChildren(node), type: 'xhtml' };
  const value = textContent(node);
  if (mode === 'html' || looksLikeHtml(value)) return { value, type: 'html' };
  return { value, type: 'text' };
}

/**
 * feedparser's guess for text that does not say its type (RSS titles): it is HTML when it has an end tag or an
 * entity reference, and every entity is a real HTML entity.
 */
export function looksLikeHtml(s: string): boolean {
  if (!/<\/[A-Za-z][\w-]*\s*>|<[A-Za-z][\w-]*(\s[^<>]*)?\/?>|&#?\w+;/.test(s)) return false;
  for (const m of s.matchAll(/&(\w+);/g)) {
    if (decodeHTMLStrict(m[0]) === m[0]) return false;
  }
  return true;
}

function lastText(node: XmlNode, name: string): string | undefined {
  const all = childrenNamed(node, name);
  for (let i = all.length - 1; i >= 0; i--) {
    const v = textContent(all[i]).trim();
    if (v) return v;
  }
  return undefined;
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Author name from RSS's "email (Name)", "Name <email>" or "Name (email)"; anything else as is. */
export function plainName(value: string): string {
  const s = collapse(value);
  const emailThenName = /^([^\s()<>@]+@[^\s()<>]+)\s*\((.+)\)$/.exec(s);
  if (emailThenName?.[2]) return emailThenName[2].trim();
  const nameThenEmail = /^(.+?)\s*[(<]\s*(?:mailto:)?[^\s()<>@]+@[^\s()<>]+\s*[)>]$/.exec(s);
  if (nameThenEmail?.[1]) return nameThenEmail[1].replace(/^["']|["']$/g, '').trim();
  return s;
}
