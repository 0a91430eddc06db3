import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUnsubscribeToken, unsubscribeUrl } from '../../src/dispatch/unsubscribe-token.js';
import type { DigestServer } from '../../src/serve/create-server.js';
import { createServeFixture, SECRET, subscriberIds, subscribersText, type ServeFixture } from './serve-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));

// A person clicking the link in a digest, in a real browser: GET shows the button, only the click unsubscribes.
describe.skipIf(!existsSync(CHROMIUM))('unsubscribe in headless Chromium', () => {
  let fx: ServeFixture;
  let server: DigestServer;
  let profile: string;
  let context: BrowserContext;

  beforeAll(async () => {
    fx = await createServeFixture();
    server = await fx.start();
    profile = await mkdtemp(path.join(tmpdir(), 'planet-digest-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await context?.close();
    await fx?.dispose();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('the link shows a button; clicking it unsubscribes and removes the subscriber from the file', async () => {
    await mkdir(screenshots, { recursive: true });
    const token = signUnsubscribeToken(SECRET, { subscriberId: 'bob', issuedAt: new Date() });
    // The very link the digest email carries (DIGEST_BASE_URL = our address).
    const link = unsubscribeUrl(server.url, token);
    const page = await context.newPage();
    // Only our own server may be contacted.
    const contacted = new Set<string>();
    page.on('request', (request) => contacted.add(new URL(request.url()).origin));

    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Unsubscribe from this digest?');
    expect(await subscriberIds(fx.file)).toEqual(['alice', 'bob', 'team-news']);
    const button = page.getByRole('button', { name: 'Unsubscribe' });
    expect(await button.isVisible()).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'unsubscribe-confirm.png') });

    const [post] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
    expect(post.status()).toBe(200);
    expect(post.request().postData()).toBe('List-Unsubscribe=One-Click');
    expect(post.request().headers()['content-type']).toBe('application/x-www-form-urlencoded');
    expect(post.url()).toBe(link);
    await page.waitForLoadState();
    await expect(page.locator('h1').textContent()).resolves.toBe('You are unsubscribed');
    await expect(page.locator('body').textContent()).resolves.toContain('You will get no more digests.');
    await page.screenshot({ path: path.join(screenshots, 'unsubscribe-done.png') });

    expect(await subscriberIds(fx.file)).toEqual(['alice', 'team-news']);
    expect(await readFile(fx.file, 'utf8')).toBe(subscribersText(['alice', 'team-news']));
    expect([...contacted]).toEqual([server.url]);
  });
});
