import { describe, expect, it } from 'vitest';
import { escapeFeedHtml, escapeHtml } from '../../src/render/escape-html.js';

describe('escapeHtml', () => {
  it.each([
    ['AT&T <script>', 'AT&amp;T &lt;script&gt;'],
    // Already-decoded text that literally contains "&amp;" must show "&amp;" on screen: escaped once more.
    ['&amp;', '&amp;amp;'],
    ['"quoted" & \'single\'', '&quot;quoted&quot; &amp; &#39;single&#39;'],
    ['a < b > c', 'a &lt; b &gt; c'],
    ['Выпуск 🐍 پائتھن 新功能', 'Выпуск 🐍 پائتھن 新功能'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it('leaves no raw "<" and is not idempotent (escaping twice would double-escape, so we escape exactly once)', () => {
    const once = escapeHtml('<b>&lt;</b>');
    expect(once).not.toMatch(/</);
    expect(escapeHtml(once)).not.toBe(once);
  });
});

describe('escapeFeedHtml', () => {
  it.each([
    ['%%UNSUBSCRIBE_URL%%', '%&#37;UNSUBSCRIBE_URL%&#37;'],
    ['100%% sure', '100%&#37; sure'],
    ['50% off', '50% off'],
    ['AT&T <x>', 'AT&amp;T &lt;x&gt;'],
  ])('%j → %j (feed text can never form a placeholder)', (input, expected) => {
    const out = escapeFeedHtml(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/%%[A-Z_]+%%/);
  });
});
