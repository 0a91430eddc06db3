/** An http(s) URL from a feed, or undefined. */
export function httpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const sourceUrls = new Map<string, string | undefined>();
const SOURCE_URL_LIMIT = 10_000;

/**
 * httpUrl for the few values every digest repeats (sources' site links): memoized, since parsing a URL costs more than
 * the rest of a source heading. Same result as httpUrl.
 */
export function memoHttpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (sourceUrls.has(url)) return sourceUrls.get(url);
  if (sourceUrls.size >= SOURCE_URL_LIMIT) sourceUrls.clear();
  const href = httpUrl(url);
  sourceUrls.set(url, href);
  return href;
}
