/**
 * The element tree xml2js builds with explicitChildren + preserveChildrenOrder + charsAsChildren + xmlns, after
 * parse-xml-document gives every element a canonical name. Text (and CDATA) children have the name "__text__".
 */
export interface XmlNode {
  /** Canonical name: "atom:title", "rss:title", "dc:creator", "xhtml:div", or "{uri}local" for other namespaces. */
  '#name': string;
  /** Attributes by qualified name as written ("href", "xml:base", "rdf:about"). */
  $?: Record<string, string>;
  /** Children in document order, text included. */
  $$?: XmlNode[];
  /** Namespace URI and local name (elements only). */
  $ns?: { uri: string; local: string };
  /** Text of a text child; for elements, the concatenation of their direct text children. */
  _?: string;
}

export const TEXT_NODE = '__text__';

/** Element children, in document order. */
export function childElements(node: XmlNode | undefined): XmlNode[] {
  return (node?.$$ ?? []).filter((c) => c['#name'] !== TEXT_NODE);
}

/** Element children with one of the given canonical names, in document order. */
export function childrenNamed(node: XmlNode | undefined, ...names: string[]): XmlNode[] {
  return childElements(node).filter((c) => names.includes(c['#name']));
}

/** First child element with the first name in `names` that has one (names are in priority order). */
export function firstChild(node: XmlNode | undefined, ...names: string[]): XmlNode | undefined {
  const kids = childElements(node);
  for (const name of names) {
    const hit = kids.find((c) => c['#name'] === name);
    if (hit) return hit;
  }
  return undefined;
}

/** An attribute's value. */
export function attr(node: XmlNode | undefined, name: string): string | undefined {
  const v = node?.$?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** All text below the node, concatenated in document order (markup dropped). */
export function textContent(node: XmlNode | undefined): string {
  if (!node) return '';
  if (node['#name'] === TEXT_NODE) return node._ ?? '';
  let out = '';
  const stack: XmlNode[] = [...(node.$$ ?? [])].reverse();
  while (stack.length) {
    const n = stack.pop() as XmlNode;
    if (n['#name'] === TEXT_NODE) out += n._ ?? '';
    else if (n.$$) for (let i = n.$$.length - 1; i >= 0; i--) stack.push(n.$$[i] as XmlNode);
  }
  return out;
}

/** True when the node has element children (markup inside, rather than escaped text). */
export function hasElementChildren(node: XmlNode | undefined): boolean {
  return (node?.$$ ?? []).some((c) => c['#name'] !== TEXT_NODE);
}

const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
/** Deeper markup is dropped: nothing legitimate nests that far, and it bounds recursion. */
const MAX_DEPTH = 256;

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * Serializes the node's children as HTML (inline XHTML content): local names without prefixes, namespace
 * declarations dropped, text escaped, void elements without end tags.
 */
export function serializeChildren(node: XmlNode | undefined): string {
  if (!node) return '';
  return (node.$$ ?? []).map((c) => serializeNode(c, 0)).join('');
}

function serializeNode(node: XmlNode, depth: number): string {
  if (node['#name'] === TEXT_NODE) return escapeText(node._ ?? '');
  if (depth > MAX_DEPTH) return '';
  const name = node.$ns?.local ?? node['#name'].replace(/^.*[:}]/, '');
  let attrs = '';
  for (const [k, v] of Object.entries(node.$ ?? {})) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    attrs += ` ${k.replace(/^xhtml:/, '')}="${escapeAttr(v)}"`;
  }
  if (VOID_ELEMENTS.has(name.toLowerCase()) && !(node.$$ ?? []).length) return `<${name}${attrs}>`;
  return `<${name}${attrs}>${(node.$$ ?? []).map((c) => serializeNode(c, depth + 1)).join('')}</${name}>`;
}
