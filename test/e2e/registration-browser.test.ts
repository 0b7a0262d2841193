import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPlatform } from '../../src/platforms/platform.repository.js';
import { launchChromium } from '../helpers/browser.js';
import { WAIT_MS } from '../helpers/course-page.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

describe('LTI Dynamic Registration in Chromium, as the LMS opens it', () => {
  let tool: LiveServer;
  let browser: Browser;
  const lmss: SimulatedPlatform[] = [];

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(lmss.map((l) => l.close()));
    await tool?.close();
  });

  async function lms(clientId: string): Promise<SimulatedPlatform> {
    const l = await SimulatedPlatform.start({ clientId });
    lmss.push(l);
    l.registrationDeploymentId = 'deployment-1';
    l.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch`, registerUrl: `${tool.baseUrl}/lti/register` };
    return l;
  }

  it('in an iframe: the administrator confirms, the LMS gets org.imsglobal.lti.close, the platform waits pending', { timeout: 60_000 }, async () => {
    const l = await lms('dr-iframe');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${l.origin}/tool-registration`, { timeout: WAIT_MS });
      const frame = page.frameLocator('iframe[name="registration"]');
      expect(await frame.locator('[data-field="product"]').textContent({ timeout: WAIT_MS })).toBe('moodle 4.3');
      await frame.locator('#registration-confirm').click({ timeout: WAIT_MS });
      // The LMS page removes the frame when the message arrives.
      await page.locator('#closed').waitFor({ state: 'visible', timeout: WAIT_MS });
      const messages = (await page.evaluate('window.ltiCloseMessages')) as { origin: string; subject: string }[];
      expect(messages).toEqual([{ origin: tool.baseUrl, subject: 'org.imsglobal.lti.close' }]);
      expect(l.registrations).toHaveLength(1);
      expect(await findPlatform(tool.store.db, l.issuer, 'dr-iframe')).toMatchObject({ status: 'pending' });
    } finally {
      await context.close();
    }
  });

  it('in a window the LMS opened: the message goes to the opener', { timeout: 60_000 }, async () => {
    const l = await lms('dr-window');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${l.origin}/tool-registration?window=1`, { timeout: WAIT_MS });
      const [popup] = await Promise.all([page.waitForEvent('popup', { timeout: WAIT_MS }), page.locator('#open').click({ timeout: WAIT_MS })]);
      await popup.locator('#registration-confirm').click({ timeout: WAIT_MS });
      await page.locator('#closed').waitFor({ state: 'visible', timeout: WAIT_MS });
      const messages = (await page.evaluate('window.ltiCloseMessages')) as { origin: string; subject: string }[];
      expect(messages).toEqual([{ origin: tool.baseUrl, subject: 'org.imsglobal.lti.close' }]);
      expect(await findPlatform(tool.store.db, l.issuer, 'dr-window')).toMatchObject({ status: 'pending' });
    } finally {
      await context.close();
    }
  });

  it('a refusal by the LMS stays on screen with its code and the LMS’s text; no close message', { timeout: 60_000 }, async () => {
    const l = await lms('dr-refused');
    l.failRegistration = { status: 400, body: JSON.stringify({ error: 'invalid_client_metadata', error_description: 'Tool domain not allowed' }) };
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${l.origin}/tool-registration`, { timeout: WAIT_MS });
      const frame = page.frameLocator('iframe[name="registration"]');
      await frame.locator('#registration-confirm').click({ timeout: WAIT_MS });
      expect(await frame.locator('[data-error-code]').textContent({ timeout: WAIT_MS })).toBe('REGISTRATION_REJECTED');
      expect(await frame.locator('.error').textContent()).toContain('Tool domain not allowed');
      expect(await page.evaluate('window.ltiCloseMessages')).toEqual([]);
      expect(await findPlatform(tool.store.db, l.issuer, 'dr-refused')).toBeUndefined();
    } finally {
      await context.close();
    }
  });
});
