import type { Kysely } from 'kysely';
import { arg, PreparedQuery } from '../store/prepared.js';
import type { Database, LoginState } from '../store/tables.js';

// The login and launch hot path: compiled once (prepared.ts).
const insertState = new PreparedQuery('insertLoginState', (db) =>
  db.insertInto('login_states').values({
    state: arg(0),
    nonce: arg(1),
    platform_id: arg(2),
    target_link_uri: arg(3),
    created_at: arg(4),
    expires_at: arg(5),
    consumed_at: arg(6),
    storage_target: arg(7),
    storage_proof: arg(8),
    resume_params: arg(9),
  }),
);
const findState = new PreparedQuery('findLoginState', (db) => db.selectFrom('login_states').selectAll().where('state', '=', arg(0)));
const consumeState = new PreparedQuery('consumeLoginState', (db) =>
  db.updateTable('login_states').set({ consumed_at: arg(0) }).where('state', '=', arg(1)).where('consumed_at', 'is', null).where('expires_at', '>', arg(2)),
);

export async function insertLoginState(db: Kysely<Database>, s: LoginState): Promise<void> {
  await insertState.run(db, s.state, s.nonce, s.platform_id, s.target_link_uri, s.created_at, s.expires_at, s.consumed_at, s.storage_target, s.storage_proof, s.resume_params);
}

export async function findLoginState(db: Kysely<Database>, state: string): Promise<LoginState | undefined> {
  return (await findState.first(db, state)) as LoginState | undefined;
}

export async function findLoginStateByNonce(db: Kysely<Database>, nonce: string): Promise<LoginState | undefined> {
  return db.selectFrom('login_states').selectAll().where('nonce', '=', nonce).executeTakeFirst();
}

/**
 * Consumes a state and its nonce: one conditional UPDATE, so exactly one of any number
 * of concurrent launches with the same state wins (row lock on PostgreSQL, the single
 * writer on SQLite). Returns false when the state was already consumed or expired.
 */
export async function consumeLoginState(db: Kysely<Database>, state: string, now: number): Promise<boolean> {
  const result = await consumeState.run(db, now, state, now);
  return Number(result.numAffectedRows) === 1;
}

/**
 * Removes expired states: unused ones at once, consumed ones only after `consumedBefore`
 * (kept a while so that a replayed nonce is reported as such).
 */
export async function deleteExpiredLoginStates(db: Kysely<Database>, now: number, consumedBefore: number): Promise<number> {
  const result = await db
    .deleteFrom('login_states')
    .where((eb) => eb.or([eb.and([eb('consumed_at', 'is', null), eb('expires_at', '<', now)]), eb('expires_at', '<', consumedBefore)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
