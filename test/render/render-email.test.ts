import { readFile } from 'node:fs/promises';
import path from 'node:path';
import mjml2html from 'mjml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/model/digest.js';
import { buildEmailData, personalizeEmail, renderEmail, type RenderEmailOptions } from '../../src/render/render-email.js';
import { pickLeadImage } from '../../src/render/sanitize-entry-html.js';
import { compactCompiledHtml, fillTemplate, parseTemplateBlocks, type CompiledTemplates } from '../../src/render/template-blocks.js';
import { defaultTemplatesDir, MJML_COMPILE_OPTIONS } from '../../src/template/load-template.js';
import { htmlProblems } from '../fixtures/render/html-problems.js';
import { loadTestTemplates } from '../fixtures/render/load-test-templates.js';
import { buildSampleDigest, SAMPLE_NOW, shownEntries, SPECIAL_TITLES } from '../fixtures/render/sample-digest.js';

/** Gmail clips messages whose HTML exceeds 102 KB; we stay under 102,000 bytes to be safe. */
const GMAIL_CLIP_BYTES = 102_000;
const OPTIONS: RenderEmailOptions = { subjectPattern: '{count} new posts from {sources}', now: SAMPLE_NOW };

let templates: CompiledTemplates;
beforeAll(async () => {
  templates = await loadTestTemplates();
});

/** Fills the MJML SOURCE with the renderer's data and runs MJML on it: the "full render" to compare with. */
async function fullMjmlRender(digest: Digest, options: RenderEmailOptions): Promise<string> {
  const file = path.join(defaultTemplatesDir(), 'digest.mjml');
  const source = parseTemplateBlocks(await readFile(file, 'utf8'), file);
  const expanded = fillTemplate(source, buildEmailData(digest, options), { keepMarkers: true });
  const result = await mjml2html(expanded, MJML_COMPILE_OPTIONS);
  expect(result.errors).toEqual([]);
  return compactCompiledHtml(result.html, { keepMarkers: false });
}

