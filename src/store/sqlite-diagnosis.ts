import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeDatabaseError } from './database-errors.js';

/** The SQLite database cannot be opened or written at start: the message names the file and the cause. */
export class DatabaseOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseOpenError';
  }
}

/** Below this much free space, a failure to write is blamed on a full disk (and the disk is not taken as usable again). */
export const LOW_SPACE_BYTES = 1024 * 1024;

/** Free bytes on the file system holding `dir`; undefined when it cannot be read. */
export function freeBytes(dir: string): number | undefined {
  try {
    const fs = statfsSync(dir);
    return Number(fs.bavail) * Number(fs.bsize);
  } catch {
    return undefined;
  }
}

function errnoOf(err: unknown): string {
  return (err as { code?: unknown }).code === undefined ? String(err) : String((err as { code: unknown }).code);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Why SQLite cannot use `file`, found by looking at the file system: SQLite itself says only
 * "unable to open database file" or "disk I/O error". Undefined when nothing is wrong there.
 */
export function sqliteFileProblem(file: string, err?: unknown): string | undefined {
  const dir = dirname(file);
  if (!existsSync(dir)) return `the directory ${dir} does not exist`;
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EROFS') return `the data directory ${dir} is on a read-only file system`;
    return `this process (uid ${process.getuid?.() ?? '?'}) may not write to the data directory ${dir} (${code})`;
  }
  if (existsSync(file)) {
    try {
      accessSync(file, constants.W_OK);
    } catch (e) {
      return `the database file is not writable (${errnoOf(e)})`;
    }
  }
  const free = freeBytes(dir);
  const full = (err as { code?: unknown } | undefined)?.code === 'SQLITE_FULL';
  if (free !== undefined && (free < LOW_SPACE_BYTES || full)) return `the disk holding ${dir} is full (${formatBytes(free)} free)`;
  return undefined;
}

/** The start-up error for a SQLite database that cannot be opened, migrated or written. */
export function sqliteOpenError(file: string, err: unknown): DatabaseOpenError {
  const problem = sqliteFileProblem(file, err);
  return new DatabaseOpenError(`Cannot use the SQLite database ${file}: ${problem ?? 'SQLite refused it'} (SQLite: ${describeDatabaseError(err)})`, {
    cause: err,
  });
}
