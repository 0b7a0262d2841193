import { expect } from 'vitest';
import type { BrowserContext, Frame, FrameLocator } from 'playwright-core';
import { openCoursePage, WAIT_MS, type CoursePage } from './course-page.js';

export { cmiOf, findAttemptFor, scoRuntimeRow, scoRuntimeRows, WAIT_MS, type CoursePage } from './course-page.js';

/**
 * Driving Rustici's "Golf Explained" sample courses (the third-party samples of test/samples/)
 * in Chromium: the single-SCO golf courses frame their pages in #contentFrame.
 */

/** The pages of the single-SCO golf courses (launchpage.html pageArray), by index. */
export const GOLF_PAGE_URLS = [
  'Playing/Playing.html',
  'Playing/Par.html',
  'Playing/Scoring.html',
  'Playing/OtherScoring.html',
  'Playing/RulesOfGolf.html',
  'Etiquette/Course.html',
  'Etiquette/Distracting.html',
  'Etiquette/Play.html',
  'Handicapping/Overview.html',
  'Handicapping/CalculatingHandicap.html',
  'Handicapping/CalculatingScore.html',
  'Handicapping/Example.html',
  'HavingFun/HowToHaveFun.html',
  'HavingFun/MakeFriends.html',
  'shared/assessmenttemplate.html',
] as const;
/** The 2004 sample repeats two pages (its pageArray differs from the 1.2 one at 6 and 11). */
export const GOLF_2004_PAGE_URLS = GOLF_PAGE_URLS.map((p, i) => (i === 6 ? 'Etiquette/Course.html' : i === 11 ? 'Handicapping/CalculatingScore.html' : p));
export const GOLF_LAST_PAGE = GOLF_PAGE_URLS.length - 1;

/** Opens the LMS course page of a golf course for a learner (see openCoursePage). */
export function openCourse(
  context: BrowserContext,
  lmsOrigin: string,
  q: { link: string; packageId: string; user: string },
  options: { controlledClock?: boolean } = {},
): Promise<CoursePage> {
  // The golf SCOs ask "resume where you left off?" with confirm(), and alert() on API errors.
  return openCoursePage(context, lmsOrigin, q, { ...options, contentFrame: '#contentFrame' });
}

/** The frame the golf launch page's #contentFrame shows (the page of the course), if loaded. */
export function golfContentFrame(course: CoursePage): Frame | undefined {
  const launch = course.page.frames().find((f) => /\/shared\/launchpage\.html(\?|$)/.test(f.url()));
  return launch?.childFrames()[0];
}

/** Waits until the golf launch page's content frame has loaded `pageUrl` (a path inside the package). */
export async function expectGolfPage(course: CoursePage, pageUrl: string): Promise<void> {
  const path = pageUrl.split('?')[0] ?? pageUrl;
  await expect
    .poll(() => new URL(golfContentFrame(course)?.url() ?? 'about:blank').pathname.endsWith(`/${path}`), { timeout: WAIT_MS, message: `golf page ${path}` })
    .toBe(true);
  await course.content.locator('h1').first().waitFor({ timeout: WAIT_MS });
}

/** Clicks the golf launch page's Next button from `from` to `to`, checking each page arrives. */
export async function golfNext(course: CoursePage, pages: readonly string[], from: number, to: number): Promise<void> {
  for (let i = from + 1; i <= to; i++) {
    await course.sco.locator('#butNext').click({ timeout: WAIT_MS });
    await expectGolfPage(course, pages[i]!);
  }
}

/**
 * Answers the golf knowledge check correctly. The template renders the correct answer of
 * each question inside a `.correctAnswer` div (radio buttons) and prints the expected number
 * after a numeric question's text field, e.g. `<input> (18)`.
 */
export async function answerGolfQuizCorrectly(content: FrameLocator): Promise<number> {
  const questions = content.locator('.question');
  await questions.first().waitFor({ timeout: WAIT_MS });
  const count = await questions.count();
  for (let i = 0; i < count; i++) {
    const correct = questions.nth(i).locator('.correctAnswer');
    const radio = correct.locator('input[type="radio"]');
    if ((await radio.count()) > 0) {
      await radio.check({ timeout: WAIT_MS });
      continue;
    }
    const text = correct.locator('input[type="text"]');
    const expected = /\((-?\d+)\)/.exec((await correct.textContent({ timeout: WAIT_MS })) ?? '')?.[1];
    if (!expected) throw new Error(`question ${i}: no correct answer found`);
    await text.fill(expected, { timeout: WAIT_MS });
  }
  await content.locator('input[type="button"][value="Submit Answers"]').click({ timeout: WAIT_MS });
  await content.locator('#test h3', { hasText: 'Score:' }).waitFor({ timeout: WAIT_MS });
  return count;
}
