import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/packages/package.service.js';
import { answerBikeQuiz, bikeNext, BIKE_RESUME_PROMPT, expectBikePage, openBikeCourse } from '../helpers/bike-course.js';
import { launchChromium } from '../helpers/browser.js';
import { cmiOf, findAttemptFor, scoRuntimeRow, scoRuntimeRows, WAIT_MS } from '../helpers/course-page.js';
import { BIKE_LAST_PAGE, BIKE_OBJECTIVES, BIKE_PAGES, BIKE_QUESTIONS } from '../helpers/courses.js';
import { COURSE_12, COURSE_12_MULTI, COURSE_2004 } from '../helpers/fixtures.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

/** What the test reads of the player's runtime (scorm-again) through the player frame. */
interface RuntimeProbe {
  readonly initialized: boolean;
  readonly entry: string;
  readonly scoUrl: string;
}

/** Runs in the player frame: the current SCORM API and the SCO frame's URL. */
function probeRuntime(family: string): RuntimeProbe {
  interface Api {
    isInitialized(): boolean;
    cmi: { entry?: string; core?: { entry: string } };
  }
  const g = globalThis as unknown as {
    API?: Api;
    API_1484_11?: Api;
    document: { getElementById(id: string): { contentWindow: { location: { href: string } } | null } | null };
  };
  const api = family === '1.2' ? g.API : g.API_1484_11;
  let scoUrl = '';
  try {
    scoUrl = g.document.getElementById('sco-frame')?.contentWindow?.location.href ?? '';
  } catch {
    scoUrl = '';
  }
  return {
    initialized: api ? api.isInitialized() : false,
    entry: (family === '1.2' ? api?.cmi.core?.entry : api?.cmi.entry) ?? '',
    scoUrl,
  };
}

/**
 * A play-through takes 3-5 s alone and up to ~17 s on a loaded 2-CPU machine: more than
 * vitest's default test timeout (20 s in vitest.config.ts) leaves comfortably. Every single
 * wait inside stays bounded by WAIT_MS.
 */
const PLAY_TIMEOUT_MS = 45_000;

