/**
 * Feed-parsing conformance report: runs planet-digest's decode + parse + normalize (decodeFeedBytes, parseFeed) on the
 * conformance corpora in /work/shared/corpus and compares the results with what the source projects expect.
 *
 *   node --import tsx scripts/conformance.ts [--json] [--verbose] [--update-baseline] [--corpus DIR]
 *
 * Suites:
 * - feedparser: every test of feedparser/expectations.json (Python Expect lines translated to path/op/value checks).
 *   Tests whose header has `Header:` lines (HTTP tests) are served from a local node:http server on 127.0.0.1 (port 0)
 *   and fetched for real with fetchFeed; expected values that name feedparser's mock server (127.0.0.1:8097) are
 *   rewritten to the real port. Other tests are decoded from bytes with no Content-Type and parsed with the base URL
 *   http://127.0.0.1:<port>/<path>, the URL they would have been served from.
 * - gofeed: every input of gofeed/testdata with its expected JSON (format-specific and universal models): feed title
 *   and link, item count, and per item title, link, guid/id, dates, author. parser/universal: must parse / must fail.
 * - feedsmith: each reference feed with its expected JSON: the same fields.
 *
 * How our model is compared with theirs (translations, not exclusions):
 * - Plain-text fields (titles, author, summary, feed description) are plain text in our model (entities decoded once,
 *   tags stripped, whitespace collapsed). feedparser/gofeed keep HTML-typed text as HTML, so an expected value
 *   matches when it equals ours after whitespace collapsing, or when its plain-text rendering does.
 * - HTML fields (feedparser content[0].value vs Entry.contentHtml) match when their plain-text renderings are equal:
 *   feedparser sanitizes and rewrites URLs inside HTML, planet-digest keeps the feed's HTML as given.
 * - Links match after URL normalization (WHATWG serialization); a relative expected link matches when resolving it
 *   against our absolute link gives our link back (the source projects leave relative links unresolved).
 * - feedparser's `author` is "Name (email)"; Entry.author holds names, so the name part is compared.
 *   `authors[j].name` is the j-th name of Entry.author (names are joined with ", ").
 * - feedparser's *_parsed are UTC time tuples (year, month, day, hour, minute, second, weekday, yearday, 0); ours are
 *   ISO strings, converted to the same tuple. feedparser's `updated_parsed` falls back to `published_parsed` (its
 *   documented temporary mapping), and so does ours.
 * - gofeed/feedsmith dates: the expected instant (RFC 3339 *Parsed fields, or the raw string read by JavaScript's
 *   Date.parse as an independent oracle) must equal ours.
 * - bozo (feedparser: "not well-formed or an encoding problem"): ours is true when parseFeed threw, when it reported a
 *   NOT_WELL_FORMED repair warning, or when decodeFeedBytes reported a charset mismatch.
 * - encoding: compared through canonicalCharset() of both sides (decodeFeedBytes names charsets the WHATWG way, so
 *   feedparser's "iso-8859-1" equals our "windows-1252").
 *
 * NOT-APPLICABLE RULES (a check is excluded only for one of these reasons, never because we fail it):
 *
 * | rule                 | what                                                   | why                                                                                                                      |
 * | -------------------- | ------------------------------------------------------ | ------------------------------------------------------------------------------------------------------------------------ |
 * | sanitizer            | non-bozo checks in feedparser wellformed/sanitize/     | they test feedparser's own HTML sanitizer (its whitelist and serialization); parse keeps HTML unsanitized by contract and the renderers sanitize with sanitize-html |
 * | optional-chardet     | feedparser tests with SkipUnless: chardet             | feedparser itself runs them only when the third-party chardet package is installed (statistical charset guessing); planet-digest decodes by BOM / HTTP charset / XML declaration rules |
 * | cdf                  | feedparser wellformed/cdf/                             | Microsoft CDF (1997) is not a format planet-digest reads (RSS, RDF, Atom, JSON Feed)                                    |
 * | content-location     | non-bozo checks of HTTP tests sending Content-Location | RFC 7231 (Appendix B) and RFC 9110 no longer make Content-Location the base URI; we resolve against the response URL    |
 * | python-only          | version, namespaces, headers, href, status, etag, …   | Python/feedparser API details (format version strings, namespace maps, HTTP metadata of the Python result) with no counterpart in a ParsedFeed |
 * | detail-metadata      | *_detail.type/.base/.language, content[].type/…       | feedparser's per-field metadata; planet-digest resolves bases and types while parsing and keeps only the resulting values |
 * | raw-date-string      | published / updated / created (the raw strings)       | we keep dates only normalized (ISO UTC); the *_parsed checks compare the values                                          |
 * | unmodeled-field      | tags, enclosures, rights, generator, image, source, itunes_*, media_*, geo, psc, … and feed-level author/id/dates | not part of planet-digest's Entry / ParsedFeed model (see src/model/entry.ts); a digest does not show them          |
 * | links-list           | links[...], enclosures                                 | we keep one link per entry / feed (the alternate), not feedparser's list of all links                                    |
 * | one-content          | content[k] for k > 0                                   | Entry keeps one HTML content (the richest)                                                                               |
 * | non-http-link        | expected link that is not http(s) (tag:, mailto:, …)  | Entry.link is an absolute http(s) URL by contract (src/model/entry.ts); other schemes are dropped on purpose             |
 * | unparsed-expectation | gofeed/feedsmith date strings no *Parsed value / Date.parse reads | there is no independent expected instant to compare with                                                          |
 * | name-less-author     | gofeed/feedsmith author given only as an email         | Entry.author holds names                                                                                                 |
 */
import { readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convert } from 'html-to-text';
import type { Entry, ParsedFeed } from '../src/model/entry.js';
import { parseFeed } from '../src/parse/parse-feed.js';
import { isNotWellFormedWarning } from '../src/parse/parse-warnings.js';
import { canonicalCharset, decodeFeedBytes, type DecodedFeed } from '../src/fetch/decode-feed-bytes.js';
import { fetchFeed } from '../src/fetch/fetch-feed.js';

export type SuiteName = 'feedparser' | 'gofeed' | 'feedsmith';
export type Verdict = 'pass' | 'fail' | 'na';

/** One evaluated check. */
export interface CheckResult {
  suite: SuiteName;
  file: string;
  /** Field class: bozo, encoding, title, link, id, date, author, summary, content, count, must-parse, other. */
  category: string;
  check: string;
  verdict: Verdict;
  /** Not-applicable rule, for verdict "na". */
  rule?: string;
  /** What we produced, for failures. */
  detail?: string;
}

export interface Tally {
  applicable: number;
  pass: number;
  fail: number;
  na: number;
}

export interface SuiteSummary extends Tally {
  byCategory: Record<string, Tally>;
  naByRule: Record<string, number>;
}

export interface ConformanceReport {
  suites: Record<SuiteName, SuiteSummary>;
  total: Tally;
  results: CheckResult[];
  /** feedparser tests with no translated checks (expectations.json `checks: null`). */
  untranslated: number;
}

export interface Baseline {
  feedparser: number;
  gofeed: number;
  feedsmith: number;
  total: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const BASELINE_FILE = join(HERE, 'conformance-baseline.json');
// The corpus lives beside the repository (../shared/corpus) in development and CI; DIGEST_CORPUS_DIR overrides it.
const DEFAULT_CORPUS = process.env.DIGEST_CORPUS_DIR ?? fileURLToPath(new URL('../../shared/corpus', import.meta.url));
const DUMMY_BASE = 'https://conformance.invalid/feed.xml';

// ---------------------------------------------------------------------------------------------------------------
// Comparison helpers

function collapse(s: string): string {
  return s.replace(/[\s\u00a0]+/g, ' ').trim();
}

/** Plain-text rendering used on both sides of HTML comparisons (an independent html-to-text call, no link targets). */
function plainOf(html: string): string {
  if (!/[<&]/.test(html)) return collapse(html);
  return collapse(
    convert(html, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'img', format: 'skip' },
        { selector: 'h1', options: { uppercase: false } },
        { selector: 'h2', options: { uppercase: false } },
        { selector: 'h3', options: { uppercase: false } },
        { selector: 'ul', options: { itemPrefix: ' ' } },
        { selector: 'ol', format: 'unorderedList', options: { itemPrefix: ' ' } },
        { selector: 'table', format: 'block' },
        { selector: 'tr', format: 'block' },
        { selector: 'td', format: 'inline' },
        { selector: 'th', format: 'inline' },
        { selector: 'hr', format: 'skip' },
        // SVG is graphics: its <title>/<desc> are tooltips, not text content.
        { selector: 'svg', format: 'skip' },
      ],
    }),
  );
}

function textMatches(ours: string | undefined, expected: string): boolean {
  const o = collapse(ours ?? '');
  return o === collapse(expected) || o === plainOf(expected);
}

function htmlMatches(ours: string | undefined, expected: string): boolean {
  const o = plainOf(ours ?? '');
  // feedparser gives text/plain content as raw text, HTML content as HTML: accept either reading of the expected value.
  return o === plainOf(expected) || o === collapse(expected);
}

function normalizeUrl(u: string): string | undefined {
  try {
    return new URL(u.trim()).href;
  } catch {
    return undefined;
  }
}

function isAbsoluteUrl(u: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(u.trim());
}

function isHttp(u: string): boolean {
  return /^https?:/i.test(u.trim());
}

function linkMatches(ours: string | undefined, expected: string): boolean {
  if (ours === undefined) return false;
  if (isAbsoluteUrl(expected)) return normalizeUrl(expected) === ours || expected.trim() === ours;
  try {
    return new URL(expected.trim(), ours).href === ours;
  } catch {
    return false;
  }
}

function nameOnly(author: string): string {
  const m = /^(.*?)\s*\(([^()]*@[^()]*)\)\s*$/.exec(author);
  if (m && m[1]) return m[1].trim();
  const e = /^\s*([^\s()]+@[^\s()]+)\s*\((.+)\)\s*$/.exec(author);
  if (e && e[2]) return e[2].trim();
  return author.trim();
}

