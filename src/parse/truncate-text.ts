const WHITESPACE = /\s/;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Cuts plain text to at most `max` characters (code points, so a surrogate pair is never split), at a word boundary,
 * ending with "…" when something was cut. A single word longer than the limit is cut inside the word.
 */
export function truncateText(text: string, max: number): string {
  // A string has at least as many UTF-16 units as code points: short enough in units means short enough. This is
  // the common case (titles, authors) and costs nothing.
  if (text.length <= max) return text;
  if (max <= 0) return '';
  // Walk code points (as Array.from would split them) over the first `max` only, by index: a summary's source text
  // may be kilobytes long. headEnd: where the first max - 1 code points end; end: where the first max end.
  const n = text.length;
  let end = 0;
  let headEnd = 0;
  for (let count = 0; count < max && end < n; count++) {
    headEnd = end;
    end += isHighSurrogate(text.charCodeAt(end)) && end + 1 < n && isLowSurrogate(text.charCodeAt(end + 1)) ? 2 : 1;
  }
  if (end >= n) return text; // `max` or fewer code points after all (surrogate pairs)
  if (max === 1) return '…';
  // Room for the ellipsis: keep max - 1 code points; the max-th tells whether the cut falls inside a word.
  let cut = headEnd;
  if (!WHITESPACE.test(text.slice(headEnd, end))) {
    // We are inside a word: go back to the last whitespace, unless the word is all we have. Whitespace is never part
    // of a surrogate pair, so scanning UTF-16 units finds the same places as scanning code points.
    let i = headEnd - 1;
    while (i > 0 && !WHITESPACE.test(text[i] ?? '')) i--;
    if (i > 0) cut = i;
  }
  const out = text.slice(0, cut).replace(/[\s,;:.\-–—]+$/u, '');
  return out + '…';
}
