import { opendir, realpath } from 'node:fs/promises';
import { AppError } from '../../errors/app-error.js';
import { withZip } from './archive.js';
import { survey } from './survey.js';
import type { ExtractLimits, ExtractProgress, RequiredFile } from './types.js';
import { writeEntries } from './write.js';

/**
 * Safe extraction of an untrusted ZIP archive into an empty directory, in two passes over
 * the archive:
 * 1. the survey reads the central directory only and refuses anything hostile or broken
 *    (unsafe names, symlinks, duplicates, encryption, unsupported compression, too many
 *    entries, declared sizes and compression ratios beyond the limits, overlapping entries,
 *    a missing required file) before a single byte is written;
 * 2. the writer streams every entry to disk with constant memory, counting the real bytes and
 *    checking the CRC, because the sizes declared in the headers can lie.
 *
 * Every failure is an AppError (PACKAGE_* codes for faults of the archive); the caller
 * deletes destDir.
 */

interface ExtractOptions {
  readonly limits: ExtractLimits;
  /** A file the archive must hold; its bytes are returned as `required`. */
  readonly required?: RequiredFile;
  readonly onProgress?: ((p: ExtractProgress) => void) | undefined;
}

interface ExtractedZip {
  /** Archive-relative POSIX paths of the regular files extracted, sorted. */
  files: string[];
  /** Every folder created (explicit folder entries and the parents of files), sorted, no trailing '/'. */
  directories: string[];
  /** Bytes written (equals the declared total; a difference is refused). */
  totalBytes: number;
  /** The bytes of `options.required`, when one was asked for. */
  required: Buffer | undefined;
}

/** Extracts zipPath into destDir (which exists and is empty). Throws AppError; the caller deletes destDir on failure. */
export async function extractZip(zipPath: string, destDir: string, options: ExtractOptions): Promise<ExtractedZip> {
  const plan = await withZip(zipPath, (zip) => survey(zip, options.limits, options.required));
  const root = await emptyDestination(destDir);
  const required = await withZip(zipPath, (zip) => writeEntries(zip, plan, root, options.limits, options.onProgress));
  return {
    files: plan.files,
    directories: plan.directories,
    totalBytes: plan.totalBytes,
    required,
  };
}

/** The caller's staging directory, resolved (it may sit behind a symlink such as /tmp on macOS). */
async function emptyDestination(destDir: string): Promise<string> {
  let root: string;
  let empty: boolean;
  try {
    root = await realpath(destDir);
    const dir = await opendir(root);
    try {
      empty = (await dir.read()) === null;
    } finally {
      await dir.close();
    }
  } catch (err) {
    throw new AppError('INTERNAL', 'The staging directory for the package cannot be read.', { cause: err });
  }
  if (!empty) throw new AppError('INTERNAL', 'extractZip needs an empty destination directory.');
  return root;
}
