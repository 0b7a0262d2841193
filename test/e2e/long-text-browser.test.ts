import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/admin.js';
import { launchChromium } from '../helpers/browser.js';
import { buildButtonCourse } from '../helpers/button-course.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

/*
 * Long text without spaces (file names, titles, ids) must wrap inside every page at a desktop width:
 * the test measures each page's document width against the window at 1280 px, and keeps a
 * screenshot of each in /tmp/courseport-long-text-*.png to look at.
 */

const WAIT_MS = 15_000;
const WIDTH = 1280;
/** The longest title the catalogue accepts, without a single space. */
const LONG_TITLE = `Putting${'X'.repeat(193)}`;
const LONG_FILE = `${'course_export_final_v2_'.repeat(8)}${'x'.repeat(205 - 23 * 8 - 4)}.zip`;
/** Older catalogues took titles of any length: such rows must not break the pages either. */
const LEGACY_TITLE = 'Legacy'.padEnd(600, 'Y');

interface Fit {
  readonly scrollWidth: number;
  readonly innerWidth: number;
}

const MEASURE = '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })';

async function fits(target: Page | Frame, shot?: { page: Page; name: string }): Promise<Fit> {
  const fit = (await target.evaluate(MEASURE)) as Fit;
  if (shot) await shot.page.screenshot({ path: `/tmp/courseport-long-text-${shot.name}.png`, fullPage: true });
  return fit;
}

function expectFits(fit: Fit, where: string): void {
  expect(fit.scrollWidth, `${where}: document ${fit.scrollWidth}px in a ${fit.innerWidth}px window`).toBeLessThanOrEqual(fit.innerWidth);
}

