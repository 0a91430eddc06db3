import Parser from 'rss-parser';
import { ParseError } from '../model/errors.js';
import { NOT_WELL_FORMED } from './parse-warnings.js';
import { mapOutsideCdata } from './prepare-xml.js';
import { TEXT_NODE, type XmlNode } from './xml-node.js';

/** XML feed families rss-parser recognizes by their root element. */
export type XmlFeedKind = 'atom' | 'rss' | 'rdf';

/** A parsed XML feed: the feed-level element (Atom <feed> or RSS/RDF <channel>) and the item elements. */
export interface XmlDocument {
  kind: XmlFeedKind;
  /** Atom <feed>, or the RSS / RDF <channel> (undefined when an RDF document has none). */
  feed?: XmlNode;
  /** <item> / <entry> elements, in document order. */
  items: XmlNode[];
  /** Repairs that were needed (NOT_WELL_FORMED-prefixed). */
  warnings: string[];
}

/** Namespace URIs and the canonical prefixes element names get (see XmlNode['#name']). */
const NAMESPACES: Record<string, string> = {
  'http://www.w3.org/2005/Atom': 'atom',
  'http://purl.org/atom/ns#': 'atom', // Atom 0.3
  'http://purl.org/rss/1.0/': 'rss',
  'http://my.netscape.com/rdf/simple/0.9/': 'rss', // RSS 0.90
  'http://backend.userland.com/rss2': 'rss',
  'http://backend.userland.com/rss': 'rss',
  'http://blogs.law.harvard.edu/tech/rss': 'rss',
  'http://purl.org/net/rss1.1#': 'rss',
  'http://www.w3.org/1999/02/22-rdf-syntax-ns#': 'rdf',
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://purl.org/dc/elements/1.0/': 'dc',
  'http://purl.org/dc/terms/': 'dcterms',
  'http://purl.org/rss/1.0/modules/content/': 'content',
  'http://www.w3.org/1999/xhtml': 'xhtml',
  'http://www.itunes.com/dtds/podcast-1.0.dtd': 'itunes',
  'http://search.yahoo.com/mrss/': 'media',
  'http://search.yahoo.com/mrss': 'media',
  'http://www.w3.org/XML/1998/namespace': 'xml',
};

/** Well-known URIs for prefixes that feeds use without declaring them. */
const CONVENTIONAL_PREFIXES: Record<string, string> = {
  dc: 'http://purl.org/dc/elements/1.1/',
  dcterms: 'http://purl.org/dc/terms/',
  content: 'http://purl.org/rss/1.0/modules/content/',
  atom: 'http://www.w3.org/2005/Atom',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  itunes: 'http://www.itunes.com/dtds/podcast-1.0.dtd',
  media: 'http://search.yahoo.com/mrss/',
  xhtml: 'http://www.w3.org/1999/xhtml',
};

const MALFORMED_HINT = 'Check the feed in a validator (https://validator.w3.org/feed/) and tell its publisher.';

interface SaxFailure {
  message: string;
  line?: number;
  column?: number;
}

/**
 * Parses XML text with rss-parser (xml2js over sax, strict mode), which also decides the format from the root element.
 * rss-parser's own field mapping is not used: it loses xml:base, content types and mixed XHTML content, and it throws
 * on some real inputs (an invalid Atom date reaches `new Date(x).toISOString()`). customFields hand us each item's
 * and the feed's raw ordered children instead, and the normalizer reads those.
 *
 * Not-well-formed documents get one bounded repair round per problem: undeclared namespace prefixes are declared,
 * stray "&" and unknown entities are escaped, a truncated document is closed after its last complete item. Each repair
 * adds a NOT_WELL_FORMED warning. Anything else is a ParseError with the parser's line and column.
 */
export async function parseXmlDocument(text: string, what: string): Promise<XmlDocument> {
  const warnings: string[] = [];
  let current = text;
  let firstFailure: SaxFailure | undefined;
  const applied = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const result = await parseOnce(current);
    if ('doc' in result) {
      result.doc.warnings.push(...warnings);
      return result.doc;
    }
    if ('notAFeed' in result) {
      throw new ParseError(`${what} is an XML document with root element <${result.notAFeed}>, not an RSS, Atom or RDF feed`, {
        notAFeed: true,
        hint: 'Check the feed URL: it should point at the RSS/Atom document itself.',
      });
    }
    const failure = result.failure;
    firstFailure ??= failure;
    const repaired = repair(current, failure, applied);
    if (!repaired) break;
    warnings.push(NOT_WELL_FORMED + repaired.note + ` (${describe(failure)})`);
    current = repaired.text;
  }
  const f = firstFailure as SaxFailure;
  throw new ParseError(`${what} is not well-formed XML: ${describe(f)}`, { hint: MALFORMED_HINT });
}

