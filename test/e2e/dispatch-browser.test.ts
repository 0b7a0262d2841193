import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatchZip, launcherConfig } from '../../src/dispatch/package-export.js';
import { extractPackage } from '../../src/packages/package-archive.js';
import type { Dispatch } from '../../src/store/tables.js';
import { launchChromium } from '../helpers/browser.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { answerBikeQuiz, BIKE_CONTENT_FRAME, bikeNext, expectBikePage } from '../helpers/bike-course.js';
import { WAIT_MS, type CoursePage } from '../helpers/course-page.js';
import { BIKE_LAST_PAGE } from '../helpers/courses.js';
import { freePort, startLiveServer, type LiveServer } from '../helpers/live-server.js';

/*
 * The LMS role is played by a page on another origin (and site): http://127.0.0.1:<port>,
 * while Courseport is http://localhost:<port>. The LMS page puts a SCORM 1.2 runtime API
 * (scorm-again) in its window as `API` and frames the unzipped dispatch package, exactly as
 * an LMS frames any SCO.
 */

const SCORM_AGAIN = join(dirname(createRequire(import.meta.url).resolve('scorm-again')), 'scorm-again.min.js');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.xml': 'application/xml' };
const PLAY_TIMEOUT_MS = 60_000;

/** The LMS page: a SCORM runtime API (scorm-again; 1.2 `API` or 2004 `API_1484_11`) in this window, the package in a frame. */
function lmsPage(learner: { id: string; name: string; location?: string }, family: '1.2' | '2004' = '1.2'): string {
  const cmi =
    family === '1.2'
      ? { 'cmi.core.student_id': learner.id, 'cmi.core.student_name': learner.name, 'cmi.core.lesson_location': learner.location ?? '' }
      : { 'cmi.learner_id': learner.id, 'cmi.learner_name': learner.name, 'cmi.location': learner.location ?? '' };
  const [ctor, global, set, calls] =
    family === '1.2'
      ? ['Scorm12API', 'API', 'LMSSetValue', "['LMSInitialize', 'LMSCommit', 'LMSFinish']"]
      : ['Scorm2004API', 'API_1484_11', 'SetValue', "['Initialize', 'Commit', 'Terminate']"];
  return `<!doctype html><html><head><meta charset="utf-8"><title>LMS</title>
<script src="/scorm-again.min.js"></script>
<script>
  window.lmsCalls = [];
  window.lmsSet = {};
  window.${global} = new window.${ctor}({ autocommit: false, logLevel: 5 });
  window.${global}.loadFromFlattenedJSON(${JSON.stringify(cmi)});
  // Some elements are write-only: record what the SCO (the launcher) set.
  window.${global}.on('${set}.cmi.*', function (element, value) { window.lmsSet[element] = value; });
  ${calls}.forEach(function (m) { window.${global}.on(m, function () { window.lmsCalls.push(m); }); });
</script></head>
<body style="margin:0"><iframe id="lms-course" src="/pkg/index.html" style="width:100%;height:640px;border:0"></iframe></body></html>`;
}

/** Runs in a SCORM 2004 LMS window: what its API holds. */
function readLms2004(): {
  calls: string[];
  completion: string;
  success: string;
  scaled: string;
  raw: string;
  location: string;
  exit: string;
  sessionTime: string;
} {
  interface Api2004 {
    cmi: { completion_status: string; success_status: string; location: string; score: { scaled: string; raw: string } };
  }
  const w = globalThis as unknown as { API_1484_11: Api2004; lmsCalls: string[]; lmsSet: Record<string, string> };
  const cmi = w.API_1484_11.cmi;
  return {
    calls: w.lmsCalls,
    completion: cmi.completion_status,
    success: cmi.success_status,
    scaled: cmi.score.scaled,
    raw: cmi.score.raw,
    location: cmi.location,
    exit: w.lmsSet['cmi.exit'] ?? '(not set)',
    sessionTime: w.lmsSet['cmi.session_time'] ?? '(not set)',
  };
}

/** The relay state a page shows on its root element (player: waiting / connected / refused; launcher: ready-sent). */
function relayState(frame: Frame): Promise<string | null> {
  return frame.evaluate(() =>
    (globalThis as unknown as { document: { documentElement: { getAttribute(n: string): string | null } } }).document.documentElement.getAttribute(
      'data-relay',
    ),
  );
}

interface LmsState {
  calls: string[];
  status: string;
  raw: string;
  min: string;
  max: string;
  location: string;
  exit: string;
  sessionTime: string;
}

