import { describe, expect, it } from 'vitest';
import { MAX_DATA_IMAGE_CHARS, pickLeadImage, sanitizeEntryHtml } from '../../src/render/sanitize-entry-html.js';

const BASE = 'https://example.org/blog/post.html';
const IMG_STYLE = 'style="max-width:100%;height:auto"';
const LINK = 'target="_blank" rel="noopener noreferrer"';

// The sanitizer table: each attack string and exactly what it becomes.
const CASES: Array<[name: string, input: string, output: string]> = [
  ['script element', '<script>alert(1)</script><p>ok</p>', '<p>ok</p>'],
  ['script, upper case', '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>ok', 'ok'],
  ['img onerror', '<img src="x.png" onerror="alert(1)">', `<img src="https://example.org/blog/x.png" alt="" ${IMG_STYLE} />`],
  ['img with javascript: src', '<IMG SRC=JaVaScRiPt:alert(1)>', ''],
  ['a href javascript:', '<a href="javascript:alert(1)">x</a>', 'x'],
  ['a href javascript: with tab entity', '<a href="jav&#x09;ascript:alert(1)">x</a>', 'x'],
  ['a href javascript: with leading spaces', '<a href="  javascript:alert(1)">x</a>', 'x'],
  ['svg onload', '<svg onload="alert(1)"><circle r="1"/></svg>after', 'after'],
  ['math with xlink:href', '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', ''],
  ['iframe', '<iframe src="https://evil.example/"></iframe>', ''],
  ['object and embed', '<object data="x.swf"></object><embed src="x.swf">t', 't'],
  ['style element', '<style>body{display:none}</style><p>x</p>', '<p>x</p>'],
  ['form and inputs', '<form action="https://evil.example/"><input name="q"><button>Go</button></form>', 'Go'],
  ['data:text/html link', '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>', 'x'],
  ['vbscript: link', '<a href="vbscript:msgbox(1)">x</a>', 'x'],
  ['CSS position:fixed', '<p style="position:fixed;top:0;left:0;width:100%">x</p>', '<p>x</p>'],
  ['CSS expression()', '<div style="width: expression(alert(1))">x</div>', '<div>x</div>'],
  ['1x1 tracking pixel (attributes)', '<img src="https://t.example/p.gif" width="1" height="1">', ''],
  ['0x0 tracking pixel', '<img src="https://t.example/p.gif" width="0" height="0">', ''],
  ['1px tracking pixel (inline style)', '<img src="https://t.example/p.gif" style="width:1px;height:1px">', ''],
  ['feedburner tracker', '<img src="https://feeds.feedburner.com/~r/foo/~4/abc" width="500">', ''],
  ['relative link', '<a href="/post/1">x</a>', `<a href="https://example.org/post/1" ${LINK}>x</a>`],
  ['relative image', '<img src="../img/a.png" alt="A">', `<img src="https://example.org/img/a.png" alt="A" ${IMG_STYLE} />`],
  ['protocol-relative image', '<img src="//cdn.example/x.png">', `<img src="https://cdn.example/x.png" alt="" ${IMG_STYLE} />`],
  ['small data: PNG', '<img src="data:image/png;base64,iVBORw0KGgo=">', `<img src="data:image/png;base64,iVBORw0KGgo=" alt="" ${IMG_STYLE} />`],
  ['data: SVG image', '<img src="data:image/svg+xml;base64,PHN2Zz4=">', ''],
  ['noscript mutation XSS', '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', ''],
  ['event attrs, class, id, target', '<a href="https://ok.example/" onclick="x()" target="_self" class="pd-t" id="src-1">ok</a>', `<a href="https://ok.example/" ${LINK}>ok</a>`],
  ['base and meta refresh', '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">t', 't'],
  ['image width kept, style replaced', '<img src="a.png" width="1200" height="600" style="border:9px solid red">', `<img src="https://example.org/blog/a.png" alt="" width="1200" height="600" ${IMG_STYLE} />`],
  ['bidi text keeps dir/lang', '<p dir="rtl" lang="ur">سلام</p>', '<p dir="rtl" lang="ur">سلام</p>'],
  ['entities stay escaped once', 'AT&amp;T &lt;b&gt; <b>bold</b>', 'AT&amp;T &lt;b&gt; <b>bold</b>'],
  ['mailto link kept', '<a href="mailto:a@example.org">mail</a>', `<a href="mailto:a@example.org" ${LINK}>mail</a>`],
];

describe('sanitizeEntryHtml', () => {
  it.each(CASES)('%s', (_name, input, output) => {
    expect(sanitizeEntryHtml(input, BASE)).toBe(output);
  });

  it('never lets through script, event handlers or dangerous URL schemes, whatever the case', () => {
    const all = sanitizeEntryHtml(CASES.map(([, input]) => input).join('\n'), BASE);
    expect(all).not.toMatch(/<(script|style|iframe|object|embed|form|input|svg|math|base|meta)\b/i);
    expect(all).not.toMatch(/\son\w+=/i);
    expect(all).not.toMatch(/(javascript|vbscript|data:text)/i);
    expect(all).not.toMatch(/position\s*:\s*fixed|expression\(/i);
  });

  it('drops data: images above the size limit', () => {
    const big = `data:image/png;base64,${'A'.repeat(MAX_DATA_IMAGE_CHARS)}`;
    expect(sanitizeEntryHtml(`<img src="${big}">`, BASE)).toBe('');
  });

  it('drops relative URLs when there is no base to resolve them against', () => {
    expect(sanitizeEntryHtml('<a href="/x">x</a><img src="y.png">', '')).toBe('x');
  });
});

describe('pickLeadImage', () => {
  it('takes the first sizeable image, skipping pixels, icons and scripts', () => {
    const html = '<img src="https://t.example/p.gif" width="1" height="1"><img src="/icon.png" width="32"><script>x</script><img src="/hero.jpg" alt="Hero" width="1200"><img src="/second.jpg">';
    expect(pickLeadImage(html, BASE)).toEqual({ src: 'https://example.org/hero.jpg', alt: 'Hero' });
  });

  it('returns undefined when nothing usable is there', () => {
    expect(pickLeadImage('<p>text</p><img src="javascript:alert(1)">', BASE)).toBeUndefined();
  });
});