/** feedparser's UTC time tuple for an ISO date: (y, m, d, H, M, S, weekday Mon=0, yearday, 0). */
function timeTuple(iso: string | undefined): number[] | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const yday = Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - start) / 86_400_000) + 1;
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), (d.getUTCDay() + 6) % 7, yday, 0];
}

function sameInstant(ours: string | undefined, expected: string): boolean {
  if (!ours) return false;
  return Date.parse(ours) === Date.parse(expected);
}

// ---------------------------------------------------------------------------------------------------------------
// Running our pipeline on one document

interface Outcome {
  decoded?: DecodedFeed;
  feed?: ParsedFeed;
  error?: Error;
  url: string;
}

async function runOurs(bytes: Uint8Array, url: string, contentType?: string): Promise<Outcome> {
  const out: Outcome = { url };
  try {
    out.decoded = decodeFeedBytes(bytes, contentType);
    out.feed = await parseFeed(out.decoded.text, { feedId: 'conformance', url, summaryLength: 1_000_000 });
  } catch (err) {
    out.error = err instanceof Error ? err : new Error(String(err));
  }
  return out;
}

function bozoOf(o: Outcome): boolean {
  return Boolean(o.error) || Boolean(o.decoded?.mismatch) || Boolean(o.feed?.warnings.some(isNotWellFormedWarning));
}

