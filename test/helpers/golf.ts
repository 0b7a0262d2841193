import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { BrowserContext, Frame, FrameLocator, Page } from 'playwright-core';
import type { Attempt, Database, ScoRuntime } from '../../src/store/tables.js';

/**
 * Driving Rustici's "Golf Explained" sample courses in Chromium, launched from the simulated
 * LMS: the LMS page frames the tool (iframe name="tool"), the Courseport player frames the SCO
 * (#sco-frame), and the single-SCO golf courses frame their pages (#contentFrame).
 */

/** Every wait is bounded. */
export const WAIT_MS = 10_000;

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

export interface CoursePage {
  readonly page: Page;
  /** The Courseport player (inside the LMS's tool iframe). */
  readonly player: FrameLocator;
  /** What the player's #sco-frame shows: the SCO. */
  readonly sco: FrameLocator;
  /** The golf launch page's own content iframe. */
  readonly content: FrameLocator;
  /** Every dialog the page showed, as "type: message" (all accepted): the resume confirm(), alert()s. */
  readonly dialogs: string[];
  /** The player's frame, for evaluate(). */
  playerFrame(): Frame;
}

/**
 * Opens the LMS course page for a learner in `context`; the LMS launches the tool through the
 * OIDC flow. Use a context of your own (browser.newContext()), not browser.newPage(): closing
 * a page made by browser.newPage() disposes of its context at once, and with it the beacons
 * the page sends while it unloads.
 */
export async function openCourse(
  context: BrowserContext,
  lmsOrigin: string,
  q: { link: string; packageId: string; user: string },
  options: { controlledClock?: boolean } = {},
): Promise<CoursePage> {
  const page = await context.newPage();
  // A controllable clock (time still flows) lets a test make the learner's session last long
  // enough for SCOs that report their session time in whole seconds.
  if (options.controlledClock) await page.clock.install();
  const dialogs: string[] = [];
  // The golf SCOs ask "resume where you left off?" with confirm(), and alert() on API errors.
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.accept().catch(() => undefined);
  });
  const search = new URLSearchParams({ link: q.link, package: q.packageId, user: q.user });
  await page.goto(`${lmsOrigin}/course?${search.toString()}`, { timeout: WAIT_MS });
  const player = page.frameLocator('iframe[name="tool"]');
  const sco = player.frameLocator('#sco-frame');
  return {
    page,
    player,
    sco,
    content: sco.frameLocator('#contentFrame'),
    dialogs,
    playerFrame: () => {
      const frame = page.frame({ name: 'tool' });
      if (!frame) throw new Error('the LMS page has no tool frame');
      return frame;
    },
  };
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

/** The learner's (latest) attempt on a resource link, read from the database. */
export async function findAttemptFor(db: Kysely<Database>, link: string, sub: string): Promise<Attempt | undefined> {
  return db
    .selectFrom('attempts as a')
    .innerJoin('resource_links as rl', 'rl.id', 'a.resource_link_id')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .selectAll('a')
    .where('rl.resource_link_id', '=', link)
    .where('u.sub', '=', sub)
    .orderBy('a.number', 'desc')
    .executeTakeFirst();
}

export async function scoRuntimeRows(db: Kysely<Database>, attemptId: string): Promise<ScoRuntime[]> {
  return db.selectFrom('sco_runtime').selectAll().where('attempt_id', '=', attemptId).execute();
}

export async function scoRuntimeRow(db: Kysely<Database>, attemptId: string, scoId: string): Promise<ScoRuntime | undefined> {
  return db.selectFrom('sco_runtime').selectAll().where('attempt_id', '=', attemptId).where('sco_id', '=', scoId).executeTakeFirst();
}

export function cmiOf(row: ScoRuntime | undefined): Record<string, string> {
  return row ? (JSON.parse(row.cmi) as Record<string, string>) : {};
}
