import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, databaseErrorCode, isConnectionFailure, isDatabaseUnavailable, isStorageFailure } from '../../src/store/database-errors.js';
import { DatabaseHealth } from '../../src/store/database-health.js';

const err = (code: string | undefined, message = 'x') => Object.assign(new Error(message), code ? { code } : {});

describe('database error classes', () => {
  it('tells an unreachable or silent PostgreSQL from a wrong statement', () => {
    for (const e of [
      err('ECONNREFUSED'),
      err('ECONNRESET'),
      err('08006'),
      err('57P03'),
      err(undefined, 'Connection terminated unexpectedly'),
      err(undefined, 'timeout exceeded when trying to connect'),
      err(undefined, 'Query read timeout'),
      new DatabaseUnavailableError('away'),
    ]) {
      expect(isConnectionFailure(e), e.message).toBe(true);
      expect(isDatabaseUnavailable(e), e.message).toBe(true);
    }
    // Terminated, cancelled by statement_timeout, out of connections: 503, but not "the server is gone".
    for (const code of ['57P01', '57014', '55P03', '53300', '53100']) {
      expect(isConnectionFailure(err(code)), code).toBe(false);
      expect(isDatabaseUnavailable(err(code)), code).toBe(true);
    }
    for (const code of ['23505', '42P01', '42601', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR']) expect(isDatabaseUnavailable(err(code)), code).toBe(false);
  });

  it('tells SQLite storage failures (disk full, read-only, I/O) from contention', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']) expect(isStorageFailure(err(code)), code).toBe(true);
    for (const code of ['SQLITE_BUSY', 'SQLITE_LOCKED']) {
      expect(isStorageFailure(err(code)), code).toBe(false);
      expect(isDatabaseUnavailable(err(code)), code).toBe(true);
    }
  });

  it('names node-postgres timeouts, which carry no code', () => {
    expect(databaseErrorCode(err(undefined, 'Query read timeout'))).toBe('TIMEOUT');
    expect(databaseErrorCode(new Error('wrapped', { cause: err('ECONNREFUSED') }))).toBe('ECONNREFUSED');
  });
});

describe('DatabaseHealth', () => {
  function health(options: { recovered?: () => boolean } = {}) {
    let now = 1_000;
    const lines: string[] = [];
    const h = new DatabaseHealth('postgres', { now: () => now, probeEveryMs: 1000, ...(options.recovered ? { recovered: options.recovered } : {}) });
    h.useLogger({ error: (_o, m) => lines.push(`error ${m}`), warn: (_o, m) => lines.push(`warn ${m}`), info: (_o, m) => lines.push(`info ${m}`) });
    return { h, lines, advance: (ms: number) => (now += ms) };
  }

  it('logs an outage once however often it fails, and its end once', () => {
    const { h, lines } = health();
    for (let i = 0; i < 50; i++) h.failed(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'));
    h.succeeded();
    h.succeeded();
    expect(lines).toEqual(['error database unavailable: connect ECONNREFUSED 127.0.0.1:5432', 'info database available again']);
  });

  it('admits everyone while up, and one caller per probe interval while down', () => {
    const { h, advance } = health();
    expect([h.admit(), h.admit()]).toEqual([true, true]);
    h.failed(err('ECONNREFUSED'));
    expect(h.admit()).toBe(false);
    advance(999);
    expect(h.admit()).toBe(false);
    advance(1);
    expect([h.admit(), h.admit()]).toEqual([true, false]);
    h.succeeded();
    expect([h.admit(), h.admit()]).toEqual([true, true]);
  });

  it('holds "available again" back until the cause is gone', () => {
    let room = false;
    const { h, lines } = health({ recovered: () => room });
    h.failed(err('SQLITE_FULL'));
    h.succeeded();
    expect(h.down?.code).toBe('SQLITE_FULL');
    room = true;
    h.succeeded();
    expect(h.down).toBeUndefined();
    expect(lines).toHaveLength(2);
  });

  it('logs connections closed by the server once per burst, and not during an outage', () => {
    const { h, lines, advance } = health();
    for (let i = 0; i < 10; i++) h.connectionClosed(err('57P01'));
    advance(5000);
    h.connectionClosed(err('57P01'));
    h.failed(err('ECONNREFUSED'));
    advance(10_000);
    h.connectionClosed(err('57P01'));
    expect(lines.filter((l) => l.includes('closed by the server'))).toHaveLength(2);
  });
});
