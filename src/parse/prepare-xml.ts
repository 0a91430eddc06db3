import { decodeXML } from 'entities';
import { ParseError } from '../model/errors.js';
import { NOT_WELL_FORMED } from './parse-warnings.js';

/** What the prolog scan found before the XML parser runs. */
export interface PreparedXml {
  /** The text to hand to the XML parser (DOCTYPE removed, safe internal entities expanded). */
  text: string;
  /** Qualified name of the root element as written, when the prolog scan reached it. */
  rootName?: string;
  /** Root element attributes as written (values XML-decoded). */
  rootAttributes: Record<string, string>;
  /** Name given in <!DOCTYPE name …>, when there is one. */
  doctypeName?: string;
  warnings: string[];
}

/** Internal entity values we expand: bounded in number and size so expansion stays linear and small. */
const MAX_ENTITIES = 64;
const MAX_ENTITY_VALUE = 4096;
const MAX_EXPANSION = 1_000_000;
const XML_BUILTIN = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

interface EntityDecl {
  name: string;
  parameter: boolean;
  external: boolean;
  value?: string;
}

/**
 * Makes a document safe and ready for the strict XML parser:
 * - drops a BOM and leading whitespace (some servers emit a newline before the XML declaration);
 * - removes the DOCTYPE. No DTD is ever fetched or processed (no XXE). Internal general entities with literal values
 *   are expanded (feeds use them for repeated text); a DOCTYPE whose entities reference other entities is refused
 *   outright, since that is how entity-expansion bombs ("billion laughs") work, and so is a reference to an external
 *   entity. sax itself does not expand DTD entities, so without this step such references would just be errors.
 * Throws ParseError for refused documents; the message says why.
 */
export function prepareXml(input: string): PreparedXml {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  let text = input.replace(/^\uFEFF/, '').replace(/^[\s\u0000]+/, '');
  const warnings: string[] = [];
  let prolog = scanProlog(text);
  if (prolog.junkAt !== undefined) {
    // Text before the document (a PHP warning, a stray line from a CMS plugin) is common: skip to the XML if the
    // document itself follows soon after.
    const start = text.slice(0, 65_536).search(/<\?xml\s|<(?:[\w-]+:)?(?:rss|feed|RDF)[\s>]/);
    if (start > 0) {
      warnings.push(NOT_WELL_FORMED + `${JSON.stringify(text.slice(0, Math.min(start, 60)).trim())} before the XML document was skipped`);
      text = text.slice(start);
      prolog = scanProlog(text);
    }
  }
  const result: PreparedXml = { text, rootAttributes: {}, warnings };
  if (prolog.root) {
    result.rootName = prolog.root.name;
    result.rootAttributes = parseAttributes(text.slice(prolog.root.start, prolog.root.end));
  }
  if (prolog.xmlDeclLate) {
    // An XML declaration after a comment is not well-formed; it only matters to the decoder, which already ran.
    const { start, end } = prolog.xmlDeclLate;
    text = text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);
    warnings.push(NOT_WELL_FORMED + 'the XML declaration is not at the start of the document');
  }
  if (prolog.doctype) {
    const { start, end, name, subset } = prolog.doctype;
    result.doctypeName = name;
    const decls = subset ? parseEntityDeclarations(subset) : [];
    // Keep line numbers: replace the DOCTYPE by as many newlines as it spanned.
    const blank = text.slice(start, end).replace(/[^\n]/g, '');
    let body = text.slice(0, start) + blank + text.slice(end);
    body = expandEntities(body, start + blank.length, decls);
    text = body;
  }
  result.text = text;
  return result;
}

function refuse(message: string): never {
  throw new ParseError(message, {
    hint: 'The document was refused for safety; if it is a genuine feed, ask its publisher to drop the DOCTYPE entity declarations.',
  });
}