function describe(f: SaxFailure): string {
  return f.line !== undefined ? `${f.message} at line ${f.line}, column ${f.column}` : f.message;
}

type Attempt = { doc: XmlDocument } | { notAFeed: string } | { failure: SaxFailure };

async function parseOnce(text: string, rootAsFeed = false): Promise<Attempt> {
  let first = true;
  let rootName = '';
  type FeedFields = { children?: XmlNode[]; attrs?: Record<string, string>; ns?: { uri: string; local: string } };
  const parser = new Parser<FeedFields, FeedFields>({
    defaultRSS: 2,
    xml2js: {
      xmlns: true,
      explicitChildren: true,
      preserveChildrenOrder: true,
      charsAsChildren: true,
      includeWhiteChars: true,
      // With xmlns on, sax gives attribute objects; keep the plain value (rss-parser reads rss/@version).
      attrValueProcessors: [(v: unknown) => (typeof v === 'object' && v !== null && 'value' in v ? (v as { value: string }).value : v)],
      // Only the structure rss-parser dispatches on keeps its name; everything else is hidden behind "~" so that
      // rss-parser's own field mapping finds nothing to (mis)process. Canonical names are set afterwards from $ns.
      tagNameProcessors: [
        (name: string) => {
          const local = name.slice(name.indexOf(':') + 1);
          const lower = local.toLowerCase();
          if (first) {
            first = false;
            rootName = name;
            // Second pass for an RSS/RDF document without <channel>: read the root the way rss-parser reads Atom.
            if (rootAsFeed || lower === 'feed') return 'feed';
            if (lower === 'rss') return 'rss';
            if (local === 'RDF') return 'rdf:RDF';
            return '~' + name;
          }
          if (lower === 'channel' || lower === 'item' || lower === 'entry') return lower;
          return '~' + name;
        },
      ],
    },
    customFields: {
      feed: [['$$', 'children', { keepArray: true }] as never, ['$', 'attrs', { keepArray: true }] as never, ['$ns', 'ns', { keepArray: true }] as never],
      item: [
        ['$$', 'children', { keepArray: true }],
        ['$', 'attrs', { keepArray: true }],
        ['$ns', 'ns', { keepArray: true }],
      ],
    },
  });
  const kindOf = (): XmlFeedKind => (rootName.endsWith('RDF') ? 'rdf' : /(^|:)feed$/i.test(rootName) ? 'atom' : 'rss');
  let out: Awaited<ReturnType<typeof parser.parseString>>;
  try {
    out = await parser.parseString(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Feed not recognized/.test(message)) return { notAFeed: rootName || '?' };
    // rss-parser dereferences <channel> unconditionally; a well-formed RSS/RDF document without one is read again
    // with its root treated as the feed element (items directly under the root are kept).
    if (err instanceof TypeError && !rootAsFeed) return parseOnce(text, true);
    return { failure: saxFailure(message) };
  }
  const kind = rootAsFeed ? (rootName.endsWith('RDF') ? 'rdf' : 'rss') : kindOf();
  if (rootAsFeed) {
    const root: XmlNode = { '#name': '', $$: out.children ?? [], $: out.attrs ?? {} };
    return { doc: withoutChannel(root, kind, out.ns?.uri) };
  }
  const mainUri = out.ns?.uri;
  const feed: XmlNode = { '#name': '', $$: out.children ?? [], $: out.attrs ?? {} };
  canonicalize(feed, kind, mainUri);
  const items: XmlNode[] = [];
  for (const item of out.items) {
    const node: XmlNode = { '#name': '', $$: item.children ?? [], $: item.attrs ?? {} };
    if (item.ns) node.$ns = item.ns;
    canonicalize(node, kind, mainUri);
    node['#name'] = canonicalName(node, kind, mainUri);
    if (node['#name'] === 'rss:item' || node['#name'] === 'atom:entry') items.push(node);
  }
  return { doc: { kind, feed, items, warnings: [] } };
}

