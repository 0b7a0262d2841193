import type { LogEvent } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * The launch handshake's database work, pinned by count (docs/performance.md): a login is two
 * reads and one insert; a launch is three reads and then one write transaction. Nothing on the
 * hot path touches keys, key status, the audit log or, within the minute, the registration row.
 */
describe.each(DIALECTS)('SQL statements per launch handshake (%s)', (dialect) => {
  let h: Harness;
  let recorded: string[] | undefined;
  const errors: unknown[] = [];
  const capture = async <T>(step: () => Promise<T>): Promise<{ result: T; sql: string[] }> => {
    recorded = [];
    try {
      const result = await step();
      return { result, sql: recorded };
    } finally {
      recorded = undefined;
    }
  };
  const writes = (sql: string[]) => sql.filter((s) => /^\s*(insert|update|delete)\b/i.test(s));
  const tablesOf = (sql: string[]) => sql.map((s) => /(?:from|into|update)\s+"?([a-z_]+)"?/i.exec(s)?.[1] ?? s.trim().split(/\s+/)[0]!.toLowerCase());

  beforeAll(async () => {
    h = await createHarness(
      dialect,
      { COURSEPORT_LOGIN_RATE_LIMIT: '0', COURSEPORT_LAUNCH_RATE_LIMIT: '0' },
      {
        log: (event: LogEvent) => {
          if (event.level === 'error') errors.push(event.error);
          recorded?.push(event.query.sql);
        },
      },
    );
    // The first launch fetches the platform's key set, reads the frame-ancestors list and writes
    // the registration's last launch time: what follows is the steady state.
    const first = await h.launch();
    expect(first.statusCode, first.body).toBe(200);
  });
  afterAll(async () => {
    await h.close();
  });

  it('a login reads the registration and the deployment and inserts its state, outside any transaction', async () => {
    const { result, sql } = await capture(() => h.login({ login_hint: 'learner-2' }));
    expect(result.response.statusCode).toBe(302);
    expect(tablesOf(sql)).toEqual(['platforms', 'deployments', 'login_states']);
    expect(writes(sql)).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('a launch is three reads, then one write transaction that consumes the state and records the launch', async () => {
    const login = await h.login({ login_hint: 'learner-3' });
    const { result, sql } = await capture(() => h.launch({ login }));
    expect(result.statusCode, result.body).toBe(200);
    expect(tablesOf(sql)).toEqual([
      'login_states',
      'platforms',
      'deployments',
      'begin',
      'login_states',
      'users',
      'contexts',
      'resource_links',
      'resource_links',
      'launches',
      'commit',
    ]);
    const begin = sql.findIndex((s) => /^begin/i.test(s));
    const commit = sql.findIndex((s) => /^commit/i.test(s));
    expect(sql.filter((s) => /^(begin|start transaction)/i.test(s))).toHaveLength(1);
    // Every write is inside the one transaction; the state is consumed first (atomically, by its condition).
    for (const w of writes(sql)) expect(sql.indexOf(w)).toBeGreaterThan(begin);
    for (const w of writes(sql)) expect(sql.indexOf(w)).toBeLessThan(commit);
    // No JWKS fetch on the hot path: the key set fetched by the first launch is still the only one.
    expect(h.app.services.platformKeys.keySetStatus(h.platformId)?.fetches).toBe(1);
    expect(sql[begin + 1]).toMatch(/^update "login_states" set "consumed_at" = .* where "state" = .* and "consumed_at" is null/);
    expect(errors).toEqual([]);
  });

  it('writes the registration’s last launch time at most once a minute, inside the launch transaction', async () => {
    h.clock.advance(61_000);
    const { result, sql } = await capture(() => h.launch());
    expect(result.statusCode, result.body).toBe(200);
    const launchSql = sql.slice(sql.findIndex((s) => /^select \* from "login_states" where "state"/i.test(s)));
    const touch = launchSql.filter((s) => /^update "platforms" set "last_launch_at"/.test(s));
    expect(touch).toHaveLength(1);
    expect(launchSql.indexOf(touch[0]!)).toBeGreaterThan(launchSql.findIndex((s) => /^begin/i.test(s)));
    expect(launchSql.filter((s) => /^(begin|start transaction)/i.test(s))).toHaveLength(1);
    const row = await h.store.db.selectFrom('platforms').select('last_launch_at').where('id', '=', h.platformId).executeTakeFirstOrThrow();
    expect(row.last_launch_at).toBe(h.clock.now());

    // Ten seconds later: no statement for it.
    h.clock.advance(10_000);
    const again = await capture(() => h.launch());
    expect(again.result.statusCode).toBe(200);
    expect(again.sql.filter((s) => /"last_launch_at"/.test(s))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
