import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/model/errors.js';
import { compactCompiledHtml, fillTemplate, parseTemplateBlocks, TemplateSyntaxError, type BlockData } from '../../src/render/template-blocks.js';

const MINIMAL = [
  '<h1>%%DIGEST_TITLE%%</h1>',
  '<!--pd:source--><h2>%%SOURCE_TITLE%%</h2>',
  '<!--pd:entry--><p>%%ENTRY_TITLE%% in %%SOURCE_TITLE%%</p><!--/pd:entry-->',
  '<!--pd:more--><a href="%%SOURCE_URL%%">%%MORE_LABEL%%</a><!--/pd:more-->',
  '<!--/pd:source-->',
  '<a href="%%UNSUBSCRIBE_URL%%">%%RECIPIENT%%</a>',
].join('\n');

describe('parseTemplateBlocks', () => {
  it('builds the block tree', () => {
    const root = parseTemplateBlocks(MINIMAL, 'x.mjml');
    const source = root.parts.find((p) => typeof p !== 'string' && 'name' in p);
    expect(source).toMatchObject({ name: 'source' });
    const names = JSON.stringify(root).match(/"name":"[a-z-]+"|"token":"[A-Z_]+"/g);
    expect(names).toEqual([
      '"name":"document"',
      '"token":"DIGEST_TITLE"',
      '"name":"source"',
      '"token":"SOURCE_TITLE"',
      '"name":"entry"',
      '"token":"ENTRY_TITLE"',
      '"token":"SOURCE_TITLE"',
      '"name":"more"',
      '"token":"SOURCE_URL"',
      '"token":"MORE_LABEL"',
      '"token":"UNSUBSCRIBE_URL"',
      '"token":"RECIPIENT"',
    ]);
  });

  // Each broken template and the error (with its line) it must produce.
  it.each([
    ['unknown block', MINIMAL.replace('<!--pd:more-->', '<!--pd:mroe-->'), /x\.mjml:4: unknown block "mroe"/],
    ['block in the wrong place', MINIMAL.replace('<h1>', '<!--pd:entry--><!--/pd:entry--><h1>'), /x\.mjml:1: block "entry" is not allowed inside "document"/],
    ['closing the wrong block', MINIMAL.replace('<!--/pd:entry-->', '<!--/pd:more-->'), /x\.mjml:3: <!--\/pd:more--> closes a block that is not open/],
    ['unclosed block', MINIMAL.replace('<!--/pd:source-->', ''), /x\.mjml:2: block "source" is never closed/],
    ['entry placeholder outside entry', MINIMAL.replace('<h1>%%DIGEST_TITLE%%', '<h1>%%ENTRY_TITLE%%'), /x\.mjml:1: unknown placeholder %%ENTRY_TITLE%% outside any block/],
    ['misspelt placeholder', MINIMAL.replace('%%MORE_LABEL%%', '%%MORE_LABLE%%'), /x\.mjml:4: unknown placeholder %%MORE_LABLE%% inside block "more"/],
    ['missing entry block', MINIMAL.replace(/<!--pd:entry-->.*<!--\/pd:entry-->/, ''), /needs a "entry" block inside "source"/],
    ['missing more block', MINIMAL.replace(/<!--pd:more-->.*<!--\/pd:more-->/, ''), /needs a "more" block inside "source"/],
    ['missing unsubscribe link', MINIMAL.replace('%%UNSUBSCRIBE_URL%%', '#'), /must contain the %%UNSUBSCRIBE_URL%% placeholder/],
  ])('%s', (_name, source, message) => {
    let error: unknown;
    try {
      parseTemplateBlocks(source, 'x.mjml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).code).toBe('TEMPLATE_INVALID');
    expect((error as Error).message).toMatch(message);
  });
});

describe('fillTemplate', () => {
  const root = parseTemplateBlocks(MINIMAL, 'x.mjml');
  const data: BlockData = {
    values: { DIGEST_TITLE: 'D' },
    blocks: {
      source: [
        { values: { SOURCE_TITLE: 'S1', SOURCE_URL: 'u1' }, blocks: { entry: [{ values: { ENTRY_TITLE: 'E1' } }, { values: { ENTRY_TITLE: 'E2' } }], more: [{ values: { MORE_LABEL: 'and 3 more' } }] } },
        { values: { SOURCE_TITLE: 'S2', SOURCE_URL: 'u2' }, blocks: { entry: [{ values: { ENTRY_TITLE: 'E3' } }] } },
      ],
    },
  };

  it('repeats blocks per instance, resolves tokens from enclosing blocks, keeps per-subscriber tokens', () => {
    expect(fillTemplate(root, data)).toBe(
      '<h1>D</h1>\n<h2>S1</h2>\n<p>E1 in S1</p><p>E2 in S1</p>\n<a href="u1">and 3 more</a>\n<h2>S2</h2>\n<p>E3 in S2</p>\n\n\n' +
        '<a href="%%UNSUBSCRIBE_URL%%">%%RECIPIENT%%</a>',
    );
  });

  it('does not re-expand tokens that appear inside values', () => {
    const out = fillTemplate(root, { values: { DIGEST_TITLE: '%%SOURCE_TITLE%%' }, blocks: {} });
    expect(out.startsWith('<h1>%%SOURCE_TITLE%%</h1>')).toBe(true);
  });

  it('throws on a value the renderer forgot (a bug, never silently empty)', () => {
    expect(() => fillTemplate(root, { values: {}, blocks: {} })).toThrow(/no value for %%DIGEST_TITLE%%/);
  });

  it('can keep markers, with an empty pair for a block that has no instance', () => {
    const out = fillTemplate(root, data, { keepMarkers: true });
    expect(out).toContain('<!--pd:entry--><p>E1 in S1</p><!--/pd:entry--><!--pd:entry--><p>E2 in S1</p><!--/pd:entry-->');
    expect(out).toContain('<!--pd:more--><!--/pd:more-->');
  });
});

describe('compactCompiledHtml', () => {
  it('collapses whitespace runs, removes it around markers, leaves <pre> alone', () => {
    const html = '<table>\n    <tr>\n      <td  class="a">x   y</td>\n    </tr>\n    <!--pd:entry-->\n    <tr></tr>\n    <!--/pd:entry-->\n</table>\n<pre>  keep\n\n  this  </pre>\t<p>\t</p>';
    expect(compactCompiledHtml(html, { keepMarkers: true })).toBe('<table>\n<tr>\n<td class="a">x y</td>\n</tr><!--pd:entry--><tr></tr><!--/pd:entry--></table>\n<pre>  keep\n\n  this  </pre> <p> </p>');
    expect(compactCompiledHtml(html, { keepMarkers: false })).toBe('<table>\n<tr>\n<td class="a">x y</td>\n</tr><tr></tr></table>\n<pre>  keep\n\n  this  </pre> <p> </p>');
  });
});