describe('SCORM courses played in Chromium through the simulated LMS', () => {
  let tool: LiveServer;
  let lms: SimulatedPlatform;
  let browser: Browser;
  let course12: ImportResult;
  let course12Multi: ImportResult;
  let course2004: ImportResult;
  const db = () => tool.store.db;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    lms = await SimulatedPlatform.start({ hostname: 'localhost' });
    lms.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch` };
    await tool.app.services.platforms.register(lms.registration());
    course12 = await tool.app.services.packages.importPackage(COURSE_12);
    course12Multi = await tool.app.services.packages.importPackage(COURSE_12_MULTI);
    course2004 = await tool.app.services.packages.importPackage(COURSE_2004);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await lms?.close();
    await tool?.close();
  });

  let context: BrowserContext;
  beforeEach(async () => {
    context = await browser.newContext();
  });
  afterEach(async () => {
    await context?.close();
  });

  /**
   * The learner's attempt, with whether the session that Exit ended is stored: the courses
   * commit their status and score before Exit, and only the terminating commit adds time.
   */
  const attemptPoll = (link: string, sub: string) => async () => {
    const attempt = await findAttemptFor(db(), link, sub);
    return attempt && { ...attempt, sessionEnded: attempt.total_time_ms > 0 };
  };
  /** The values of cmi.<array>.n.<field> in index order, e.g. every interaction's result. */
  const arrayField = (cmi: Record<string, string>, array: string, field: string) =>
    Object.entries(cmi)
      .flatMap(([k, v]) => {
        const m = new RegExp(`^cmi\\.${array}\\.(\\d+)\\.${field.replace(/\./g, '\\.')}$`).exec(k);
        return m ? [[Number(m[1]), v] as const] : [];
      })
      .sort((a, b) => a[0] - b[0])
      .map(([, v]) => v);
  const allVisited = `visited=${'1'.repeat(BIKE_PAGES.length)}`;

  it('plays the SCORM 1.2 course to a passed, scored completion', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const course = await openBikeCourse(
      context,
      lms.origin,
      { link: 'rl-bike12', packageId: course12.package.id, user: 'learner-1' },
      { controlledClock: true },
    );
    try {
      await expectBikePage(course, 0);
      await bikeNext(course, 0, BIKE_LAST_PAGE);
      const quiz = await answerBikeQuiz(course.content);
      expect(quiz.questions).toBeGreaterThanOrEqual(10);
      expect(quiz.score).toBe(100);
      // The SCO reports its session time from its own clock: let a minute pass for it.
      await course.page.clock.fastForward('01:00');
      // A player left open for a quarter of its token lifetime trades its tokens for fresh ones,
      // and the running SCO's commits follow (a session longer than a token keeps committing).
      const commits: string[] = [];
      course.page.on('request', (r) => {
        if (r.url().includes('/commit?')) commits.push(new URL(r.url()).pathname);
      });
      const renewal = course.page.waitForResponse((r) => r.url().endsWith('/renew') && r.request().method() === 'POST', { timeout: WAIT_MS });
      await course.page.clock.fastForward('03:00:00');
      const fresh = (await (await renewal).json()) as { api: string };
      // The SCO reports its session on LMSFinish: Exit (the course reached its end, so no prompt).
      await course.sco.locator('#exit').click({ timeout: WAIT_MS });
      await expect.poll(() => commits.at(-1) ?? '', { timeout: WAIT_MS }).toMatch(new RegExp(`^${fresh.api}/sco/item_1/commit$`));

      await expect
        .poll(attemptPoll('rl-bike12', 'learner-1'), { timeout: WAIT_MS })
        .toMatchObject({ completion: 'completed', success: 'passed', sessionEnded: true });
      const attempt = (await findAttemptFor(db(), 'rl-bike12', 'learner-1'))!;
      expect(attempt.score_raw).toBeGreaterThanOrEqual(70);
      expect(attempt.score_raw).toBe(100);
      expect(attempt.score_scaled).toBeCloseTo(attempt.score_raw! / 100, 6);
      expect(attempt.total_time_ms).toBeGreaterThanOrEqual(60_000);
      expect(attempt.completed_at).not.toBeNull();

      const row = await scoRuntimeRow(db(), attempt.id, 'item_1');
      expect(row).toMatchObject({ completion: 'completed', success: 'passed', score_raw: 100, score_min: 0, score_max: 100, suspended: 0 });
      const cmi = cmiOf(row);
      expect(cmi['cmi.core.lesson_location']).toBe(String(BIKE_LAST_PAGE));
      expect(cmi['cmi.core.lesson_status']).toBe('passed');
      expect(cmi['cmi.core.exit']).toBe('');
      expect(cmi['cmi.suspend_data']).toBe(allVisited);
      // One interaction per question, every one correct, and one passed objective per topic.
      expect(arrayField(cmi, 'interactions', 'id')).toEqual(BIKE_QUESTIONS.map((q) => q.id));
      expect(arrayField(cmi, 'interactions', 'result')).toEqual(BIKE_QUESTIONS.map(() => 'correct'));
      expect(arrayField(cmi, 'interactions', 'objectives.0.id')).toEqual(BIKE_QUESTIONS.map((q) => `obj_${q.topic}`));
      expect(arrayField(cmi, 'objectives', 'id').sort()).toEqual([...BIKE_OBJECTIVES].sort());
      expect(arrayField(cmi, 'objectives', 'status')).toEqual(BIKE_OBJECTIVES.map(() => 'passed'));
      expect(course.dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    } finally {
      await course.page.close();
    }
  });

  it('resumes at the saved page after the tab was closed mid-way', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const where = { link: 'rl-bike12', packageId: course12.package.id, user: 'learner-resume' } as const;
    const first = await openBikeCourse(context, lms.origin, where);
    const bookmark = 4;
    await expectBikePage(first, 0);
    await bikeNext(first, 0, bookmark);
    // Closing the tab runs the SCO's beforeunload handler: exit = suspend, LMSFinish (sent as a beacon).
    await first.page.close({ runBeforeUnload: true });

    await expect
      .poll(
        async () => {
          const attempt = await findAttemptFor(db(), where.link, where.user);
          const row = attempt && (await scoRuntimeRow(db(), attempt.id, 'item_1'));
          const cmi = cmiOf(row);
          return row && { suspended: row.suspended, location: cmi['cmi.core.lesson_location'], data: cmi['cmi.suspend_data'], completion: row.completion };
        },
        { timeout: WAIT_MS },
      )
      .toEqual({
        suspended: 1,
        location: String(bookmark),
        data: `visited=${'1'.repeat(bookmark + 1)}${'0'.repeat(BIKE_LAST_PAGE - bookmark)}`,
        completion: 'incomplete',
      });
    expect(first.dialogs).toEqual([]);

    const second = await openBikeCourse(context, lms.origin, where);
    try {
      // The SCO asks whether to resume (accepted) and goes to the bookmarked page.
      await expectBikePage(second, bookmark);
      expect(await second.content.locator('h1').first().textContent()).toBe('Tuning the Gears');
      expect(second.dialogs).toEqual([`confirm: ${BIKE_RESUME_PROMPT}`]);
      const probe = await second.playerFrame().evaluate(probeRuntime, '1.2');
      expect(probe).toMatchObject({ initialized: true, entry: 'resume' });
      const attempt = (await findAttemptFor(db(), where.link, where.user))!;
      expect(attempt.completion).toBe('incomplete');
      expect((await scoRuntimeRow(db(), attempt.id, 'item_1'))?.session_no).toBe(2);
    } finally {
      await second.page.close();
    }
  });

  /** What the 2004 SCO showed and stored, for the objectives check that follows. */
  let course2004Run: { dialogs: readonly string[]; cmi: Record<string, string> } | undefined;

  it('plays the SCORM 2004 course to a scored completion passed against the manifest passing score', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const course = await openBikeCourse(context, lms.origin, { link: 'rl-bike2004', packageId: course2004.package.id, user: 'learner-1' });
    try {
      await expectBikePage(course, 0);
      await bikeNext(course, 0, BIKE_LAST_PAGE);
      const quiz = await answerBikeQuiz(course.content);
      // Exit after the end: cmi.exit "" and adl.nav.request exitAll, then Terminate.
      await course.sco.locator('#exit').click({ timeout: WAIT_MS });

      await expect
        .poll(attemptPoll('rl-bike2004', 'learner-1'), { timeout: WAIT_MS })
        .toMatchObject({ completion: 'completed', success: 'passed', sessionEnded: true });
      const attempt = (await findAttemptFor(db(), 'rl-bike2004', 'learner-1'))!;
      expect(attempt.score_scaled).toBeGreaterThanOrEqual(0.8);
      expect(attempt.score_raw).toBe(100);
      expect(attempt.total_time_ms).toBeGreaterThan(0);

      const row = await scoRuntimeRow(db(), attempt.id, 'item_1');
      expect(row).toMatchObject({ completion: 'completed', success: 'passed', score_scaled: 1, score_raw: 100, score_min: 0, score_max: 100, suspended: 0 });
      const cmi = cmiOf(row);
      // The SCO sets no success_status itself: "passed" is the LMS's verdict from
      // score.scaled 1 >= scaled_passing_score 0.8 (the manifest's minNormalizedMeasure).
      expect(cmi).toMatchObject({
        'cmi.completion_status': 'completed',
        'cmi.success_status': 'passed',
        'cmi.location': String(BIKE_LAST_PAGE),
        'cmi.progress_measure': '1',
        'cmi.score.scaled': '1',
        'cmi.exit': '',
        'adl.nav.request': 'exitAll',
        'cmi.suspend_data': allVisited,
      });
      // Every answer was recorded as a correct interaction, with the learner's response.
      const results = Object.entries(cmi).filter(([k]) => /^cmi\.interactions\.\d+\.result$/.test(k));
      expect(results).toHaveLength(quiz.questions);
      expect(results.filter(([, v]) => v !== 'correct')).toEqual([]);
      expect(arrayField(cmi, 'interactions', 'id')).toEqual(BIKE_QUESTIONS.map((q) => q.id));
      expect(arrayField(cmi, 'interactions', 'learner_response')).toEqual(BIKE_QUESTIONS.map((q) => q.answer));
      course2004Run = { dialogs: [...course.dialogs], cmi };
    } finally {
      await course.page.close();
    }
  });

  // The LMS initialises cmi.objectives.n.id from the item's <imsss:objectives> (SCORM 2004
  // RTE 4.2.17); without them this SCO alert()s "could not find objective" when it starts.
  it('gives the 2004 SCO the objectives its manifest declares (RTE 4.2.17)', () => {
    expect(course2004Run, 'the SCORM 2004 play-through ran').toBeDefined();
    const cmi = course2004Run!.cmi;
    expect(arrayField(cmi, 'objectives', 'id').sort()).toEqual(['PRIMARYOBJ', ...BIKE_OBJECTIVES].sort());
    // The SCO found each and reported on it.
    for (const id of BIKE_OBJECTIVES) {
      const n = arrayField(cmi, 'objectives', 'id').indexOf(id);
      expect(cmi, id).toMatchObject({
        [`cmi.objectives.${n}.completion_status`]: 'completed',
        [`cmi.objectives.${n}.success_status`]: 'passed',
        [`cmi.objectives.${n}.progress_measure`]: '1',
        [`cmi.objectives.${n}.score.scaled`]: '1',
      });
    }
    expect(course2004Run!.dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
  });

  it('fails the SCORM 2004 course below the manifest passing score: the LMS decides', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const course = await openBikeCourse(context, lms.origin, { link: 'rl-bike2004', packageId: course2004.package.id, user: 'learner-failing' });
    try {
      await expectBikePage(course, 0);
      await bikeNext(course, 0, BIKE_LAST_PAGE);
      // Three wrong answers out of ten: 0.7, under the 0.8 the manifest asks for.
      const quiz = await answerBikeQuiz(course.content, { wrong: 3 });
      expect(quiz.score).toBe(70);
      await course.sco.locator('#exit').click({ timeout: WAIT_MS });
      await expect
        .poll(attemptPoll('rl-bike2004', 'learner-failing'), { timeout: WAIT_MS })
        .toMatchObject({ completion: 'completed', success: 'failed', score_raw: 70, sessionEnded: true });
      const attempt = (await findAttemptFor(db(), 'rl-bike2004', 'learner-failing'))!;
      expect(attempt.score_scaled).toBeCloseTo(0.7, 6);
      const cmi = cmiOf(await scoRuntimeRow(db(), attempt.id, 'item_1'));
      expect(cmi).toMatchObject({ 'cmi.success_status': 'failed', 'cmi.score.scaled': '0.7' });
      expect(arrayField(cmi, 'interactions', 'result')).toEqual(BIKE_QUESTIONS.map((_q, i) => (i < 3 ? 'incorrect' : 'correct')));
      expect(course.dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    } finally {
      await course.page.close();
    }
  });

  it('navigates the 9-SCO course through its table of contents and Next', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const link = 'rl-bike-multi';
    const scos = course12Multi.manifest.scos;
    expect(scos).toHaveLength(9);
    // The three chapter quizzes share one page: a SCO is told apart by its parameters too.
    const launchPath = (id: string) => scos.find((s) => s.identifier === id)?.launchUrl ?? '';
    const course = await openBikeCourse(context, lms.origin, { link, packageId: course12Multi.package.id, user: 'learner-1' });
    const tocItem = (id: string) => course.player.locator(`.toc-item[data-sco="${id}"]`);
    /** Waits until the player delivered SCO `id` and the SCO called LMSInitialize. */
    const expectDelivered = async (id: string) => {
      await expect
        .poll(
          async () => {
            const p = await course.playerFrame().evaluate(probeRuntime, '1.2');
            const url = new URL(p.scoUrl || 'about:blank');
            return p.initialized && `${url.pathname}${url.search}`.endsWith(`/${launchPath(id)}`);
          },
          { timeout: WAIT_MS, message: `SCO ${id} delivered and initialized` },
        )
        .toBe(true);
      expect(await tocItem(id).getAttribute('aria-current')).toBe('true');
    };
    const expectCompleted = async (id: string) => {
      await expect
        .poll(
          async () => {
            const attempt = await findAttemptFor(db(), link, 'learner-1');
            return attempt && (await scoRuntimeRow(db(), attempt.id, id))?.completion;
          },
          { timeout: WAIT_MS, message: `SCO ${id} completed` },
        )
        .toBe('completed');
      await expect.poll(() => tocItem(id).getAttribute('data-status'), { timeout: WAIT_MS, message: `TOC shows ${id} completed` }).toBe('completed');
    };

    try {
      const first = scos[0]!.identifier;
      await expectDelivered(first);
      expect(await course.player.locator('.toc-item').count()).toBe(9);

      // Choice in the table of contents (skipping a SCO), then Next, then choice again.
      await tocItem('before_quiz_item').click({ timeout: WAIT_MS });
      await expectDelivered('before_quiz_item');
      await expectCompleted(first);

      await course.player.locator('#next-sco').click({ timeout: WAIT_MS });
      await expectDelivered('road_signals_item');
      await expectCompleted('before_quiz_item');

      await tocItem('road_quiz_item').click({ timeout: WAIT_MS });
      await expectDelivered('road_quiz_item');
      await expectCompleted('road_signals_item');

      expect((await findAttemptFor(db(), link, 'learner-1'))?.completion).toBe('incomplete');
      expect(await tocItem('before_fit_item').getAttribute('data-status')).toBe('not attempted');

      // The rest, quickly: each SCO is completed once the learner moves on.
      const visited = new Set([first, 'before_quiz_item', 'road_signals_item']);
      let current = 'road_quiz_item';
      for (const sco of scos) {
        if (visited.has(sco.identifier) || sco.identifier === current) continue;
        await tocItem(sco.identifier).click({ timeout: WAIT_MS });
        await expectDelivered(sco.identifier);
        visited.add(current);
        current = sco.identifier;
      }
      expect((await findAttemptFor(db(), link, 'learner-1'))?.completion).toBe('incomplete');
      // Leaving the last one (back to the first) completes the attempt.
      await tocItem(first).click({ timeout: WAIT_MS });
      await expectDelivered(first);
      await expectCompleted(current);
      await expect.poll(async () => (await findAttemptFor(db(), link, 'learner-1'))?.completion, { timeout: WAIT_MS }).toBe('completed');
      const attempt = (await findAttemptFor(db(), link, 'learner-1'))!;
      const rows = await scoRuntimeRows(db(), attempt.id);
      expect(rows).toHaveLength(9);
      expect(rows.filter((r) => r.completion !== 'completed').map((r) => r.sco_id)).toEqual([]);
      expect(attempt.success).toBe('unknown');
      for (const id of visited) expect(await tocItem(id).getAttribute('data-status')).toBe('completed');
      expect(course.dialogs).toEqual([]);
    } finally {
      await course.page.close();
    }
  });
});
