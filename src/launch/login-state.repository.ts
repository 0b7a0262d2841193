import type { Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import { PreparedQuery } from '../store/prepared.js';
import type { Database, LoginState, LoginStateTable } from '../store/tables.js';

type LoginStateRow = Selectable<LoginStateTable>;

// The login and launch hot path: compiled once (prepared.ts).
const insertState = new PreparedQuery('insertLoginState', (db, a: LoginStateRow) =>
  db.insertInto('login_states').values({
    state: a.state,
    nonce: a.nonce,
    platform_id: a.platform_id,
    target_link_uri: a.target_link_uri,
    created_at: a.created_at,
    expires_at: a.expires_at,
    consumed_at: a.consumed_at,
    storage_target: a.storage_target,
    storage_proof: a.storage_proof,
    resume_params: a.resume_params,
  }),
);
const findState = new PreparedQuery('findLoginState', (db, a: { state: string }) => db.selectFrom('login_states').selectAll().where('state', '=', a.state));
const consumeState = new PreparedQuery('consumeLoginState', (db, a: { state: string; now: number }) =>
  db.updateTable('login_states').set({ consumed_at: a.now }).where('state', '=', a.state).where('consumed_at', 'is', null).where('expires_at', '>', a.now),
);

export async function insertLoginState(db: Kysely<Database>, s: LoginState): Promise<void> {
  await insertState.run(db, { storage_target: null, storage_proof: null, resume_params: null, ...s });
}

export async function findLoginState(db: Kysely<Database>, state: string): Promise<LoginState | undefined> {
  return (await findState.first(db, { state })) as LoginState | undefined;
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
  const result = await consumeState.run(db, { state, now });
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