/** Expands safe internal entities in the body (after `from`), refusing nested or external entity use. */
function expandEntities(text: string, from: number, decls: EntityDecl[]): string {
  const general = decls.filter((d) => !d.parameter && !XML_BUILTIN.has(d.name));
  if (general.length === 0) return text;
  if (general.length > MAX_ENTITIES) refuse(`refused: the DOCTYPE declares ${general.length} entities (limit ${MAX_ENTITIES})`);
  const values = new Map<string, string>();
  const external = new Set<string>();
  for (const d of general) {
    if (values.has(d.name) || external.has(d.name)) continue; // XML: the first declaration wins
    if (d.external) {
      external.add(d.name);
      continue;
    }
    const raw = d.value ?? '';
    if (/&(?!#\d+;|#x[0-9a-fA-F]+;)|%/.test(raw)) {
      refuse(
        `refused: the DOCTYPE declares entity "${d.name}" whose value refers to other entities; ` +
          'nested entities are how entity-expansion attacks ("billion laughs") work, so they are never expanded',
      );
    }
    if (raw.length > MAX_ENTITY_VALUE) refuse(`refused: entity "${d.name}" is ${raw.length} characters long (limit ${MAX_ENTITY_VALUE})`);
    // Character references are resolved, then the value is inserted as text (escaped), never as markup.
    values.set(d.name, escapeText(decodeXML(raw)));
  }
  let expanded = 0;
  const head = text.slice(0, from);
  const body = mapOutsideCdata(text.slice(from), (segment) =>
    segment.replace(/&([A-Za-z_:][\w.:-]*);/g, (whole, name: string) => {
      if (external.has(name)) {
        refuse(`refused: the document refers to external entity "${name}"; external entities are never fetched (XXE protection)`);
      }
      const v = values.get(name);
      if (v === undefined) return whole;
      expanded += v.length;
      if (expanded > MAX_EXPANSION) refuse(`refused: entity expansion would exceed ${MAX_EXPANSION} characters`);
      return v;
    }),
  );
  return head + body;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Applies `fn` to the parts of `text` outside CDATA sections and comments (where entity references mean nothing). */
export function mapOutsideCdata(text: string, fn: (segment: string) => string): string {
  const re = /<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<!--[\s\S]*?(?:-->|$)/g;
  let out = '';
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out += fn(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  return out + fn(text.slice(last));
}

function parseEntityDeclarations(subset: string): EntityDecl[] {
  const out: EntityDecl[] = [];
  const re = /<!ENTITY\s+(%\s+)?([^\s"'>]+)\s+((?:SYSTEM|PUBLIC)\b)?\s*(?:"([^"]*)"|'([^']*)')?[^>]*>/g;
  for (let m = re.exec(subset); m; m = re.exec(subset)) {
    const decl: EntityDecl = { name: m[2] ?? '', parameter: Boolean(m[1]), external: Boolean(m[3]) };
    if (!decl.external) decl.value = m[4] ?? m[5] ?? '';
    out.push(decl);
  }
  return out;
}

interface Prolog {
  root?: { name: string; start: number; end: number };
  doctype?: { start: number; end: number; name: string; subset?: string };
  xmlDeclLate?: { start: number; end: number };
  junkAt?: number;
}

/** Bounded scan of what precedes the root element: PIs, comments, the DOCTYPE; then the root start tag. */
function scanProlog(text: string): Prolog {
  const n = text.length;
  const out: Prolog = {};
  let i = 0;
  let sawComment = false;
  while (i < n) {
    while (i < n && /\s/.test(text[i] ?? '')) i++;
    if (i >= n) break;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return out;
      if (/^<\?xml\s/.test(text.slice(i, i + 6)) && (i > 0 || sawComment)) out.xmlDeclLate = { start: i, end: end + 2 };
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return out;
      sawComment = true;
      i = end + 3;
    } else if (text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
      const d = scanDoctype(text, i);
      if (!d) return out;
      out.doctype = d;
      i = d.end;
    } else if (text[i] === '<' && /[A-Za-z_:]/.test(text[i + 1] ?? '')) {
      const nameMatch = /^[^\s/>]+/.exec(text.slice(i + 1, i + 1 + 256));
      const end = scanTagEnd(text, i + 1);
      if (!nameMatch || end < 0) return out;
      out.root = { name: nameMatch[0], start: i, end: end + 1 };
      return out;
    } else {
      out.junkAt = i;
      return out;
    }
  }
  return out;
}

/** Index of the ">" closing a tag that starts before `from`, skipping quoted attribute values; -1 if none. */
function scanTagEnd(text: string, from: number): number {
  let quote = '';
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return j;
    else if (c === '<') return -1;
  }
  return -1;
}

function scanDoctype(text: string, start: number): Prolog['doctype'] {
  let j = start + 9;
  let quote = '';
  const n = text.length;
  for (; j < n; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '>') break;
  }
  const name = /^\s*([^\s[>]+)/.exec(text.slice(start + 9, j))?.[1] ?? '';
  if (text[j] === '>') return { start, end: j + 1, name };
  if (text[j] !== '[') return undefined;
  const subsetStart = j + 1;
  for (j = subsetStart; j < n; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (text.startsWith('<!--', j)) {
      const e = text.indexOf('-->', j + 4);
      if (e < 0) return undefined;
      j = e + 2;
    } else if (c === ']') break;
  }
  if (j >= n) return undefined;
  const subset = text.slice(subsetStart, j);
  const close = text.indexOf('>', j);
  if (close < 0) return undefined;
  return { start, end: close + 1, name, subset };
}

/** Attributes of a start tag as written ("<feed a='1' b="2">"), values XML-decoded. */
function parseAttributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=/<>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  for (let m = re.exec(tag); m; m = re.exec(tag)) {
    if (m[1]) out[m[1]] = decodeXML(m[2] ?? m[3] ?? '');
  }
  return out;
}