/** An RSS/RDF document without <channel> (rss-parser dereferences it unconditionally): items directly under the root, if any. */
function withoutChannel(root: XmlNode, kind: XmlFeedKind, mainUri: string | undefined): XmlDocument {
  canonicalize(root, kind, mainUri);
  const items = (root.$$ ?? []).filter((c) => c['#name'] === 'rss:item' || c['#name'] === 'atom:entry');
  return { kind, feed: undefined, items, warnings: [] };
}

/** RSS element names as spelled by the specs, looked up case-insensitively (feeds write <TITLE>, <pubdate>). */
const RSS_NAMES = new Map(
  ['title', 'link', 'description', 'pubDate', 'guid', 'author', 'category', 'comments', 'enclosure', 'source', 'item', 'channel', 'image', 'url',
    'language', 'copyright', 'managingEditor', 'webMaster', 'lastBuildDate', 'body', 'fullitem', 'summary'].map((n) => [n.toLowerCase(), n]),
);

function namespacePrefix(uri: string): string | undefined {
  return NAMESPACES[uri] ?? NAMESPACES[uri.toLowerCase()];
}

/**
 * Canonical element name. Elements with no namespace, or in the namespace of the feed element itself (the "main"
 * namespace, whatever URI a feed uses for it), belong to the feed's format.
 */
function canonicalName(node: XmlNode, kind: XmlFeedKind, mainUri: string | undefined): string {
  const ns = node.$ns;
  if (!ns) return node['#name'].replace(/^~/, '');
  const own = kind === 'atom' ? 'atom' : 'rss';
  const prefix = ns.uri === '' || ns.uri === mainUri ? own : namespacePrefix(ns.uri);
  if (prefix === 'rss') return `rss:${RSS_NAMES.get(ns.local.toLowerCase()) ?? ns.local}`;
  return prefix ? `${prefix}:${ns.local}` : `{${ns.uri}}${ns.local}`;
}

/** Gives every element below `node` its canonical name (iteratively: documents can nest deeply). */
function canonicalize(node: XmlNode, kind: XmlFeedKind, mainUri: string | undefined): void {
  const names = canonicalNames(kind, mainUri);
  const stack: XmlNode[] = [...(node.$$ ?? [])];
  while (stack.length) {
    const n = stack.pop() as XmlNode;
    if (n['#name'] === TEXT_NODE) continue;
    const ns = n.$ns;
    if (ns) {
      // The canonical name depends only on (uri, local) within a document: compute it once per distinct element name.
      const key = ns.uri + '\n' + ns.local;
      let name = names.get(key);
      if (name === undefined) names.set(key, (name = canonicalName(n, kind, mainUri)));
      n['#name'] = name;
    } else {
      n['#name'] = canonicalName(n, kind, mainUri);
    }
    if (n.$$) for (const c of n.$$) stack.push(c);
  }
}

/** Memo of canonical names for the document being read (the last kind and main namespace seen). */
let memo: { kind: XmlFeedKind; mainUri: string | undefined; names: Map<string, string> } | undefined;

function canonicalNames(kind: XmlFeedKind, mainUri: string | undefined): Map<string, string> {
  if (!memo || memo.kind !== kind || memo.mainUri !== mainUri || memo.names.size > 4096) memo = { kind, mainUri, names: new Map() };
  return memo.names;
}

function saxFailure(message: string): SaxFailure {
  const first = message.split('\n')[0] ?? message;
  const line = /Line: (\d+)/.exec(message);
  const column = /Column: (\d+)/.exec(message);
  // sax counts lines from 0.
  return line && column ? { message: first, line: Number(line[1]) + 1, column: Number(column[1]) } : { message: first };
}

interface Repair {
  text: string;
  note: string;
}

/** One repair for the failure at hand, each kind applied at most once; undefined when nothing applies. */
function repair(text: string, failure: SaxFailure, applied: Set<string>): Repair | undefined {
  const m = failure.message;
  if (/Unbound namespace prefix/.test(m) && !applied.has('ns')) {
    applied.add('ns');
    return declarePrefixes(text);
  }
  if (/Invalid character entity|Invalid character in entity name/.test(m) && !applied.has('amp')) {
    applied.add('amp');
    const fixed = escapeStrayAmpersands(text);
    if (fixed !== text) return { text: fixed, note: 'unescaped "&" or unknown entity escaped' };
  }
  if (/Unexpected end|Unclosed root tag/.test(m) && !applied.has('close')) {
    applied.add('close');
    const fixed = closeTruncated(text);
    if (fixed !== undefined && fixed !== text) return { text: fixed, note: 'truncated or mis-nested document closed after its last complete element' };
  }
  if (/Unexpected close tag|Unmatched closing tag/.test(m) && !applied.has('nest')) {
    applied.add('nest');
    const fixed = repairNesting(text);
    if (fixed !== text) return { text: fixed, note: 'mis-nested elements closed where their parent ends' };
  }
  return undefined;
}

