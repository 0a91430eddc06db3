import { describe, expect, it } from 'vitest';
import { escapeSlackMrkdwn, escapeSlackPlain, escapeSlackUrl, neutralizeMentions, slackLink } from '../../src/render/escape-slack.js';

const WJ = '\u2060';

// Slack mention cases: what a feed title contains → what we send.
const MENTIONS: Array<[string, string]> = [
  ['<!channel>', '&lt;!channel&gt;'],
  ['<!here>', '&lt;!here&gt;'],
  ['<!everyone>', '&lt;!everyone&gt;'],
  ['<@U123>', '&lt;@U123&gt;'],
  ['<@U123|bob>', '&lt;@U123|bob&gt;'],
  ['<#C123>', '&lt;#C123&gt;'],
  ['<!subteam^S123>', '&lt;!subteam^S123&gt;'],
  ['<!date^1392734382^{date}|x>', '&lt;!date^1392734382^{date}|x&gt;'],
  ['<https://evil.example|innocent>', '&lt;https://evil.example|innocent&gt;'],
  ['@channel', `@${WJ}channel`],
  ['@here please', `@${WJ}here please`],
  ['hi @everyone!', `hi @${WJ}everyone!`],
  ['@Channel @HERE', `@${WJ}Channel @${WJ}HERE`],
  ['mail me@here.example', 'mail me@here.example'],
  ['@channels and @herein are not mentions', '@channels and @herein are not mentions'],
];

/** Would Slack see a control sequence or a broadcast mention in this mrkdwn? */
function notifies(text: string): boolean {
  return /<[!@#]/.test(text) || /(?<![\p{L}\p{N}_])@(channel|here|everyone)(?![\p{L}\p{N}_])/iu.test(text);
}

describe('Slack mention neutralization', () => {
  it.each(MENTIONS)('%j → %j', (input, expected) => {
    expect(escapeSlackPlain(input)).toBe(expected);
    expect(notifies(escapeSlackPlain(input))).toBe(false);
    expect(notifies(slackLink('https://example.org/', input))).toBe(false);
  });

  it('neutralizeMentions only touches bare broadcast mentions', () => {
    expect(neutralizeMentions('@channel <@U1>')).toBe(`@${WJ}channel <@U1>`);
  });
});

describe('escapeSlackMrkdwn', () => {
  it.each([
    ['AT&T <b>', 'AT&amp;T &lt;b&gt;'],
    ['&amp;', '&amp;amp;'],
    ['Using *args and **kwargs', 'Using ∗args and ∗∗kwargs'],
    ['__init__ and _private_', 'ˍˍinitˍˍ and ˍprivateˍ'],
    ['~strike~ `code`', '∼strike∼ ˋcodeˋ'],
    ['line\nbreak\r\nand\ttab\u0007bell', 'line break and tab bell'],
    ['Выпуск 🐍 پائتھن 新功能', 'Выпуск 🐍 پائتھن 新功能'],
  ])('%j → %j', (input, expected) => {
    const out = escapeSlackMrkdwn(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/[*_~`<>\n]/);
  });
});

describe('escapeSlackUrl and slackLink', () => {
  it.each([
    ['https://example.org/a?b=1&c=2', 'https://example.org/a?b=1&amp;c=2'],
    ['https://example.org/a|b>c', 'https://example.org/a%7Cb%3Ec'],
    ['https://example.org/x y', 'https://example.org/x%20y'],
    ['javascript:alert(1)', undefined],
    ['ftp://example.org/', undefined],
    ['not a url', undefined],
  ])('%j → %j', (input, expected) => {
    expect(escapeSlackUrl(input)).toBe(expected);
  });

  it('makes | and > in link text harmless and escapes the text', () => {
    const link = slackLink('https://example.org/p?a=1&b=2', 'A | B > C & <!here>');
    expect(link).toBe('<https://example.org/p?a=1&amp;b=2|A ∣ B &gt; C &amp; &lt;!here&gt;>');
    // Exactly one "|" (the separator) and one ">" (the closing bracket).
    expect(link.split('|')).toHaveLength(2);
    expect(link.match(/>/g)).toHaveLength(1);
  });

  it('falls back to plain text when the URL is unusable', () => {
    expect(slackLink('javascript:alert(1)', 'click *me*')).toBe('click ∗me∗');
  });
});
