import type { Kysely } from 'kysely';
import { deleteExpiredLaunches } from '../store/launch.repository.js';
import { deleteExpiredLoginStates } from '../store/login-state.repository.js';
import type { Database } from '../store/tables.js';

/** Consumed login states are kept a day past expiry so that a replayed nonce is reported as such. */
export const LOGIN_STATE_RETENTION_MS = 24 * 3600 * 1000;

export async function cleanupExpired(db: Kysely<Database>, now: number): Promise<{ loginStates: number; launches: number }> {
  const loginStates = await deleteExpiredLoginStates(db, now, now - LOGIN_STATE_RETENTION_MS);
  const launches = await deleteExpiredLaunches(db, now);
  return { loginStates, launches };
}
