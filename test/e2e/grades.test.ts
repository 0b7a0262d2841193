import { ROLE } from '../../src/lti/roles.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GRADE_WORKER, GradeWorker } from '../../src/grades/grade-worker.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { CLAIM } from '../../src/lti/claims.js';
import { progressRows } from '../../src/rosters/progress.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesFor } from '../helpers/services.js';
import { playerConfig } from '../helpers/player.js';

const ALL_SCOPES = [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE, AGS_SCOPE.RESULT_READONLY];
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe.each(DIALECTS)('grade delivery through the durable outbox (%s)', (dialect) => {
  let h: Harness;
  let lms: SimulatedServices;
  let packageId: string;
  let worker: GradeWorker;
  let link = 0;

  beforeAll(async () => {
    h = await createHarness(dialect);
    lms = await SimulatedServices.start(servicesFor(h));
    await h.store.db.updateTable('platforms').set({ token_url: lms.tokenUrl }).where('id', '=', h.platformId).execute();
    packageId = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
    worker = new GradeWorker(h.store.db, h.store.dialect, h.app.services.ags, h.clock, silent, { ...DEFAULT_GRADE_WORKER, batch: 10 }, () => 0.5);
  });
  afterAll(async () => {
    await lms.close();
    await h.close();
  });
  beforeEach(() => {
    lms.failScores = undefined;
  });

  /** A learner launches a link with the AGS claim, plays, and commits `values` (terminating). */
  async function play(values: Record<string, string>, options: { sub?: string; link?: string; lineitem?: string; scopes?: string[]; roles?: string[] } = {}) {
    const res = await h.launch({
      claims: {
        sub: options.sub ?? 'learner-1',
        ...(options.roles ? { [CLAIM.ROLES]: options.roles } : {}),
        [CLAIM.RESOURCE_LINK]: { id: options.link ?? `rl-grades-${++link}`, title: 'Bicycle Care for grades' },
        [CLAIM.CUSTOM]: { package_id: packageId },
        [CLAIM.AGS_ENDPOINT]: { scope: options.scopes ?? ALL_SCOPES, lineitems: lms.lineItemsUrl, ...(options.lineitem ? { lineitem: options.lineitem } : {}) },
      },
    });
    const cfg = playerConfig(res);
    const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
    let seq = 0;
    const commit = async (v: Record<string, string>, terminate = false) => {
      const r = await h.app.inject({
        method: 'POST',
        url: `${cfg.api}/sco/item_1/commit?session=${session}`,
        payload: { ...v, commitSequence: ++seq, ...(terminate ? { terminate: true } : {}) },
      });
      expect(r.statusCode, r.body).toBe(200);
      return r.json().attempt as { id: string };
    };
    const attempt = await commit(values, true);
    return { attempt, commit, link: `rl-grades-${link}` };
  }
  const outbox = (attemptId: string) => h.store.db.selectFrom('grade_outbox').selectAll().where('attempt_id', '=', attemptId).orderBy('seq').execute();
  const sentTo = (lineItemUrl: string) => lms.scores.get(lineItemUrl) ?? [];

  it('queues the score with the attempt change, creates the line item and delivers the score', async () => {
    const { attempt } = await play({
      'cmi.core.lesson_status': 'passed',
      'cmi.core.score.raw': '85',
      'cmi.core.score.max': '100',
      'cmi.core.session_time': '00:01:00',
    });
    const [row] = await outbox(attempt.id);
    expect(row).toMatchObject({ state: 'pending', tries: 0 });
    expect(await worker.runOnce()).toBeGreaterThanOrEqual(1);
    expect((await outbox(attempt.id))[0]).toMatchObject({ state: 'sent' });
    const li = await h.store.db
      .selectFrom('line_items')
      .selectAll()
      .where('lineitem_url', 'is not', null)
      .orderBy('updated_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(lms.lineItems.get(li.lineitem_url!)).toMatchObject({
      scoreMaximum: 100,
      label: 'Bicycle Care for grades',
      resourceId: packageId,
      tag: 'courseport',
    });
    const [score] = sentTo(li.lineitem_url!);
    expect(score).toMatchObject({ userId: 'learner-1', scoreGiven: 85, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
    expect(String(score!.timestamp)).toMatch(/\.\d{3}Z$/);
    expect(lms.refusals).toEqual([]);
  });

  it('uses the line item the launch names (deep linking created it)', async () => {
    const named = lms.addLineItem({ scoreMaximum: 100, label: 'From deep linking', resourceLinkId: 'x' });
    await play({ 'cmi.core.lesson_status': 'completed' }, { lineitem: named.id });
    await worker.runOnce();
    expect(sentTo(named.id)).toEqual([expect.objectContaining({ activityProgress: 'Completed', scoreGiven: 100 })]);
  });

  it('sends only the newest of several unsent scores', async () => {
    const named = lms.addLineItem({ scoreMaximum: 100, label: 'Coalesced', resourceLinkId: 'y' });
    const { attempt, commit } = await play({ 'cmi.core.lesson_status': 'incomplete', 'cmi.core.score.raw': '20' }, { lineitem: named.id });
    await commit({ 'cmi.core.lesson_status': 'incomplete', 'cmi.core.score.raw': '40' });
    await commit({ 'cmi.core.lesson_status': 'failed', 'cmi.core.score.raw': '60' });
    expect((await outbox(attempt.id)).map((r) => r.state)).toEqual(['superseded', 'superseded', 'pending']);
    await worker.runOnce();
    expect(sentTo(named.id)).toEqual([expect.objectContaining({ scoreGiven: 60, activityProgress: 'Completed' })]);
  });

  it('retries a 500 with backoff, honours Retry-After on 429, and never sends twice', async () => {
    const named = lms.addLineItem({ scoreMaximum: 100, label: 'Faulty LMS', resourceLinkId: 'z' });
    const { attempt } = await play({ 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '90' }, { lineitem: named.id });
    lms.failScores = { status: 500, count: 1 };
    await worker.runOnce();
    let [row] = await outbox(attempt.id);
    expect(row).toMatchObject({ state: 'pending', tries: 1 });
    expect(row!.last_error).toContain('500');
    expect(row!.next_try_at - h.clock.now()).toBe(DEFAULT_GRADE_WORKER.baseDelayMs); // jitter fixed at ×1
    expect(await worker.runOnce()).toBe(0); // not due yet
    h.clock.advance(DEFAULT_GRADE_WORKER.baseDelayMs);
    lms.failScores = { status: 429, retryAfter: 120, count: 1 };
    await worker.runOnce();
    [row] = await outbox(attempt.id);
    expect(row).toMatchObject({ state: 'pending', tries: 2 });
    expect(row!.next_try_at - h.clock.now()).toBe(120_000);
    h.clock.advance(120_000);
    await worker.runOnce();
    expect((await outbox(attempt.id))[0]).toMatchObject({ state: 'sent' });
    await worker.runOnce();
    expect(sentTo(named.id)).toHaveLength(1);
  });

  it('delivers after an LMS outage, and a row leased by a worker that died is delivered by the next', async () => {
    const named = lms.addLineItem({ scoreMaximum: 100, label: 'Outage', resourceLinkId: 'o' });
    const { attempt } = await play({ 'cmi.core.lesson_status': 'completed' }, { lineitem: named.id });
    // A worker claimed the row and died (SIGKILL) before it could record anything.
    await h.store.db
      .updateTable('grade_outbox')
      .set({ state: 'sending', lease_until: h.clock.now() + 60_000 })
      .where('attempt_id', '=', attempt.id)
      .execute();
    expect(await worker.runOnce()).toBe(0);
    h.clock.advance(60_001);
    lms.failScores = { status: 503, count: 3 };
    for (let i = 0; i < 4; i++) {
      await worker.runOnce();
      h.clock.advance(DEFAULT_GRADE_WORKER.maxDelayMs);
    }
    expect((await outbox(attempt.id))[0]).toMatchObject({ state: 'sent', tries: 3 });
    expect(sentTo(named.id)).toHaveLength(1);
  });

  it('dead-letters a score the LMS refuses for good, keeping the error, and can retry it', async () => {
    const gone = `${lms.origin}/courses/42/lineitems/9999/lineitem?type_id=3`;
    const { attempt } = await play({ 'cmi.core.lesson_status': 'completed' }, { lineitem: gone });
    await worker.runOnce();
    const [row] = await outbox(attempt.id);
    expect(row).toMatchObject({ state: 'dead' });
    expect(row!.last_error).toContain('404');
    const { token } = await h.app.services.adminTokens.create('grades');
    const auth = { authorization: `Bearer ${token}` };
    const status = (await h.app.inject({ method: 'GET', url: '/api/v1/grades', headers: auth })).json() as {
      counts: Record<string, number>;
      entries: { id: string; state: string; lastError: string }[];
    };
    expect(status.counts.dead).toBeGreaterThanOrEqual(1);
    expect(status.entries.find((e) => e.id === row!.id)).toMatchObject({ state: 'dead' });
    const retried = await h.app.inject({ method: 'POST', url: '/api/v1/grades/retry', headers: auth, payload: { ids: [row!.id] } });
    expect(retried.json()).toEqual({ requeued: 1 });
    expect((await outbox(attempt.id))[0]).toMatchObject({ state: 'pending', tries: 0 });
  });

  it('keeps a grade a teacher set in the LMS when the platform policy says preserve', async () => {
    await h.store.db.updateTable('platforms').set({ grade_policy: 'preserve' }).where('id', '=', h.platformId).execute();
    try {
      const named = lms.addLineItem({ scoreMaximum: 100, label: 'Hand graded', resourceLinkId: 'p' });
      lms.results.set(named.id, new Map([['learner-1', 95]]));
      const { attempt } = await play({ 'cmi.core.lesson_status': 'failed', 'cmi.core.score.raw': '40' }, { lineitem: named.id });
      await worker.runOnce();
      expect((await outbox(attempt.id))[0]).toMatchObject({ state: 'skipped' });
      expect(sentTo(named.id)).toEqual([]);
    } finally {
      await h.store.db.updateTable('platforms').set({ grade_policy: 'overwrite' }).where('id', '=', h.platformId).execute();
    }
  });

  it('creates one line item for a link even when a batch holds many of its learners', async () => {
    const before = lms.lineItems.size;
    for (let i = 0; i < 5; i++) await play({ 'cmi.core.lesson_status': 'completed' }, { sub: `batch-${i}`, link: 'rl-batch' });
    await worker.runOnce();
    expect(lms.lineItems.size - before).toBe(1);
    const created = [...lms.lineItems.values()].at(-1)!;
    expect(sentTo(created.id)).toHaveLength(5);
  });

  it('does not grade staff trying the activity out, nor list them as learners once their launch rows expired', async () => {
    const shared = `rl-staff-${dialect}`;
    const teacher = await play(
      { 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '90' },
      { sub: 'teacher-9', link: shared, roles: [ROLE.CONTEXT_INSTRUCTOR] },
    );
    const learner = await play(
      { 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '80' },
      { sub: 'learner-9', link: shared, roles: [ROLE.CONTEXT_LEARNER] },
    );
    expect(await outbox(teacher.attempt.id)).toEqual([]);
    expect(await outbox(learner.attempt.id)).toHaveLength(1);
    const row = await h.store.db
      .selectFrom('attempts')
      .select(['role_kind', 'resource_link_id'])
      .where('id', '=', teacher.attempt.id)
      .executeTakeFirstOrThrow();
    expect(row.role_kind).toBe('instructor');
    // Launch rows expire after a few hours; the attempt still tells who was previewing.
    await h.store.db.deleteFrom('launches').where('resource_link_id', '=', row.resource_link_id).execute();
    expect((await progressRows(h.store.db, row.resource_link_id, 'name')).map((r) => r.sub)).toEqual(['learner-9']);
  });

  it('queues nothing when the platform did not grant the score scope', async () => {
    const { attempt } = await play({ 'cmi.core.lesson_status': 'completed' }, { scopes: [AGS_SCOPE.LINEITEM] });
    expect(await outbox(attempt.id)).toEqual([]);
  });

  it('never sends a row twice when two workers run at once', async () => {
    const named = lms.addLineItem({ scoreMaximum: 100, label: 'Two workers', resourceLinkId: 'w' });
    const attempts = [];
    for (let i = 0; i < 6; i++) attempts.push((await play({ 'cmi.core.lesson_status': 'completed' }, { sub: `two-${i}`, lineitem: named.id })).attempt);
    const other = new GradeWorker(h.store.db, h.store.dialect, h.app.services.ags, h.clock, silent, { ...DEFAULT_GRADE_WORKER, batch: 2 });
    await Promise.all([worker.runOnce(), other.runOnce()]);
    expect(sentTo(named.id)).toHaveLength(6);
    expect(new Set(sentTo(named.id).map((s) => s.userId)).size).toBe(6);
  });

  it('creates one line item when two processes deliver the first scores of a new link at once', async () => {
    const shared = `rl-first-${dialect}`;
    for (let i = 0; i < 4; i++) await play({ 'cmi.core.lesson_status': 'completed' }, { sub: `first-${i}`, link: shared });
    // Two workers with their own memory, as two processes would have.
    const a = new GradeWorker(h.store.db, h.store.dialect, h.app.services.ags, h.clock, silent, { ...DEFAULT_GRADE_WORKER, batch: 2 }, () => 0.5);
    const b = new GradeWorker(h.store.db, h.store.dialect, h.app.services.ags, h.clock, silent, { ...DEFAULT_GRADE_WORKER, batch: 2 }, () => 0.5);
    const items = () => [...lms.lineItems.values()].filter((li) => li.resourceLinkId === shared);
    const delivered = () => (items()[0] ? sentTo(items()[0]!.id).length : 0);
    for (let round = 0; round < 10 && delivered() < 4; round++) {
      await Promise.all([a.runOnce(), b.runOnce()]);
      h.clock.advance(60_000);
    }
    expect(items()).toHaveLength(1);
    expect(new Set(sentTo(items()[0]!.id).map((s) => s.userId))).toEqual(new Set(['first-0', 'first-1', 'first-2', 'first-3']));
  });
});

describe('grade delivery when the LMS hangs or is down', () => {
  it('times out a hanging LMS, retries after it went down entirely, and delivers once it is back', async () => {
    const h = await createHarness('sqlite', { COURSEPORT_HTTP_TIMEOUT_MS: '300' });
    let lms = await SimulatedServices.start(servicesFor(h));
    const port = Number(new URL(lms.origin).port);
    try {
      await h.store.db.updateTable('platforms').set({ token_url: lms.tokenUrl }).where('id', '=', h.platformId).execute();
      const pkg = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
      const item = lms.addLineItem({ scoreMaximum: 100, label: 'Hangs', resourceLinkId: 'h' });
      const res = await h.launch({
        claims: {
          [CLAIM.RESOURCE_LINK]: { id: 'rl-hang' },
          [CLAIM.CUSTOM]: { package_id: pkg },
          [CLAIM.AGS_ENDPOINT]: { scope: ALL_SCOPES, lineitem: item.id },
        },
      });
      const cfg = playerConfig(res);
      const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
      await h.app.inject({
        method: 'POST',
        url: `${cfg.api}/sco/item_1/commit?session=${session}`,
        payload: { 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '77', commitSequence: 1, terminate: true },
      });
      const worker = new GradeWorker(h.store.db, h.store.dialect, h.app.services.ags, h.clock, silent, DEFAULT_GRADE_WORKER, () => 0.5);
      const row = () => h.store.db.selectFrom('grade_outbox').selectAll().executeTakeFirstOrThrow();

      lms.hangScores = 1;
      await worker.runOnce();
      expect(await row()).toMatchObject({ state: 'pending', tries: 1 });
      expect((await row()).last_error).toMatch(/timed out/);

      // The LMS goes down entirely: connections are refused.
      await lms.close();
      h.clock.advance(DEFAULT_GRADE_WORKER.maxDelayMs);
      await worker.runOnce();
      expect(await row()).toMatchObject({ state: 'pending', tries: 2 });

      // It comes back on the same address, with the same line item.
      lms = await SimulatedServices.start({ ...servicesFor(h), port });
      lms.lineItems.set(item.id, { ...item });
      h.clock.advance(DEFAULT_GRADE_WORKER.maxDelayMs);
      await worker.runOnce();
      expect(await row()).toMatchObject({ state: 'sent', tries: 2 });
      expect(lms.scores.get(item.id)).toEqual([expect.objectContaining({ scoreGiven: 77, userId: 'learner-1' })]);
    } finally {
      await lms.close();
      await h.close();
    }
  });
});
