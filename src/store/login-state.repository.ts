import type { Kysely } from 'kysely';
import type { Database, LoginState } from './tables.js';

export async function insertLoginState(db: Kysely<Database>, state: LoginState): Promise<void> {
  await db.insertInto('login_states').values(state).execute();
}

export async function findLoginState(db: Kysely<Database>, state: string): Promise<LoginState | undefined> {
  return db.selectFrom('login_states').selectAll().where('state', '=', state).executeTakeFirst();
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
  const result = await db
    .updateTable('login_states')
    .set({ consumed_at: now })
    .where('state', '=', state)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
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
