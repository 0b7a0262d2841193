import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { AdminAccounts } from '../../src/admin/admin-accounts.service.js';
import { PlatformService } from '../../src/platforms/platform.service.js';
import { fixedClock } from '../../src/util/clock.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

const POLICY = { sessionIdleMs: 30 * 60_000, sessionMaxMs: 12 * 3600_000, loginMaxFailures: 5, loginMaxFailuresPerIp: 20, loginWindowMs: 900_000 };
const PLATFORM = {
  issuer: 'https://lms.example.edu',
  clientId: 'c1',
  authUrl: 'https://lms.example.edu/auth',
  tokenUrl: 'https://lms.example.edu/token',
  jwksUrl: 'https://lms.example.edu/jwks',
};

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : String(err);
  }
}

describe.each(DIALECTS)('console accounts and platform changes (%s)', (dialect) => {
  let store: TestStore;
  afterEach(async () => {
    await store?.dispose();
  });

  it('creates exactly one first administrator when two setup forms race', async () => {
    store = await openTestStore(dialect);
    const admins = new AdminAccounts(store.db, store.dialect, fixedClock(Date.UTC(2026, 10, 27)), POLICY);
    const results = await Promise.allSettled([
      admins.create('first@example.edu', 'first password here', { onlyIfNone: true }),
      admins.create('second@example.edu', 'second password here', { onlyIfNone: true }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as AppError).code).toBe('ADMIN_SETUP_DONE');
    expect(await admins.count()).toBe(1);
    const [winner] = await admins.list();
    expect(await codeOf(admins.create(winner!.email.toUpperCase(), 'x'.repeat(12)))).toBe('ADMIN_EXISTS');
  });

  it('checks at most the allowed number of passwords when sign-in attempts arrive at once', async () => {
    store = await openTestStore(dialect);
    const admins = new AdminAccounts(store.db, store.dialect, fixedClock(Date.UTC(2026, 10, 27)), { ...POLICY, loginMaxFailures: 3 });
    await admins.create('ops@example.edu', 'a good long password');
    // A burst of guesses from many addresses: the account limit must hold, not only for sequential attempts.
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => admins.login('ops@example.edu', `guess number ${i}!!`, `198.51.100.${i}`)));
    const checked = outcomes.filter((o) => !o.ok && o.reason === 'failed').length;
    expect(checked).toBeLessThanOrEqual(3);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'throttled')).toHaveLength(10 - checked);
    // The owner is throttled like any other attempt until the window ends, then signs in; a success clears the account's count.
    expect(await admins.login('ops@example.edu', 'a good long password', '192.0.2.1')).toMatchObject({ ok: false, reason: 'throttled' });
    const later = new AdminAccounts(store.db, store.dialect, fixedClock(Date.UTC(2026, 10, 27) + POLICY.loginWindowMs + 1), { ...POLICY, loginMaxFailures: 3 });
    expect(await later.login('ops@example.edu', 'a good long password', '192.0.2.1')).toMatchObject({ ok: true });
    const rows = await store.db.selectFrom('admin_login_throttle').selectAll().execute();
    expect(rows.find((r) => r.key === 'account:ops@example.edu')).toBeUndefined();
    // A success does not count against its address.
    expect(rows.find((r) => r.key === 'ip:192.0.2.1')?.failures ?? 0).toBe(0);
  });

  it('checks at most the allowed number of current passwords when password changes arrive at once', async () => {
    store = await openTestStore(dialect);
    const admins = new AdminAccounts(store.db, store.dialect, fixedClock(Date.UTC(2026, 10, 27)), { ...POLICY, loginMaxFailures: 3 });
    const me = await admins.create('ops@example.edu', 'a good long password');
    const { session } = await admins.createSession(me, { ip: '192.0.2.1', userAgent: undefined });
    // A stolen session guessing the current password in parallel.
    const codes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        codeOf(admins.changePassword(me.id, `guess number ${i}!!`, 'a brand new password', 'a brand new password', session.idHash)),
      ),
    );
    expect(codes.filter((c) => c === 'VALIDATION_FAILED').length).toBeLessThanOrEqual(3);
    expect(codes.filter((c) => c !== 'VALIDATION_FAILED').every((c) => c === 'ADMIN_LOGIN_THROTTLED')).toBe(true);
    // After the window the right current password works, and does not count as a failure.
    const later = new AdminAccounts(store.db, store.dialect, fixedClock(Date.UTC(2026, 10, 27) + POLICY.loginWindowMs + 1), { ...POLICY, loginMaxFailures: 3 });
    await later.changePassword(me.id, 'a good long password', 'a brand new password', 'a brand new password', session.idHash);
    const row = await store.db.selectFrom('admin_login_throttle').selectAll().where('key', '=', 'account:ops@example.edu').executeTakeFirst();
    expect(row?.failures ?? 0).toBe(0);
  });

  it('refuses a duplicate email (case-insensitively), a bad email and a short password', async () => {
    store = await openTestStore(dialect);
    const admins = new AdminAccounts(store.db, store.dialect, fixedClock(Date.UTC(2026, 10, 27)), POLICY);
    await admins.create('Ops@Example.edu', 'a good long password');
    expect((await admins.list()).map((a) => a.email)).toEqual(['ops@example.edu']);
    expect(await codeOf(admins.create('ops@example.EDU', 'another good password'))).toBe('ADMIN_EXISTS');
    expect(await codeOf(admins.create('not-an-email', 'a good long password'))).toBe('VALIDATION_FAILED');
    expect(await codeOf(admins.create('new@example.edu', 'short'))).toBe('VALIDATION_FAILED');
    expect(await admins.count()).toBe(1);
  });

  it('updates a registration with the same validation, keeps issuer and client id unique, and knows the pending status', async () => {
    store = await openTestStore(dialect);
    const platforms = new PlatformService(store.db, fixedClock(Date.UTC(2026, 10, 27)), { requireHttps: true });
    const a = await platforms.register(PLATFORM, { status: 'pending' });
    expect(a.platform.status).toBe('pending');
    const b = await platforms.register({ ...PLATFORM, clientId: 'c2' });
    expect(await codeOf(platforms.update(b.platform.id, { ...PLATFORM, clientId: 'c1' }))).toBe('PLATFORM_EXISTS');
    expect(await codeOf(platforms.update(b.platform.id, { ...PLATFORM, clientId: 'c2', authUrl: 'http://lms.example.edu/auth' }))).toBe('VALIDATION_FAILED');
    const renamed = await platforms.update(b.platform.id, { ...PLATFORM, clientId: 'c2', name: 'Renamed', tokenAudience: 'aud' });
    expect(renamed.platform).toMatchObject({ name: 'Renamed', token_audience: 'aud', client_id: 'c2' });
    expect((await platforms.get(b.platform.id)).platform).toMatchObject({ name: 'Renamed', token_audience: 'aud' });
    expect((await platforms.setStatus(a.platform.id, 'active')).platform.status).toBe('active');
    expect(await codeOf(platforms.setStatus(a.platform.id, 'archived' as never))).toBe('VALIDATION_FAILED');

    const d = await platforms.addDeployment(a.platform.id, 'dep-1');
    expect(d.status).toBe('active');
    expect((await platforms.setDeploymentStatus(a.platform.id, d.id, 'disabled')).status).toBe('disabled');
    expect((await platforms.listDeployments(a.platform.id))[0]!.status).toBe('disabled');
    expect(await codeOf(platforms.setDeploymentStatus(b.platform.id, d.id, 'active'))).toBe('NOT_FOUND');
  });
});
