/**
 * encodeQuotedPrintable, checked against an independent decoder (libqp, the one mailparser uses) and against the rules
 * of RFC 2045 §6.7 it promises, over fixed cases and seeded random text (ASCII, line breaks of every kind, trailing
 * spaces and tabs, dots, "=", accents, CJK, emoji, lone surrogates).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../bench/lib/seeded-random.js';
import { encodeQuotedPrintable } from '../../src/dispatch/encode-quoted-printable.js';

const { decode } = createRequire(import.meta.url)('libqp') as { decode(s: string): Buffer };

/** What decoding must give back: the UTF-8 of the text with every CR, LF and CRLF as CRLF. */
const expected = (text: string) => Buffer.from(text.replace(/\r\n|\r|\n/g, '\r\n'), 'utf8');

/** Every promise about the encoded form, as a list of broken ones (empty when all hold). */
function brokenRules(encoded: Buffer, lineLength: number): string[] {
  const broken: string[] = [];
  const text = encoded.toString('latin1');
  if (/[^\t\r\n\x20-\x7e]/.test(text)) broken.push('a byte outside printable ASCII, tab, CR and LF');
  if (/\r(?!\n)|(?<!\r)\n/.test(text)) broken.push('a bare CR or LF');
  const lines = text.split('\r\n');
  lines.forEach((line, i) => {
    if (line.length > lineLength) broken.push(`line ${i} is ${line.length} long`);
    if (/[ \t]$/.test(line)) broken.push(`line ${i} ends with whitespace`);
    if (line.startsWith('.')) broken.push(`line ${i} starts with "."`);
    if (/=(?![0-9A-F]{2}|$)/.test(line)) broken.push(`line ${i} has a bare "="`);
    // A soft break never separates the bytes of one UTF-8 sequence: the next line cannot start with a continuation byte.
    if (i > 0 && lines[i - 1]!.endsWith('=') && /^=[89AB][0-9A-F]/.test(line)) broken.push(`line ${i} starts inside a UTF-8 sequence`);
  });
  return broken;
}

const CASES: Array<[string, string]> = [
  ['empty', ''],
  ['short ASCII', 'Hello, world.'],
  ['"=" and DEL', 'a=b\x7fc'],
  ['trailing space and tab before breaks and at the end', 'end \nend\t\r\nend \rlast\t '],
  ['a line of dots', '...\n.\n. x'],
  ['every kind of line break', 'a\r\nb\rc\nd\n\re\r\r\n'],
  ['long ASCII line', 'word '.repeat(100)],
  ['long line without spaces', 'x'.repeat(500)],
  ['accents', 'Ça été très élégant à Zürich, naïve façade. '.repeat(8)],
  ['CJK', '日本語のテキストを折り返す。'.repeat(20)],
  ['emoji and a lone surrogate', '😀🎉 party \ud800 lone \udc00 low '.repeat(10)],
  ['control characters', 'bell\x07 nul\x00 esc\x1b form\x0c'],
  ['dots at soft-break positions', `${'a'.repeat(71)}.${'b'.repeat(71)}.${'c'.repeat(80)}`],
];

describe('encodeQuotedPrintable', () => {
  it.each(CASES)('%s: decodes to the text with CRLF breaks, and keeps every rule', (_name, text) => {
    for (const lineLength of [13, 73, 76]) {
      const encoded = encodeQuotedPrintable(text, lineLength);
      expect(decode(encoded.toString('latin1')).equals(expected(text))).toBe(true);
      expect(brokenRules(encoded, lineLength)).toEqual([]);
    }
  });

  it('plain short text stays as it is', () => {
    expect(encodeQuotedPrintable('Nothing to escape here.').toString('latin1')).toBe('Nothing to escape here.');
    expect(encodeQuotedPrintable('café').toString('latin1')).toBe('caf=C3=A9');
  });

  it('uses each line fully: a soft break only when the next character would not fit', () => {
    const lines = encodeQuotedPrintable('y'.repeat(200), 76).toString('latin1').split('\r\n');
    expect(lines.map((l) => l.length)).toEqual([76, 76, 50]);
    expect(lines.slice(0, 2).every((l) => l.endsWith('='))).toBe(true);
  });

  it('refuses a line length too short to hold an escaped 4-byte character and "="', () => {
    expect(() => encodeQuotedPrintable('x', 12)).toThrow(/at least 13/);
  });

  it('2,000 random texts decode exactly and keep every rule', () => {
    const random = createSeededRandom(0x51ed).next;
    const alphabet = ['a', 'b', 'Z', '0', ' ', ' ', '\t', '.', '=', '\r', '\n', '\r\n', 'é', 'ß', '€', '中', '😀', '\ud83d', '\udca9', '\x7f', '\x00', '-', 'long-word-'];
    const failures: string[] = [];
    for (let round = 0; round < 2000; round++) {
      const length = Math.floor(random() * 300);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const lineLength = 13 + Math.floor(random() * 64);
      const encoded = encodeQuotedPrintable(text, lineLength);
      const decodedOk = decode(encoded.toString('latin1')).equals(expected(text));
      const broken = brokenRules(encoded, lineLength);
      if (!decodedOk || broken.length > 0) failures.push(`${JSON.stringify(text)} @${lineLength}: ${decodedOk ? '' : 'decodes differently; '}${broken.join('; ')}`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
