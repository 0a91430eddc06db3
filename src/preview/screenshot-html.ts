import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchOfflineBrowser } from './launch-offline-browser.js';

/** Options of screenshotHtml. */
export interface ScreenshotOptions {
  /** Viewport width in CSS pixels: 375 (phone) and 800 (desktop) are the ones we check. */
  width: 375 | 800 | number;
  /** PNG file to write (its folder is created). */
  out: string;
  /** Browser binary; default /usr/bin/chromium (Debian's package). */
  chromiumPath?: string;
}

/**
 * Writes a full-page PNG of an HTML document rendered by headless Chromium, offline (every request
 * except data: is blocked). Throws DigestError with install instructions when Chromium is missing.
 */
export async function screenshotHtml(html: string, options: ScreenshotOptions): Promise<void> {
  const browser = await launchOfflineBrowser({ chromiumPath: options.chromiumPath });
  try {
    const page = await browser.open(html, { width: options.width });
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await page.screenshot({ path: options.out, fullPage: true });
  } finally {
    await browser.close();
  }
}