describe(`long titles, file names and ids in Chromium at ${WIDTH} px`, () => {
  let tool: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let packageId: string;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite', { COURSEPORT_SANDBOX: 'true' });
    await tool.app.services.sandbox.ensureReady();
    const zip = await buildButtonCourse({ fileName: LONG_FILE, masteryScore: 80 });
    expect(LONG_FILE).toHaveLength(205);
    packageId = (await tool.app.services.packages.importPackage(zip, { title: LONG_TITLE, sourceName: LONG_FILE })).package.id;
    const legacy = (await tool.app.services.packages.importPackage(await buildButtonCourse(), { title: 'legacy' })).package.id;
    await tool.store.db.updateTable('packages').set({ title: LEGACY_TITLE }).where('id', '=', legacy).execute();
    await tool.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: WIDTH, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await tool?.close();
  });

  it('home page', { timeout: 30_000 }, async () => {
    await page.goto(`${tool.baseUrl}/`);
    expect(await page.locator('#home-console').getAttribute('href')).toBe('/admin');
    expectFits(await fits(page, { page, name: 'home' }), 'home');
  });

  it('the console: catalogue, versions table, audit log (ids never one character per line)', { timeout: 60_000 }, async () => {
    await page.goto(`${tool.baseUrl}/admin/login`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${tool.baseUrl}/admin`.replace(/\/admin$/, '/admin/settings'));

    await page.goto(`${tool.baseUrl}/admin/packages`);
    expectFits(await fits(page, { page, name: 'catalogue' }), 'catalogue');
    // Archive stays on screen, on the right of each row.
    const archive = await page.locator(`tr[data-id="${packageId}"] button[data-action="archive"]`).boundingBox();
    expect(archive!.x + archive!.width).toBeLessThanOrEqual(WIDTH);

    await page.goto(`${tool.baseUrl}/admin/packages/${packageId}`);
    expectFits(await fits(page, { page, name: 'versions' }), 'versions table');

    await page.goto(`${tool.baseUrl}/admin/audit`);
    expectFits(await fits(page, { page, name: 'audit' }), 'audit log');
    // The lines an id's text takes (one rectangle per line box of its text).
    const idCells = (await page.evaluate(`[...document.querySelectorAll('#audit td.id')].filter((td) => td.textContent.trim().length > 8).map((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      return { text: td.textContent.trim(), width: td.getBoundingClientRect().width, lines: tops.size };
    })`)) as { text: string; width: number; lines: number }[];
    expect(idCells.length).toBeGreaterThan(0);
    for (const cell of idCells) {
      // About 16 characters a line at least: an id takes two or three lines at most.
      expect(cell.width, cell.text).toBeGreaterThanOrEqual(100);
      expect(cell.lines, cell.text).toBeLessThanOrEqual(3);
    }

    for (const path of [
      '/admin/settings',
      '/admin/platforms',
      '/admin/dispatch',
      '/admin/grades',
      '/admin/keys',
      '/admin/account',
      '/admin/platforms/new?lms=moodle&site=moodle.example.edu',
    ]) {
      await page.goto(`${tool.baseUrl}${path}`);
      expectFits(await fits(page), path);
    }
    await page.goto(`${tool.baseUrl}/admin/platforms/new?lms=moodle&site=moodle.example.edu`);
    await page.screenshot({ path: '/tmp/courseport-long-text-platform-presets.png', fullPage: true });
  });

  it('the picker (Add disabled until something is ticked), the sandbox course page and the gradebook', { timeout: 60_000 }, async () => {
    await page.goto(`${tool.baseUrl}/sandbox`);
    await page.locator('#sandbox-add-content').click();
    const frame = page.frameLocator('iframe[name="tool"]');
    const add = frame.locator('#picker-add');
    // Disabled by the picker's script once it has run (without scripts the server refuses an empty selection).
    await expect.poll(() => add.isDisabled()).toBe(true);
    const pickerFrame = page.frames().find((f) => f.url().includes('/lti/'))!;
    expectFits(await fits(pickerFrame, { page, name: 'picker' }), 'picker');
    await frame.locator(`input[name="package"][value="${packageId}"]`).check();
    expect(await add.isDisabled()).toBe(false);
    await frame.locator(`input[name="package"][value="${packageId}"]`).uncheck();
    expect(await add.isDisabled()).toBe(true);
    await frame.locator(`input[name="package"][value="${packageId}"]`).check();
    await add.click();
    await expect.poll(() => frame.locator('#sandbox-deep-link-result').getAttribute('data-added')).toBe('1');
    await frame.locator('#sandbox-back').click();
    await page.locator('#sandbox-links li').first().waitFor();
    expectFits(await fits(page, { page, name: 'sandbox-course' }), 'sandbox course page');

    await page.goto(`${tool.baseUrl}/sandbox/gradebook`);
    await page.locator('#sandbox-gradebook th[data-line-item]').first().waitFor();
    expectFits(await fits(page, { page, name: 'gradebook' }), 'gradebook');
  });

  it('the player header (in the sandbox frame) and the instructor progress view', { timeout: 60_000 }, async () => {
    await page.goto(`${tool.baseUrl}/sandbox`);
    const item = page.locator('#sandbox-links li').first();
    await item.locator('button[data-action="launch-instructor"]').click();
    const player = page.frameLocator('iframe[name="tool"]');
    await player.locator('.player-bar').waitFor();
    const playerFrame = page.frames().find((f) => f.url().includes('/lti/launch') || f.url().includes('/play/'))!;
    expectFits(await fits(playerFrame, { page, name: 'player' }), 'player');
    expectFits(await fits(page), 'sandbox frame page');
    // The header keeps its buttons on screen: the title gives way (ellipsis).
    const link = await player.locator('#progress-link').boundingBox();
    expect(link!.x + link!.width).toBeLessThanOrEqual(WIDTH);

    const [view] = await Promise.all([context.waitForEvent('page'), player.locator('#progress-link').click()]);
    await view.setViewportSize({ width: WIDTH, height: 900 });
    await view.locator('h1').waitFor();
    expectFits(await fits(view, { page: view, name: 'progress' }), 'progress view');
    await view.close();
  });
});
