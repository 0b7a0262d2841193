import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/grades/grade.repository.js';
import { DEFAULT_GRADE_WORKER, GradeWorker } from '../../src/grades/grade-worker.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { CLAIM } from '../../src/lti/claims.js';
import { migrateToLatest } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { DIALECTS, openTestStore } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { playerConfig } from '../helpers/player.js';
import { servicesFor } from '../helpers/services.js';
import { SimulatedServices, type StoredLineItem } from '../platform/simulated-services.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const LEASE_MS = DEFAULT_GRADE_WORKER.leaseMs;

interface Received {
  readonly userId: string;
  readonly timestamp: string;
  readonly scoreGiven?: number;
  readonly activityProgress: string;
}

/**
 * What the LMS received for one line item, checked against what each learner last scored:
 * per learner, timestamps never go back (an older score never arrives after a newer one; the
 * same score may arrive twice after a crash), and the last one to arrive is the newest.
 */
function checkArrivals(received: readonly Received[], newest: ReadonlyMap<string, number>): void {
  const last = new Map<string, Received>();
  for (const r of received) {
    const before = last.get(r.userId);
    if (before) expect(Date.parse(r.timestamp), `${r.userId}: ${before.timestamp} then ${r.timestamp}`).toBeGreaterThanOrEqual(Date.parse(before.timestamp));
    last.set(r.userId, r);
  }
  expect([...last.keys()].sort()).toEqual([...newest.keys()].sort());
  for (const [userId, score] of newest) expect(last.get(userId)?.scoreGiven, `${userId}: final score`).toBe(score);
}

