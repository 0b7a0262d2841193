import { afterEach, describe, expect, it } from 'vitest';
import { cleanupExpired, LOGIN_STATE_RETENTION_MS } from '../../src/launch/cleanup.job.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

const T = Date.UTC(2026, 10, 27, 12, 0, 0);

describe.each(DIALECTS)('cleanup of dynamic registration sessions and sandbox one-time values (%s)', (dialect) => {
  const stores: TestStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
  });

  it('removes sessions a day past expiry (a replay before that is still named as such) and expired jtis', async () => {
    const store = await openTestStore(dialect);
    stores.push(store);
    const session = (id: string, expiresAt: number) => ({
      id_hash: id,
      openid_configuration_url: 'https://lms.example.edu/c',
      configuration: '{}',
      registration_token_enc: null,
      created_at: expiresAt - 1000,
      expires_at: expiresAt,
      consumed_at: null,
    });
    await store.db
      .insertInto('registration_sessions')
      .values([session('old', T - LOGIN_STATE_RETENTION_MS - 1), session('recent', T - 1000), session('live', T + 1000)])
      .execute();
    await store.db
      .insertInto('sandbox_assertions')
      .values([
        { jti: 'jti:old', expires_at: T - 1 },
        { jti: 'jti:live', expires_at: T + 1 },
      ])
      .execute();
    const removed = await cleanupExpired(store.db, T);
    expect(removed).toMatchObject({ registrationSessions: 1, sandboxAssertions: 1 });
    expect((await store.db.selectFrom('registration_sessions').select('id_hash').orderBy('id_hash').execute()).map((r) => r.id_hash)).toEqual([
      'live',
      'recent',
    ]);
    expect((await store.db.selectFrom('sandbox_assertions').select('jti').execute()).map((r) => r.jti)).toEqual(['jti:live']);
  });
});
