/**
 * A local headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) with every network
 * request blocked except data: URLs — a rendered digest must not fetch remote images or fonts while we
 * look at it. Shared by screenshotHtml and the browser tests (which reuse one browser for many pages).
 */
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { DigestError } from '../model/errors.js';

/** Where Debian's chromium package installs the browser. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, reproducible, offline browser (Playwright's headless option is set too). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running offline browser. */
export interface OfflineBrowser {
  /** Opens a new page of the given viewport width with `html` loaded. */
  open(html: string, viewport: { width: number; height?: number }): Promise<Page>;
  /** URLs of requests that were blocked (everything except data:), across all pages. */
  blockedRequests: string[];
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/** Throws a DigestError with install instructions when the browser binary is missing. */
export async function assertChromium(chromiumPath: string): Promise<void> {
  try {
    await access(chromiumPath, constants.X_OK);
  } catch (err) {
    throw new DigestError('CONFIG_INVALID', `Chromium not found at ${chromiumPath}; install Debian's chromium: apt-get install chromium`, {
      cause: err,
      hint: "install Debian's chromium: apt-get install chromium (or pass chromiumPath)",
    });
  }
}

/** Launches Chromium headless with a fresh user data dir and a route that aborts every non-data: request. */
export async function launchOfflineBrowser(options: { chromiumPath?: string } = {}): Promise<OfflineBrowser> {
  const chromiumPath = options.chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  await assertChromium(chromiumPath);
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(path.join(tmpdir(), 'planet-digest-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      deviceScaleFactor: 1,
      serviceWorkers: 'block',
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  const blockedRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('data:')) return route.continue();
    blockedRequests.push(url);
    return route.abort('blockedbyclient');
  });
  // The persistent context opens with one blank page; keep it (closing the last page can end the context).
  return {
    blockedRequests,
    async open(html, viewport) {
      const page = await context.newPage();
      await page.setViewportSize({ width: viewport.width, height: viewport.height ?? 800 });
      await page.setContent(html, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
