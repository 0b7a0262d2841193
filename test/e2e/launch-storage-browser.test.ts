import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

/**
 * Launches that survive blocked third-party cookies, in Chromium.
 *
 * Real conditions, reproduced: the LMS is on http://127.0.0.1:A and Courseport on
 * http://localhost:B — two different *sites*, so the tool's iframe is a third-party frame. Over
 * plain http the state cookie is `SameSite=Lax` (browsers refuse `SameSite=None` without
 * `Secure`); Chromium neither stores a Lax cookie set by a cross-site frame nor sends it on the
 * platform's cross-site form post, and `--test-third-party-cookie-phaseout` blocks third-party
 * cookies outright. So inside the LMS frame the cookie never works here — the situation of Safari
 * and of any browser blocking third-party cookies for an https tool whose `Partitioned` cookie is
 * not supported (the cookie path is checked to fail below, not assumed). In the top-level
 * window of tier 3 the Lax cookie is first-party; the platform's cross-site form post still
 * arrives without it, and Courseport's one same-site re-post from its own page brings it back.
 */
// Generous bounds: under a full parallel test run, Chromium and the storage fallbacks (2 s each) are slow.
describe('launches with third-party cookies blocked (Chromium)', { timeout: 60_000 }, () => {
  let tool: LiveServer;
  let lms: SimulatedPlatform;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    lms = await SimulatedPlatform.start({ hostname: '127.0.0.1' });
    lms.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch` };
    await tool.app.services.platforms.register(lms.registration());
    // Site isolation off: under load Playwright lost track of the cross-site tool frame while it
    // navigated between processes (the server had answered; waits on the frame then hung for a
    // minute). Cookie blocking and postMessage origins are per site, unchanged by this flag.
    browser = await launchChromium(['--test-third-party-cookie-phaseout', '--disable-site-isolation-trials']);
  });

  afterAll(async () => {
    await browser?.close();
    await lms?.close();
    await tool?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });

  const launchCount = async () =>
    Number(
      (
        await tool.store.db
          .selectFrom('launches')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const toolFrame = (): FrameLocator => page.frameLocator('iframe[name="tool"]');
  // The simulated course page records every storage message it sees (a string expression: no DOM types here).
  const storageLog = async () => page.evaluate<{ subject: string; origin: string }[]>('window.ltiStorageLog || []');
  const stateCookies = async () => (await context.cookies(tool.baseUrl)).filter((c) => c.name.startsWith('cp_lti_state_'));

  it('is set up cross-site: the tool is on another site than the LMS', () => {
    expect(new URL(lms.origin).hostname).toBe('127.0.0.1');
    expect(new URL(tool.baseUrl).hostname).toBe('localhost');
  });

  it('without platform storage the cookie path fails in the frame and the page offers a new window', async () => {
    const before = await launchCount();
    await page.goto(`${lms.origin}/course`);
    const frame = toolFrame();
    await frame.locator('#lti-new-window-form').waitFor({ timeout: 25_000 });
    expect(await frame.locator('[data-error-code]').textContent()).toBe('LTI_STATE_COOKIE_MISSING');
    expect(await frame.locator('.hint').textContent()).toContain('Third-party cookies');
    expect(await frame.getByRole('button', { name: 'Open in a new window' }).isVisible()).toBe(true);
    // The browser really refused the cookie (it is not merely unsent).
    expect(await stateCookies()).toEqual([]);
    expect(await launchCount()).toBe(before);
  });

  it('completes the launch through platform storage in the LMS frame', async () => {
    const before = await launchCount();
    await page.goto(`${lms.origin}/course?storage=1`);
    const frame = toolFrame();
    await frame.locator('[data-field="user"]').waitFor({ timeout: 25_000 });
    expect(await frame.locator('[data-field="user"]').textContent()).toBe('Ada Lovelace');
    expect(await frame.locator('[data-field="course"]').textContent()).toBe('Introduction to Golf (GOLF101)');
    const log = await storageLog();
    const toolOrigin = new URL(tool.baseUrl).origin;
    expect(log.map((m) => m.subject)).toEqual(['lti.capabilities', 'lti.put_data', 'lti.capabilities', 'lti.get_data']);
    expect(log.every((m) => m.origin === toolOrigin)).toBe(true);
    expect(await stateCookies()).toEqual([]);
    expect(await launchCount()).toBe(before + 1);
  });

  it('completes the launch in a new window when the LMS offers no storage', async () => {
    const before = await launchCount();
    await page.goto(`${lms.origin}/course?link=rl-window`);
    const frame = toolFrame();
    await frame.locator('#lti-new-window-form').waitFor({ timeout: 25_000 });
    const [popup] = await Promise.all([context.waitForEvent('page', { timeout: 25_000 }), frame.getByRole('button', { name: 'Open in a new window' }).click()]);
    await popup.locator('[data-field="user"]').waitFor({ timeout: 25_000 });
    expect(await popup.locator('[data-field="user"]').textContent()).toBe('Ada Lovelace');
    expect(new URL(popup.url()).origin).toBe(new URL(tool.baseUrl).origin);
    expect(await launchCount()).toBe(before + 1);
    const rl = await tool.store.db.selectFrom('resource_links').select('resource_link_id').where('resource_link_id', '=', 'rl-window').executeTakeFirst();
    expect(rl?.resource_link_id).toBe('rl-window');
  });

  it('refuses a forged lti.get_data value, recording nothing', async () => {
    const before = await launchCount();
    await page.goto(`${lms.origin}/course?storage=1&forge=value`);
    const frame = toolFrame();
    await frame.locator('[data-error-code]', { hasText: 'LTI_STORAGE_VALUE_MISMATCH' }).waitFor({ timeout: 25_000 });
    expect(await launchCount()).toBe(before);
  });

  it('ignores an lti.get_data answer from another origin and falls back to the new window, recording nothing', async () => {
    const before = await launchCount();
    await page.goto(`${lms.origin}/course?storage=1&forge=origin`);
    const frame = toolFrame();
    await frame.locator('#lti-new-window-form').waitFor({ timeout: 25_000 });
    expect(await frame.locator('[data-error-code]').textContent()).toBe('LTI_STATE_COOKIE_MISSING');
    expect(await frame.locator('#lti-storage-note').textContent()).toContain('another site');
    // The forger did answer, with the genuine value and message_id: only its origin gave it away.
    expect((await storageLog()).some((m) => m.subject === 'forged')).toBe(true);
    expect(await launchCount()).toBe(before);
  });
});
