import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRADE_WORKER, GradeWorker } from '../../src/grades/grade-worker.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { launchChromium } from '../helpers/browser.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { answerBikeQuiz, bikeNext, expectBikePage, openBikeCourse } from '../helpers/bike-course.js';
import { findAttemptFor, WAIT_MS } from '../helpers/course-page.js';
import { BIKE_LAST_PAGE } from '../helpers/courses.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesForLive } from '../helpers/services.js';

describe('a course played in Chromium reaches the LMS gradebook', () => {
  let tool: LiveServer;
  let lms: SimulatedPlatform;
  let services: SimulatedServices;
  let browser: Browser;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    lms = await SimulatedPlatform.start({ hostname: 'localhost' });
    lms.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch` };
    services = await SimulatedServices.start(servicesForLive(tool.baseUrl, lms.clientId));
    await tool.app.services.platforms.register({ ...lms.registration(), tokenUrl: services.tokenUrl });
    lms.agsClaim = { scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE, AGS_SCOPE.RESULT_READONLY], lineitems: services.lineItemsUrl };
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await services?.close();
    await lms?.close();
    await tool?.close();
  });

  it('plays the SCORM 1.2 test course to a passing score and the simulated LMS receives it', { timeout: 60_000 }, async () => {
    const pkg = await tool.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care' });
    const context = await browser.newContext();
    try {
      const course = await openBikeCourse(context, lms.origin, { link: 'rl-graded', packageId: pkg.package.id, user: 'learner-graded' });
      await expectBikePage(course, 0);
      await bikeNext(course, 0, BIKE_LAST_PAGE);
      expect((await answerBikeQuiz(course.content)).score).toBe(100);
      await course.sco.locator('#exit').click({ timeout: WAIT_MS });
      await expect.poll(async () => (await findAttemptFor(tool.store.db, 'rl-graded', 'learner-graded'))?.success, { timeout: WAIT_MS }).toBe('passed');

      // The server's worker is what `courseport serve` runs; here one round is driven directly.
      const worker = new GradeWorker(
        tool.store.db,
        tool.store.dialect,
        tool.app.services.ags,
        { now: () => Date.now() },
        { info: () => undefined, warn: () => undefined, error: () => undefined },
        DEFAULT_GRADE_WORKER,
      );
      await expect
        .poll(
          async () =>
            (await worker.runOnce()) >= 0 &&
            [...services.scores.values()].flat().filter((s) => s.userId === 'learner-graded' && s.activityProgress === 'Completed').length,
          { timeout: WAIT_MS },
        )
        .toBe(1);
      const [lineItem] = [...services.lineItems.values()].filter((i) => i.resourceLinkId === 'rl-graded');
      // The column is labelled with the resource link's title, which the simulated LMS names 'Golf Explained'.
      expect(lineItem).toMatchObject({ label: 'Golf Explained', scoreMaximum: 100, resourceId: pkg.package.id });
      const final = services.scores.get(lineItem!.id)!.at(-1)!;
      expect(final).toMatchObject({
        userId: 'learner-graded',
        scoreGiven: 100,
        scoreMaximum: 100,
        activityProgress: 'Completed',
        gradingProgress: 'FullyGraded',
      });
      expect(services.refusals).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
