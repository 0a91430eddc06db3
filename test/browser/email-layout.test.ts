/**
 * The rendered digest in a real browser (Debian's Chromium via playwright-core, offline): no horizontal
 * scrolling on a phone or a desktop, every entry link present and clickable, images inside their column,
 * dark mode and RTL applied. Screenshots go to artifacts/screenshots/ (gitignored) for a human look.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestError } from '../../src/model/errors.js';
import { launchOfflineBrowser, type OfflineBrowser } from '../../src/preview/launch-offline-browser.js';
import { screenshotHtml } from '../../src/preview/screenshot-html.js';
import { personalizeEmail, renderEmail } from '../../src/render/render-email.js';
import { pickLeadImage } from '../../src/render/sanitize-entry-html.js';
import { loadTestTemplates } from '../fixtures/render/load-test-templates.js';
import { buildSampleDigest, SAMPLE_NOW, shownEntries, SPECIAL_TITLES } from '../fixtures/render/sample-digest.js';

// The callbacks passed to page.evaluate run in the browser. This project compiles without lib.dom, so
// declare the few DOM globals they use (module-scoped: nothing leaks into other files).
interface Box {
  left: number;
  right: number;
  top: number;
  width: number;
  height: number;
}
interface DomElement {
  getBoundingClientRect(): Box;
  getClientRects(): Iterable<Box>;
  contains(other: unknown): boolean;
  closest(selector: string): DomElement | null;
  getAttribute(name: string): string | null;
  naturalWidth?: number;
}
declare const document: {
  documentElement: { scrollWidth: number };
  body: DomElement;
  elementFromPoint(x: number, y: number): DomElement | null;
  querySelector(selector: string): DomElement | null;
  getElementById(id: string): DomElement | null;
};
declare const window: { innerWidth: number };
declare function getComputedStyle(element: DomElement): { backgroundColor: string; color: string; direction: string };

const SCREENSHOTS = path.resolve('artifacts/screenshots');
const digest = buildSampleDigest();
let html: string;
let browser: OfflineBrowser;

beforeAll(async () => {
  const rendered = renderEmail(digest, await loadTestTemplates(), { subjectPattern: '{count} new posts', now: SAMPLE_NOW, leadImages: pickLeadImage });
  html = personalizeEmail(rendered, { unsubscribeUrl: 'https://digest.example.org/unsubscribe?t=abc', recipient: 'reader@example.org' }).html;
  await mkdir(SCREENSHOTS, { recursive: true });
  browser = await launchOfflineBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe.each([375, 800])('the sample digest at %i px', (width) => {
  let page: Page;
  beforeAll(async () => {
    page = await browser.open(html, { width });
    await page.screenshot({ path: path.join(SCREENSHOTS, `digest-${width}.png`), fullPage: true });
  }, 60_000);

  it('does not scroll horizontally', async () => {
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(innerWidth).toBe(width);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
  });

  it('shows every entry link, and a click at its centre (of every line) hits the link', async () => {
    const links = page.locator('h3.pd-t a');
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(shownEntries(digest).map((e) => e.link));
    const count = await links.count();
    for (let i = 0; i < count; i++) {
      const link = links.nth(i);
      await link.scrollIntoViewIfNeeded();
      // A wrapped title is one link box per line: the centre of every line box must hit the link.
      const hit = await link.evaluate((a) => {
        const boxes = [...a.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
        const hits = boxes.every((r) => {
          const el = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return el !== null && (el === a || a.contains(el));
        });
        return { visible: boxes.length > 0, hits };
      });
      expect(hit, hrefs[i]!).toEqual({ visible: true, hits: true });
    }
  });

  it('keeps every image inside its column and the viewport', async () => {
    const images = await page.locator('.pd-e img').evaluateAll((imgs) =>
      imgs.map((img) => {
        const r = img.getBoundingClientRect();
        const column = img.closest('td')!.getBoundingClientRect();
        return { left: r.left, right: r.right, column: { left: column.left, right: column.right }, width: r.width, attrWidth: Number(img.getAttribute('width')) };
      }),
    );
    expect(images).toHaveLength(shownEntries(digest).length);
    for (const img of images) {
      expect(img.left).toBeGreaterThanOrEqual(img.column.left - 0.5);
      expect(img.right).toBeLessThanOrEqual(img.column.right + 0.5);
      expect(img.right).toBeLessThanOrEqual(width);
      // The 1200 px source image is scaled down, not cropped or overflowing.
      expect(img.width).toBeLessThanOrEqual(img.attrWidth);
      expect(img.width).toBeGreaterThan(width === 375 ? 250 : 500);
    }
  });

  it('lays RTL titles out right to left and renders CJK and emoji text', async () => {
    const urdu = page.locator('h3.pd-t', { hasText: SPECIAL_TITLES.urdu });
    expect(await urdu.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    const english = page.locator('h3.pd-t', { hasText: 'Why &amp; shows up' });
    expect(await english.evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    const text = await page.locator('body').innerText();
    for (const t of [SPECIAL_TITLES.russian, SPECIAL_TITLES.chinese, SPECIAL_TITLES.emoji, SPECIAL_TITLES.escaping]) expect(text).toContain(t);
  });
});

describe('dark mode and isolation', () => {
  it('switches to dark colours when the client prefers a dark scheme', async () => {
    const page = await browser.open(html, { width: 800 });
    const colours = () =>
      page.evaluate(() => {
        const card = document.querySelector('.pd-card')!;
        const title = document.querySelector('h3.pd-t a')!;
        const wrapper = document.querySelector('div[role="article"]')!;
        const summary = document.querySelector('.pd-s')!;
        return {
          body: getComputedStyle(document.body).backgroundColor,
          wrapper: getComputedStyle(wrapper).backgroundColor,
          card: getComputedStyle(card).backgroundColor,
          link: getComputedStyle(title).color,
          text: getComputedStyle(summary).color,
        };
      });
    expect(await colours()).toEqual({ body: 'rgb(241, 245, 249)', wrapper: 'rgb(241, 245, 249)', card: 'rgb(255, 255, 255)', link: 'rgb(29, 78, 216)', text: 'rgb(31, 41, 55)' });
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await colours()).toEqual({ body: 'rgb(15, 23, 42)', wrapper: 'rgb(15, 23, 42)', card: 'rgb(30, 41, 59)', link: 'rgb(147, 197, 253)', text: 'rgb(226, 232, 240)' });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'digest-800-dark.png'), fullPage: true });
  });

  it('made no network request for the digest (everything it shows is inline)', () => {
    expect(browser.blockedRequests).toEqual([]);
  });

  it('blocks remote resources a page asks for', async () => {
    const page = await browser.open('<img id="remote" src="https://images.example.org/track.png"><img id="inline" src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">', { width: 375 });
    expect(browser.blockedRequests).toContain('https://images.example.org/track.png');
    const loaded = await page.evaluate(() => ['remote', 'inline'].map((id) => document.getElementById(id)!.naturalWidth));
    expect(loaded).toEqual([0, 1]);
  });
});

describe('screenshotHtml', () => {
  it('writes a full-page PNG', async () => {
    const out = path.join(SCREENSHOTS, 'screenshot-html-375.png');
    await rm(out, { force: true });
    await screenshotHtml('<p style="height:1500px">tall page</p>', { width: 375, out });
    const png = await readFile(out);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // IHDR: width and height (big-endian) — full page, not just the 800 px viewport.
    expect(png.readUInt32BE(16)).toBe(375);
    expect(png.readUInt32BE(20)).toBeGreaterThan(1500);
  }, 120_000);

  it('explains how to install Chromium when it is missing', async () => {
    const err = await screenshotHtml('<p>x</p>', { width: 375, out: path.join(tmpdir(), 'never.png'), chromiumPath: '/nonexistent/chromium' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestError);
    expect((err as DigestError).message).toContain("install Debian's chromium: apt-get install chromium");
  });
});
