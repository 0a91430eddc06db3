// C0/C1 control characters and DEL (\p{Cc}), and the bidirectional overrides and isolates (U+202A–U+202E,
// U+2066–U+2069) that let feed text reverse how a subject or title reads; U+2028/U+2029 separators become spaces too.
const CONTROL = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu;
const SEPARATORS = /[\u2028\u2029]/g;

/** Makes feed text safe to place on one line: no control characters, no line breaks, collapsed whitespace. */
export function cleanText(text: string): string {
  return text.replace(CONTROL, ' ').replace(SEPARATORS, ' ').replace(/\s+/g, ' ').trim();
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Shortens text to at most `max` characters (code points), cutting at a word boundary when one is
 * reasonably close and appending "…"; never splits a surrogate pair or a grapheme cluster.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max || Array.from(text).length <= max) return text;
  // Only the head can be kept: segment a bounded prefix (4 code units per kept character covers any cluster we keep),
  // with one shared segmenter; segmenting whole long texts with a new one each call cost up to 1 ms per summary.
  const graphemes = Array.from(GRAPHEMES.segment(text.slice(0, max * 4 + 8)), (s) => s.segment);
  let kept = '';
  let keptLength = 0;
  for (const g of graphemes) {
    const len = Array.from(g).length;
    if (keptLength + len > max - 1) break;
    kept += g;
    keptLength += len;
  }
  const lastSpace = kept.lastIndexOf(' ');
  // Cut at the last space unless that would throw away more than a third of the budget (one long word).
  if (lastSpace > (max * 2) / 3) kept = kept.slice(0, lastSpace);
  return kept.replace(/[\s,;:.\-–—]+$/u, '') + '…';
}

/** Longest author and source title shown anywhere (characters); feeds sometimes stuff whole bios in. */
export const MAX_NAME_LENGTH = 100;
/** Longest source title shown (characters). */
export const MAX_SOURCE_TITLE_LENGTH = 150;

/** Breaks "%%" in feed text for the plain-text part so it can never form a %%PLACEHOLDER%% token (U+200B between). */
export function neutralizePlaceholders(text: string): string {
  return text.replace(/%(?=%)/g, '%\u200B');
}
