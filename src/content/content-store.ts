import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/**
 * Where package files live. The local directory store keeps each package version under
 * `<root>/<key>/`; an S3-compatible store can implement the same interface later.
 * Imports extract into a staging directory first and commit it with one rename, so a
 * failed import leaves nothing behind and readers never see half a package.
 */
export interface ContentStore {
  /** A fresh, empty staging directory for an import. */
  createStaging(): Promise<string>;
  /** Moves a staging directory into place under `key` (atomic on one file system). */
  commit(stagingDir: string, key: string): Promise<void>;
  /** Deletes a staging directory or a committed key; missing is fine. */
  discard(stagingDirOrKey: string): Promise<void>;
  /** The absolute file for `relativePath` inside `key`, or undefined when it would escape it. */
  resolveFile(key: string, relativePath: string): string | undefined;
  /** Whether the key has been committed. */
  exists(key: string): Promise<boolean>;
}

export class LocalContentStore implements ContentStore {
  private readonly packagesDir: string;
  private readonly stagingDir: string;

  constructor(root: string) {
    this.packagesDir = resolve(root, 'packages');
    this.stagingDir = resolve(root, 'staging');
  }

  async createStaging(): Promise<string> {
    await mkdir(this.stagingDir, { recursive: true });
    const dir = join(this.stagingDir, `import-${Date.now()}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir);
    return dir;
  }

  async commit(stagingDir: string, key: string): Promise<void> {
    assertKey(key);
    await mkdir(this.packagesDir, { recursive: true });
    await rename(stagingDir, join(this.packagesDir, key));
  }

  async discard(stagingDirOrKey: string): Promise<void> {
    const target = stagingDirOrKey.startsWith(this.stagingDir + sep) ? stagingDirOrKey : join(this.packagesDir, stagingDirOrKey);
    if (!target.startsWith(this.stagingDir + sep) && !target.startsWith(this.packagesDir + sep)) return;
    await rm(target, { recursive: true, force: true });
  }

  resolveFile(key: string, relativePath: string): string | undefined {
    assertKey(key);
    const base = join(this.packagesDir, key);
    const file = resolve(base, relativePath);
    return file.startsWith(base + sep) ? file : undefined;
  }

  /** The directory holding a committed key's files (for serving with @fastify/send). */
  localRoot(key: string): string {
    assertKey(key);
    return join(this.packagesDir, key);
  }

  async exists(key: string): Promise<boolean> {
    assertKey(key);
    try {
      return (await stat(join(this.packagesDir, key))).isDirectory();
    } catch {
      return false;
    }
  }

  /**
   * Removes staging directories left by a crash during an import (called at start). Only
   * old ones: another process sharing the data directory may be importing right now.
   */
  async clearStaging(olderThanMs = 24 * 3600 * 1000): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.stagingDir);
    } catch {
      return;
    }
    const cutoff = Date.now() - olderThanMs;
    for (const name of names) {
      const dir = join(this.stagingDir, name);
      const info = await stat(dir).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(dir, { recursive: true, force: true });
    }
  }
}

function assertKey(key: string): void {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(key)) throw new Error(`invalid content key ${JSON.stringify(key)}`);
}
