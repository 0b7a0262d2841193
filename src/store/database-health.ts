import type { Dialect } from './dialect.js';
import { databaseErrorCode, describeDatabaseError } from './database-errors.js';

export interface HealthLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface DatabaseOutage {
  readonly since: number;
  /** The engine's code (`SQLITE_FULL`, `ECONNREFUSED`, …), when it has one. */
  readonly code: string | undefined;
  readonly reason: string;
}

/** How often, while the database is away, one caller may try to reach it again. */
export const DEFAULT_PROBE_EVERY_MS = 1000;

/** Connections closed by the server within this of the last one logged are not logged again. */
const CLOSED_LOG_EVERY_MS = 5000;

const stderrLogger: HealthLogger = {
  error: (obj, msg) => console.error(msg, JSON.stringify(obj)),
  warn: (obj, msg) => console.error(msg, JSON.stringify(obj)),
  info: () => undefined,
};

/**
 * What the process knows about its database: up, or away since when and why. Every failure
 * that means the database cannot serve (PostgreSQL unreachable or silent, SQLite's disk full
 * or read-only) marks it away, and the first success marks it back; each change is logged
 * once, with the engine's own error, however many requests fail meanwhile.
 *
 * While PostgreSQL is away, callers are refused at once instead of each waiting for a
 * connection timeout (`admit`), except one per interval, whose attempt finds out whether it
 * is back — so the process recovers by itself, within about a second of the database's return.
 */
export class DatabaseHealth {
  private outage: DatabaseOutage | undefined;
  private nextProbeAt = 0;
  private lastClosedLogAt = Number.NEGATIVE_INFINITY;
  private log: HealthLogger = stderrLogger;

  private readonly probeEveryMs: number;
  private readonly now: () => number;
  private readonly explain: ((err: unknown) => string | undefined) | undefined;
  private readonly recovered: ((outage: DatabaseOutage) => boolean) | undefined;

  /**
   * `explain` adds what the engine does not say (SQLite: which file, and that its disk is full
   * or read-only); `recovered` may hold back "available again" until the cause is gone (SQLite:
   * a small write fits in a nearly full disk, the next commit would not).
   */
  constructor(
    readonly dialect: Dialect,
    options: {
      probeEveryMs?: number;
      now?: () => number;
      explain?: (err: unknown) => string | undefined;
      recovered?: (outage: DatabaseOutage) => boolean;
    } = {},
  ) {
    this.probeEveryMs = options.probeEveryMs ?? DEFAULT_PROBE_EVERY_MS;
    this.now = options.now ?? Date.now;
    this.explain = options.explain;
    this.recovered = options.recovered;
  }

  useLogger(log: HealthLogger): void {
    this.log = log;
  }

  /** Undefined while the database serves; the outage otherwise. */
  get down(): DatabaseOutage | undefined {
    return this.outage;
  }

  /** A failure that means the database is away (the caller classified it). */
  failed(err: unknown): void {
    const now = this.now();
    this.nextProbeAt = now + this.probeEveryMs;
    if (this.outage) return;
    const explained = this.explain?.(err);
    this.outage = { since: now, code: databaseErrorCode(err), reason: `${describeDatabaseError(err)}${explained ? ` (${explained})` : ''}` };
    this.log.error({ database: this.dialect, dbError: this.outage.code, reason: this.outage.reason }, `database unavailable: ${this.outage.reason}`);
  }

  /** The database answered (PostgreSQL), or a write reached the disk (SQLite). */
  succeeded(): void {
    if (!this.outage) return;
    if (this.recovered && !this.recovered(this.outage)) return;
    const downMs = this.now() - this.outage.since;
    this.outage = undefined;
    this.log.info({ database: this.dialect, downMs }, 'database available again');
  }

  /**
   * A connection the server closed while idle (restart, failover, pg_terminate_backend): the
   * pool replaces it. A restart closes all of them at once: one line per burst.
   */
  connectionClosed(err: unknown): void {
    const now = this.now();
    if (this.outage || now - this.lastClosedLogAt < CLOSED_LOG_EVERY_MS) return;
    this.lastClosedLogAt = now;
    this.log.warn(
      { database: this.dialect, dbError: databaseErrorCode(err), reason: describeDatabaseError(err) },
      'an idle database connection was closed by the server; it will be replaced',
    );
  }

  /**
   * Whether a caller may try the database now: always while it is up; while it is away, one
   * caller per probe interval (the others fail fast).
   */
  admit(): boolean {
    if (!this.outage) return true;
    const now = this.now();
    if (now < this.nextProbeAt) return false;
    this.nextProbeAt = now + this.probeEveryMs;
    return true;
  }
}
