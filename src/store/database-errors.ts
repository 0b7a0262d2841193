/**
 * Which database errors mean "the database cannot serve right now" (the request may succeed
 * later, so it answers 503) rather than "this statement is wrong" (a bug, 500). Both engines'
 * codes are recognised here and nowhere else.
 */

/** Thrown without touching the network while the database is known to be away (see DatabaseHealth). */
export class DatabaseUnavailableError extends Error {
  readonly code = 'COURSEPORT_DATABASE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Node socket errors: the server is not there, or the connection to it broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EHOSTDOWN']);

/** node-postgres reports a lost or unanswered connection with these messages (no code). */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
];

/** SQLite errors of the storage under the database (disk full, read-only, I/O), not of a statement. */
const SQLITE_STORAGE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|NOMEM|CORRUPT|NOTADB)/;
/** Another connection holds the lock longer than busy_timeout. */
const SQLITE_CONTENTION = /^SQLITE_(BUSY|LOCKED)/;

function codeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The database error's own code (`SQLITE_FULL`, `57P01`, `ECONNREFUSED`; `TIMEOUT` for node-postgres's timeouts, which have none), for logs. */
export function databaseErrorCode(err: unknown): string | undefined {
  return codeOf(err) ?? (/timeout/i.test(messageOf(err)) ? 'TIMEOUT' : undefined);
}

/**
 * The connection to PostgreSQL could not be made, broke, or stayed silent past its timeout:
 * the server is down, restarting, stopped or unreachable. (Errors of idle connections that
 * the server closed on its own, such as `pg_terminate_backend`, are not an outage: the pool
 * simply opens new ones.)
 */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const code = codeOf(err);
  if (code !== undefined && (SOCKET_CODES.has(code) || code.startsWith('08') || code === '57P03')) return true;
  const message = messageOf(err);
  return PG_CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** SQLite cannot write (or read) its files: disk full, read-only, I/O error. */
export function isStorageFailure(err: unknown): boolean {
  return SQLITE_STORAGE.test(codeOf(err) ?? '');
}

/**
 * The request failed because the database is away, overloaded or out of space — not because
 * of the request: it answers 503 DATABASE_UNAVAILABLE and may be retried.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (isConnectionFailure(err) || isStorageFailure(err)) return true;
  const code = codeOf(err) ?? '';
  if (SQLITE_CONTENTION.test(code)) return true;
  // PostgreSQL: shut down or crashed under the connection (57P01/57P02), statement or lock
  // timeout (57014, 55P03), out of disk, memory or connections (53xxx).
  return code === '57P01' || code === '57P02' || code === '57014' || code === '55P03' || code.startsWith('53');
}

/** One line for logs: the engine's code and message. */
export function describeDatabaseError(err: unknown): string {
  const code = codeOf(err);
  const message = messageOf(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
