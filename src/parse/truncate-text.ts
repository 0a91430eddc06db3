/**
 * Cuts plain text to at most `max` characters (code points, so a surrogate pair is never split), at a word boundary,
 * ending with "…" when something was cut. A single word longer than the limit is cut inside the word.
 */
export function truncateText(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  if (max <= 1) return max === 1 ? '…' : '';
  // Room for the ellipsis.
  const head = chars.slice(0, max - 1);
  const next = chars[max - 1];
  let cut = head.length;
  if (next !== undefined && !/\s/.test(next)) {
    // We are inside a word: go back to the last whitespace, unless the word is all we have.
    let i = head.length - 1;
    while (i > 0 && !/\s/.test(head[i] ?? '')) i--;
    if (i > 0) cut = i;
  }
  const out = head.slice(0, cut).join('').replace(/[\s,;:.\-–—]+$/u, '');
  return out + '…';
}
