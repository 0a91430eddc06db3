/**
 * The per-entry render memo (src/render/entry-memo.ts) must never change output: a digest rendered from Entry objects
 * that earlier digests already rendered (memo hits) must equal the same digest rendered from fresh copies of the
 * entries (no memo). Each case varies one thing a rendered piece depends on.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Digest } from '../../src/model/digest.js';
import type { Entry } from '../../src/model/entry.js';
import { entryMemoOf } from '../../src/render/entry-memo.js';
import { renderEmail, type RenderEmailOptions, type RenderedEmail } from '../../src/render/render-email.js';
import { pickLeadImage } from '../../src/render/sanitize-entry-html.js';
import { renderSlack } from '../../src/render/render-slack.js';
import { renderText } from '../../src/render/render-text.js';
import { fillTemplate, parseTemplateBlocks, shareBlockData, type CompiledTemplates } from '../../src/render/template-blocks.js';
import { loadTestTemplates } from '../fixtures/render/load-test-templates.js';
import { buildSampleDigest, SAMPLE_NOW, shownEntries } from '../fixtures/render/sample-digest.js';

// Counts sanitize-html runs (lead images are the only place rendering sanitizes feed HTML), passing through to the real one.
const sanitizeCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('sanitize-html', async (importOriginal) => {
  const real = ((await importOriginal()) as { default: (...args: unknown[]) => string }).default;
  const counted = Object.assign((...args: unknown[]) => {
    sanitizeCalls.count += 1;
    return real(...args);
  }, real);
  return { default: counted };
});

const OPTIONS: RenderEmailOptions = { subjectPattern: '{count} new posts from {sources}', now: SAMPLE_NOW };

let templates: CompiledTemplates;
beforeAll(async () => {
  templates = await loadTestTemplates();
});

/** The same digest with fresh Entry objects: nothing in it has been rendered before, so no memo applies. */
function uncached(digest: Digest): Digest {
  return structuredClone(digest);
}

/** A digest over `groups` of an existing digest (same Entry objects), as another subscriber's selection would give. */
function sharing(digest: Digest, changes: Partial<Digest>): Digest {
  return { ...digest, ...changes };
}

function emailParts(rendered: RenderedEmail): Record<string, string> {
  return { subject: rendered.subject, preheader: rendered.preheader, html: rendered.html, text: rendered.text };
}

