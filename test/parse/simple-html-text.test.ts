/**
 * htmlToPlainText converts common feed HTML with htmlparser2's tokenizer alone (simpleHtmlText) and leaves the rest to
 * html-to-text. Both must give the same text for every input: checked on chosen cases, on seeded random HTML, and on
 * every HTML text construct of the real feed snapshots in the corpus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../bench/lib/seeded-random.js';
import { decodeFeedBytes } from '../../src/fetch/decode-feed-bytes.js';
import { collapseWhitespace, htmlToPlainText, htmlToPlainTextReference, simpleHtmlText } from '../../src/parse/html-to-plain-text.js';
import { parseXmlDocument } from '../../src/parse/parse-xml-document.js';
import { prepareXml } from '../../src/parse/prepare-xml.js';
import { readXmlFeed } from '../../src/parse/read-xml-feed.js';
import { CORPUS_DIR } from '../helpers/corpus-dir.js';

/** Null when html-to-text is left to do it; otherwise what both give. */
function bothWays(html: string): { simple: string | null; reference: string } {
  const simple = simpleHtmlText(html);
  return { simple: simple === undefined ? null : collapseWhitespace(simple), reference: htmlToPlainTextReference(html) };
}

describe('simpleHtmlText gives what html-to-text gives', () => {
  it.each([
    // [html, expected text, whether the tokenizer alone does it]
    ['<p>Hello <b>world</b></p>', 'Hello world', true],
    ['a<div></div>b', 'a b', true],
    ['a<p> </p>b', 'a b', true],
    ['a<h2></h2>b', 'a b', true],
    ['a<table></table>b', 'a b', true],
    ['<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>', 'ab c', true],
    ['a<br>b<br/>c', 'a b c', true],
    ['a<hr>b<img src="x" alt="alt">c', 'abc', true],
    ['a<ul></ul>b', 'ab', true],
    ['a<ul> </ul>b', 'ab', true],
    ['a<ol>\n</ol>b', 'ab', true],
    ['a<ul><li></li></ul>b', 'a b', true],
    ['<ul><li>one</li><li>two<ol><li>nested</li></ol></li></ul>after', 'one two nested after', false],
    ['<ul><li>Item<ul><li><img src=x></li></ul>more</li></ul>', 'Itemmore', false],
    ['a<li><ul><li></li></ul></li>b', 'ab', false],
    ['a<li>b</li>c', 'abc', true],
    ['x<span><div>y</div></span>z', 'x y z', true],
    ['<figure><img src="a.png"><figcaption>Caption</figcaption></figure>Text', 'CaptionText', true],
    ['<script>alert(1)</script><style>p{}</style><svg><title>t</title></svg><noscript>n</noscript>visible', 'visible', true],
    ['<a href="https://example.com/">link</a> &amp; &eacute;t&eacute; &#146; &bogus;', 'link & été ’ &bogus;', true],
    ['<!-- comment --><![CDATA[cdata]]>text', 'text', true],
    ['form\ffeed<b></b>', 'form feed', true],
    ['<blockquote>quoted</blockquote>', '> quoted', false],
    ['a<pre>  kept\n  lines</pre>b', 'a kept lines b', true],
    ['<pre>fn main() -&gt; Result&lt;()&gt; {\n\tOk(())\n}</pre>', 'fn main() -> Result<()> { Ok(()) }', true],
    ['<pre>form\ffeed</pre><p>form\ffeed</p>', 'formfeed form feed', true],
    ['<pre><p>a</p>b</pre>', 'ab', false],
    ['<ul><b>x</b><b>y</b></ul>', 'x y', false],
    ['a<ul><img></ul>b', 'ab', false],
    ['<ul>loose text<li>item</li></ul>', 'loose text item', false],
    ['<html><head><title>T</title></head><body>only the body</body></html>', 'only the body', false],
    ['zero\u200bwidth<b></b>', 'zero width', false],
    ['<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>', 'a b', true],
  ])('%j', (html, text, simple) => {
    const { simple: got, reference } = bothWays(html);
    expect(reference).toBe(text);
    expect(got).toBe(simple ? text : null);
    expect(htmlToPlainText(html)).toBe(text);
  });

  it('on 5,000 random fragments (seeded)', () => {
    const random = createSeededRandom(0x7e47).next;
    const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const tags = ['p', 'P', 'div', 'b', 'a', 'span', 'ul', 'ol', 'li', 'li', 'br', 'img', 'h1', 'h2', 'table', 'tr', 'td', 'th', 'tbody', 'em', 'script', 'style', 'hr', 'section', 'article', 'figure', 'figcaption', 'center', 'dl', 'dd', 'code', 'svg', 'iframe', 'noscript', 'head', 'title', 'blockquote', 'pre'];
    const texts = ['word', ' ', '  ', '\n', '\t', '\r', '\f', '&amp;', '&lt;b&gt;', '&nbsp;', '\u00a0', '\u3000', '&#146;', '&eacute;', 'é', '😀', 'x y', '&', '<', '>', '&bogus;', '<!-- c -->', '<![CDATA[z]]>', '&#8203;'];
    const failures: string[] = [];
    let simple = 0;
    for (let round = 0; round < 5000; round++) {
      let html = '';
      for (let i = Math.floor(random() * 25); i > 0; i--) {
        const k = random();
        if (k < 0.35) html += pick(texts);
        else if (k < 0.7) html += `<${pick(tags)}${random() < 0.3 ? ' href="x" class="y"' : ''}${random() < 0.1 ? '/' : ''}>`;
        else html += `</${pick(tags)}>`;
      }
      const { simple: got, reference } = bothWays(html);
      if (got !== null) simple++;
      if (got !== null && got !== reference) failures.push(`${JSON.stringify(html)}: ${JSON.stringify(got)} vs ${JSON.stringify(reference)}`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // The comparison means something only if most fragments took the tokenizer path.
    expect(simple).toBeGreaterThan(2500);
  });

  it('on every HTML title, summary and content of the corpus feed snapshots', async () => {
    const dirs = ['rss-parser/input', 'node-feedparser/feeds', 'feedjira/sample_feeds', 'miniflux/internal/reader/parser/testdata', 'realpython-reader/tests'];
    const failures: string[] = [];
    let compared = 0;
    for (const dir of dirs) {
      for (const name of readdirSync(join(CORPUS_DIR, dir))) {
        const text = decodeFeedBytes(readFileSync(join(CORPUS_DIR, dir, name))).text.replace(/^\uFEFF/, '').trimStart();
        const prepared = prepareXml(text);
        if (!prepared.rootName) continue;
        const doc = await parseXmlDocument(prepared.text, name).catch(() => undefined);
        if (!doc) continue;
        for (const entry of readXmlFeed(doc, 'https://feeds.example/', prepared.rootAttributes).entries) {
          for (const value of [entry.title, entry.summary, entry.content]) {
            if (!value || value.type === 'text' || !/[<&]/.test(value.value)) continue;
            // The prefix a summary is first made from (see normalize-entry.ts), and the bounded whole.
            for (const html of [value.value.slice(0, 856), value.value.slice(0, 20_000)]) {
              const { simple, reference } = bothWays(html);
              if (simple === null) continue;
              compared++;
              if (simple !== reference) failures.push(`${dir}/${name}: ${JSON.stringify(html.slice(0, 120))}`);
            }
          }
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(1000);
  });
});
