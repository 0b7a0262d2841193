import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type LogEvent, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createRequire } from 'node:module';
import { startCheckpointer } from './checkpointer.js';
import type pgTypes from 'pg';
import { isStorageFailure } from './database-errors.js';
import { DatabaseHealth } from './database-health.js';
import { pgPoolConfig, resilientPool, type PgTimeouts } from './pg-pool.js';
import { freeBytes, LOW_SPACE_BYTES, sqliteFileProblem, sqliteOpenError } from './sqlite-diagnosis.js';
import { LATEST_MIGRATION, migrationProvider } from './migrations/index.js';
import type { Database } from './tables.js';
import type { Config } from '../config/config.js';

export type { Dialect } from './dialect.js';
import type { Dialect } from './dialect.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Whether the database serves now, and since when it does not (readiness, fail-fast, one log line per outage). */
  readonly health: DatabaseHealth;
  /** The SQLite file (start-up messages name it); undefined on PostgreSQL. */
  readonly file?: string;
  close(): Promise<void>;
}

/** pg is loaded only when a PostgreSQL URL is used: the CLI on SQLite stays small. */
let pgModule: typeof pgTypes | undefined;
function loadPg(): typeof pgTypes {
  if (!pgModule) {
    pgModule = createRequire(import.meta.url)('pg') as typeof pgTypes;
    // int8 (bigint) columns hold millisecond timestamps and counters: safe as JS numbers.
    pgModule.types.setTypeParser(pgModule.types.builtins.INT8, (v: string) => Number(v));
  }
  return pgModule;
}

export interface OpenOptions {
  /** PostgreSQL schema to use (tests isolate themselves in their own schema). */
  readonly pgSchema?: string;
  readonly pgPoolSize?: number;
  /** Bounds on every wait for PostgreSQL (COURSEPORT_DB_CONNECT_TIMEOUT_MS, COURSEPORT_DB_STATEMENT_TIMEOUT_MS). */
  readonly pgTimeouts?: PgTimeouts;
  /** Called for every statement run, BEGIN and COMMIT included (tests count the statements of a launch). */
  readonly log?: (event: LogEvent) => void;
  /** SQLite file: checkpoint the WAL from a thread of its own (the server), not inside commits. */
  readonly backgroundCheckpoints?: { readonly intervalMs: number; readonly onError: (message: string) => void };
}

/** The defaults of COURSEPORT_DB_CONNECT_TIMEOUT_MS and COURSEPORT_DB_STATEMENT_TIMEOUT_MS (src/config/config.ts). */
export const DEFAULT_PG_TIMEOUTS: PgTimeouts = { connectTimeoutMs: 5000, statementTimeoutMs: 10_000 };

/** How the configuration bounds the database: timeouts and pool size (docs/configuration.md). */
export function storeOptions(config: Pick<Config, 'database'>): OpenOptions {
  return {
    pgTimeouts: { connectTimeoutMs: config.database.connectTimeoutMs, statementTimeoutMs: config.database.statementTimeoutMs },
    pgPoolSize: config.database.poolSize,
  };
}

export function openStore(databaseUrl: string, options: OpenOptions = {}): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length) || ':memory:';
    const where = resolve(file);
    const health = new DatabaseHealth('sqlite', {
      explain: (err) => (file === ':memory:' ? undefined : (sqliteFileProblem(where, err) ?? `database ${where}`)),
      // After a full disk, a write that fits proves little until there is room again.
      recovered: (outage) => outage.code !== 'SQLITE_FULL' || (freeBytes(dirname(where)) ?? LOW_SPACE_BYTES) >= LOW_SPACE_BYTES,
    });
    let conn: SQLite.Database;
    try {
      if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
      conn = new SQLite(file);
      conn.pragma('journal_mode = WAL');
      conn.pragma('synchronous = NORMAL');
      conn.pragma('foreign_keys = ON');
      conn.pragma('busy_timeout = 5000');
    } catch (err) {
      // SQLite says only "unable to open database file" or "disk I/O error": say which file and why.
      throw sqliteOpenError(where, err);
    }
    const bg = options.backgroundCheckpoints && file !== ':memory:' ? options.backgroundCheckpoints : undefined;
    let lastCheckpointError: string | undefined;
    const checkpointer = bg
      ? startCheckpointer(file, {
          intervalMs: bg.intervalMs,
          onError: (message) => {
            // Never let the WAL grow without bound: SQLite checkpoints inside commits again.
            conn.pragma('wal_autocheckpoint = 1000');
            // A full disk fails every checkpoint: one line per distinct error, not one a second.
            if (message === lastCheckpointError) return;
            lastCheckpointError = message;
            bg.onError(message);
          },
        })
      : undefined;
    if (checkpointer) conn.pragma('wal_autocheckpoint = 0');
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(conn, health) }),
      ...(options.log ? { log: options.log } : {}),
    });
    return {
      db,
      dialect: 'sqlite',
      health,
      ...(file !== ':memory:' ? { file: where } : {}),
      close: async () => {
        await checkpointer?.close();
        await db.destroy();
      },
    };
  }
  const pg = loadPg();
  const health = new DatabaseHealth('postgres');
  const pool = new pg.Pool({
    ...pgPoolConfig(options.pgTimeouts ?? DEFAULT_PG_TIMEOUTS),
    connectionString: databaseUrl,
    max: options.pgPoolSize ?? 10,
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: resilientPool(pool, health) }), ...(options.log ? { log: options.log } : {}) });
  return { db, dialect: 'postgres', health, close: () => db.destroy() };
}

const STATEMENT_CACHE_SIZE = 256;