describe('rendering with the per-entry memo equals rendering without it', () => {
  it.each([
    { name: 'the same zone', change: {} },
    { name: 'another zone (other dates)', change: { timezone: 'America/New_York' } },
    { name: 'another title', change: { title: 'Another planet' } },
    { name: 'another period', change: { periodStart: '2025-05-10T05:00:00.000Z' } },
  ])('two digests sharing entries, second one with $name', ({ change }) => {
    const first = buildSampleDigest();
    renderEmail(first, templates, OPTIONS);
    renderSlack(first, { now: SAMPLE_NOW });
    const second = sharing(first, change);
    expect(emailParts(renderEmail(second, templates, OPTIONS))).toEqual(emailParts(renderEmail(uncached(second), templates, OPTIONS)));
    expect(renderSlack(second, { now: SAMPLE_NOW })).toEqual(renderSlack(uncached(second), { now: SAMPLE_NOW }));
  });

  it('shows each zone its own dates for the same entry', () => {
    const berlin = buildSampleDigest({ timezone: 'Europe/Berlin' });
    const tokyo = sharing(berlin, { timezone: 'Asia/Tokyo' });
    const a = renderEmail(berlin, templates, OPTIONS);
    const b = renderEmail(tokyo, templates, OPTIONS);
    // The first entry was published at 04:30 UTC.
    expect(a.html).toContain('Hugo van Kemenade · 13 May, 06:30');
    expect(b.html).toContain('Hugo van Kemenade · 13 May, 13:30');
    expect(b.html).not.toContain('Hugo van Kemenade · 13 May, 06:30');
    expect(renderText(tokyo, OPTIONS)).toContain('Hugo van Kemenade · 13 May, 13:30');
    expect(renderSlack(tokyo, { now: SAMPLE_NOW })[0]!.blocks.map((block) => JSON.stringify(block)).join('')).toContain('13 May, 13:30');
  });

  it('shows the year once "now" is in another year (the current year is part of the date variant)', () => {
    const digest = buildSampleDigest();
    renderEmail(digest, templates, OPTIONS);
    const nextYear = { ...OPTIONS, now: new Date('2026-01-02T00:00:00Z') };
    const later = renderEmail(digest, templates, nextYear);
    expect(later.html).toContain('Hugo van Kemenade · 13 May 2025, 06:30');
    expect(emailParts(later)).toEqual(emailParts(renderEmail(uncached(digest), templates, nextYear)));
  });

  it.each([
    { name: 'summary length', options: { ...OPTIONS, summaryMaxChars: 80 } },
    { name: 'extra per-source cap', options: { ...OPTIONS, maxPerSource: 1 } },
    { name: 'locale', options: { ...OPTIONS, locale: 'de-DE' } },
    { name: 'lead images', options: { ...OPTIONS, leadImages: pickLeadImage } },
  ])('the same entries with another $name', ({ options }) => {
    const digest = buildSampleDigest();
    renderEmail(digest, templates, OPTIONS);
    expect(emailParts(renderEmail(digest, templates, options))).toEqual(emailParts(renderEmail(uncached(digest), templates, options)));
  });

  it('an entry without a link links to its source at whatever position that source has in each digest', () => {
    const digest = buildSampleDigest();
    for (const group of digest.groups) {
      delete group.link;
      for (const entry of group.entries) delete entry.link;
    }
    renderEmail(digest, templates, OPTIONS);
    // The same sources in reverse order: anchors (#src-N) change, the entries are the same objects.
    const reversed = sharing(digest, { groups: [...digest.groups].reverse() });
    const rendered = renderEmail(reversed, templates, OPTIONS);
    expect(rendered.html).toContain(`<a href="#src-${digest.groups.length}">`);
    expect(emailParts(rendered)).toEqual(emailParts(renderEmail(uncached(reversed), templates, OPTIONS)));
    expect(renderSlack(reversed, { now: SAMPLE_NOW })).toEqual(renderSlack(uncached(reversed), { now: SAMPLE_NOW }));
  });

  it('serves an entry edited in place (same object, next cycle) as it is now, not as it was', () => {
    const digest = buildSampleDigest();
    const before = renderEmail(digest, templates, OPTIONS);
    const entry: Entry = digest.groups[0]!.entries[0]!;
    entry.title = 'Edited <title> & more';
    entry.summary = 'A brand new summary.';
    entry.published = '2025-05-13T01:00:00.000Z';
    const after = renderEmail(digest, templates, OPTIONS);
    expect(after.html).not.toBe(before.html);
    expect(after.html).toContain('Edited &lt;title&gt; &amp; more');
    expect(after.html).toContain('A brand new summary.');
    expect(after.text).toContain('* Edited <title> & more');
    expect(emailParts(after)).toEqual(emailParts(renderEmail(uncached(digest), templates, OPTIONS)));
    expect(renderSlack(digest, { now: SAMPLE_NOW })).toEqual(renderSlack(uncached(digest), { now: SAMPLE_NOW }));
  });
});

describe('rememberEntries: false (the cycle\'s only digest)', () => {
  it('renders the same email and Slack messages, and keeps no piece of any entry', () => {
    const digest = buildSampleDigest();
    const email = renderEmail(digest, templates, { ...OPTIONS, rememberEntries: false });
    const slack = renderSlack(digest, { now: SAMPLE_NOW, rememberEntries: false });
    const entries = shownEntries(digest);
    expect(entries.length).toBeGreaterThan(3);
    // Nothing kept: the memo of every entry is still empty.
    for (const entry of entries) expect(entryMemoOf(entry).pieces.size).toBe(0);
    expect(emailParts(email)).toEqual(emailParts(renderEmail(uncached(digest), templates, OPTIONS)));
    expect(slack).toEqual(renderSlack(uncached(digest), { now: SAMPLE_NOW }));
    // The default keeps them, for the next digest that shows the same entries.
    renderEmail(digest, templates, OPTIONS);
    for (const entry of entries) expect(entryMemoOf(entry).pieces.size).toBeGreaterThan(0);
  });
});

