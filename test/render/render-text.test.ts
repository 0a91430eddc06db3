import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/model/digest.js';
import { renderText } from '../../src/render/render-text.js';
import { displayWidth, wrapText } from '../../src/render/wrap-text.js';
import { buildSampleDigest, SAMPLE_NOW, shownEntries, SPECIAL_TITLES } from '../fixtures/render/sample-digest.js';

const opts = { now: SAMPLE_NOW };

describe('renderText', () => {
  const digest = buildSampleDigest();
  const text = renderText(digest, opts);
  const lines = text.split('\n');

  it('starts with the title, counts and period, then a table of contents', () => {
    expect(lines.slice(0, 6)).toEqual([
      'Planet Python digest',
      '====================',
      '12 new posts from 5 sources',
      '12 May 2025, 07:00 CEST – 13 May 2025, 07:00 CEST',
      '',
      'In this digest:',
    ]);
    expect(text).toContain('  - Python Insider (3)\n  - Real Python (4)\n');
  });

  it('gives each source an underlined heading and its URL on its own line', () => {
    expect(text).toContain('Python Insider (3 new posts)\n----------------------------\nhttps://pythoninsider.blogspot.com/\n');
  });

  it('lists every entry as a bullet with meta, its URL alone on a line, and the wrapped summary', () => {
    for (const entry of shownEntries(digest)) {
      expect(lines).toContain(`* ${entry.title}`);
      expect(lines).toContain(`  ${entry.link}`);
    }
    expect(text).toContain('* AT&T <script>alert(1)</script> & "quotes"\n  Hugo van Kemenade · 13 May, 06:30\n  https://');
  });

  it('wraps prose at 72 columns; only URL lines may be longer', () => {
    for (const line of lines) {
      if (displayWidth(line) > 72) expect(line.trim()).toMatch(/^https:\/\/\S+$/);
    }
  });

  it('contains no HTML: feed text appears exactly as decoded, never entity-encoded', () => {
    expect(text).not.toMatch(/&(lt|gt|quot|#\d+|#x[0-9a-f]+);/i);
    // The only "&amp;" is the one a title literally contains.
    expect(text.match(/&amp;/g)).toHaveLength(1);
    expect(text).toContain(SPECIAL_TITLES.literalEntity);
    expect(text).not.toMatch(/<(p|div|a|br|span)\b/);
  });

  it('keeps RTL, CJK and emoji text intact', () => {
    for (const t of [SPECIAL_TITLES.russian, SPECIAL_TITLES.urdu, SPECIAL_TITLES.chinese, SPECIAL_TITLES.emoji]) expect(text).toContain(`* ${t}`);
  });

  it('says "and N more" with the source URL', () => {
    expect(text).toContain('  … and 1 more:\n  https://realpython.com/\n');
  });

  it('ends with a signature block carrying the personalization placeholders', () => {
    expect(text.endsWith('Unsubscribe: %%UNSUBSCRIBE_URL%%\n')).toBe(true);
    expect(text).toContain('\n-- \nYou receive this digest because %%RECIPIENT%% is subscribed to');
  });

  it('handles an empty digest and entries without link, author or date', () => {
    const empty: Digest = { ...digest, groups: [], entryCount: 0, sourceCount: 0 };
    expect(renderText(empty, opts)).toContain('No new posts\n');
    const sparse = buildSampleDigest({ sources: 1, entriesPerSource: 1 });
    const entry = sparse.groups[0]!.entries[0]!;
    delete entry.link;
    delete entry.author;
    delete entry.published;
    entry.title = '';
    expect(renderText(sparse, opts)).toMatch(/\* \(untitled\)\n\n {2}This release/);
  });
});

describe('wrapText', () => {
  it('wraps by words and keeps long URLs whole', () => {
    const url = `https://example.org/${'x'.repeat(100)}`;
    expect(wrapText(`see ${url} now`, 20, '  ')).toEqual(['  see', `  ${url}`, '  now']);
  });

  it('breaks long CJK runs between characters, counting them as two columns', () => {
    const lines = wrapText('新功能'.repeat(30), 20);
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(20);
    expect(lines.join('')).toBe('新功能'.repeat(30));
  });

  it('never splits emoji sequences', () => {
    const lines = wrapText('👩‍💻'.repeat(30), 20);
    expect(lines.join('')).toBe('👩‍💻'.repeat(30));
    for (const line of lines) expect(line.startsWith('\u200D')).toBe(false);
  });
});

describe('displayWidth', () => {
  it.each([
    ['plain', 'hello', 5],
    ['accents (one column each)', 'café', 4],
    ['CJK (two columns each)', '日本語', 6],
    ['mixed', 'Tokyo 東京', 10],
    ['emoji', 'ok 🎉', 5],
    ['a family emoji (ZWJ sequence) is one grapheme', '👨\u200D👩\u200D👧', 2],
  ])('%s: %j is %d columns, the same when measured again', (_name, text, width) => {
    expect(displayWidth(text)).toBe(width);
    expect(displayWidth(text)).toBe(width);
  });

  it('stays right past the remembered widths limit and for long text', () => {
    for (let i = 0; i < 20_050; i++) expect(displayWidth(`東${i}`)).toBe(2 + String(i).length);
    const long = '東京 '.repeat(200);
    expect(displayWidth(long)).toBe(1000);
    expect(displayWidth(long)).toBe(1000);
  });
});
