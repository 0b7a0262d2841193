import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  consumeLoginState,
  deleteExpiredLoginStates,
  findLoginState,
  findLoginStateByNonce,
  insertLoginState,
} from '../../src/launch/login-state.repository.js';
import type { LoginState } from '../../src/store/tables.js';
import { fixedClock } from '../../src/util/clock.js';
import { randomToken } from '../../src/util/ids.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

const START = Date.UTC(2026, 4, 4, 10, 0, 0);
const TTL = 600_000;
const PLATFORM_ID = 'plt_login_state_test';

describe.each(DIALECTS)('login states (%s)', (dialect) => {
  let store: TestStore;
  const clock = fixedClock(START);

  beforeAll(async () => {
    store = await openTestStore(dialect);
    await store.db
      .insertInto('platforms')
      .values({
        id: PLATFORM_ID,
        name: 'LMS',
        issuer: 'https://lms.example.edu',
        client_id: 'client-1',
        auth_url: 'https://lms.example.edu/auth',
        token_url: 'https://lms.example.edu/token',
        token_audience: null,
        jwks_url: 'https://lms.example.edu/jwks',
        public_jwk: null,
        status: 'active',
        created_at: START,
        updated_at: START,
      })
      .execute();
  });
  afterAll(async () => {
    await store.dispose();
  });
  beforeEach(() => {
    clock.set(START);
  });

  async function newState(createdAt = clock.now(), ttl = TTL): Promise<LoginState> {
    const state: LoginState = {
      state: randomToken(),
      nonce: randomToken(),
      platform_id: PLATFORM_ID,
      target_link_uri: 'https://courseport.test/lti/launch',
      created_at: createdAt,
      expires_at: createdAt + ttl,
      consumed_at: null,
      storage_target: null,
      storage_proof: null,
      resume_params: null,
    };
    await insertLoginState(store.db, state);
    return state;
  }

  it('stores a state that can be found by state and by nonce', async () => {
    const s = await newState();
    expect(await findLoginState(store.db, s.state)).toEqual(s);
    expect(await findLoginStateByNonce(store.db, s.nonce)).toEqual(s);
    expect(await findLoginState(store.db, 'unknown')).toBeUndefined();
  });

  it('consumes a state once, recording when', async () => {
    const s = await newState();
    clock.advance(5_000);
    expect(await consumeLoginState(store.db, s.state, clock.now())).toBe(true);
    expect((await findLoginState(store.db, s.state))?.consumed_at).toBe(START + 5_000);
    clock.advance(1_000);
    expect(await consumeLoginState(store.db, s.state, clock.now())).toBe(false);
    // The first consumption time is kept.
    expect((await findLoginState(store.db, s.state))?.consumed_at).toBe(START + 5_000);
  });

  it('lets exactly one of 20 concurrent consumers win', async () => {
    const s = await newState();
    const results = await Promise.all(Array.from({ length: 20 }, () => consumeLoginState(store.db, s.state, clock.now())));
    expect(results.filter((r) => r)).toHaveLength(1);
    expect(results.filter((r) => !r)).toHaveLength(19);
    expect((await findLoginState(store.db, s.state))?.consumed_at).toBe(clock.now());
  });

  it('lets one winner per state when several states race together', async () => {
    const states = await Promise.all([newState(), newState(), newState()]);
    const attempts = states.flatMap((s) =>
      Array.from({ length: 8 }, () => consumeLoginState(store.db, s.state, clock.now()).then((won) => ({ state: s.state, won }))),
    );
    const results = await Promise.all(attempts);
    for (const s of states) expect(results.filter((r) => r.state === s.state && r.won)).toHaveLength(1);
  });

  it('cannot consume an expired state, nor one expiring exactly now', async () => {
    const s = await newState();
    clock.advance(TTL);
    expect(await consumeLoginState(store.db, s.state, clock.now())).toBe(false);
    clock.advance(1);
    expect(await consumeLoginState(store.db, s.state, clock.now())).toBe(false);
    expect((await findLoginState(store.db, s.state))?.consumed_at).toBeNull();
  });

  it('can consume a state one millisecond before it expires', async () => {
    const s = await newState();
    clock.advance(TTL - 1);
    expect(await consumeLoginState(store.db, s.state, clock.now())).toBe(true);
  });

  it('does not consume an unknown state', async () => {
    expect(await consumeLoginState(store.db, 'no-such-state', clock.now())).toBe(false);
  });

  it('deletes unused states as soon as they expire, and consumed ones only after the retention cut-off', async () => {
    const unusedExpired = await newState(START - 2 * TTL); // expired at START - TTL
    const consumedExpired = await newState(START - 2 * TTL);
    await consumeLoginState(store.db, consumedExpired.state, START - 2 * TTL + 1);
    const consumedOld = await newState(START - 5 * TTL); // expired at START - 4*TTL
    await consumeLoginState(store.db, consumedOld.state, START - 5 * TTL + 1);
    const unusedLive = await newState(START);

    const retentionCutoff = START - 3 * TTL;
    expect(await deleteExpiredLoginStates(store.db, START, retentionCutoff)).toBe(2);
    expect(await findLoginState(store.db, unusedExpired.state)).toBeUndefined();
    expect(await findLoginState(store.db, consumedOld.state)).toBeUndefined();
    // A consumed state stays (so a replayed nonce is named as such) until the cut-off passes it.
    expect(await findLoginState(store.db, consumedExpired.state)).toBeDefined();
    expect(await findLoginState(store.db, unusedLive.state)).toBeDefined();

    expect(await deleteExpiredLoginStates(store.db, START, retentionCutoff)).toBe(0);
    expect(await deleteExpiredLoginStates(store.db, START, START)).toBe(1);
    expect(await findLoginState(store.db, consumedExpired.state)).toBeUndefined();
    expect(await findLoginState(store.db, unusedLive.state)).toBeDefined();
  });

  it('refuses a second state with the same nonce', async () => {
    const s = await newState();
    await expect(insertLoginState(store.db, { ...s, state: randomToken() })).rejects.toThrow();
  });
});
