import { createHash } from 'node:crypto';
import { cleanupExpired, DISPATCH_EVENT_RETENTION_MS } from '../../src/launch/cleanup.job.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchLaunchInput } from '../../src/dispatch/dispatch-admission.js';
import type { DispatchService } from '../../src/dispatch/dispatch.service.js';
import { AppError } from '../../src/errors/app-error.js';
import { createServices, type Services } from '../../src/container.js';
import { DISPATCH_PLATFORM_ID } from '../../src/platforms/platform.repository.js';
import type { Dispatch } from '../../src/store/tables.js';
import { fixedClock } from '../../src/util/clock.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { testConfig } from '../helpers/harness.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const DAY = 86_400_000;

/** The code of the AppError a promise rejects with. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('the launch was admitted');
}

describe.each(DIALECTS)('dispatch licence and launch admission (%s)', (dialect) => {
  let store: TestStore;
  let services: Services;
  let svc: DispatchService;
  let packageId: string;
  let destinationId: string;
  const clock = fixedClock(T0);

  beforeAll(async () => {
    store = await openTestStore(dialect);
    services = createServices(testConfig(), store, clock);
    svc = services.dispatch;
    packageId = (await services.packages.importPackage(COURSE_12)).package.id;
    destinationId = (await svc.createDestination({ name: 'Acme Corp', notes: 'pilot' })).id;
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const launch = (d: Dispatch, learnerId: string, extra: Partial<DispatchLaunchInput> = {}) =>
    svc.admit({ dispatchId: d.id, secret: svc.secretOf(d), learnerId, learnerName: `Name of ${learnerId}`, hashed: false, ...extra });
  const fresh = (licence: Parameters<DispatchService['createDispatch']>[0] extends infer I ? Partial<I> : never = {}) =>
    svc.createDispatch({ destinationId, packageId, ...licence });
  const row = (id: string) => svc.getDispatch(id);

  it('registers a new learner once, counts every launch and resumes the same attempt', async () => {
    const d = await fresh();
    const first = await launch(d, 'lms-user-1');
    expect(first.newRegistration).toBe(true);
    const again = await launch(d, 'lms-user-1');
    expect(again.newRegistration).toBe(false);
    expect(again.attemptId).toBe(first.attemptId);
    expect(again.registration).toMatchObject({ learner_id: 'lms-user-1', learner_name: 'Name of lms-user-1', launch_count: 2 });
    expect(await row(d.id)).toMatchObject({ registration_count: 1, launch_count: 2, refused_count: 0 });
    // The attempt belongs to the dispatch's internal link and user, under the hidden internal platform.
    const attempt = await store.db.selectFrom('attempts').selectAll().where('id', '=', first.attemptId).executeTakeFirstOrThrow();
    expect(attempt.resource_link_id).toBe(d.resource_link_ref);
    const user = await store.db.selectFrom('users').selectAll().where('id', '=', attempt.user_id).executeTakeFirstOrThrow();
    expect(user.platform_id).toBe(DISPATCH_PLATFORM_ID);
    expect((await services.platforms.list()).map((p) => p.platform.id)).not.toContain(DISPATCH_PLATFORM_ID);
    // No gradebook behind a dispatch: nothing is queued for AGS.
    expect(await store.db.selectFrom('grade_outbox').select('id').where('attempt_id', '=', first.attemptId).execute()).toEqual([]);
  });

  it('refuses an expired licence, for new and registered learners alike, and records it', async () => {
    const d = await fresh({ expiresAt: T0 + DAY });
    await launch(d, 'before-expiry');
    clock.set(T0 + DAY);
    try {
      expect(await refusal(launch(d, 'before-expiry'))).toBe('DISPATCH_EXPIRED');
      clock.advance(1);
      expect(await refusal(launch(d, 'after-expiry'))).toBe('DISPATCH_EXPIRED');
    } finally {
      clock.set(T0);
    }
    expect(await row(d.id)).toMatchObject({ registration_count: 1, launch_count: 1, refused_count: 2 });
    const events = await svc.events(d.id);
    expect(events.map((e) => [e.code, e.learner_id])).toEqual([
      ['DISPATCH_EXPIRED', 'after-expiry'],
      ['DISPATCH_EXPIRED', 'before-expiry'],
    ]);
  });

  it('refuses a disabled dispatch and a disabled destination, and works again once enabled', async () => {
    const d = await fresh();
    await svc.updateDispatch(d.id, { enabled: false });
    expect(await refusal(launch(d, 'x'))).toBe('DISPATCH_DISABLED');
    await svc.updateDispatch(d.id, { enabled: true });
    const dest = await svc.createDestination({ name: 'Other' });
    const d2 = await svc.createDispatch({ destinationId: dest.id, packageId });
    await svc.updateDestination(dest.id, { enabled: false });
    expect(await refusal(launch(d2, 'x'))).toBe('DISPATCH_DISABLED');
    await svc.updateDestination(dest.id, { enabled: true });
    await expect(launch(d, 'x')).resolves.toMatchObject({ newRegistration: true });
    await expect(launch(d2, 'x')).resolves.toMatchObject({ newRegistration: true });
    expect((await row(d.id)).refused_count).toBe(1);
  });

  it('refuses new learners at the registration cap while registered learners continue', async () => {
    const d = await fresh({ registrationCap: 1 });
    await launch(d, 'first');
    expect(await refusal(launch(d, 'second'))).toBe('DISPATCH_REGISTRATION_CAP');
    await expect(launch(d, 'first')).resolves.toMatchObject({ newRegistration: false });
    expect(await row(d.id)).toMatchObject({ registration_count: 1, launch_count: 2, refused_count: 1 });
    // Raising the cap lets the next learner in.
    await svc.updateDispatch(d.id, { registrationCap: 2 });
    await expect(launch(d, 'second')).resolves.toMatchObject({ newRegistration: true });
  });

  it('refuses new learners when new registrations are closed, not registered ones', async () => {
    const d = await fresh();
    await launch(d, 'early');
    await svc.updateDispatch(d.id, { allowNewRegistrations: false });
    expect(await refusal(launch(d, 'late'))).toBe('DISPATCH_REGISTRATIONS_CLOSED');
    await expect(launch(d, 'early')).resolves.toMatchObject({ newRegistration: false });
  });

  it('enforces the launch cap on every launch', async () => {
    const d = await fresh({ launchCap: 2 });
    await launch(d, 'a');
    await launch(d, 'a');
    expect(await refusal(launch(d, 'a'))).toBe('DISPATCH_LAUNCH_CAP');
    expect(await refusal(launch(d, 'b'))).toBe('DISPATCH_LAUNCH_CAP');
    expect(await row(d.id)).toMatchObject({ registration_count: 1, launch_count: 2, refused_count: 2 });
    await svc.updateDispatch(d.id, { launchCap: 0 });
    expect((await row(d.id)).launch_cap).toBeNull();
    await expect(launch(d, 'b')).resolves.toMatchObject({ newRegistration: true });
  });

  it('refuses a tampered secret and, after rotation, the old one', async () => {
    const d = await fresh();
    const secret = svc.secretOf(d);
    const tampered = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(await refusal(launch(d, 'x', { secret: tampered }))).toBe('DISPATCH_SECRET_INVALID');
    expect(await refusal(launch(d, 'x', { secret: 'short' }))).toBe('DISPATCH_SECRET_INVALID');
    const rotated = await svc.rotateSecret(d.id);
    expect(svc.secretOf(rotated)).not.toBe(secret);
    expect(await refusal(launch(d, 'x', { secret }))).toBe('DISPATCH_SECRET_INVALID');
    await expect(launch(rotated, 'x')).resolves.toMatchObject({ newRegistration: true });
    expect(await row(d.id)).toMatchObject({ registration_count: 1, refused_count: 3 });
  });

  it('requires hashed learner ids when the dispatch says so, and never stores a name with them', async () => {
    const d = await fresh({ hashLearnerIds: true });
    expect(await refusal(launch(d, 'raw-id'))).toBe('DISPATCH_LAUNCH_INVALID');
    const hash = createHash('sha256').update(`${d.learner_salt}:raw-id`).digest('hex');
    const ok = await launch(d, hash, { hashed: true, learnerName: 'Should Not Be Kept' });
    expect(ok.registration).toMatchObject({ learner_id: hash, learner_name: null, hashed: 1 });
  });

  it('admits exactly one of two concurrent new learners at cap - 1', async () => {
    const d = await fresh({ registrationCap: 2 });
    await launch(d, 'already-in');
    const results = await Promise.allSettled([launch(d, 'racer-1'), launch(d, 'racer-2')]);
    const admitted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(admitted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0]!.reason as AppError).code).toBe('DISPATCH_REGISTRATION_CAP');
    expect(await row(d.id)).toMatchObject({ registration_count: 2, launch_count: 2, refused_count: 1 });
    expect(await store.db.selectFrom('dispatch_registrations').select('learner_id').where('dispatch_id', '=', d.id).execute()).toHaveLength(2);
  });

  it('counts one learner when the same new learner launches twice at once', async () => {
    const d = await fresh();
    const [a, b] = await Promise.all([launch(d, 'twice'), launch(d, 'twice')]);
    expect(a.attemptId).toBe(b.attemptId);
    expect([a.newRegistration, b.newRegistration].filter(Boolean)).toHaveLength(1);
    expect(await row(d.id)).toMatchObject({ registration_count: 1, launch_count: 2 });
    const users = await store.db
      .selectFrom('users')
      .select('id')
      .where('platform_id', '=', DISPATCH_PLATFORM_ID)
      .where('sub', '=', a.registration.id)
      .execute();
    expect(users).toHaveLength(1);
  });

  it('refuses a launch of a deleted dispatch and removes its learners and attempts', async () => {
    const d = await fresh();
    const a = await launch(d, 'gone');
    await svc.deleteDispatch(d.id);
    expect(await refusal(launch(d, 'gone'))).toBe('DISPATCH_NOT_FOUND');
    expect(await store.db.selectFrom('attempts').select('id').where('id', '=', a.attemptId).execute()).toEqual([]);
    expect(await store.db.selectFrom('users').select('id').where('id', '=', a.registration.user_id).execute()).toEqual([]);
    expect(await store.db.selectFrom('resource_links').select('id').where('id', '=', d.resource_link_ref).execute()).toEqual([]);
  });

  it('reports each registration with its latest status, score and launch times', async () => {
    const d = await fresh();
    clock.set(T0 + 1000);
    const a = await launch(d, 'reported');
    clock.set(T0 + 5000);
    await launch(d, 'reported');
    clock.set(T0);
    await store.db
      .updateTable('attempts')
      .set({ completion: 'completed', success: 'passed', score_scaled: 0.9, score_raw: 90 })
      .where('id', '=', a.attemptId)
      .execute();
    const [r] = await svc.report(d.id);
    expect(r).toMatchObject({
      learnerId: 'reported',
      learnerName: 'Name of reported',
      status: 'passed',
      scorePercent: 90,
      launches: 2,
      firstLaunchAt: T0 + 1000,
      lastLaunchAt: T0 + 5000,
      attempt: 1,
    });
  });

  it('validates licence values and refuses an unknown destination or package', async () => {
    expect(await refusal(svc.createDispatch({ destinationId: 'dst_nope', packageId }))).toBe('DESTINATION_NOT_FOUND');
    expect(await refusal(svc.createDispatch({ destinationId, packageId: 'pkg_nope' }))).toBe('PACKAGE_NOT_FOUND');
    expect(await refusal(svc.createDispatch({ destinationId, packageId, registrationCap: -1 }))).toBe('VALIDATION_FAILED');
    expect(await refusal(svc.getDispatch('dsp_nope'))).toBe('DISPATCH_NOT_FOUND');
    await services.packages.setStatus(packageId, 'archived');
    try {
      expect(await refusal(svc.createDispatch({ destinationId, packageId }))).toBe('PACKAGE_ARCHIVED');
    } finally {
      await services.packages.setStatus(packageId, 'active');
    }
  });
  it('forgets refused launches after the retention period, keeping the counts', async () => {
    const d = await fresh({ enabled: false });
    await refusal(launch(d, 'old-refusal'));
    clock.advance(DISPATCH_EVENT_RETENTION_MS + DAY);
    await refusal(launch(d, 'new-refusal'));
    const removed = await cleanupExpired(store.db, clock.now());
    expect(removed.dispatchEvents).toBeGreaterThanOrEqual(1);
    expect((await svc.events(d.id)).map((e) => e.learner_id)).toEqual(['new-refusal']);
    expect((await row(d.id)).refused_count).toBe(2);
  });
});
