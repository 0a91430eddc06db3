import { describe, expect, it } from 'vitest';
import { htmlToPlainText, repairC1Controls } from '../../src/parse/html-to-plain-text.js';
import { looksLikeHtml, plainName } from '../../src/parse/read-xml-feed.js';
import { truncateText } from '../../src/parse/truncate-text.js';

describe('htmlToPlainText', () => {
  it.each([
    ['<p>Hello <b>world</b></p>', 'Hello world'],
    ['AT&amp;amp;T', 'AT&amp;T'], // one decode, never two
    ['AT&amp;T &hearts; &#x2615; &eacute;', 'AT&T ♥ ☕ é'],
    ['<script>alert(1)</script><style>p{}</style>visible', 'visible'],
    ['<p>one</p>\n\n<p>two</p>', 'one two'],
    ['<a href="https://example.com/x">link text</a> <img src="x.png" alt="picture">', 'link text'],
    ['<ul><li>first</li><li>second</li></ul>', 'first second'],
    ['no markup   at\tall', 'no markup at all'],
    ['don\u0092t', 'don’t'],
    ['bell\u0007 char', 'bell char'],
  ])('%j → %j', (html, text) => {
    expect(htmlToPlainText(html)).toBe(text);
  });

  it('bounds the work on huge input when asked', () => {
    expect(htmlToPlainText('<p>' + 'a '.repeat(100_000) + '</p>', 1000).length).toBeLessThan(1000);
  });
});

describe('repairC1Controls', () => {
  it.each([
    ['\u0080 \u0085 \u0091x\u0092 \u0093q\u0094 \u0096 \u0097 \u0099', '€ … ‘x’ “q” – — ™'],
    ['undefined slots \u0081\u008d\u008f\u0090\u009d vanish', 'undefined slots  vanish'],
    ['plain text stays', 'plain text stays'],
  ])('%j → %j', (input, output) => {
    expect(repairC1Controls(input)).toBe(output);
  });
});

describe('truncateText', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly ten', 11, 'exactly ten'],
    ['the quick brown fox jumps', 12, 'the quick…'],
    ['the quick brown fox jumps', 10, 'the quick…'],
    ['supercalifragilistic', 8, 'superca…'], // one long word is cut inside the word
    ['end, with punctuation. and more', 17, 'end, with…'],
    ['😀😀😀😀😀😀', 4, '😀😀😀…'], // code points, never half a surrogate pair
    ['😀😀😀😀', 4, '😀😀😀😀'], // 8 UTF-16 units but 4 code points: fits
    ['😀😀😀😀😀', 1, '…'],
    ['abc', 0, ''],
    ['a😀 b😀 c😀 d', 5, 'a😀…'], // word boundary found across surrogate pairs
    ['\ud83dlone surrogate', 3, '\ud83dl…'], // a lone surrogate counts as one character, as Array.from sees it
    ['word '.repeat(20_000), 12, 'word word…'], // only the prefix matters, however long the text
  ])('truncateText(%j, %d) = %j', (text, max, expected) => {
    const out = truncateText(text, max);
    expect(out).toBe(expected);
    expect(Array.from(out).length).toBeLessThanOrEqual(max);
  });
});

describe('looksLikeHtml (feedparser rule for RSS titles)', () => {
  it.each([
    ['plain title', false],
    ['5 < 6 and 7 > 3', false],
    ['AT&amp;T', true],
    ['<b>bold</b> title', true],
    ['&notanentity; here', false],
    ['Caf&#233;', true],
  ])('%j → %s', (s, expected) => {
    expect(looksLikeHtml(s)).toBe(expected);
  });
});

describe('plainName (RSS author forms)', () => {
  it.each([
    ['jane@example.com (Jane Doe)', 'Jane Doe'],
    ['Jane Doe <jane@example.com>', 'Jane Doe'],
    ['"Jane Doe" <mailto:jane@example.com>', 'Jane Doe'],
    ['Jane Doe (jane@example.com)', 'Jane Doe'],
    ['jane@example.com', 'jane@example.com'],
    ['  Jane\n  Doe ', 'Jane Doe'],
  ])('%j → %j', (value, name) => {
    expect(plainName(value)).toBe(name);
  });
});