/** Runs in the LMS window: what its SCORM API holds. */
function readLms(): LmsState {
  interface Api12 {
    cmi: { core: { lesson_status: string; lesson_location: string; score: { raw: string; min: string; max: string } } };
  }
  const w = globalThis as unknown as { API: Api12; lmsCalls: string[]; lmsSet: Record<string, string> };
  const core = w.API.cmi.core;
  return {
    calls: w.lmsCalls,
    status: core.lesson_status,
    raw: core.score.raw,
    min: core.score.min,
    max: core.score.max,
    location: core.lesson_location,
    exit: w.lmsSet['cmi.core.exit'] ?? '(not set)',
    sessionTime: w.lmsSet['cmi.core.session_time'] ?? '(not set)',
  };
}

describe('a dispatch package played from an LMS page in Chromium', () => {
  let tool: LiveServer;
  let browser: Browser;
  let lms: Server;
  let lmsOrigin: string;
  let packageId: string;
  let destinationId: string;
  let dir: string;
  /** What the LMS serves: its page and the files of the package under /pkg/. */
  let site: { page: string; pkgDir: string; tamper?: (html: string) => string };

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    packageId = (await tool.app.services.packages.importPackage(COURSE_12)).package.id;
    destinationId = (await tool.app.services.dispatch.createDestination({ name: 'The LMS customer' })).id;
    dir = mkdtempSync(join(tmpdir(), 'courseport-dispatch-browser-'));
    const port = await freePort();
    lmsOrigin = `http://127.0.0.1:${port}`;
    lms = createServer((req, res) => {
      const path = new URL(req.url ?? '/', lmsOrigin).pathname;
      if (path === '/lms.html') return void res.writeHead(200, { 'content-type': TYPES['.html']! }).end(site.page);
      if (path === '/scorm-again.min.js') return void res.writeHead(200, { 'content-type': TYPES['.js']! }).end(readFileSync(SCORM_AGAIN));
      if (path.startsWith('/pkg/')) {
        const file = resolve(site.pkgDir, `.${path.slice(4)}`);
        if (!file.startsWith(`${site.pkgDir}/`)) return void res.writeHead(404).end();
        try {
          let body: string | Buffer = readFileSync(file);
          if (path === '/pkg/index.html' && site.tamper) body = site.tamper(body.toString('utf8'));
          return void res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
        } catch {
          return void res.writeHead(404).end();
        }
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => lms.listen(port, '127.0.0.1', r));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (lms ? lms.close(r) : r(undefined)));
    await tool?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let context: BrowserContext;
  beforeEach(async () => {
    context = await browser.newContext();
  });
  afterEach(async () => {
    await context?.close();
  });

  let seq = 0;
  /** Exports the dispatch's ZIP as the CLI does and unzips it where the LMS serves it. */
  async function install(d: Dispatch, scormVersion: '1.2' | '2004' = d.scorm_version): Promise<string> {
    seq += 1;
    const zip = join(dir, `dispatch-${seq}.zip`);
    await pipeline(
      dispatchZip(launcherConfig({ ...d, scorm_version: scormVersion }, tool.baseUrl, tool.app.services.dispatch.secretOf(d))) as Readable,
      createWriteStream(zip),
    );
    const pkgDir = join(dir, `pkg-${seq}`);
    mkdirSync(pkgDir);
    await extractPackage(zip, pkgDir);
    return pkgDir;
  }

  async function openLms(
    pkgDir: string,
    learner: { id: string; name: string; location?: string },
    options: { clock?: boolean; tamper?: (html: string) => string; family?: '1.2' | '2004'; prepare?: (page: Page) => Promise<void> } = {},
  ): Promise<{ page: Page; course: CoursePage }> {
    site = { page: lmsPage(learner, options.family), pkgDir, ...(options.tamper ? { tamper: options.tamper } : {}) };
    const page = await context.newPage();
    if (options.clock) await page.clock.install();
    if (options.prepare) await options.prepare(page);
    page.on('dialog', (d) => void d.accept().catch(() => undefined));
    await page.goto(`${lmsOrigin}/lms.html`, { timeout: WAIT_MS });
    const player = page.frameLocator('#lms-course').frameLocator('#cp-player');
    const sco = player.frameLocator('#sco-frame');
    const course: CoursePage = {
      page,
      player,
      sco,
      content: sco.frameLocator(BIKE_CONTENT_FRAME),
      dialogs: [],
      playerFrame: () => {
        const f = page.frames().find((fr) => fr.url().startsWith(tool.baseUrl));
        if (!f) throw new Error('no player frame');
        return f;
      },
    };
    return { page, course };
  }

  const lmsState = (page: Page) => () => page.evaluate(readLms);

  it('plays the course to a passing score: the LMS API and Courseport both record it', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const svc = tool.app.services.dispatch;
    const d = await svc.createDispatch({ destinationId, packageId, title: 'Bicycle Care Explained (dispatch)' });
    const { page, course } = await openLms(await install(d), { id: 'lms-learner-7', name: 'Doe, Jane' }, { clock: true });

    await expectBikePage(course, 0);
    // The launcher initialised the LMS session and relayed the start: incomplete, bookmarked at the SCO.
    await expect.poll(lmsState(page), { timeout: WAIT_MS }).toMatchObject({ status: 'incomplete', location: 'item_1', exit: 'suspend' });
    expect((await page.evaluate(readLms)).calls[0]).toBe('LMSInitialize');
    expect(await relayState(course.playerFrame())).toBe('connected');

    // A forged status from the LMS origin (with the right nonce, read from the launch form) is ignored:
    // the launcher accepts messages only from Courseport's origin and its player frame.
    // (Checked once the launcher has handled it: its own listener runs before the one added here.)
    const launcher = page.frames().find((f) => f.url() === `${lmsOrigin}/pkg/index.html`)!;
    await launcher.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const g = globalThis as unknown as {
            document: { querySelector(s: string): { value: string } | null };
            postMessage(m: unknown, o: string): void;
            addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
          };
          const nonce = g.document.querySelector('input[name="nonce"]')?.value;
          g.addEventListener('message', (e) => {
            if ((e.data as { scoreRaw?: unknown } | null)?.scoreRaw === 99) resolve();
          });
          g.postMessage({ type: 'courseport.dispatch.status', nonce, completion: 'completed', success: 'passed', scoreRaw: 99 }, '*');
        }),
    );
    expect(await page.evaluate(readLms)).toMatchObject({ status: 'incomplete', raw: '' });

    // The course commits on every page and the player relays each commit's status to the LMS; the forged one never arrived.
    const lmsCommits = async () => (await page.evaluate(readLms)).calls.filter((c) => c === 'LMSCommit').length;
    const commitsBefore = await lmsCommits();
    await bikeNext(course, 0, BIKE_LAST_PAGE - 1);
    await expect.poll(lmsCommits, { timeout: WAIT_MS }).toBeGreaterThan(commitsBefore);
    expect(await page.evaluate(readLms)).toMatchObject({ status: 'incomplete', raw: '', location: 'item_1' });
    await bikeNext(course, BIKE_LAST_PAGE - 1, BIKE_LAST_PAGE);
    expect((await answerBikeQuiz(course.content)).score).toBe(100);
    await page.clock.fastForward('01:00');
    await course.sco.locator('#exit').click({ timeout: WAIT_MS });

    // The LMS's own SCORM API holds the result, as the LMS would store it. The course committed
    // its score before Exit, so wait for what only the relay after Exit brings: the minute played.
    await expect
      .poll(
        async () => {
          const state = await lmsState(page)();
          return { ...state, minutePlayed: state.sessionTime >= '00:01:00' };
        },
        { timeout: WAIT_MS },
      )
      .toMatchObject({ status: 'passed', raw: '100', min: '0', max: '100', exit: '', minutePlayed: true });
    const lmsSide = await page.evaluate(readLms);
    expect(lmsSide.location).toBe('item_1');
    expect(lmsSide.calls).toContain('LMSCommit');
    expect(lmsSide.sessionTime).toMatch(/^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$/);
    expect(lmsSide.sessionTime >= '00:01:00').toBe(true);

    // Courseport's records: the registration of this LMS learner, its attempt rolled up.
    const db = tool.store.db;
    const reg = await db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', d.id).executeTakeFirstOrThrow();
    expect(reg).toMatchObject({ learner_id: 'lms-learner-7', learner_name: 'Doe, Jane', hashed: 0, launch_count: 1 });
    const attempt = await db.selectFrom('attempts').selectAll().where('user_id', '=', reg.user_id).executeTakeFirstOrThrow();
    expect(attempt).toMatchObject({ completion: 'completed', success: 'passed', score_raw: 100 });
    const [row] = await tool.app.services.dispatch.report(d.id);
    expect(row).toMatchObject({ learnerId: 'lms-learner-7', status: 'passed', scorePercent: 100, launches: 1 });

    // Leaving the LMS page finishes the LMS session.
    await page.close({ runBeforeUnload: true });
  });

  it('relays to a SCORM 2004 LMS through the 2004 export: completion, success, scaled score, location', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const d = await tool.app.services.dispatch.createDispatch({ destinationId, packageId, scormVersion: '2004' });
    const { page, course } = await openLms(await install(d), { id: 'lms-2004-learner', name: 'Roe, Rick' }, { clock: true, family: '2004' });
    await expectBikePage(course, 0);
    await expect
      .poll(() => page.evaluate(readLms2004), { timeout: WAIT_MS })
      .toMatchObject({ completion: 'incomplete', success: 'unknown', location: 'item_1', exit: 'suspend' });
    await bikeNext(course, 0, BIKE_LAST_PAGE);
    expect((await answerBikeQuiz(course.content)).score).toBe(100);
    await page.clock.fastForward('01:00');
    await course.sco.locator('#exit').click({ timeout: WAIT_MS });
    await expect
      .poll(() => page.evaluate(readLms2004), { timeout: WAIT_MS })
      .toMatchObject({ completion: 'completed', success: 'passed', scaled: '1', raw: '100', exit: 'normal' });
    const lmsSide = await page.evaluate(readLms2004);
    expect(lmsSide.calls[0]).toBe('Initialize');
    expect(lmsSide.calls).toContain('Commit');
    expect(lmsSide.sessionTime).toMatch(/^PT\d+H\d+M[\d.]+S$/);
    const reg = await tool.store.db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', d.id).executeTakeFirstOrThrow();
    expect(reg.learner_id).toBe('lms-2004-learner');
    await page.close({ runBeforeUnload: true });
  });

  it('resumes across sessions; leaving finishes the LMS session with a suspend bookmark the LMS gives back', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const svc = tool.app.services.dispatch;
    const d = await svc.createDispatch({ destinationId, packageId });
    const pkgDir = await install(d);
    const learner = { id: 'lms-resume-learner', name: 'Resume, Ray' };
    const first = await openLms(pkgDir, learner);
    const bookmark = 4;
    await expectBikePage(first.course, 0);
    await bikeNext(first.course, 0, bookmark);
    // The LMS unloads the SCO (the launcher): the launcher records the suspend and finishes the LMS session.
    await first.page.evaluate(() => {
      const g = globalThis as unknown as { document: { getElementById(id: string): { src: string } | null } };
      g.document.getElementById('lms-course')!.src = 'about:blank';
    });
    await expect.poll(lmsState(first.page), { timeout: WAIT_MS }).toMatchObject({ status: 'incomplete', location: 'item_1', exit: 'suspend' });
    await expect.poll(async () => (await first.page.evaluate(readLms)).calls.at(-1), { timeout: WAIT_MS }).toBe('LMSFinish');
    // Courseport kept the SCO's own bookmark (the page of the course) for this registration.
    const reg = await tool.store.db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', d.id).executeTakeFirstOrThrow();
    const attemptId = (await tool.store.db.selectFrom('attempts').select('id').where('user_id', '=', reg.user_id).executeTakeFirstOrThrow()).id;
    await expect
      .poll(
        async () => {
          const row = await tool.store.db.selectFrom('sco_runtime').selectAll().where('attempt_id', '=', attemptId).executeTakeFirst();
          return row && { suspended: row.suspended, location: (JSON.parse(row.cmi) as Record<string, string>)['cmi.core.lesson_location'] };
        },
        { timeout: WAIT_MS },
      )
      .toEqual({ suspended: 1, location: String(bookmark) });
    await first.page.close();

    // Next session: the LMS gives back its bookmark; the course resumes where the learner left off.
    const second = await openLms(pkgDir, { ...learner, location: 'item_1' });
    await expectBikePage(second.course, bookmark);
    expect(await svc.getDispatch(d.id)).toMatchObject({ registration_count: 1, launch_count: 2 });
    const again = await tool.store.db.selectFrom('attempts').select('id').where('user_id', '=', reg.user_id).execute();
    expect(again.map((a) => a.id)).toEqual([attemptId]);
    await second.page.close();
  });

  it('relays nothing when the handshake comes from another origin than the one that posted the launch', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const d = await tool.app.services.dispatch.createDispatch({ destinationId, packageId });
    const { page, course } = await openLms(
      await install(d),
      { id: 'lms-origin-check', name: 'Check, Origin' },
      {
        prepare: async (p) => {
          // The launch form's Origin header is replaced in flight, so the player expects another origin than its real
          // parent's. (Browsers let no page or route rewrite Origin on a navigation: the route sends the post itself.)
          await p.route(`${tool.baseUrl}/dispatch/launch`, async (route) => {
            const response = await route.fetch({ headers: { ...route.request().headers(), origin: 'http://elsewhere.example' } });
            await route.fulfill({ response });
          });
        },
      },
    );
    await expectBikePage(course, 0);
    // The player's first status is waiting for a handshake: its hello went to http://elsewhere.example only,
    // which the browser does not deliver to the real parent, so the launcher never answered.
    expect(await relayState(course.playerFrame())).toBe('waiting');
    expect(await relayState(page.frames().find((f) => f.url() === `${lmsOrigin}/pkg/index.html`)!)).toBeNull();
    // The player never learned a target, so nothing reached the launcher: the LMS holds no status or bookmark.
    const lmsSide = await page.evaluate(readLms);
    expect(lmsSide.location).toBe('');
    expect(lmsSide.exit).toBe('(not set)');
    expect(lmsSide.status).not.toMatch(/incomplete|completed|passed|failed/);
    await page.close();
  });

  it('hashes the learner id in the browser when the dispatch says so: no id or name reaches Courseport', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const svc = tool.app.services.dispatch;
    const d = await svc.createDispatch({ destinationId, packageId, hashLearnerIds: true });
    const { page, course } = await openLms(await install(d), { id: 'secret-student-9', name: 'Private, Person' });
    await expectBikePage(course, 0);
    const reg = await tool.store.db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', d.id).executeTakeFirstOrThrow();
    expect(reg.learner_id).toBe(createHash('sha256').update(`${d.learner_salt}:secret-student-9`).digest('hex'));
    expect(reg).toMatchObject({ hashed: 1, learner_name: null });
    const user = await tool.store.db.selectFrom('users').selectAll().where('id', '=', reg.user_id).executeTakeFirstOrThrow();
    expect(JSON.stringify(user)).not.toMatch(/secret-student-9|Private/);
    await page.close();
  });

  it('shows each licence refusal in the course frame, serves no content and leaves the LMS record alone', { timeout: PLAY_TIMEOUT_MS }, async () => {
    const svc = tool.app.services.dispatch;
    const d = await svc.createDispatch({ destinationId, packageId, registrationCap: 1 });
    const pkgDir = await install(d);
    const refusedWith = async (learner: string, code: string, message: RegExp, tamper?: (html: string) => string) => {
      const { page } = await openLms(pkgDir, { id: learner, name: learner }, tamper ? { tamper } : {});
      const frame = page.frameLocator('#lms-course').frameLocator('#cp-player');
      await expect.poll(() => frame.locator('[data-error-code]').textContent({ timeout: WAIT_MS }), { timeout: WAIT_MS }).toBe(code);
      expect(await frame.locator('body').textContent()).toMatch(message);
      expect(await frame.locator('#sco-frame').count()).toBe(0);
      expect((await page.evaluate(readLms)).status).not.toMatch(/passed|completed|failed/);
      await page.close();
    };

    // The cap: the first learner takes the only place; a second is refused, the first continues.
    const first = await openLms(pkgDir, { id: 'first', name: 'First' });
    await expectBikePage(first.course, 0);
    await first.page.close();
    await refusedWith('second', 'DISPATCH_REGISTRATION_CAP', /number of learners its licence allows/);

    await svc.updateDispatch(d.id, { enabled: false });
    await refusedWith('first', 'DISPATCH_DISABLED', /not available/);
    await svc.updateDispatch(d.id, { enabled: true, expiresAt: Date.now() - 1000 });
    await refusedWith('first', 'DISPATCH_EXPIRED', /licence for this course has expired/);
    await svc.updateDispatch(d.id, { expiresAt: null });
    await refusedWith('first', 'DISPATCH_SECRET_INVALID', /no longer valid/, (html) =>
      html.replace(/"secret":"([^"]+)"/, (_m, secret: string) => `"secret":"${[...secret].reverse().join('')}"`),
    );

    const again = await openLms(pkgDir, { id: 'first', name: 'First' });
    await expectBikePage(again.course, 0);
    await again.page.close();
    expect(await svc.getDispatch(d.id)).toMatchObject({ registration_count: 1, launch_count: 2, refused_count: 4 });
    expect((await svc.events(d.id)).map((e) => e.code).sort()).toEqual([
      'DISPATCH_DISABLED',
      'DISPATCH_EXPIRED',
      'DISPATCH_REGISTRATION_CAP',
      'DISPATCH_SECRET_INVALID',
    ]);
  });
});
