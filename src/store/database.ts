import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type LogEvent, type SqliteDatabase } from 'kysely';
import { createRequire } from 'node:module';
import { startCheckpointer } from './checkpointer.js';
import type pgTypes from 'pg';
import { LATEST_MIGRATION, migrationProvider } from './migrations/index.js';
import type { Database } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
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
  /** Called for every statement run, BEGIN and COMMIT included (tests count the statements of a launch). */
  readonly log?: (event: LogEvent) => void;
  /** SQLite file: checkpoint the WAL from a thread of its own (the server), not inside commits. */
  readonly backgroundCheckpoints?: { readonly intervalMs: number; readonly onError: (message: string) => void };
}

export function openStore(databaseUrl: string, options: OpenOptions = {}): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length) || ':memory:';
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const conn = new SQLite(file);
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = NORMAL');
    conn.pragma('foreign_keys = ON');
    conn.pragma('busy_timeout = 5000');
    const bg = options.backgroundCheckpoints && file !== ':memory:' ? options.backgroundCheckpoints : undefined;
    const checkpointer = bg
      ? startCheckpointer(file, {
          intervalMs: bg.intervalMs,
          onError: (message) => {
            // Never let the WAL grow without bound: SQLite checkpoints inside commits again.
            conn.pragma('wal_autocheckpoint = 1000');
            bg.onError(message);
          },
        })
      : undefined;
    if (checkpointer) conn.pragma('wal_autocheckpoint = 0');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(conn) }), ...(options.log ? { log: options.log } : {}) });
    return {
      db,
      dialect: 'sqlite',
      close: async () => {
        await checkpointer?.close();
        await db.destroy();
      },
    };
  }
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.pgPoolSize ?? 10,
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(options.log ? { log: options.log } : {}) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every statement anew, which costs more than running it
 * on the launch path. Courseport's queries are a small fixed set, so prepared statements
 * are kept per SQL text (bounded); a statement still iterating is never handed out twice.
 */
function withStatementCache(conn: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      cache.clear();
      conn.close();
    },
    prepare: (text: string) => {
      const cached = cache.get(text);
      if (cached && !cached.busy) return cached;
      const stmt = conn.prepare(text);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, stmt);
      }
      return stmt;
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
    // Kysely looks at the tables of every schema first; another schema dropped at that very
    // moment (3F000) says nothing about ours: look again.
    if ((error as { code?: unknown }).code === '3F000' && attempt < 3) continue;
    throw error instanceof Error ? error : new Error(String(error));
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
    const table = store.dialect === 'postgres' ? sql.id(await currentSchema(store), 'kysely_migration') : sql.id('kysely_migration');
    const rows = await sql<{ name: string }>`select name from ${table} where name = ${LATEST_MIGRATION}`.execute(store.db);
    return rows.rows.length === 1;
  } catch {
    return false;
  }
}

/** True for a unique-constraint violation on either engine (the loser of an insert race). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
