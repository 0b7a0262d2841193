import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Score } from '../../src/lti/ags.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { CLAIM } from '../../src/lti/claims.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12, COURSE_12_MULTI } from '../helpers/fixtures.js';
import { cmiOf, findAttemptFor, scoRuntimeRow, scoRuntimeRows } from '../helpers/golf.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { playerConfig } from '../helpers/player.js';

/**
 * Commits that arrive together, as they do in real players: a periodic auto-commit racing the
 * page-hide beacon, several SCOs of one attempt finishing at the same moment. On PostgreSQL each
 * request runs its transaction on its own connection (READ COMMITTED), so these are real races;
 * SQLite serialises write transactions. Both must end the same way.
 */
describe.each(DIALECTS)('concurrent SCORM commits (%s)', (dialect) => {
  let h: Harness;
  let single: string;
  let multi: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    single = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
    multi = (await h.app.services.packages.importPackage(COURSE_12_MULTI)).package.id;
  });
  afterAll(async () => {
    await h.close();
  });

  async function launch(sub: string, link: string, packageId: string) {
    const res = await h.launch({
      claims: {
        sub,
        [CLAIM.RESOURCE_LINK]: { id: link, title: 'Concurrency' },
        [CLAIM.CUSTOM]: { package_id: packageId },
        // A gradebook: every change of the attempt queues a score, in the same transaction.
        [CLAIM.AGS_ENDPOINT]: { scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE], lineitems: 'https://lms.example/courses/1/lineitems' },
      },
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return playerConfig(res);
  }
  const load = async (api: string, sco: string) => ((await h.app.inject({ method: 'POST', url: `${api}/sco/${sco}` })).json() as { session: number }).session;
  const commit = (api: string, sco: string, session: number, seq: number, values: Record<string, string>, terminate = false) =>
    h.app.inject({
      method: 'POST',
      url: `${api}/sco/${sco}/commit?session=${session}`,
      payload: { ...values, commitSequence: seq, ...(terminate ? { terminate: true } : {}) },
    });

  /** The learner's newest queued score: what the gradebook will get. */
  async function newestScore(attemptId: string): Promise<Score> {
    const row = await h.store.db
      .selectFrom('grade_outbox')
      .select('score')
      .where('attempt_id', '=', attemptId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    return JSON.parse(row.score) as Score;
  }

  it('stores the highest acknowledged commit of a SCO, whatever order racing commits arrive in', async () => {
    const learners = 12;
    const commitsEach = 6;
    await Promise.all(
      Array.from({ length: learners }, async (_, l) => {
        const sub = `racer-${l}`;
        const cfg = await launch(sub, 'rl-race', single);
        const session = await load(cfg.api, 'item_1');
        // Sent together, newest first for some learners, oldest first for others, shuffled for the rest.
        const seqs = Array.from({ length: commitsEach }, (_, i) => i + 1);
        if (l % 3 === 0) seqs.reverse();
        else if (l % 3 === 2) seqs.sort((a, b) => ((a * 7 + l) % commitsEach) - ((b * 7 + l) % commitsEach));
        const answers = await Promise.all(
          seqs.map(async (seq) => {
            const res = await commit(cfg.api, 'item_1', session, seq, {
              'cmi.core.lesson_status': seq === commitsEach ? 'passed' : 'incomplete',
              'cmi.core.lesson_location': `page-${seq}`,
              'cmi.core.score.raw': String(10 * seq),
            });
            return { seq, status: res.statusCode, code: res.statusCode === 200 ? undefined : (res.json() as { error: string }).error };
          }),
        );
        // Every commit is either stored (200) or refused as stale (409): never a 500, never a lost write.
        for (const a of answers) expect([200, 409], JSON.stringify(a)).toContain(a.status);
        for (const a of answers.filter((x) => x.status === 409)) expect(a.code).toBe('CMI_STALE_COMMIT');
        const acknowledged = Math.max(...answers.filter((a) => a.status === 200).map((a) => a.seq));
        const attempt = await findAttemptFor(h.store.db, 'rl-race', sub);
        const row = await scoRuntimeRow(h.store.db, attempt!.id, 'item_1');
        expect(row?.commit_seq, `${sub}: stored commit`).toBe(acknowledged);
        expect(cmiOf(row)['cmi.core.lesson_location']).toBe(`page-${acknowledged}`);
        expect(attempt?.score_raw).toBe(10 * acknowledged);
        // The highest commit is always acknowledged: nothing newer existed when it arrived.
        expect(acknowledged).toBe(commitsEach);
        expect(attempt?.completion).toBe('completed');
        expect(await newestScore(attempt!.id)).toMatchObject({ userId: sub, activityProgress: 'Completed', scoreGiven: 60 });
      }),
    );
  });

  it('rolls the attempt up to completed when all its SCOs are completed at the same moment', async () => {
    const learners = 6;
    await Promise.all(
      Array.from({ length: learners }, async (_, l) => {
        const sub = `finisher-${l}`;
        const cfg = await launch(sub, 'rl-rollup', multi);
        const scos = cfg.scos.map((s) => s.id);
        expect(scos.length).toBeGreaterThanOrEqual(3);
        // Every SCO is loaded at once too (new rows for all of them), then every one finishes at once.
        const sessions = await Promise.all(scos.map((sco) => load(cfg.api, sco)));
        const answers = await Promise.all(
          scos.map((sco, i) => commit(cfg.api, sco, sessions[i]!, 1, { 'cmi.core.lesson_status': 'completed', 'cmi.core.session_time': '00:00:30' }, true)),
        );
        for (const a of answers) expect(a.statusCode, a.body.slice(0, 200)).toBe(200);
        const attempt = await findAttemptFor(h.store.db, 'rl-rollup', sub);
        const rows = await scoRuntimeRows(h.store.db, attempt!.id);
        expect(rows.map((r) => r.completion)).toEqual(scos.map(() => 'completed'));
        expect(attempt?.completion, `${sub}: attempt`).toBe('completed');
        expect(attempt?.total_time_ms).toBe(scos.length * 30_000);
        expect(attempt?.completed_at).not.toBeNull();
        // The gradebook's last word is the rolled-up attempt, not the state one SCO saw.
        expect(await newestScore(attempt!.id)).toMatchObject({ userId: sub, activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
      }),
    );
  });
});
