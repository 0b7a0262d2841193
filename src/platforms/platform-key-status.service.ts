import type { Kysely } from 'kysely';
import type { KeySetStatus } from '../lti/platform-keys.js';
import { findPlatformKeyStatus, listPlatformKeyStatus, upsertPlatformKeyStatus } from './platform-key-status.repository.js';
import type { Database, PlatformKeyStatusTable } from '../store/tables.js';
import type { Clock } from '../util/clock.js';

/** The state of a platform's JWKS endpoint as administrators see it (API, CLI, the platforms page). */
export interface PlatformKeyHealth {
  readonly state: 'unknown' | 'ok' | 'stale' | 'failing';
  readonly fetchedAt: string | null;
  readonly kids: readonly string[];
  readonly error: string | null;
  readonly errorAt: string | null;
  readonly staleSince: string | null;
  /** A sentence for the admin row when something is wrong (null when all is well). */
  readonly warning: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Fetch outcomes of platform key sets, recorded in the database by whichever process
 * fetched (so every process, the CLI and the console see the same), read back for administrators.
 */
export class PlatformKeyStatusService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly staleLimitMs: number,
  ) {}

  /** The PlatformKeys status sink. */
  readonly record = async (platformId: string, s: KeySetStatus): Promise<void> => {
    await upsertPlatformKeyStatus(this.db, {
      platform_id: platformId,
      fetched_at: s.fetchedAt,
      kids: JSON.stringify(s.kids),
      error: s.error?.slice(0, 1000) ?? null,
      error_at: s.errorAt,
      stale_since: s.staleSince,
      updated_at: this.clock.now(),
    });
  };

  async get(platformId: string): Promise<PlatformKeyHealth> {
    return this.health(await findPlatformKeyStatus(this.db, platformId));
  }

  /** Every platform's health by platform id (one query, for the platforms page). */
  async all(): Promise<Map<string, PlatformKeyHealth>> {
    return new Map((await listPlatformKeyStatus(this.db)).map((row) => [row.platform_id, this.health(row)]));
  }

  health(row: PlatformKeyStatusTable | undefined): PlatformKeyHealth {
    if (!row) return { state: 'unknown', fetchedAt: null, kids: [], error: null, errorAt: null, staleSince: null, warning: null };
    const base = {
      fetchedAt: iso(row.fetched_at),
      kids: row.kids ? (JSON.parse(row.kids) as string[]) : [],
      error: row.error,
      errorAt: iso(row.error_at),
      staleSince: iso(row.stale_since),
    };
    if (row.error === null) return { ...base, state: 'ok', warning: null };
    const usable = row.stale_since !== null && row.fetched_at !== null && this.clock.now() - row.fetched_at <= this.staleLimitMs;
    if (usable) {
      return {
        ...base,
        state: 'stale',
        warning: `The JWKS endpoint has been failing since ${iso(row.stale_since)} (${row.error}); launches use the key set fetched at ${iso(row.fetched_at)} until ${iso((row.fetched_at as number) + this.staleLimitMs)}.`,
      };
    }
    return {
      ...base,
      state: 'failing',
      warning: `The JWKS endpoint fails (${row.error}) and no usable key set is cached: launches from this platform are refused.`,
    };
  }
}
