import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { launchChromium } from '../helpers/browser.js';
import { COURSE_12, COURSE_12_MULTI, COURSE_2004 } from '../helpers/fixtures.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

describe('Deep Linking picker in Chromium', () => {
  let tool: LiveServer;
  let lms: SimulatedPlatform;
  let browser: Browser;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    lms = await SimulatedPlatform.start({ hostname: 'localhost' });
    lms.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch`, jwksUrl: `${tool.baseUrl}/.well-known/jwks.json` };
    await tool.app.services.platforms.register(lms.registration());
    ids.basics = (await tool.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care Basics' })).package.id;
    ids.advanced = (await tool.app.services.packages.importPackage(COURSE_2004, { title: 'Bicycle Care Advanced' })).package.id;
    ids.tour = (await tool.app.services.packages.importPackage(COURSE_12_MULTI, { title: 'Walking Tour' })).package.id;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await lms?.close();
    await tool?.close();
  });

  it('searches, selects two packages and returns them to the LMS, which verifies the signed response', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${lms.origin}/course?deeplink=1&role=instructor&user=teacher-1`);
      const picker = page.frameLocator('iframe[name="tool"]');
      await expect.poll(() => picker.locator('h1').textContent({ timeout: 10_000 })).toBe('Choose content from Courseport');
      expect(await picker.locator('.picker-list li').count()).toBe(3);

      // Live search narrows the list as the instructor types.
      await picker.locator('#picker-search').fill('care');
      await expect.poll(() => picker.locator('.picker-list li:not([hidden])').count()).toBe(2);
      await picker.getByLabel(/Bicycle Care Basics/).check();
      await picker.getByLabel(/Bicycle Care Advanced/).check();
      await picker.getByRole('button', { name: 'Add selected' }).click();

      await expect.poll(() => picker.locator('#dl-result').textContent({ timeout: 10_000 })).toBe('Received 2 item(s)');
      expect(lms.deepLinkErrors).toEqual([]);
      const [received] = lms.deepLinkResponses;
      expect(received?.header.kid).toBe((await tool.app.services.toolKeys.signingKey()).kid);
      const items = received!.payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as { title: string; custom: { package_id: string }; lineItem?: unknown }[];
      // In catalogue order (by title); the 2004 package reports a score, so it brings a grade column.
      expect(items.map((i) => [i.title, i.custom.package_id])).toEqual([
        ['Bicycle Care Advanced', ids.advanced],
        ['Bicycle Care Basics', ids.basics],
      ]);
      expect(items[0]?.lineItem).toBeDefined();
      expect(items[1]?.lineItem).toBeUndefined();
      expect(received!.payload[CLAIM.DEEP_LINKING_DATA]).toBe('csrf-opaque-7f3a');
    } finally {
      await context.close();
    }
  });

  it('shows a learner a clear 403 page instead of the picker', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${lms.origin}/course?deeplink=1&user=learner-9`);
      const frame = page.frameLocator('iframe[name="tool"]');
      await expect.poll(() => frame.locator('[data-error-code]').textContent({ timeout: 10_000 })).toBe('LTI_DEEP_LINKING_FORBIDDEN');
      expect(await frame.locator('h1').textContent()).toBe('Only instructors can choose content');
    } finally {
      await context.close();
    }
  });
});