const TAG = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([^\s>]+)\s*>|<([^\s/>!?]+)(?:"[^"]*"|'[^']*'|[^>"'])*?(\/?)>/g;
const FEED_STRUCTURE = /(^|:)(rss|channel|feed|RDF)$/i;
const ENTRY_STRUCTURE = /(^|:)(item|entry)$/i;

/**
 * Repairs mis-nesting the way lenient parsers do: an end tag closes the elements left open inside it; an end tag
 * with no open element is dropped; an <item>/<entry> start tag closes open non-structural elements first (an
 * unclosed <itunes:category> must not swallow the items that follow it).
 */
function repairNesting(text: string): string {
  const stack: string[] = [];
  let out = '';
  let last = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(text); m; m = TAG.exec(text)) {
    const [whole, close, open, selfClosing] = m;
    if (close) {
      const idx = stack.lastIndexOf(close);
      out += text.slice(last, m.index);
      if (idx >= 0) {
        out += stack.splice(idx + 1).reverse().map((n) => `</${n}>`).join('') + whole;
        stack.length = idx;
      }
      last = m.index + whole.length;
    } else if (open && !selfClosing) {
      if (ENTRY_STRUCTURE.test(open)) {
        let keep = stack.length;
        while (keep > 0 && !FEED_STRUCTURE.test(stack[keep - 1] ?? '') && !ENTRY_STRUCTURE.test(stack[keep - 1] ?? '')) keep--;
        if (keep < stack.length && keep > 0) {
          out += text.slice(last, m.index) + stack.splice(keep).reverse().map((n) => `</${n}>`).join('');
          last = m.index;
        }
      }
      stack.push(open);
    }
  }
  return out + text.slice(last);
}

