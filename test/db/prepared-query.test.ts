import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedQuery } from '../../src/store/prepared.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

describe.each(DIALECTS)('prepared hot-path queries (%s)', (dialect) => {
  let store: TestStore;
  const sqlRun: string[] = [];
  beforeAll(async () => {
    store = await openTestStore(dialect, { log: (e) => void sqlRun.push(e.query.sql) });
    await store.db
      .insertInto('platforms')
      .values({
        id: 'plt_a',
        name: 'A',
        issuer: 'https://a.example',
        client_id: 'ca',
        auth_url: 'https://a.example/auth',
        token_url: 'https://a.example/token',
        token_audience: null,
        jwks_url: 'https://a.example/jwks',
        public_jwk: null,
        status: 'active',
        grade_policy: 'overwrite',
        created_at: 1,
        updated_at: 1,
        last_launch_at: null,
        last_error: null,
        last_error_at: null,
      })
      .execute();
  });
  afterAll(async () => {
    await store.dispose();
  });

  it('runs with new values each time, an argument may fill several parameters, undefined is NULL', async () => {
    const touch = new PreparedQuery('touch', (db, a: { at: number; error: string | undefined; id: string }) =>
      db
        .updateTable('platforms')
        .set({ last_launch_at: a.at, last_error_at: a.at, last_error: a.error ?? null })
        .where('id', '=', a.id),
    );
    const read = new PreparedQuery('read', (db, a: { id: string }) =>
      db.selectFrom('platforms').select(['last_launch_at', 'last_error_at', 'last_error']).where('id', '=', a.id),
    );
    expect(Number((await touch.run(store.db, { at: 42, error: 'boom', id: 'plt_a' })).numAffectedRows)).toBe(1);
    expect(await read.first(store.db, { id: 'plt_a' })).toEqual({ last_launch_at: 42, last_error_at: 42, last_error: 'boom' });
    expect(Number((await touch.run(store.db, { at: 43, error: undefined, id: 'plt_a' })).numAffectedRows)).toBe(1);
    expect(await read.first(store.db, { id: 'plt_a' })).toEqual({ last_launch_at: 43, last_error_at: 43, last_error: null });
    expect(Number((await touch.run(store.db, { at: 44, error: 'x', id: 'plt_missing' })).numAffectedRows)).toBe(0);
    expect(await read.first(store.db, { id: 'plt_missing' })).toBeUndefined();
  });

  it('runs inside a transaction (same compiled form) and rolls back with it', async () => {
    const touch = new PreparedQuery('touch-trx', (db, a: { at: number; id: string }) =>
      db.updateTable('platforms').set({ last_launch_at: a.at }).where('id', '=', a.id),
    );
    await touch.run(store.db, { at: 100, id: 'plt_a' });
    await expect(
      store.db.transaction().execute(async (trx) => {
        await touch.run(trx, { at: 200, id: 'plt_a' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const row = await store.db.selectFrom('platforms').select('last_launch_at').where('id', '=', 'plt_a').executeTakeFirstOrThrow();
    expect(row.last_launch_at).toBe(100);
  });

  it('compiles once: the SQL text is the same for every run', async () => {
    const find = new PreparedQuery('find', (db, a: { issuer: string; clientId: string }) =>
      db.selectFrom('platforms').select('id').where('issuer', '=', a.issuer).where('client_id', '=', a.clientId),
    );
    sqlRun.length = 0;
    expect(await find.first(store.db, { issuer: 'https://a.example', clientId: 'ca' })).toEqual({ id: 'plt_a' });
    expect(await find.first(store.db, { issuer: 'https://a.example', clientId: 'other' })).toBeUndefined();
    expect(sqlRun).toHaveLength(2);
    expect(sqlRun[0]).toBe(sqlRun[1]);
  });

  it('refuses a query with a value that is not an argument (it would be frozen into every run)', async () => {
    const fixed = new PreparedQuery('fixed', (db, a: { clientId: string }) =>
      db.selectFrom('platforms').select('id').where('issuer', '=', 'https://a.example').where('client_id', '=', a.clientId),
    );
    await expect(fixed.run(store.db, { clientId: 'ca' })).rejects.toThrow(/prepared query fixed: parameter "https:\/\/a.example" is not an argument/);
  });
});