describe.each(DIALECTS)('grade delivery order: one per learner at a time, newest only (%s)', (dialect) => {
  let h: Harness;
  let lms: SimulatedServices;
  let packageId: string;
  let links = 0;

  beforeAll(async () => {
    h = await createHarness(dialect);
    lms = await SimulatedServices.start(servicesFor(h));
    await h.store.db.updateTable('platforms').set({ token_url: lms.tokenUrl }).where('id', '=', h.platformId).execute();
    packageId = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
  });
  afterAll(async () => {
    await lms.close();
    await h.close();
  });
  beforeEach(() => {
    lms.failScores = undefined;
    lms.hangScores = 0;
  });

  const worker = (random = 0.5) =>
    new GradeWorker(h.store.db, h.store.dialect, h.app.services.ags, h.clock, silent, { ...DEFAULT_GRADE_WORKER, batch: 4 }, () => random);

  /** A link with its own line item, and learners who can commit scores on it. */
  async function course(): Promise<{ item: StoredLineItem; learner: (sub: string) => Promise<(raw: number, status?: string) => Promise<void>> }> {
    const link = `rl-order-${++links}`;
    const item = lms.addLineItem({ scoreMaximum: 100, label: link, resourceLinkId: link });
    const learner = async (sub: string) => {
      const res = await h.launch({
        claims: {
          sub,
          [CLAIM.RESOURCE_LINK]: { id: link },
          [CLAIM.CUSTOM]: { package_id: packageId },
          [CLAIM.AGS_ENDPOINT]: { scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE], lineitem: item.id },
        },
      });
      const { api } = playerConfig(res);
      const { session } = (await h.app.inject({ method: 'POST', url: `${api}/sco/item_1` })).json() as { session: number };
      let seq = 0;
      return async (raw: number, status = 'incomplete') => {
        const r = await h.app.inject({
          method: 'POST',
          url: `${api}/sco/item_1/commit?session=${session}`,
          payload: { 'cmi.core.lesson_status': status, 'cmi.core.score.raw': String(raw), commitSequence: ++seq },
        });
        expect(r.statusCode, r.body).toBe(200);
      };
    };
    return { item, learner };
  }
  const received = (item: StoredLineItem) => (lms.scores.get(item.id) ?? []) as unknown as Received[];
  const rowsOf = (sub: string) =>
    h.store.db
      .selectFrom('grade_outbox as g')
      .innerJoin('users as u', 'u.id', 'g.user_id')
      .select(['g.state', 'g.seq', 'g.tries', 'g.next_try_at', 'g.last_error', 'g.score'])
      .where('u.sub', '=', sub)
      .orderBy('g.seq')
      .execute();

  it('never sends a score that failed in flight once a newer one was queued; the newer one waits out the backoff', async () => {
    const { item, learner } = await course();
    const play = await learner('inflight-1');
    await play(20);
    // The LMS holds the first score's POST open; meanwhile the learner completes.
    lms.hangScores = 1;
    const w = worker();
    const round = w.runOnce();
    for (let i = 0; i < 200 && lms.hangScores > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(lms.hangScores).toBe(0);
    await play(90, 'passed');
    // Not while the first is in flight: one delivery per learner and line item at a time.
    expect(await worker().runOnce()).toBe(0);
    lms.releaseHung(); // answers 503: the first delivery failed
    await round;
    const rows = await rowsOf('inflight-1');
    expect(rows.map((r) => r.state)).toEqual(['superseded', 'pending']);
    expect(rows[0]!.last_error).toContain('503');
    // The newer score does not hurry past the backoff the LMS's failure started.
    expect(rows[1]!.next_try_at).toBe(h.clock.now() + DEFAULT_GRADE_WORKER.baseDelayMs);
    expect(await w.runOnce()).toBe(0);
    h.clock.advance(DEFAULT_GRADE_WORKER.baseDelayMs);
    expect(await w.runOnce()).toBe(1);
    expect(received(item)).toEqual([expect.objectContaining({ userId: 'inflight-1', scoreGiven: 90, activityProgress: 'Completed' })]);
  });

  it('after a worker died mid-delivery, sends the newest score, never the one it held', async () => {
    const { item, learner } = await course();
    const plays = await Promise.all(['dead-1', 'dead-2', 'dead-3'].map((s) => learner(s)));
    for (const p of plays) await p(30);
    // A worker claims the three scores and is killed (nothing recorded, leases running).
    const held = await claimDue(h.store.db, h.store.dialect, h.clock.now(), LEASE_MS, 10);
    expect(held.rows).toHaveLength(3);
    for (const [i, p] of plays.entries()) await p(60 + i, 'passed');
    expect(await worker().runOnce()).toBe(0); // the leases still run
    h.clock.advance(LEASE_MS + 1);
    expect(await worker().runOnce()).toBe(3);
    expect((await rowsOf('dead-1')).map((r) => r.state)).toEqual(['superseded', 'sent']);
    checkArrivals(
      received(item),
      new Map([
        ['dead-1', 60],
        ['dead-2', 61],
        ['dead-3', 62],
      ]),
    );
    expect(received(item)).toHaveLength(3);
  });

  it('records the failure, waits a whole number of ms with jitter, and honours Retry-After as an HTTP-date', async () => {
    const { item, learner } = await course();
    const play = await learner('retry-1');
    await play(50, 'passed');
    lms.failScores = { status: 500, count: 1 };
    // A jitter factor that used to make the delay fractional ("invalid input syntax for type bigint").
    await worker(0.37).runOnce();
    let [row] = await rowsOf('retry-1');
    expect(row).toMatchObject({ state: 'pending', tries: 1 });
    expect(row!.last_error).toContain('500');
    expect(row!.next_try_at - h.clock.now()).toBe(Math.round(DEFAULT_GRADE_WORKER.baseDelayMs * 0.87));
    h.clock.advance(DEFAULT_GRADE_WORKER.baseDelayMs);
    // An HTTP-date has whole seconds: the wait is until that second.
    const until = new Date(h.clock.now() + 600_000).toUTCString();
    lms.failScores = { status: 429, retryAfter: until, count: 1 };
    await worker(0.37).runOnce();
    [row] = await rowsOf('retry-1');
    expect(row).toMatchObject({ state: 'pending', tries: 2 });
    expect(row!.next_try_at).toBe(Date.parse(until));
    h.clock.advance(Date.parse(until) - h.clock.now() - 1);
    expect(await worker().runOnce()).toBe(0);
    h.clock.advance(1);
    expect(await worker().runOnce()).toBe(1);
    expect(received(item)).toEqual([expect.objectContaining({ userId: 'retry-1', scoreGiven: 50 })]);
  });

  it('keeps every learner in order through failures, lease expiries and two workers at once', async () => {
    const { item, learner } = await course();
    const subs = Array.from({ length: 8 }, (_, i) => `mix-${i}`);
    const plays = await Promise.all(subs.map((s) => learner(s)));
    const newest = new Map<string, number>();
    // A fixed pseudo-random schedule: the same faults every run.
    let state = 7;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const a = worker(0.2);
    const b = worker(0.8);
    for (let round = 0; round < 12; round++) {
      for (const [i, p] of plays.entries()) {
        if (next() < 0.5) continue;
        const raw = 10 + round * 7 + i;
        await p(raw, round === 11 ? 'passed' : 'incomplete');
        newest.set(subs[i]!, raw);
      }
      const fault = next();
      if (fault < 0.25) lms.failScores = { status: 500, count: 2 };
      else if (fault < 0.4) lms.failScores = { status: 429, retryAfter: 3, count: 2 };
      // A worker that dies holding some scores: they come back only when the lease expires.
      if (fault > 0.8) await claimDue(h.store.db, h.store.dialect, h.clock.now(), LEASE_MS, 2);
      await Promise.all([a.runOnce(), b.runOnce()]);
      lms.failScores = undefined;
      h.clock.advance(fault > 0.8 ? LEASE_MS + 1 : DEFAULT_GRADE_WORKER.baseDelayMs * 2);
    }
    for (const [i, p] of plays.entries()) {
      await p(90 + i, 'passed');
      newest.set(subs[i]!, 90 + i);
    }
    for (let drain = 0; drain < 20; drain++) {
      await Promise.all([a.runOnce(), b.runOnce()]);
      h.clock.advance(DEFAULT_GRADE_WORKER.maxDelayMs);
    }
    checkArrivals(received(item), newest);
    // Scores went out between the rounds too: the order above was exercised, not only the last word.
    expect(received(item).length).toBeGreaterThan(2 * subs.length);
    for (const sub of subs) {
      const rows = await rowsOf(sub);
      expect(rows.at(-1)!.state, sub).toBe('sent');
      expect(
        rows.filter((r) => r.state === 'pending' || r.state === 'sending'),
        sub,
      ).toEqual([]);
    }
  });
});

