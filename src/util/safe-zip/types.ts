import type { AppError } from '../../errors/app-error.js';

export interface ExtractLimits {
  /** Most entries in the central directory, and most distinct folders the files create. */
  maxEntries: number;
  /** Most bytes the archive may unpack to (sum of the regular files). */
  maxTotalBytes: number;
  /** Highest uncompressed/compressed ratio, per large entry and for the whole archive. */
  maxCompressionRatio: number;
}

export interface ExtractProgress {
  entriesDone: number;
  entriesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/**
 * A file the archive must hold, whose bytes are returned as well as written (an archive's
 * index, such as a SCORM package's manifest). Its size is bounded because it is kept in memory.
 */
export interface RequiredFile {
  /** The archive-relative POSIX path, compared exactly after './' segments are dropped. */
  readonly path: string;
  readonly maxBytes: number;
  /** The refusal when the archive declares more than `maxBytes` for it. */
  readonly tooLarge: (bytes: number, entryName: string) => AppError;
  /** The refusal when the archive lacks it: `files` are the files it holds, sorted. */
  readonly missing: (files: readonly string[], emptyArchive: boolean) => AppError;
}
