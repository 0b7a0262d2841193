import { latestMigrationApplied, probeWrite, type Store } from './database.js';
import { DatabaseUnavailableError, databaseErrorCode, describeDatabaseError, isDatabaseUnavailable } from './database-errors.js';

export interface Readiness {
  readonly ready: boolean;
  /** Not ready because the database is away (rather than, say, not migrated yet). */
  readonly unavailable?: boolean;
  /** Why not, for operators (the engine's error, or the wait that ran out). */
  readonly reason?: string;
  readonly dbError?: string;
}

/**
 * Whether this process can serve, answered within `timeoutMs` whatever the database does:
 * a stopped or unreachable PostgreSQL makes the check lose the race, not hang the answer
 * (the query itself ends with the statement timeout). While the database is known to be
 * away, the known outage is the answer, except once per probe interval when the check
 * tries again (see DatabaseHealth). SQLite away after a storage failure must show a write
 * getting through.
 */
export async function checkReadiness(store: Store, timeoutMs: number): Promise<Readiness> {
  // While PostgreSQL is known to be away, the pool refuses the check at once (DatabaseUnavailableError),
  // except once per probe interval, when the check is what finds it back.
  const outage = store.health.down;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () => resolve({ ready: false, unavailable: true, dbError: 'TIMEOUT', reason: `the database did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const check = (async (): Promise<Readiness> => {
    try {
      if (outage && store.dialect === 'sqlite') {
        await probeWrite(store);
        // The write got through, but the cause may remain (a nearly full disk): still away.
        const still = store.health.down;
        if (still) return { ready: false, unavailable: true, reason: still.reason, ...(still.code ? { dbError: still.code } : {}) };
      }
      if (!(await latestMigrationApplied(store))) return { ready: false, reason: 'database migrations are not applied (run: courseport migrate)' };
      return { ready: true };
    } catch (err) {
      const known = err instanceof DatabaseUnavailableError ? store.health.down : undefined;
      if (known) return { ready: false, unavailable: true, reason: known.reason, ...(known.code ? { dbError: known.code } : {}) };
      const code = databaseErrorCode(err);
      return { ready: false, unavailable: isDatabaseUnavailable(err), reason: describeDatabaseError(err), ...(code ? { dbError: code } : {}) };
    }
  })();
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}
