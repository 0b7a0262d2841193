import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arg, PreparedQuery } from '../../src/store/prepared.js';
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
    const touch = new PreparedQuery('touch', (db) => db.updateTable('platforms').set({ last_launch_at: arg(0), last_error_at: arg(0), last_error: arg(1) }).where('id', '=', arg(2)));
    const read = new PreparedQuery('read', (db) => db.selectFrom('platforms').select(['last_launch_at', 'last_error_at', 'last_error']).where('id', '=', arg(0)));
    expect(Number((await touch.run(store.db, 42, 'boom', 'plt_a')).numAffectedRows)).toBe(1);
    expect(await read.first(store.db, 'plt_a')).toEqual({ last_launch_at: 42, last_error_at: 42, last_error: 'boom' });
    expect(Number((await touch.run(store.db, 43, undefined, 'plt_a')).numAffectedRows)).toBe(1);
    expect(await read.first(store.db, 'plt_a')).toEqual({ last_launch_at: 43, last_error_at: 43, last_error: null });
    expect(Number((await touch.run(store.db, 44, 'x', 'plt_missing')).numAffectedRows)).toBe(0);
    expect(await read.first(store.db, 'plt_missing')).toBeUndefined();
  });

  it('runs inside a transaction (same compiled form) and rolls back with it', async () => {
    const touch = new PreparedQuery('touch-trx', (db) => db.updateTable('platforms').set({ last_launch_at: arg(0) }).where('id', '=', arg(1)));
    await touch.run(store.db, 100, 'plt_a');
    await expect(
      store.db.transaction().execute(async (trx) => {
        await touch.run(trx, 200, 'plt_a');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const row = await store.db.selectFrom('platforms').select('last_launch_at').where('id', '=', 'plt_a').executeTakeFirstOrThrow();
    expect(row.last_launch_at).toBe(100);
  });

  it('compiles once: the SQL text is the same for every run', async () => {
    const find = new PreparedQuery('find', (db) => db.selectFrom('platforms').select('id').where('issuer', '=', arg(0)).where('client_id', '=', arg(1)));
    sqlRun.length = 0;
    expect(await find.first(store.db, 'https://a.example', 'ca')).toEqual({ id: 'plt_a' });
    expect(await find.first(store.db, 'https://a.example', 'other')).toBeUndefined();
    expect(sqlRun).toHaveLength(2);
    expect(sqlRun[0]).toBe(sqlRun[1]);
  });

  it('refuses a query with a value that is not an argument (it would be frozen into every run)', async () => {
    const fixed = new PreparedQuery('fixed', (db) => db.selectFrom('platforms').select('id').where('issuer', '=', 'https://a.example').where('client_id', '=', arg(0)));
    await expect(fixed.run(store.db, 'ca')).rejects.toThrow(/prepared query fixed: parameter "https:\/\/a.example" is not an argument/);
  });
});