/** Declares on the root element every prefix used in element or attribute names that has no declaration there. */
function declarePrefixes(text: string): Repair | undefined {
  const markup = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
  const used = new Set<string>();
  for (const m of markup.matchAll(/<\/?([A-Za-z_][\w.-]*):[A-Za-z_]/g)) used.add(m[1] as string);
  for (const m of markup.matchAll(/<[^!?/][^>]*>/g)) {
    for (const a of m[0].matchAll(/\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=/g)) used.add(a[1] as string);
  }
  used.delete('xml');
  used.delete('xmlns');
  const declared = new Map<string, string>();
  for (const m of markup.matchAll(/xmlns:([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (!declared.has(m[1] as string)) declared.set(m[1] as string, m[2] ?? m[3] ?? '');
  }
  const rootIndex = findRootTag(text);
  if (rootIndex < 0) return undefined;
  const rootEnd = text.indexOf('>', rootIndex);
  if (rootEnd < 0) return undefined;
  const rootTag = text.slice(rootIndex, rootEnd);
  const additions: string[] = [];
  const undeclared: string[] = [];
  for (const prefix of used) {
    if (new RegExp(`xmlns:${prefix.replace(/[.-]/g, '\\$&')}\\s*=`).test(rootTag)) continue;
    const uri = declared.get(prefix) ?? CONVENTIONAL_PREFIXES[prefix] ?? `urn:x-undeclared-prefix:${prefix}`;
    if (!declared.has(prefix)) undeclared.push(prefix);
    additions.push(` xmlns:${prefix}="${uri}"`);
  }
  if (!additions.length) return undefined;
  const insertAt = text[rootEnd - 1] === '/' ? rootEnd - 1 : rootEnd;
  return {
    text: text.slice(0, insertAt) + additions.join('') + text.slice(insertAt),
    note: `namespace prefix${undeclared.length === 1 ? '' : 'es'} ${undeclared.map((p) => `"${p}"`).join(', ') || '(out of scope)'} used without a declaration`,
  };
}

/** Index of the root start tag: after whitespace, PIs, comments (the DOCTYPE is already gone); -1 if none. */
function findRootTag(text: string): number {
  const re = /\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->/y;
  let i = 0;
  for (;;) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m || m[0].length === 0) break;
    i = re.lastIndex;
  }
  return /^<[A-Za-z_]/.test(text.slice(i, i + 2)) ? i : -1;
}

const ENTITY_REF = /&(?:#\d+;|#x[0-9a-fA-F]+;|([A-Za-z][A-Za-z0-9]*);)/y;
/** Entities sax knows (XML's five and HTML 4's); anything else is escaped by the repair. */
let saxEntities: Set<string> | undefined;

/** Escapes "&" that does not start a character reference or a known named entity (outside CDATA and comments). */
function escapeStrayAmpersands(text: string): string {
  saxEntities ??= knownEntityNames();
  const known = saxEntities;
  return mapOutsideCdata(text, (segment) =>
    segment.replace(/&/g, (_amp, offset: number) => {
      ENTITY_REF.lastIndex = offset;
      const m = ENTITY_REF.exec(segment);
      if (m && (m[1] === undefined || known.has(m[1]) || known.has(m[1].toLowerCase()))) return '&';
      return '&amp;';
    }),
  );
}

function knownEntityNames(): Set<string> {
  // sax's entity table: the XML five plus HTML 4's named entities (sax.ENTITIES). Listed here because sax is only a
  // dependency of xml2js; a name missing from this list merely gets escaped (shown literally) instead of decoded.
  return new Set(
    (
      'amp lt gt quot apos AElig Aacute Acirc Agrave Aring Atilde Auml Ccedil ETH Eacute Ecirc Egrave Euml Iacute Icirc Igrave Iuml ' +
      'Ntilde Oacute Ocirc Ograve Oslash Otilde Ouml THORN Uacute Ucirc Ugrave Uuml Yacute aacute acirc aelig agrave aring atilde ' +
      'auml ccedil eacute ecirc egrave eth euml iacute icirc igrave iuml ntilde oacute ocirc ograve oslash otilde ouml szlig thorn ' +
      'uacute ucirc ugrave uuml yacute yuml copy reg nbsp iexcl cent pound curren yen brvbar sect uml ordf laquo not shy macr deg ' +
      'plusmn sup1 sup2 sup3 acute micro para middot cedil ordm raquo frac14 frac12 frac34 iquest times divide OElig oelig Scaron ' +
      'scaron Yuml fnof circ tilde Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho Sigma ' +
      'Tau Upsilon Phi Chi Psi Omega alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigmaf ' +
      'sigma tau upsilon phi chi psi omega thetasym upsih piv ensp emsp thinsp zwnj zwj lrm rlm ndash mdash lsquo rsquo sbquo ldquo ' +
      'rdquo bdquo dagger Dagger bull hellip permil prime Prime lsaquo rsaquo oline frasl euro image weierp real trade alefsym larr ' +
      'uarr rarr darr harr crarr lArr uArr rArr dArr hArr forall part exist empty nabla isin notin ni prod sum minus lowast radic ' +
      'prop infin ang and or cap cup int there4 sim cong asymp ne equiv le ge sub sup nsub sube supe oplus otimes perp sdot lceil ' +
      'rceil lfloor rfloor lang rang loz spades clubs hearts diams'
    ).split(' '),
  );
}

/**
 * Repairs a truncated document: drops an unfinished construct at the very end, cuts back to the start of an
 * unfinished <item>/<entry> (half an entry would later look like a different entry), then closes the open elements.
 */
function closeTruncated(text: string): string | undefined {
  let body = text;
  const lastOpen = body.lastIndexOf('<');
  if (lastOpen >= 0 && body.indexOf('>', lastOpen) < 0) body = body.slice(0, lastOpen);
  const cdata = body.lastIndexOf('<![CDATA[');
  if (cdata >= 0 && body.indexOf(']]>', cdata) < 0) body = body.slice(0, cdata);
  const stack: Array<{ name: string; at: number }> = [];
  const re = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([^\s>]+)\s*>|<([^\s/>!?]+)(?:"[^"]*"|'[^']*'|[^>"'])*?(\/?)>/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m[1]) {
      const idx = stack.map((s) => s.name).lastIndexOf(m[1]);
      if (idx >= 0) stack.length = idx;
    } else if (m[2] && !m[3]) stack.push({ name: m[2], at: m.index });
  }
  if (!stack.length) return undefined;
  const unfinished = stack.findIndex((s) => /(^|:)(item|entry)$/.test(s.name));
  if (unfinished >= 0) {
    body = body.slice(0, (stack[unfinished] as { at: number }).at);
    stack.length = unfinished;
  }
  return body + stack.reverse().map((s) => `</${s.name}>`).join('');
}
