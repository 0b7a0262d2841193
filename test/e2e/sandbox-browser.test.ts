import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRADE_WORKER, GradeWorker } from '../../src/grades/grade-worker.js';
import { launchChromium } from '../helpers/browser.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { answerBikeQuiz, BIKE_CONTENT_FRAME, bikeNext, expectBikePage } from '../helpers/bike-course.js';
import { findAttemptFor, WAIT_MS, type CoursePage } from '../helpers/course-page.js';
import { BIKE_LAST_PAGE } from '../helpers/courses.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the sandbox LMS in Chromium: add content, launch as a learner, see the grade', () => {
  let tool: LiveServer;
  let browser: Browser;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    // What `courseport serve` does at start when the sandbox is on.
    await tool.app.services.sandbox.ensureReady();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await tool?.close();
  });

  it('deep-links a package, plays it as Bob to a passing score, and the gradebook shows it', { timeout: 90_000 }, async () => {
    const pkg = await tool.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.accept().catch(() => undefined);
      });
      await page.goto(`${tool.baseUrl}/sandbox`, { timeout: WAIT_MS });
      await page.locator('#sandbox-no-links').waitFor({ timeout: WAIT_MS });

      // "Add content…": the real deep linking flow into Courseport's picker, inside the sandbox's frame.
      await page.locator('#sandbox-add-content').click({ timeout: WAIT_MS });
      const frame = page.frameLocator('iframe[name="tool"]');
      await frame.locator(`input[name="package"][value="${pkg.package.id}"]`).check({ timeout: WAIT_MS });
      await frame.locator('button[name="action"][value="add"]').click({ timeout: WAIT_MS });
      await expect.poll(() => frame.locator('#sandbox-deep-link-result').getAttribute('data-added', { timeout: WAIT_MS }), { timeout: WAIT_MS }).toBe('1');
      await frame.locator('#sandbox-back').click({ timeout: WAIT_MS });
      await page.locator('#sandbox-links li').first().waitFor({ timeout: WAIT_MS });
      expect(await page.locator('#sandbox-links li strong').first().textContent()).toBe('Bicycle Care');

      // "Launch as learner", picking Bob: login → sandbox auth → launch, every signature checked.
      const item = page.locator('#sandbox-links li').first();
      await item.locator('select[name="user"]').selectOption('sandbox-bob');
      await item.locator('button[data-action="launch-learner"]').click({ timeout: WAIT_MS });
      const player = page.frameLocator('iframe[name="tool"]');
      const sco = player.frameLocator('#sco-frame');
      const course: CoursePage = {
        page,
        player,
        sco,
        content: sco.frameLocator(BIKE_CONTENT_FRAME),
        dialogs,
        playerFrame: () => page.frame({ name: 'tool' })!,
      };
      await expectBikePage(course, 0);
      await bikeNext(course, 0, BIKE_LAST_PAGE);
      expect((await answerBikeQuiz(course.content)).score).toBe(100);
      await course.sco.locator('#exit').click({ timeout: WAIT_MS });
      const [link] = await tool.app.services.sandbox.links();
      await expect.poll(async () => (await findAttemptFor(tool.store.db, link!.id, 'sandbox-bob'))?.success, { timeout: WAIT_MS }).toBe('passed');

      // The server's grade worker (what `courseport serve` runs) delivers the score through AGS.
      const worker = new GradeWorker(tool.store.db, tool.store.dialect, tool.app.services.ags, { now: () => Date.now() }, silent, DEFAULT_GRADE_WORKER);
      await expect
        .poll(
          async () => {
            await worker.runOnce();
            return (await tool.app.services.sandbox.scores()).filter((s) => s.userId === 'sandbox-bob' && s.gradingProgress === 'FullyGraded').length;
          },
          { timeout: WAIT_MS },
        )
        .toBeGreaterThanOrEqual(1);

      await page.goto(`${tool.baseUrl}/sandbox/gradebook`, { timeout: WAIT_MS });
      const cell = page.locator('tr[data-user="sandbox-bob"] td[data-line-item]').first();
      await expect.poll(() => cell.textContent({ timeout: WAIT_MS }), { timeout: WAIT_MS }).toBe('100% · Completed · FullyGraded');
      expect(await page.locator('tr[data-user="sandbox-alice"] td[data-line-item]').first().textContent()).toBe('—');
      expect(dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
