import type { Kysely } from 'kysely';
import { deleteExpiredLaunches } from './launch.repository.js';
import { deleteExpiredLoginStates } from './login-state.repository.js';
import type { Database } from '../store/tables.js';
import { deleteRegistrationSessionsExpiredBefore } from '../platforms/registration-session.repository.js';
import { deleteExpiredAssertions } from '../sandbox/sandbox.repository.js';
import { deleteEventsBefore } from '../dispatch/dispatch.repository.js';

/** Consumed login states are kept a day past expiry so that a replayed nonce is reported as such. */
export const LOGIN_STATE_RETENTION_MS = 24 * 3600 * 1000;
/** Refused dispatch launches stay listed for the admin this long (the counts on the dispatch stay). */
export const DISPATCH_EVENT_RETENTION_MS = 90 * 24 * 3600 * 1000;

export async function cleanupExpired(
  db: Kysely<Database>,
  now: number,
): Promise<{ loginStates: number; launches: number; registrationSessions: number; sandboxAssertions: number; dispatchEvents: number }> {
  const loginStates = await deleteExpiredLoginStates(db, now, now - LOGIN_STATE_RETENTION_MS);
  const launches = await deleteExpiredLaunches(db, now);
  // Dynamic registration sessions are kept a day, so that a replayed confirmation is named as such.
  const registrationSessions = await deleteRegistrationSessionsExpiredBefore(db, now - LOGIN_STATE_RETENTION_MS);
  const sandboxAssertions = await deleteExpiredAssertions(db, now);
  // Anyone who knows a dispatch id can add refusals (bounded by the rate limit): keep them finite.
  const dispatchEvents = await deleteEventsBefore(db, now - DISPATCH_EVENT_RETENTION_MS);
  return { loginStates, launches, registrationSessions, sandboxAssertions, dispatchEvents };
}
