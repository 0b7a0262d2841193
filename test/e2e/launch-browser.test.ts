import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

describe('LTI launch in Chromium', () => {
  let tool: LiveServer;
  let lms: SimulatedPlatform;
  let browser: Browser;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    lms = await SimulatedPlatform.start({ hostname: 'localhost' });
    lms.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch` };
    await tool.app.services.platforms.register(lms.registration());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await lms?.close();
    await tool?.close();
  });

  it('completes the OIDC handshake inside the LMS iframe and shows the launch page', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${lms.origin}/course`);
      const frame = page.frameLocator('iframe[name="tool"]');
      await expect.poll(() => frame.locator('[data-field="user"]').textContent({ timeout: 10_000 })).toBe('Ada Lovelace');
      expect(await frame.locator('[data-field="role"]').textContent()).toBe('Learner');
      expect(await frame.locator('[data-field="course"]').textContent()).toBe('Introduction to Golf (GOLF101)');

      // From here on the page works without cookies: the launch token carries the session.
      await page.context().clearCookies();
      await frame.getByRole('link', { name: 'Refresh' }).click();
      await expect.poll(() => frame.locator('[data-field="platform"]').textContent({ timeout: 10_000 })).toBe('Simulated LMS');
      expect(await frame.locator('[data-field="user"]').textContent()).toBe('Ada Lovelace');
    } finally {
      await page.close();
    }
  });

  it('shows a readable error page with its code when the launch is refused', async () => {
    const page = await browser.newPage();
    try {
      const res = await page.goto(
        `${tool.baseUrl}/lti/login?iss=${encodeURIComponent('https://unknown.example')}&login_hint=x&target_link_uri=${encodeURIComponent(`${tool.baseUrl}/lti/launch`)}`,
      );
      expect(res?.status()).toBe(400);
      expect(await page.locator('h1').textContent()).toBe('Unknown platform');
      expect(await page.locator('[data-error-code]').textContent()).toBe('LTI_UNKNOWN_PLATFORM');
    } finally {
      await page.close();
    }
  });
});
