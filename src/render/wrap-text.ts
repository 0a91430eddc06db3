import { memoString } from './entry-memo.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// East Asian wide/fullwidth blocks and emoji take two columns in a monospace mail reader.
const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]|[\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;

// Widths of strings with wide characters, remembered: segmenting into graphemes costs ~100 ns per character, and
// digests of a cycle wrap the same titles and words again and again (a word is measured twice while wrapping). Only
// words and titles: a long text rarely comes back, and would make the memory this holds unbounded.
const WIDE_WIDTHS_MAX_LENGTH = 300;
const wideWidths = new Map<string, number>();

/** Columns a string takes in a monospace font (wide CJK characters and emoji count as two). */
export function displayWidth(text: string): number {
  // Fast path (most text): without wide characters every code point is one column.
  if (!WIDE.test(text)) {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) n++; // skip low surrogates: a pair counts once
    }
    return n;
  }
  return text.length <= WIDE_WIDTHS_MAX_LENGTH ? memoString(wideWidths, text, graphemeWidth) : graphemeWidth(text);
}

function graphemeWidth(text: string): number {
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += WIDE.test(segment) ? 2 : 1;
  return width;
}


/** Splits a word wider than `width` at grapheme boundaries (only used for text without spaces, e.g. Chinese). */
function splitWide(word: string, width: number): string[] {
  const pieces: string[] = [];
  let current = '';
  let currentWidth = 0;
  for (const { segment } of segmenter.segment(word)) {
    const w = WIDE.test(segment) ? 2 : 1;
    if (currentWidth + w > width && current) {
      pieces.push(current);
      current = '';
      currentWidth = 0;
    }
    current += segment;
    currentWidth += w;
  }
  if (current) pieces.push(current);
  return pieces;
}

/**
 * Greedy word wrap to `width` columns; every line is prefixed with `indent`. Long words without
 * wide characters (URLs) are kept whole on their own line so they stay clickable; long runs of
 * CJK text are broken between characters, as CJK typography allows.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const room = Math.max(10, width - displayWidth(indent));
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  const flush = () => {
    if (line) lines.push(indent + line);
    line = '';
    lineWidth = 0;
  };
  for (const word of words) {
    const pieces = displayWidth(word) > room && WIDE.test(word) ? splitWide(word, room) : [word];
    for (const piece of pieces) {
      const w = displayWidth(piece);
      if (line && lineWidth + 1 + w > room) flush();
      line = line ? `${line} ${piece}` : piece;
      lineWidth += (lineWidth ? 1 : 0) + w;
    }
  }
  flush();
  return lines;
}