describe('hostile feed content through the memo', () => {
  const HOSTILE_TITLE = '<script>alert(1)</script> &amp; "q" %%UNSUBSCRIBE_URL%% <!channel>';
  const HOSTILE_HTML = [
    '<img src="javascript:alert(1)" width="800">',
    '<img src="https://img.example/lead.png" width="800" alt="x&quot; onerror=&quot;alert(1)" onerror="alert(2)">',
    '<script>document.write("<img src=https://evil.example/>")</script>',
  ].join('');

  function hostileDigest(): Digest {
    const digest = buildSampleDigest();
    const entry = digest.groups[0]!.entries[0]!;
    entry.title = HOSTILE_TITLE;
    entry.contentHtml = HOSTILE_HTML;
    return digest;
  }

  it('is escaped and sanitized exactly once, whether rendered fresh or from the memo', () => {
    const digest = hostileDigest();
    const options = { ...OPTIONS, leadImages: pickLeadImage };
    sanitizeCalls.count = 0;
    const first = renderEmail(digest, templates, options);
    const sanitizedFirst = sanitizeCalls.count;
    expect(sanitizedFirst).toBeGreaterThan(0);
    const second = renderEmail(sharing(digest, { title: 'Second subscriber group' }), templates, options);
    // Every lead image came from the memo: feed HTML is not run through the sanitizer again…
    expect(sanitizeCalls.count).toBe(sanitizedFirst);
    // …and the memoized, already escaped values are not escaped a second time.
    for (const { html } of [first, second]) {
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &quot;q&quot; %&#37;UNSUBSCRIBE_URL%&#37; &lt;!channel&gt;');
      expect(html).not.toContain('&amp;lt;');
      expect(html).not.toContain('<script');
      expect(html).not.toContain('javascript:');
      expect(html).not.toContain('evil.example');
      // An event attribute would read onerror="…"; the one in the alt text stays escaped text.
      expect(html).not.toContain('onerror="');
      expect(html).toContain('<img src="https://img.example/lead.png" alt="x&quot; onerror=&quot;alert(1)"');
      // Only our own placeholder remains (the one in the footer), not the feed's.
      expect(html.match(/%%UNSUBSCRIBE_URL%%/g)).toHaveLength(1);
    }
    expect(emailParts(second)).toEqual(emailParts(renderEmail(uncached(sharing(digest, { title: 'Second subscriber group' })), templates, options)));
  });

  it('stays neutralized in the text part and in Slack on memo hits', () => {
    const digest = hostileDigest();
    renderEmail(digest, templates, OPTIONS);
    renderSlack(digest, { now: SAMPLE_NOW });
    const text = renderText(sharing(digest, { timezone: 'UTC' }), OPTIONS);
    expect(text).toContain('%\u200B%UNSUBSCRIBE_URL%\u200B%');
    expect(text.match(/%%UNSUBSCRIBE_URL%%/g)).toHaveLength(1);
    const slack = JSON.stringify(renderSlack(sharing(digest, { timezone: 'UTC' }), { now: SAMPLE_NOW }));
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).not.toContain('<!channel>');
    expect(slack).not.toContain('&amp;lt;');
  });
});

describe('shareBlockData', () => {
  const root = parseTemplateBlocks(
    '<h1>%%DIGEST_TITLE%%</h1><!--pd:source--><h2>%%SOURCE_TITLE%%</h2><!--pd:entry--><p>%%ENTRY_TITLE%% in %%SOURCE_TITLE%%</p><!--/pd:entry--><!--pd:more-->%%MORE_LABEL%%<!--/pd:more--><!--/pd:source-->%%UNSUBSCRIBE_URL%%',
    'test.mjml',
  );
  const entry = (title: string) =>
    shareBlockData({ values: { ENTRY_TITLE: title, ENTRY_URL: '', ENTRY_AUTHOR: '', ENTRY_DATE: '', ENTRY_DATETIME: '', ENTRY_META: '', ENTRY_SUMMARY: '', ENTRY_INDEX: '1' } });

  it('fills an instance that reads an enclosing value anew in every context', () => {
    const shared = entry('Post');
    const source = (title: string) => ({ values: { SOURCE_TITLE: title }, blocks: { entry: [shared], more: [] } });
    const data = { values: { DIGEST_TITLE: 'D' }, blocks: { source: [source('A'), source('B')] } };
    expect(fillTemplate(root, data)).toBe('<h1>D</h1><h2>A</h2><p>Post in A</p><h2>B</h2><p>Post in B</p>%%UNSUBSCRIBE_URL%%');
    expect(fillTemplate(root, data)).toBe('<h1>D</h1><h2>A</h2><p>Post in A</p><h2>B</h2><p>Post in B</p>%%UNSUBSCRIBE_URL%%');
  });

  it('freezes what it shares, so a memoized fill cannot go stale through a mutation', () => {
    const shared = entry('Post');
    expect(Object.isFrozen(shared)).toBe(true);
    expect(Object.isFrozen(shared.values)).toBe(true);
    expect(() => {
      (shared.values as Record<string, string>).ENTRY_TITLE = 'changed';
    }).toThrow(TypeError);
  });
});

it('memoized entries render every shown entry of a large digest exactly like fresh ones', () => {
  const digest = buildSampleDigest({ sources: 12, entriesPerSource: 6, maxPerSource: 4 });
  const options = { ...OPTIONS, summaryMaxChars: 200 };
  renderEmail(digest, templates, options);
  const again = renderEmail(sharing(digest, { timezone: 'Asia/Kolkata' }), templates, options);
  expect(emailParts(again)).toEqual(emailParts(renderEmail(uncached(sharing(digest, { timezone: 'Asia/Kolkata' })), templates, options)));
  expect(again.html.match(/<h3 dir="auto" class="pd-t">/g)).toHaveLength(shownEntries(digest).length);
});