/** A ROLLBACK after SQLite already rolled the transaction back itself (disk full, I/O error). */
const ROLLBACK_DONE: SqliteStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

/**
 * The connection as Kysely sees it:
 *
 * - Kysely's SQLite driver prepares every statement anew, which costs more than running it
 *   on the launch path. Courseport's queries are a small fixed set, so prepared statements
 *   are kept per SQL text (bounded); a statement still iterating is never handed out twice.
 * - Transactions begin IMMEDIATE: they take the write lock first, so a transaction that
 *   reads and then writes never works from a snapshot another process (the CLI) has
 *   changed meanwhile — it waits for busy_timeout instead of failing half-way.
 * - On SQLITE_FULL or an I/O error SQLite rolls the transaction back by itself; Kysely's
 *   ROLLBACK then fails with "cannot rollback - no transaction is active", which would
 *   replace the real error. That ROLLBACK is skipped.
 * - Storage failures mark the database away (logged once); the next write that reaches the
 *   disk (an autocommit statement or a COMMIT that changed rows) marks it back.
 */
function withStatementCache(conn: SQLite.Database, health: DatabaseHealth): SqliteDatabase {
  const cache = new Map<string, { raw: SQLite.Statement; guarded: SqliteStatement }>();
  const guard = <T>(run: () => T): T => {
    try {
      return run();
    } catch (err) {
      if (isStorageFailure(err)) health.failed(err);
      throw err;
    }
  };
  // Whether the open transaction changed a row: only then does its COMMIT show a write reaching the disk.
  let changedInTransaction = false;
  const guarded = (stmt: SQLite.Statement, isCommit: boolean): SqliteStatement => ({
    reader: stmt.reader,
    all: (parameters) => guard(() => stmt.all(parameters)),
    run: (parameters) => {
      const result = guard(() => stmt.run(parameters));
      const changed = Number(result.changes) > 0;
      if (conn.inTransaction) changedInTransaction ||= changed;
      else {
        if (isCommit ? changedInTransaction : changed) health.succeeded();
        changedInTransaction = false;
      }
      return result;
    },
    iterate: (parameters) => stmt.iterate(parameters),
  });
  return {
    close: () => {
      cache.clear();
      conn.close();
    },
    prepare: (text: string) => {
      if (text === 'rollback' && !conn.inTransaction) return ROLLBACK_DONE;
      const cached = cache.get(text);
      if (cached && !cached.raw.busy) return cached.guarded;
      const raw = conn.prepare(text === 'begin' ? 'begin immediate' : text);
      const entry = { raw, guarded: guarded(raw, text === 'commit') };
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, entry);
      }
      return entry.guarded;
    },
  };
}

export interface MigrateResult {
  readonly applied: readonly string[];
}

/** Applies pending migrations; Kysely's migrator locks against concurrent runs and refuses out-of-order ones. */
export async function migrateToLatest(store: Store): Promise<MigrateResult> {
  // On PostgreSQL the bookkeeping tables live in the current schema: without this, Kysely
  // finds another schema's kysely_migration tables and skips creating its own.
  const migrationTableSchema = store.dialect === 'postgres' ? await currentSchema(store) : undefined;
  const migrator = new Migrator({ db: store.db, provider: migrationProvider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    // Kysely looks at the tables of every schema first; another schema dropped or migrated at
    // that very moment (3F000, 42P01 for a table of it, 42703 for a column being added) says
    // nothing about ours: look again.
    const code = (error as { code?: unknown }).code;
    if ((code === '3F000' || code === '42P01' || code === '42703') && attempt < 3) continue;
    // A full disk or a read-only directory shows first here, at start: name the file and the cause.
    if (store.file && isStorageFailure(error)) throw sqliteOpenError(store.file, error);
    throw error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Applies pending migrations at start (`serve`, `migrate`, every CLI command). Migrations may
 * rewrite large tables, so on PostgreSQL they run on a connection of their own without the
 * statement timeout that bounds everything else.
 */
export async function migrateAtStart(databaseUrl: string, store: Store, connectTimeoutMs: number): Promise<MigrateResult> {
  if (store.dialect !== 'postgres') return migrateToLatest(store);
  const own = openStore(databaseUrl, { pgTimeouts: { connectTimeoutMs, statementTimeoutMs: 0 }, pgPoolSize: 1 });
  try {
    return await migrateToLatest(own);
  } finally {
    await own.close();
  }
}

async function currentSchema(store: Store): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check search_path');
  return schema;
}

/** True when the database answers and the newest migration has been applied. */
export async function isReady(store: Store): Promise<boolean> {
  try {
    return await latestMigrationApplied(store);
  } catch {
    return false;
  }
}

/** Whether the newest migration has been applied; throws what the database said when it cannot answer. */
export async function latestMigrationApplied(store: Store): Promise<boolean> {
  const table = store.dialect === 'postgres' ? sql.id(await currentSchema(store), 'kysely_migration') : sql.id('kysely_migration');
  const rows = await sql<{ name: string }>`select name from ${table} where name = ${LATEST_MIGRATION}`.execute(store.db);
  return rows.rows.length === 1;
}

/**
 * A write that changes nothing, to learn whether SQLite can write again after a storage
 * failure (a full disk still answers reads): it touches the one row of Kysely's migration
 * lock table, which every migrated database has.
 */
export async function probeWrite(store: Store): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await sql`update kysely_migration_lock set is_locked = is_locked where id = ${'migration_lock'}`.execute(trx);
  });
}

/** True for a unique-constraint violation on either engine (the loser of an insert race). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
