/**
 * Resolves a URI reference against a base (RFC 3986 §5 via WHATWG URL); undefined when it cannot be resolved
 * (empty, or relative with no usable base). Whitespace around the reference is ignored.
 */
export function resolveUrl(ref: string | undefined, base: string | undefined): string | undefined {
  const r = ref?.trim();
  if (!r) return undefined;
  try {
    return new URL(r, base || undefined).href;
  } catch {
    return undefined;
  }
}

/** The base in effect inside an element with this xml:base attribute (XML Base §4.2: resolved against the outer base). */
export function resolveBase(xmlBase: string | undefined, outer: string | undefined): string | undefined {
  if (xmlBase === undefined) return outer;
  // An empty xml:base means "the outer base" (a same-document reference).
  if (xmlBase.trim() === '') return outer;
  return resolveUrl(xmlBase, outer) ?? outer;
}

/** True for absolute http: and https: URLs, the only links planet-digest shows. */
export function isHttpUrl(url: string | undefined): url is string {
  return typeof url === 'string' && /^https?:\/\/[^/]/i.test(url);
}
