import type { BrowserContext, Frame, FrameLocator } from 'playwright-core';
import { expect } from 'vitest';
import { BIKE_PAGES, BIKE_QUESTIONS, type BikeQuestion } from './courses.js';
import { openCoursePage, WAIT_MS, type CoursePage } from './course-page.js';

/**
 * Driving the project's "Bicycle Care" courses (test/fixtures/courses/, SCORM 1.2 and 2004) in
 * Chromium, as a learner would: the launch page (launch.html) shows one page at a time in
 * #page-frame, with Previous, Next and Exit buttons; the last page is the knowledge check.
 */

/** The launch page's own frame, where the pages show. */
export const BIKE_CONTENT_FRAME = '#page-frame';
/** The resume question the courses ask with confirm() when they find a bookmark. */
export const BIKE_RESUME_PROMPT = 'Would you like to resume where you left off?';

/** Opens the LMS course page of a Bicycle Care course for a learner (see openCoursePage). */
export function openBikeCourse(
  context: BrowserContext,
  lmsOrigin: string,
  q: { link: string; packageId: string; user: string },
  options: { controlledClock?: boolean } = {},
): Promise<CoursePage> {
  return openCoursePage(context, lmsOrigin, q, { ...options, contentFrame: BIKE_CONTENT_FRAME });
}

/** The frame that shows the course's current page, if loaded. */
export function bikePageFrame(course: CoursePage): Frame | undefined {
  const launch = course.page.frames().find((f) => /\/launch\.html(\?|$)/.test(f.url()));
  return launch?.childFrames()[0];
}

/** Waits until the launch page shows page `index`: its URL, and its own heading. */
export async function expectBikePage(course: CoursePage, index: number): Promise<void> {
  const page = BIKE_PAGES[index];
  if (!page) throw new Error(`the course has no page ${index}`);
  await expect
    .poll(() => new URL(bikePageFrame(course)?.url() ?? 'about:blank').pathname.endsWith(`/${page.url}`), {
      timeout: WAIT_MS,
      message: `course page ${page.url}`,
    })
    .toBe(true);
  await expect.poll(() => course.content.locator('h1').first().textContent({ timeout: WAIT_MS }), { timeout: WAIT_MS }).toBe(page.title);
}

/** Clicks Next from page `from` to page `to`, checking that each page arrives. */
export async function bikeNext(course: CoursePage, from: number, to: number): Promise<void> {
  for (let i = from + 1; i <= to; i++) {
    await course.sco.locator('#next').click({ timeout: WAIT_MS });
    await expectBikePage(course, i);
  }
}

/** A wrong answer of the same kind as the right one. */
function wrongAnswer(q: BikeQuestion): string {
  if (q.type === 'numeric') return String(Number(q.answer) + 1);
  if (q.type === 'true-false') return q.answer === 'true' ? 'false' : 'true';
  const other = Object.keys(q.choices ?? {}).find((c) => c !== q.answer);
  if (!other) throw new Error(`${q.id}: no wrong choice`);
  return other;
}

/**
 * Answers the knowledge check (every question right, or the first `wrong` ones wrong), submits
 * it and waits for the score the page shows. Returns the number of questions and that score.
 */
export async function answerBikeQuiz(content: FrameLocator, options: { wrong?: number } = {}): Promise<{ questions: number; score: number }> {
  const shown = content.locator('.question');
  await shown.first().waitFor({ timeout: WAIT_MS });
  expect(await shown.count()).toBe(BIKE_QUESTIONS.length);
  for (const [i, q] of BIKE_QUESTIONS.entries()) {
    const answer = i < (options.wrong ?? 0) ? wrongAnswer(q) : q.answer;
    if (q.type === 'numeric') await content.locator(`input[name="${q.id}"]`).fill(answer, { timeout: WAIT_MS });
    else await content.locator(`input[name="${q.id}"][value="${answer}"]`).check({ timeout: WAIT_MS });
  }
  await content.locator('#quiz-submit').click({ timeout: WAIT_MS });
  await content.locator('#quiz-result').waitFor({ state: 'visible', timeout: WAIT_MS });
  const shownScore = /^Score: (\d+)%$/.exec((await content.locator('#quiz-score').textContent({ timeout: WAIT_MS })) ?? '')?.[1];
  if (shownScore === undefined) throw new Error('the knowledge check showed no score');
  const score = Number(shownScore);
  return { questions: BIKE_QUESTIONS.length, score };
}