describe.each(DIALECTS)('grade outbox order of scores queued before the upgrade (%s)', (dialect) => {
  it('numbers them per learner and link in the order they were queued', async () => {
    const store = await openTestStore(dialect, { migrate: false });
    try {
      const schema = dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(store.db)).rows[0]!.s : undefined;
      const migrator = new Migrator({ db: store.db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
      const { error } = await migrator.migrateTo('0012-attempt-role');
      expect(error).toBeUndefined();
      const db = store.db;
      const legacy = (id: string, user: string, createdAt: number) => sql`
        insert into grade_outbox (id, attempt_id, resource_link_id, user_id, platform_id, score, state, tries, next_try_at, lease_until, last_error, created_at, updated_at, sent_at)
        values (${id}, 'a', 'r', ${user}, 'p', '{}', 'pending', 0, 0, null, null, ${createdAt}, ${createdAt}, null)`;
      // Bare outbox rows: the attempts, links and users they point at are not what this is about.
      if (dialect === 'sqlite') await sql`pragma foreign_keys = off`.execute(db);
      await db.transaction().execute(async (trx) => {
        if (dialect === 'postgres') await sql`set local session_replication_role = replica`.execute(trx);
        for (const [id, user, at] of [
          ['g_b', 'u1', 200],
          ['g_a', 'u1', 100],
          ['g_c', 'u1', 200],
          ['g_d', 'u2', 100],
        ] as const)
          await legacy(id, user, at).execute(trx);
      });
      if (dialect === 'sqlite') await sql`pragma foreign_keys = on`.execute(db);
      await migrateToLatest(store);
      const rows = await db.selectFrom('grade_outbox').select(['id', 'seq', 'lease_id']).orderBy('id').execute();
      expect(rows.map((r) => [r.id, Number(r.seq), r.lease_id])).toEqual([
        ['g_a', 1, null],
        ['g_b', 2, null],
        ['g_c', 3, null],
        ['g_d', 1, null],
      ]);
    } finally {
      await store.dispose();
    }
  });
});