describe('renderEmail on the sample digest', () => {
  const digest = buildSampleDigest();

  it('produces well-formed HTML containing every shown entry, linked, with author, date and summary', () => {
    const { html } = renderEmail(digest, templates, OPTIONS);
    expect(htmlProblems(html)).toEqual([]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const entry of shownEntries(digest)) {
      expect(html).toContain(`<a href="${entry.link}">`);
      expect(html).toContain(entry.summary.slice(0, 60));
    }
    expect(html).toContain('Hugo van Kemenade · 13 May, 06:30');
    expect(html.match(/<h3 dir="auto" class="pd-t">/g)).toHaveLength(shownEntries(digest).length);
  });

  it('has title, preheader, period in the subscriber zone, TOC with anchors, and "and N more"', () => {
    const rendered = renderEmail(digest, templates, OPTIONS);
    expect(rendered.subject).toBe('12 new posts from Python Insider, Real Python, PyPy +2 more');
    expect(rendered.preheader).toBe('12 new posts from 5 sources');
    expect(rendered.html).toContain('<title>Planet Python digest</title>');
    expect(rendered.html).toMatch(/<div style="display:none;[^"]*">12 new posts from 5 sources&#847;/);
    expect(rendered.html).toContain('12 May 2025, 07:00 CEST – 13 May 2025, 07:00 CEST');
    digest.groups.forEach((g, i) => {
      expect(rendered.html).toContain(`<a href="#src-${i + 1}"><span dir="auto">${g.title.replace("'", '&#39;')}</span></a> <span class="pd-m">(${g.count})</span>`);
      expect(rendered.html).toContain(`<h2 id="src-${i + 1}" dir="auto" class="pd-h"><a href="${g.link}">`);
    });
    expect(rendered.html).toContain('<a href="https://realpython.com/">and 1 more from <span dir="auto">Real Python</span> &rarr;</a>');
    expect(rendered.html.match(/and \d+ more from/g)).toHaveLength(1);
  });

  it('escapes feed text exactly once', () => {
    const { html } = renderEmail(digest, templates, OPTIONS);
    expect(html).toContain('>AT&amp;T &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</a>');
    expect(html).toContain('>Why &amp;amp; shows up in your HTML</a>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('&amp;amp;amp;');
    // Entry HTML is never inlined: its script, styles and tracking pixel cannot appear.
    expect(html).not.toMatch(/feedburner|position:fixed|onclick/);
  });

  it('keeps RTL, CJK and emoji text intact, with dir="auto" on titles and summaries', () => {
    const { html } = renderEmail(digest, templates, OPTIONS);
    for (const title of [SPECIAL_TITLES.russian, SPECIAL_TITLES.urdu, SPECIAL_TITLES.chinese, SPECIAL_TITLES.emoji]) {
      expect(html).toMatch(new RegExp(`<h3 dir="auto" class="pd-t"><a href="[^"]+">${title}</a></h3>`));
    }
    expect(html.match(/<div dir="auto" class="pd-s">/g)).toHaveLength(shownEntries(digest).length);
  });

  it('leaves the per-subscriber placeholders for personalizeEmail', () => {
    const { html, text } = renderEmail(digest, templates, OPTIONS);
    for (const part of [html, text]) {
      expect(part).toContain('%%UNSUBSCRIBE_URL%%');
      expect(part).toContain('%%RECIPIENT%%');
    }
  });

  it('is byte-identical to a full MJML render of the same expanded template', async () => {
    const rendered = renderEmail(digest, templates, OPTIONS);
    expect(rendered.html).toBe(await fullMjmlRender(digest, OPTIONS));
  });

  it('is byte-identical to a full MJML render with lead images and with an empty digest', async () => {
    const withImages = { ...OPTIONS, leadImages: pickLeadImage };
    expect(renderEmail(digest, templates, withImages).html).toBe(await fullMjmlRender(digest, withImages));
    const empty: Digest = { ...digest, groups: [], entryCount: 0, sourceCount: 0 };
    expect(renderEmail(empty, templates, OPTIONS).html).toBe(await fullMjmlRender(empty, OPTIONS));
  });
});

describe('renderEmail options and edge cases', () => {
  it('shows dates in the digest time zone', () => {
    const { html } = renderEmail(buildSampleDigest({ timezone: 'Asia/Karachi' }), templates, OPTIONS);
    expect(html).toContain('Hugo van Kemenade · 13 May, 09:30');
    expect(html).toMatch(/12 May 2025, 10:00 (PKT|GMT\+5) – 13 May 2025, 10:00 (PKT|GMT\+5)/);
    expect(html).toContain('Dates are shown in Asia/Karachi.');
  });

  it('adds one sanitized lead image per entry when asked, fitted to the column', () => {
    const digest = buildSampleDigest();
    const { html } = renderEmail(digest, templates, { ...OPTIONS, leadImages: pickLeadImage });
    const images = html.match(/<img [^>]*>/g) ?? [];
    expect(images).toHaveLength(shownEntries(digest).length);
    for (const img of images) {
      expect(img).toMatch(/^<img src="data:image\/gif;base64,[^"]+" alt="Chart of benchmark results" width="552" style="display:block;width:100%;max-width:552px;height:auto;/);
    }
    expect(renderEmail(digest, templates, OPTIONS).html).not.toMatch(/<img /);
  });

  it('falls back to the source link for entries without one, and omits unknown author/date', () => {
    const digest = buildSampleDigest();
    const [a, b] = digest.groups[0]!.entries;
    delete a!.link;
    delete b!.author;
    delete b!.published;
    const { html } = renderEmail(digest, templates, OPTIONS);
    expect(html).toContain('<a href="https://pythoninsider.blogspot.com/">AT&amp;T');
    expect(html).toMatch(/Why &amp;amp; shows up in your HTML<\/a><\/h3><div class="pd-m"><\/div>/);
  });

  it('caps absurdly long feed fields (title, author, source title, summary)', () => {
    const digest = buildSampleDigest({ sources: 1, entriesPerSource: 1 });
    const entry = digest.groups[0]!.entries[0]!;
    entry.title = 'T'.repeat(5000);
    entry.author = 'A'.repeat(5000);
    entry.summary = 'word '.repeat(2000);
    digest.groups[0]!.title = 'S'.repeat(5000);
    const { html, text } = renderEmail(digest, templates, OPTIONS);
    expect(html).toMatch(/>T{299}…<\/a><\/h3>/);
    expect(html).toMatch(/>A{99}… · 13 May, 06:30</);
    expect(html).toMatch(/>S{149}…<\/a><\/h2>/);
    expect(html).toMatch(/class="pd-s">(word ){50,70}word…</);
    expect(html.length).toBeLessThan(20_000);
    expect(text.length).toBeLessThan(3_000);
  });

  it('renders an empty digest with a message and no table of contents', () => {
    const digest: Digest = { ...buildSampleDigest(), groups: [], entryCount: 0, sourceCount: 0 };
    const rendered = renderEmail(digest, templates, OPTIONS);
    expect(rendered.html).toContain('No new posts in this period.');
    expect(rendered.html).not.toContain('In this digest');
    expect(rendered.preheader).toBe('No new posts');
    expect(htmlProblems(rendered.html)).toEqual([]);
  });

  it('omits the table of contents for a single source', () => {
    const digest = buildSampleDigest({ sources: 1, entriesPerSource: 3 });
    const { html } = renderEmail(digest, templates, OPTIONS);
    expect(html).not.toContain('In this digest');
    expect(html).not.toContain('No new posts in this period.');
  });

  it('applies an extra per-source maximum and counts the rest in "and N more"', () => {
    const capped = buildSampleDigest({ sources: 2, entriesPerSource: 8, maxPerSource: 5 });
    const uncapped = buildSampleDigest({ sources: 2, entriesPerSource: 8, maxPerSource: 8 });
    const a = renderEmail(capped, templates, OPTIONS).html;
    const b = renderEmail(uncapped, templates, { ...OPTIONS, maxPerSource: 5 }).html;
    expect(b).toBe(a);
    expect(a.match(/and 3 more from/g)).toHaveLength(2);
  });
});

