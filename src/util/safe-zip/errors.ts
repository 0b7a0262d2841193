import { AppError } from '../../errors/app-error.js';

const MiB = 1024 * 1024;
const SHOWN_NAME_CHARS = 300;

export function unsafeEntry(name: string, reason: string): AppError {
  return new AppError('PACKAGE_UNSAFE_ENTRY', `The package contains an unsafe entry ${quote(name)}: ${reason}.`, {
    details: { entry: shown(name), reason },
  });
}

export function tooManyEntries(count: number, limit: number): AppError {
  return new AppError('PACKAGE_TOO_MANY_ENTRIES', `The package contains ${count} entries; at most ${limit} are allowed.`, {
    details: { entries: count, limit },
  });
}

export function compressionRatio(ratio: number, limit: number, name?: string): AppError {
  const rounded = Number.isFinite(ratio) ? Math.round(ratio) : 'infinite';
  const what = name === undefined ? 'The archive as a whole' : `The entry ${quote(name)}`;
  return new AppError(
    'PACKAGE_COMPRESSION_RATIO',
    `${what} is compressed ${rounded}:1, beyond the ${limit}:1 that real course content reaches; it looks like a zip bomb.`,
    {
      details: { ...(name === undefined ? {} : { entry: shown(name) }), ratio: rounded, limit },
    },
  );
}

export function damaged(reason: string, name?: string, cause?: unknown): AppError {
  return new AppError('PACKAGE_NOT_ZIP', `The ZIP archive is damaged: ${reason}.`, {
    details: { ...(name === undefined ? {} : { entry: shown(name) }), reason },
    cause,
  });
}

export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Names are attacker-controlled: cap their length wherever they are echoed. */
export function shown(name: string): string {
  return name.length > SHOWN_NAME_CHARS ? `${name.slice(0, SHOWN_NAME_CHARS)}…` : name;
}

/** JSON quoting makes control characters visible (`"a\u0000b"`). */
export function quote(name: string): string {
  return JSON.stringify(shown(name));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
