import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pgTypes from 'pg';
import { DatabaseUnavailableError, isConnectionFailure } from './database-errors.js';
import type { DatabaseHealth } from './database-health.js';

export interface PgTimeouts {
  /** Opening a connection, and waiting for a free one when the pool is full. */
  readonly connectTimeoutMs: number;
  /** PostgreSQL cancels a statement (and ends a transaction left idle) after this long; 0: never. */
  readonly statementTimeoutMs: number;
}

/**
 * How much longer than the server-side statement timeout the client waits for an answer
 * before it gives the connection up: a stopped (SIGSTOP) or unreachable server never cancels
 * anything, so only the client can end the wait.
 */
const READ_TIMEOUT_GRACE_MS = 1000;

/** pg.Pool settings that bound every wait on the database (docs/configuration.md). */
export function pgPoolConfig(timeouts: PgTimeouts): pgTypes.PoolConfig {
  const statements = timeouts.statementTimeoutMs;
  return {
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    // 0 turns statement timeouts off (migrations, which may rewrite large tables).
    ...(statements > 0
      ? {
          statement_timeout: statements,
          // A process stopped inside a transaction must not hold its row locks for ever.
          idle_in_transaction_session_timeout: statements,
          query_timeout: statements + READ_TIMEOUT_GRACE_MS,
        }
      : {}),
    keepAlive: true,
    application_name: 'courseport',
  };
}

/**
 * The pg.Pool as Kysely sees it, made safe for a database that goes away:
 *
 * - the pool and every client have an `error` listener: a connection the server closes
 *   (restart, failover, `pg_terminate_backend`, `idle_session_timeout`) is an event to log,
 *   never an uncaught exception that ends the process;
 * - a client whose connection broke or whose query went unanswered is destroyed on release,
 *   not handed to the next request;
 * - a ROLLBACK on such a client is skipped (the server rolls back a dropped session itself),
 *   so the caller sees the real error, not "not queryable";
 * - while the database is away (`DatabaseHealth`), connections are refused at once except
 *   one probe per interval.
 */
export function resilientPool(pool: pgTypes.Pool, health: DatabaseHealth): PostgresPool {
  pool.on('error', (err) => health.connectionClosed(err));
  // A checked-out client has no pool listener: its errors reach the query in flight (or the
  // next one), and must not also be thrown as an 'error' event nobody listens to.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return {
    connect: async () => {
      if (!health.admit()) {
        throw new DatabaseUnavailableError(`the database is unavailable (${health.down?.reason ?? 'unknown'}); trying again shortly`);
      }
      let client: pgTypes.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        if (isConnectionFailure(err)) health.failed(err);
        throw err;
      }
      return wrapClient(client, health);
    },
    end: () => pool.end(),
  };
}

function wrapClient(client: pgTypes.PoolClient, health: DatabaseHealth): PostgresPoolClient {
  let broken = false;
  const queryable = () => !broken && (client as unknown as { _queryable?: boolean })._queryable !== false;
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as never) as PostgresCursor<R>;
    if (sqlOrCursor === 'rollback' && !queryable()) return Promise.resolve({ command: 'ROLLBACK', rowCount: 0, rows: [] });
    return (client.query(sqlOrCursor, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>).then(
      (result) => {
        health.succeeded();
        return result;
      },
      (err: unknown) => {
        if (isConnectionFailure(err)) {
          broken = true;
          // The server took longer than its own statement timeout to say anything: it is not serving.
          if (err instanceof Error && err.message.includes('Query read timeout')) health.failed(err);
        }
        throw err;
      },
    );
  }
  return {
    query,
    release: (destroy?: boolean) => client.release(destroy || broken ? true : undefined),
  };
}