describe('size budget (Gmail clips above 102 KB)', () => {
  it('keeps 10 sources × 50 entries (5 shown per source, "and 45 more") under 102 KB', () => {
    const digest = buildSampleDigest({ sources: 10, entriesPerSource: 50, maxPerSource: 5 });
    expect(digest.entryCount).toBe(500);
    const rendered = personalizeEmail(renderEmail(digest, templates, OPTIONS), {
      unsubscribeUrl: 'https://digest.example.org/unsubscribe?subscriber=alice-example-org&token=0123456789abcdef0123456789abcdef',
      recipient: 'alice@example.org',
    });
    const bytes = Buffer.byteLength(rendered.html, 'utf8');
    expect(bytes).toBeLessThan(GMAIL_CLIP_BYTES);
    expect(rendered.html.match(/and 45 more from/g)).toHaveLength(10);
    expect(rendered.html.match(/class="pd-t"/g)).toHaveLength(50);
    console.log(`10×50 digest: ${bytes} bytes of HTML (${(bytes / 1024).toFixed(1)} KiB)`);
  });

  it('stays under 102 KB with lead images too, and with an uncapped group capped by the renderer', () => {
    const digest = buildSampleDigest({ sources: 10, entriesPerSource: 50, maxPerSource: 50 });
    const { html } = renderEmail(digest, templates, { ...OPTIONS, maxPerSource: 5, leadImages: pickLeadImage });
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThan(GMAIL_CLIP_BYTES);
    expect(html.match(/<img /g)).toHaveLength(50);
  });
});

describe('personalizeEmail', () => {
  const digest = buildSampleDigest();

  it('fills the placeholders: HTML-escaped in html, raw in text', () => {
    const rendered = renderEmail(digest, templates, OPTIONS);
    const unsubscribeUrl = 'https://digest.example.org/u?s=1&t="x"';
    const recipient = `"O'Brien" <ob@example.org>`;
    const p = personalizeEmail(rendered, { unsubscribeUrl, recipient });
    expect(p.html).toContain('<a href="https://digest.example.org/u?s=1&amp;t=&quot;x&quot;" style="color:#475569">Unsubscribe</a>');
    expect(p.html).toContain('because &quot;O&#39;Brien&quot; &lt;ob@example.org&gt; is subscribed');
    expect(p.text).toContain(`Unsubscribe: ${unsubscribeUrl}`);
    expect(p.text).toContain(`"O'Brien"`);
    expect(p.html).not.toMatch(/%%(UNSUBSCRIBE_URL|RECIPIENT)%%/);
    expect(p.text).not.toMatch(/%%(UNSUBSCRIBE_URL|RECIPIENT)%%/);
    expect(htmlProblems(p.html)).toEqual([]);
    // The shared render is untouched, ready for the next subscriber.
    expect(rendered.html).toContain('%%UNSUBSCRIBE_URL%%');
  });

  it('never substitutes placeholder look-alikes coming from feed text', () => {
    const hostile = buildSampleDigest();
    hostile.groups[0]!.entries[0]!.title = 'Leak %%UNSUBSCRIBE_URL%% and %%RECIPIENT%%';
    const p = personalizeEmail(renderEmail(hostile, templates, OPTIONS), { unsubscribeUrl: 'https://secret.example/u', recipient: 'victim@example.org' });
    expect(p.html).toContain('Leak %&#37;UNSUBSCRIBE_URL%&#37; and %&#37;RECIPIENT%&#37;');
    expect(p.text).toContain('Leak %\u200B%UNSUBSCRIBE_URL%\u200B% and %\u200B%RECIPIENT%\u200B%');
    expect(p.html.split('https://secret.example/u')).toHaveLength(2);
    expect(p.text.split('https://secret.example/u')).toHaveLength(2);
  });

  it('strips control characters from values (no header-like injection into the text part)', () => {
    const p = personalizeEmail(renderEmail(digest, templates, OPTIONS), { unsubscribeUrl: 'https://x.example/u\r\nBcc: x', recipient: 'a@example.org\n' });
    expect(p.text).toContain('Unsubscribe: https://x.example/uBcc: x');
  });
});
