import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small file system of the test's own (tmpfs), to fill up or make read-only: a real full
 * disk and a real read-only directory, as SQLite meets them. Mounting needs root, as CI has.
 */
export interface SmallDisk {
  readonly dir: string;
  /** Writes a filler file until the disk has no space left. */
  fill(): void;
  /** Removes the filler. */
  free(): void;
  readOnly(): Promise<void>;
  remove(): Promise<void>;
}

export async function mountSmallDisk(sizeMiB: number): Promise<SmallDisk> {
  if (process.getuid?.() !== 0) throw new Error('a small disk of the test’s own needs root (mount -t tmpfs)');
  const dir = mkdtempSync(join(tmpdir(), 'courseport-disk-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill: () => {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // The last bytes that still fit, so that not even one more page can be written.
        for (;;) {
          try {
            writeSync(fd, block, 0, 512);
          } catch {
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    readOnly: async () => {
      await run('mount', ['-o', 'remount,ro', dir]);
    },
    remove: async () => {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