function describeOutcome(o: Outcome): string {
  if (o.error) return `threw: ${o.error.message.slice(0, 160)}`;
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// feedparser

interface FpCheck {
  path: Array<string | number>;
  op: 'eq' | 'ne' | 'truthy' | 'falsy' | 'has_key' | 'lacks_key' | 'len_eq';
  value?: unknown;
}

interface FpTest {
  file: string;
  suite: string;
  description: string;
  http?: { url: string; content_type?: string; headers: Record<string, string> };
  skip_unless?: string;
  checks: FpCheck[] | null;
}

const ALIASES: Record<string, string> = {
  channel: 'feed',
  items: 'entries',
  guid: 'id',
  date: 'updated',
  date_parsed: 'updated_parsed',
  modified: 'updated',
  modified_parsed: 'updated_parsed',
  issued: 'published',
  issued_parsed: 'published_parsed',
  copyright: 'rights',
  copyright_detail: 'rights_detail',
  tagline: 'subtitle',
  tagline_detail: 'subtitle_detail',
  url: 'href',
};

/** What a feedparser path means in our model. */
type Target =
  | { kind: 'na'; rule: string }
  | { kind: 'text' | 'html' | 'link' | 'id' | 'author' | 'author-name' | 'tuple' | 'bozo' | 'encoding' | 'count' | 'exists'; value: unknown; category: string };

const UNMODELED_ENTRY = new Set([
  'tags', 'category', 'enclosures', 'source', 'contributors', 'publisher', 'publisher_detail', 'comments', 'rights', 'rights_detail', 'image', 'where',
  'psc_chapters', 'wfw_comment', 'wfw_commentrss', 'thr_in-reply-to', 'guidislink', 'created', 'created_parsed', 'expired', 'expired_parsed',
  'license', 'madeup_element', 'abcdefg', 'ttl', 'language', 'xml_lang', 'author_detail', 'authors', 'contributors',
]);

function entryTarget(entry: Entry | undefined, rest: Array<string | number>, outcome: Outcome): Target {
  const field = String(rest[0]);
  const sub = rest.slice(1);
  const missing = entry === undefined;
  const cat = (c: string) => c;
  if (field.startsWith('itunes_') || field.startsWith('media_') || field.startsWith('georss') || field.startsWith('gml') || field.startsWith('validity') || field.startsWith('newlocation')) {
    return { kind: 'na', rule: 'unmodeled-field' };
  }
  switch (field) {
    case 'title':
      return { kind: 'text', value: entry?.title, category: cat('title') };
    case 'title_detail':
      if (sub[0] === 'value') return { kind: 'text', value: entry?.title, category: 'title' };
      return { kind: 'na', rule: 'detail-metadata' };
    case 'link':
      return { kind: 'link', value: entry?.link, category: 'link' };
    case 'links':
      return { kind: 'na', rule: 'links-list' };
    case 'id':
      return { kind: 'id', value: missing ? undefined : entry?.id, category: 'id' };
    case 'summary':
    case 'description':
      return { kind: 'text', value: entry?.summary || undefined, category: 'summary' };
    case 'summary_detail':
    case 'description_detail':
      if (sub[0] === 'value') return { kind: 'text', value: entry?.summary || undefined, category: 'summary' };
      return { kind: 'na', rule: 'detail-metadata' };
    case 'content':
      if (sub.length === 0) return { kind: 'exists', value: entry?.contentHtml, category: 'content' };
      if (sub[0] !== 0) return { kind: 'na', rule: 'one-content' };
      if (sub[1] === 'value') return { kind: 'html', value: entry?.contentHtml, category: 'content' };
      return { kind: 'na', rule: 'detail-metadata' };
    case 'author':
      return { kind: 'author', value: entry?.author, category: 'author' };
    case 'author_detail':
      if (sub[0] === 'name') return { kind: 'author-name', value: entry?.author?.split(', ')[0], category: 'author' };
      return { kind: 'na', rule: 'unmodeled-field' };
    case 'authors':
      if (typeof sub[0] === 'number' && sub[1] === 'name') return { kind: 'author-name', value: entry?.author?.split(', ')[sub[0]], category: 'author' };
      return { kind: 'na', rule: 'unmodeled-field' };
    case 'published_parsed':
      return { kind: 'tuple', value: timeTuple(entry?.published), category: 'date' };
    case 'updated_parsed':
      return { kind: 'tuple', value: timeTuple(entry?.updated ?? entry?.published), category: 'date' };
    case 'published':
    case 'updated':
    case 'created':
      return { kind: 'na', rule: 'raw-date-string' };
    default:
      void outcome;
      if (UNMODELED_ENTRY.has(field)) return { kind: 'na', rule: 'unmodeled-field' };
      return { kind: 'na', rule: 'unmodeled-field' };
  }
}

function feedTarget(feed: ParsedFeed | undefined, rest: Array<string | number>): Target {
  const field = String(rest[0]);
  const sub = rest.slice(1);
  switch (field) {
    case 'title':
      return { kind: 'text', value: feed?.title, category: 'title' };
    case 'title_detail':
      if (sub[0] === 'value') return { kind: 'text', value: feed?.title, category: 'title' };
      return { kind: 'na', rule: 'detail-metadata' };
    case 'link':
      return { kind: 'link', value: feed?.link, category: 'link' };
    case 'links':
      return { kind: 'na', rule: 'links-list' };
    case 'subtitle':
    case 'description':
      return { kind: 'text', value: feed?.description, category: 'summary' };
    case 'subtitle_detail':
    case 'description_detail':
      if (sub[0] === 'value') return { kind: 'text', value: feed?.description, category: 'summary' };
      return { kind: 'na', rule: 'detail-metadata' };
    default:
      return { kind: 'na', rule: 'unmodeled-field' };
  }
}

const PYTHON_ONLY = new Set(['version', 'namespaces', 'headers', 'href', 'status', 'etag', 'modified', 'bozo_exception']);

function fpTarget(path: Array<string | number>, o: Outcome): Target {
  const p = path.map((x) => (typeof x === 'string' ? (ALIASES[x] ?? x) : x));
  const head = String(p[0]);
  if (head === 'bozo') return { kind: 'bozo', value: bozoOf(o), category: 'bozo' };
  if (head === 'encoding') return { kind: 'encoding', value: o.decoded?.encoding, category: 'encoding' };
  if (PYTHON_ONLY.has(head)) return { kind: 'na', rule: 'python-only' };
  if (head === 'entries') {
    if (p.length === 1) return { kind: 'count', value: o.feed?.entries.length, category: 'count' };
    const entry = o.feed?.entries[Number(p[1])];
    if (p.length === 2) return { kind: 'exists', value: entry, category: 'count' };
    return entryTarget(entry, p.slice(2), o);
  }
  if (head === 'feed') {
    if (p.length === 1) return { kind: 'exists', value: o.feed, category: 'other' };
    return feedTarget(o.feed, p.slice(1));
  }
  return { kind: 'na', rule: 'python-only' };
}

function fpEvaluate(check: FpCheck, o: Outcome, port: number): { verdict: Verdict; rule?: string; category: string; detail?: string } {
  const rewrite = (v: unknown): unknown => (typeof v === 'string' ? v.replaceAll('127.0.0.1:8097', `127.0.0.1:${port}`) : v);
  const expected = rewrite(check.value);
  // has_key / lacks_key name the key in `value`: evaluate on the child path.
  if (check.op === 'has_key' || check.op === 'lacks_key') {
    const t = fpTarget([...check.path, String(check.value)], o);
    if (t.kind === 'na') return { verdict: 'na', rule: t.rule, category: 'other' };
    const present = t.value !== undefined && t.value !== '' && t.value !== null;
    const ok = check.op === 'has_key' ? present : !present;
    return { verdict: ok ? 'pass' : 'fail', category: t.category, detail: `${String(check.value)} = ${JSON.stringify(t.value)}` };
  }
  const t = fpTarget(check.path, o);
  if (t.kind === 'na') return { verdict: 'na', rule: t.rule, category: 'other' };
  const v = t.value;
  let ok: boolean;
  switch (check.op) {
    case 'truthy':
      ok = Boolean(v) && !(Array.isArray(v) && v.length === 0);
      break;
    case 'falsy':
      ok = !v || (Array.isArray(v) && v.length === 0);
      break;
    case 'len_eq':
      ok = t.kind === 'count' ? v === expected : Array.isArray(v) && v.length === expected;
      break;
    case 'eq':
    case 'ne': {
      let eq: boolean;
      if (expected === null) eq = v === undefined;
      else if (t.kind === 'text') eq = textMatches(v as string | undefined, String(expected));
      else if (t.kind === 'html') eq = htmlMatches(v as string | undefined, String(expected));
      else if (t.kind === 'link') {
        if (typeof expected === 'string' && isAbsoluteUrl(expected) && !isHttp(expected)) return { verdict: 'na', rule: 'non-http-link', category: 'link' };
        eq = linkMatches(v as string | undefined, String(expected));
      } else if (t.kind === 'id') eq = typeof v === 'string' && v === String(expected).trim();
      else if (t.kind === 'author') eq = textMatches(v as string | undefined, nameOnly(String(expected)));
      else if (t.kind === 'author-name') eq = textMatches(v as string | undefined, String(expected));
      else if (t.kind === 'tuple') eq = JSON.stringify(v) === JSON.stringify(expected);
      else if (t.kind === 'encoding') {
        const ours = typeof v === 'string' ? v : '';
        const exp = String(expected);
        eq = ours.toLowerCase() === exp.toLowerCase() || (canonicalCharset(ours) ?? ours) === (canonicalCharset(exp) ?? exp.toLowerCase());
      } else eq = v === expected;
      ok = check.op === 'eq' ? eq : !eq;
      break;
    }
    default:
      ok = false;
  }
  return { verdict: ok ? 'pass' : 'fail', category: t.category, detail: ok ? undefined : `ours: ${JSON.stringify(v)?.slice(0, 200)}` };
}

function fpRuleForTest(t: FpTest, check: FpCheck): string | undefined {
  const isBozo = check.path[0] === 'bozo';
  if (t.file.startsWith('tests/wellformed/cdf/') || /\/cdf_[^/]*$/.test(t.file)) return 'cdf';
  if (t.skip_unless?.includes('chardet')) return 'optional-chardet';
  if (isBozo) return undefined;
  if (t.file.startsWith('tests/wellformed/sanitize/')) return 'sanitizer';
  if (t.http && Object.keys(t.http.headers).some((h) => h.toLowerCase() === 'content-location')) return 'content-location';
  return undefined;
}

async function startCorpusServer(corpus: string, tests: FpTest[]): Promise<{ server: Server; port: number }> {
  const byPath = new Map(tests.filter((t) => t.http).map((t) => [`/${t.file}`, t]));
  const server = createServer((req, res) => {
    const t = byPath.get(decodeURIComponent((req.url ?? '').split('?')[0] ?? ''));
    if (!t || !t.http) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { 'Content-Type': t.http.content_type ?? 'text/xml' };
    for (const [k, v] of Object.entries(t.http.headers)) headers[k] = v;
    res.writeHead(200, headers);
    res.end(readFileSync(join(corpus, 'feedparser', t.file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function runFeedparser(corpus: string, results: CheckResult[]): Promise<number> {
  const data = JSON.parse(readFileSync(join(corpus, 'feedparser', 'expectations.json'), 'utf8')) as { tests: FpTest[] };
  const { server, port } = await startCorpusServer(corpus, data.tests);
  let untranslated = 0;
  try {
    for (const t of data.tests) {
      if (!t.checks) {
        untranslated++;
        continue;
      }
      const url = `http://127.0.0.1:${port}/${t.file}`;
      let outcome: Outcome;
      if (t.http) {
        try {
          const fetched = await fetchFeed(url, { userAgent: 'planet-digest-conformance', allowPrivate: true, timeoutMs: 10_000 });
          if (fetched.kind !== 'ok') throw new Error(`unexpected ${fetched.kind}`);
          outcome = await runOurs(fetched.body, fetched.finalUrl, fetched.contentType);
        } catch (err) {
          outcome = { url, error: err instanceof Error ? err : new Error(String(err)) };
        }
      } else {
        outcome = await runOurs(readFileSync(join(corpus, 'feedparser', t.file)), url);
      }
      if (t.checks.length === 0) {
        // "Expect: 1": must not crash. A clean ParseError is not a crash; anything else is.
        const crashed = outcome.error !== undefined && !('code' in outcome.error);
        results.push({ suite: 'feedparser', file: t.file, category: 'must-parse', check: 'does not crash', verdict: crashed ? 'fail' : 'pass', detail: describeOutcome(outcome) });
        continue;
      }
      for (const check of t.checks) {
        const label = `${check.path.join('.')} ${check.op}${check.value !== undefined ? ' ' + JSON.stringify(check.value) : ''}`;
        const rule = fpRuleForTest(t, check);
        if (rule) {
          results.push({ suite: 'feedparser', file: t.file, category: 'other', check: label, verdict: 'na', rule });
          continue;
        }
        const r = fpEvaluate(check, outcome, port);
        results.push({
          suite: 'feedparser',
          file: t.file,
          category: r.category,
          check: label,
          verdict: r.verdict,
          ...(r.rule ? { rule: r.rule } : {}),
          ...(r.verdict === 'fail' ? { detail: [describeOutcome(outcome), r.detail].filter(Boolean).join('; ') } : {}),
        });
      }
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return untranslated;
}

// ---------------------------------------------------------------------------------------------------------------
// gofeed and feedsmith: expected JSON objects

type Json = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function alternateOf(links: unknown): string | undefined {
  if (!Array.isArray(links)) return undefined;
  const objs = links.filter((l): l is Json => typeof l === 'object' && l !== null);
  const alt = objs.find((l) => (str(l.rel) ?? 'alternate') === 'alternate');
  if (alt) return str(alt.href);
  return undefined;
}

interface ExpectedItem {
  title?: string;
  link?: string;
  id?: string;
  published?: string;
  publishedIsParsed: boolean;
  updated?: string;
  updatedIsParsed: boolean;
  author?: string;
  authorEmailOnly?: boolean;
}

interface ExpectedFeed {
  title?: string;
  link?: string;
  items?: ExpectedItem[];
}

function authorOf(item: Json): { name?: string; emailOnly?: boolean } {
  const a = item.author;
  if (typeof a === 'string') return { name: nameOnly(a) };
  if (a && typeof a === 'object') {
    const o = a as Json;
    if (str(o.name)) return { name: str(o.name) };
    if (str(o.email)) return { emailOnly: true };
  }
  const list = item.authors;
  if (Array.isArray(list) && list.length) {
    const first = list[0];
    if (typeof first === 'string') return { name: nameOnly(first) };
    if (first && typeof first === 'object') {
      const o = first as Json;
      if (str(o.name)) return { name: str(o.name) };
      if (str(o.email)) return { emailOnly: true };
    }
  }
  return {};
}

/** Reads gofeed's universal / Atom / RSS / JSON structs and feedsmith's objects into one expected shape. */
function expectedFrom(json: Json): ExpectedFeed {
  const out: ExpectedFeed = {};
  out.title = str(json.title);
  out.link = str(json.link) ?? str(json.home_page_url) ?? alternateOf(json.links);
  const items = (Array.isArray(json.items) ? json.items : Array.isArray(json.entries) ? json.entries : undefined) as Json[] | undefined;
  if (items) {
    out.items = items.map((it) => {
      const guid = it.guid;
      const e: ExpectedItem = {
        title: str(it.title),
        link: str(it.link) ?? str(it.url) ?? alternateOf(it.links),
        id: typeof guid === 'string' ? guid : guid && typeof guid === 'object' ? str((guid as Json).value) : str(it.id) ?? (typeof it.id === 'number' ? String(it.id) : undefined),
        publishedIsParsed: false,
        updatedIsParsed: false,
      };
      const pubParsed = str(it.publishedParsed) ?? str(it.pubDateParsed);
      const pubRaw = str(it.published) ?? str(it.pubDate) ?? str(it.date_published);
      if (pubParsed) Object.assign(e, { published: pubParsed, publishedIsParsed: true });
      else if (pubRaw) e.published = pubRaw;
      const updParsed = str(it.updatedParsed);
      const updRaw = str(it.updated) ?? str(it.date_modified);
      if (updParsed) Object.assign(e, { updated: updParsed, updatedIsParsed: true });
      else if (updRaw) e.updated = updRaw;
      const a = authorOf(it);
      if (a.name) e.author = a.name;
      if (a.emailOnly) e.authorEmailOnly = true;
      return e;
    });
  }
  return out;
}

function compareFeed(suite: SuiteName, file: string, expected: ExpectedFeed, o: Outcome, results: CheckResult[], gofeedStyle: boolean): void {
  const push = (category: string, check: string, ok: boolean | 'na', detail?: string, rule?: string) =>
    results.push({
      suite,
      file,
      category,
      check,
      verdict: ok === 'na' ? 'na' : ok ? 'pass' : 'fail',
      ...(rule ? { rule } : {}),
      ...(ok === false ? { detail: [describeOutcome(o), detail].filter(Boolean).join('; ') } : {}),
    });
  const feed = o.feed;
  if (expected.title !== undefined) push('title', `feed.title == ${JSON.stringify(expected.title)}`, textMatches(feed?.title, expected.title), `ours: ${JSON.stringify(feed?.title)}`);
  if (expected.link !== undefined) {
    if (isAbsoluteUrl(expected.link) && !isHttp(expected.link)) push('link', 'feed.link', 'na', undefined, 'non-http-link');
    else push('link', `feed.link == ${expected.link}`, linkMatches(feed?.link, expected.link), `ours: ${feed?.link}`);
  }
  if (!expected.items) return;
  push('count', `items.length == ${expected.items.length}`, feed?.entries.length === expected.items.length, `ours: ${feed?.entries.length}`);
  expected.items.forEach((e, i) => {
    const ours = feed?.entries[i];
    const at = `items[${i}]`;
    if (e.title !== undefined) push('title', `${at}.title == ${JSON.stringify(e.title)}`, textMatches(ours?.title, e.title), `ours: ${JSON.stringify(ours?.title)}`);
    if (e.link !== undefined) {
      if (isAbsoluteUrl(e.link) && !isHttp(e.link)) push('link', `${at}.link`, 'na', undefined, 'non-http-link');
      else push('link', `${at}.link == ${e.link}`, linkMatches(ours?.link, e.link), `ours: ${ours?.link}`);
    }
    if (e.id !== undefined) push('id', `${at}.id == ${JSON.stringify(e.id)}`, ours?.id === e.id.trim(), `ours: ${JSON.stringify(ours?.id)}`);
    for (const [which, value, parsed] of [
      ['published', e.published, e.publishedIsParsed],
      ['updated', e.updated, e.updatedIsParsed],
    ] as const) {
      if (value === undefined) continue;
      // gofeed's universal model fills published and updated from each other when the feed gives only one.
      const universal = gofeedStyle && /(^|\/)(translator|extensions)\//.test(file);
      const oursValue = which === 'published' ? (ours?.published ?? (universal ? ours?.updated : undefined)) : (ours?.updated ?? (universal ? ours?.published : undefined));
      if (!parsed && Number.isNaN(Date.parse(value))) {
        push('date', `${at}.${which}`, 'na', undefined, 'unparsed-expectation');
        continue;
      }
      if (!parsed && gofeedStyle) {
        // gofeed gave the string but no parsed value: it could not read it either; nothing independent to compare.
        push('date', `${at}.${which}`, 'na', undefined, 'unparsed-expectation');
        continue;
      }
      push('date', `${at}.${which} == ${value}`, sameInstant(oursValue, value), `ours: ${oursValue}`);
    }
    if (e.author !== undefined) push('author', `${at}.author == ${JSON.stringify(e.author)}`, textMatches(ours?.author?.split(', ')[0], e.author), `ours: ${JSON.stringify(ours?.author)}`);
    else if (e.authorEmailOnly) push('author', `${at}.author`, 'na', undefined, 'name-less-author');
  });
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

async function runGofeed(corpus: string, results: CheckResult[]): Promise<void> {
  const root = join(corpus, 'gofeed', 'testdata');
  const rel = (p: string) => relative(join(corpus, 'gofeed'), p);
  // Universal detection: gofeed's own test expectations (see gofeed/README.md).
  const universal: Record<string, string | null> = {
    'atom03_feed.xml': 'Feed Title',
    'atom10_feed.xml': 'Feed Title',
    'rss_feed.xml': 'Feed Title',
    'rss_feed_bom.xml': 'Feed Title',
    'rss_feed_leading_spaces.xml': 'Feed Title',
    'rdf_feed.xml': 'Feed Title',
    'sample.json': 'title',
    'json10_feed.json': 'title',
    'json11_feed.json': 'title',
    'unknown_feed.xml': null,
    'empty_feed.xml': null,
    'invalid.json': null,
  };
  for (const [name, title] of Object.entries(universal)) {
    const path = join(root, 'parser', 'universal', name);
    const o = await runOurs(readFileSync(path), DUMMY_BASE);
    if (title === null) {
      results.push({ suite: 'gofeed', file: rel(path), category: 'must-parse', check: 'must fail', verdict: o.error ? 'pass' : 'fail', detail: 'parsed without error' });
    } else {
      results.push({
        suite: 'gofeed',
        file: rel(path),
        category: 'must-parse',
        check: `parses, title == ${JSON.stringify(title)}`,
        verdict: !o.error && o.feed?.title === title ? 'pass' : 'fail',
        detail: describeOutcome(o) || `title ${JSON.stringify(o.feed?.title)}`,
      });
    }
  }
  const invalid = join(root, 'parser', 'json', 'invalid', 'invalid.json');
  if (existsSync(invalid)) {
    const o = await runOurs(readFileSync(invalid), DUMMY_BASE);
    results.push({ suite: 'gofeed', file: rel(invalid), category: 'must-parse', check: 'must fail', verdict: o.error ? 'pass' : 'fail', detail: 'parsed without error' });
  }
  const pairs: Array<{ input: string; expected: string }> = [];
  for (const dir of ['parser/atom', 'parser/rss', 'translator/atom', 'translator/rss', 'extensions']) {
    for (const f of listFiles(join(root, dir))) {
      if (!f.endsWith('.xml')) continue;
      const exp = f.replace(/\.xml$/, '.json');
      if (existsSync(exp)) pairs.push({ input: f, expected: exp });
    }
  }
  for (const dir of ['parser/json', 'translator/json']) {
    for (const f of listFiles(join(root, dir))) {
      if (!f.endsWith('.json') || f.endsWith('_expected.json') || f.includes('/invalid/')) continue;
      const exp = f.replace(/\.json$/, '_expected.json');
      if (existsSync(exp)) pairs.push({ input: f, expected: exp });
    }
  }
  for (const { input, expected } of pairs) {
    const o = await runOurs(readFileSync(input), DUMMY_BASE);
    const json = JSON.parse(readFileSync(expected, 'utf8')) as Json;
    compareFeed('gofeed', rel(input), expectedFrom(json), o, results, true);
  }
}

async function runFeedsmith(corpus: string, results: CheckResult[]): Promise<void> {
  const root = join(corpus, 'feedsmith');
  for (const f of listFiles(join(root, 'src'))) {
    if (!f.endsWith('.xml')) continue;
    const exp = f.replace(/\.xml$/, '.json');
    if (!existsSync(exp)) continue;
    const o = await runOurs(readFileSync(f), DUMMY_BASE);
    compareFeed('feedsmith', relative(root, f), expectedFrom(JSON.parse(readFileSync(exp, 'utf8')) as Json), o, results, false);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

function emptyTally(): Tally {
  return { applicable: 0, pass: 0, fail: 0, na: 0 };
}

function add(t: Tally, v: Verdict): void {
  if (v === 'na') t.na++;
  else {
    t.applicable++;
    if (v === 'pass') t.pass++;
    else t.fail++;
  }
}

/** Runs every suite and tallies the results. */
export async function runConformance(options: { corpusDir?: string } = {}): Promise<ConformanceReport> {
  const corpus = options.corpusDir ?? DEFAULT_CORPUS;
  const results: CheckResult[] = [];
  const untranslated = await runFeedparser(corpus, results);
  await runGofeed(corpus, results);
  await runFeedsmith(corpus, results);
  const suites = {} as Record<SuiteName, SuiteSummary>;
  for (const s of ['feedparser', 'gofeed', 'feedsmith'] as const) suites[s] = { ...emptyTally(), byCategory: {}, naByRule: {} };
  const total = emptyTally();
  for (const r of results) {
    const s = suites[r.suite];
    add(s, r.verdict);
    add(total, r.verdict);
    const cat = r.verdict === 'na' ? `n/a` : r.category;
    add((s.byCategory[cat] ??= emptyTally()), r.verdict);
    if (r.verdict === 'na' && r.rule) s.naByRule[r.rule] = (s.naByRule[r.rule] ?? 0) + 1;
  }
  return { suites, total, results, untranslated };
}

export function readBaseline(): Baseline | undefined {
  if (!existsSync(BASELINE_FILE)) return undefined;
  return JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as Baseline;
}

/** Suites whose pass count dropped below the baseline. */
export function regressions(report: ConformanceReport, baseline: Baseline): string[] {
  const out: string[] = [];
  for (const s of ['feedparser', 'gofeed', 'feedsmith'] as const) {
    if (report.suites[s].pass < baseline[s]) out.push(`${s}: ${report.suites[s].pass} passing checks, baseline ${baseline[s]}`);
  }
  if (report.total.pass < baseline.total) out.push(`total: ${report.total.pass} passing checks, baseline ${baseline.total}`);
  return out;
}

function pct(t: Tally): string {
  return t.applicable ? ((100 * t.pass) / t.applicable).toFixed(1) + '%' : '-';
}

function printReport(report: ConformanceReport, verbose: boolean): void {
  const line = (name: string, t: Tally) =>
    `  ${name.padEnd(14)} applicable ${String(t.applicable).padStart(5)}  pass ${String(t.pass).padStart(5)}  fail ${String(t.fail).padStart(4)}  n/a ${String(t.na).padStart(5)}  ${pct(t)}`;
  for (const s of ['feedparser', 'gofeed', 'feedsmith'] as const) {
    const sum = report.suites[s];
    console.log(`${s}`);
    for (const [cat, t] of Object.entries(sum.byCategory).sort()) console.log(line(cat, t));
    console.log(line('ALL', sum));
    const rules = Object.entries(sum.naByRule).sort((a, b) => b[1] - a[1]);
    if (rules.length) console.log(`  n/a by rule: ${rules.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  console.log('overall');
  console.log(line('ALL', report.total));
  console.log(`  (${report.untranslated} feedparser tests have no machine-readable checks and are not counted)`);
  if (verbose) {
    console.log('\nfailures:');
    for (const r of report.results) if (r.verdict === 'fail') console.log(`  [${r.suite}] ${r.file}: ${r.check}${r.detail ? ' -- ' + r.detail : ''}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose');
  const update = argv.includes('--update-baseline');
  const corpusIdx = argv.indexOf('--corpus');
  const corpusDir = corpusIdx >= 0 ? argv[corpusIdx + 1] : undefined;
  const report = await runConformance(corpusDir ? { corpusDir } : {});
  const baseline = readBaseline();
  if (update) {
    const next: Baseline = { feedparser: report.suites.feedparser.pass, gofeed: report.suites.gofeed.pass, feedsmith: report.suites.feedsmith.pass, total: report.total.pass };
    writeFileSync(BASELINE_FILE, JSON.stringify(next, null, 2) + '\n');
  }
  const dropped = baseline && !update ? regressions(report, baseline) : [];
  if (json) {
    const summary = {
      suites: Object.fromEntries(Object.entries(report.suites).map(([k, v]) => [k, v])),
      total: report.total,
      untranslated: report.untranslated,
      baseline: baseline ?? null,
      regressions: dropped,
      failures: verbose ? report.results.filter((r) => r.verdict === 'fail') : undefined,
    };
    console.log(JSON.stringify(summary, null, 2));
  } else {
    printReport(report, verbose);
    if (baseline) console.log(`baseline: ${JSON.stringify(baseline)}`);
    for (const d of dropped) console.log(`REGRESSION ${d}`);
  }
  return dropped.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
