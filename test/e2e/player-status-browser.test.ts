import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/admin.js';
import { launchChromium } from '../helpers/browser.js';
import { buildButtonCourse } from '../helpers/button-course.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { buildZip, tempDir } from '../helpers/zip-builder.js';

const WAIT_MS = 15_000;

describe('the player in Chromium: live status and score, an end page after Exit, previews; a failed upload', () => {
  let tool: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let packageId: string;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    packageId = (await tool.app.services.packages.importPackage(await buildButtonCourse({ masteryScore: 80 }), { title: 'Button course' })).package.id;
    await tool.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // A controllable clock (time still flows): the test moves it past the player's automatic commit.
    await context.clock.install();
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`${tool.baseUrl}/admin/login`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/settings$/);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await tool?.close();
  });

  it('previews from the console: the header follows every commit (status and score), and Exit shows an end page', { timeout: 60_000 }, async () => {
    await page.goto(`${tool.baseUrl}/admin/packages/${packageId}`);
    const [player] = await Promise.all([context.waitForEvent('page'), page.locator('#package-preview').click()]);
    player.setDefaultTimeout(WAIT_MS);
    await player.locator('#preview-banner').waitFor();
    const status = player.locator('[data-attempt-status]');
    const score = player.locator('[data-attempt-score]');
    const sco = player.frameLocator('#sco-frame');
    await expect.poll(() => sco.locator('#sco-state').textContent()).toBe('initialized');
    expect(await status.textContent()).toBe('Attempt 1 · Not started');
    expect(await score.textContent()).toBe('');

    // A course that only sets values (most commit when they finish): stored, and shown, seconds later.
    await sco.locator('#sco-status-only').click();
    await expect.poll(() => sco.locator('#sco-state').textContent()).toBe('set without commit');
    expect(await status.textContent()).toBe('Attempt 1 · Not started');
    await player.clock.fastForward('00:16');
    await expect.poll(() => status.textContent()).toBe('Attempt 1 · In progress');

    // A commit that is not the last one: the header shows it at once.
    await sco.locator('#sco-progress').click();
    await expect.poll(() => sco.locator('#sco-state').textContent()).toBe('committed: true');
    await expect.poll(() => status.textContent()).toBe('Attempt 1 · In progress');
    await expect.poll(() => score.textContent()).toBe('Score 40 %');
    await player.screenshot({ path: '/tmp/courseport-player-in-progress.png' });

    await sco.locator('#sco-pass').click();
    await expect.poll(() => status.textContent()).toBe('Attempt 1 · Passed');
    await expect.poll(() => score.textContent()).toBe('Score 85 %');

    // Exit: the SCO ends its session; the player shows the end page instead of the finished content.
    await sco.locator('#sco-exit').click();
    await player.locator('#end-page').waitFor({ state: 'visible' });
    expect(await player.locator('#end-title').textContent()).toBe('You have finished');
    expect(await player.locator('#end-page').textContent()).toContain('You can close this window, or return to the course in your LMS.');
    await expect.poll(() => player.locator('[data-end-status]').textContent()).toBe('Attempt 1 · Passed · Score 85 %');
    expect(await player.locator('#sco-frame').isHidden()).toBe(true);
    expect(await player.evaluate('document.activeElement && document.activeElement.id')).toBe('end-title');
    await player.screenshot({ path: '/tmp/courseport-player-end-page.png' });

    // "Open the course again" brings the content back, resumed.
    await player.locator('#end-reopen').click();
    await expect.poll(() => player.locator('#sco-frame').isVisible()).toBe(true);
    expect(await player.locator('#end-page').isHidden()).toBe(true);
    await expect.poll(() => sco.locator('#sco-state').textContent()).toBe('initialized');

    // Only the preview's own records: nothing for a gradebook.
    expect(await tool.store.db.selectFrom('grade_outbox').select('id').execute()).toEqual([]);
    await player.close();
  });

  it('turns the upload progress bar red after a refused upload, next to the reason', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const broken = await buildZip(join(dir, 'broken.zip'), [{ name: 'imsmanifest.xml', data: '<manifest>\n<organizations>\n' }]);
    const notZip = join(dir, 'not-a.zip');
    writeFileSync(notZip, 'this is not a zip');
    await page.goto(`${tool.baseUrl}/admin/packages`);
    await page.locator('#upload-file').setInputFiles(broken);
    await page.locator('#upload-submit').click();
    const state = page.locator('#upload-status');
    await expect.poll(() => state.textContent()).toContain('imsmanifest.xml is not well-formed XML: line 2');
    expect(await state.textContent()).toContain('[PACKAGE_INVALID_MANIFEST]');
    const bar = page.locator('#upload-progress');
    expect(await bar.getAttribute('data-failed')).toBe('true');
    expect(await page.evaluate(`getComputedStyle(document.getElementById('upload-progress')).getPropertyValue('accent-color')`)).toBe('rgb(164, 35, 35)');
    await page.screenshot({ path: '/tmp/courseport-upload-failed.png' });

    // A new upload starts blue again.
    await page.locator('#upload-file').setInputFiles(notZip);
    await page.locator('#upload-submit').click();
    await expect.poll(() => state.textContent()).toContain('[PACKAGE_NOT_ZIP]');
    expect(await bar.getAttribute('data-failed')).toBe('true');
  });
});
