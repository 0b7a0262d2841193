import type { Kysely } from 'kysely';
import type { BrowserContext, Frame, FrameLocator, Page } from 'playwright-core';
import type { Attempt, Database, ScoRuntime } from '../../src/store/tables.js';

/**
 * A SCORM course played in Chromium, launched from the simulated LMS: the LMS page frames the
 * tool (iframe name="tool"), the Courseport player frames the SCO (#sco-frame), and a
 * single-SCO course frames its pages in a frame of its own. The drivers of particular courses
 * (test/helpers/bike-course.ts, test/helpers/golf.ts) build on this.
 */

/** Every wait is bounded. */
export const WAIT_MS = 10_000;

export interface CoursePage {
  readonly page: Page;
  /** The Courseport player (inside the LMS's tool iframe). */
  readonly player: FrameLocator;
  /** What the player's #sco-frame shows: the SCO. */
  readonly sco: FrameLocator;
  /** The frame in which the SCO shows its pages. */
  readonly content: FrameLocator;
  /** Every dialog the page showed, as "type: message" (all accepted): resume confirm()s, alert()s. */
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
export async function openCoursePage(
  context: BrowserContext,
  lmsOrigin: string,
  q: { link: string; packageId: string; user: string },
  options: { controlledClock?: boolean; contentFrame: string },
): Promise<CoursePage> {
  const page = await context.newPage();
  // A controllable clock (time still flows) lets a test make the learner's session last long
  // enough for SCOs that report their session time in whole seconds.
  if (options.controlledClock) await page.clock.install();
  const dialogs: string[] = [];
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
    content: sco.frameLocator(options.contentFrame),
    dialogs,
    playerFrame: () => {
      const frame = page.frame({ name: 'tool' });
      if (!frame) throw new Error('the LMS page has no tool frame');
      return frame;
    },
  };
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
