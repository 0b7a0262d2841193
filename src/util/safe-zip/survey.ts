import type { Entry, ZipFile } from 'yauzl';
import { AppError } from '../../errors/app-error.js';
import { nextEntry } from './archive.js';
import { decodeName, isMacJunk, normaliseName, PathTree } from './entry-names.js';
import { compressionRatio, damaged, formatBytes, quote, shown, tooManyEntries, unsafeEntry } from './errors.js';
import type { ExtractLimits, RequiredFile } from './types.js';

/**
 * Pass 1: reads the central directory only and refuses anything hostile or broken before a
 * single byte is written.
 */

const MiB = 1024 * 1024;
/** Entries (and archives) smaller than this are not ratio-checked: small files prove nothing. */
export const RATIO_CHECK_MIN_BYTES = 1 * MiB;
/** Size of a local file header without its name and extra field. */
const LOCAL_HEADER_FIXED_BYTES = 30;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const MSDOS_DIRECTORY_ATTRIBUTE = 0x10;

export type PlannedEntry =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly offset: number;
      readonly compressedSize: number;
      readonly size: number;
      readonly crc32: number;
      readonly isRequired: boolean;
    }
  | { readonly kind: 'directory'; readonly path: string; readonly offset: number }
  | { readonly kind: 'skip'; readonly path: string; readonly offset: number };

export interface Plan {
  /** One record per central-directory entry, in archive order. */
  readonly entries: readonly PlannedEntry[];
  readonly files: string[];
  readonly directories: string[];
  readonly totalBytes: number;
  /** Entries written in pass 2 (files and folders, not skipped junk). */
  readonly entriesToWrite: number;
}

export async function survey(zip: ZipFile, limits: ExtractLimits, required: RequiredFile | undefined): Promise<Plan> {
  if (zip.entryCount > limits.maxEntries) throw tooManyEntries(zip.entryCount, limits.maxEntries);

  const entries: PlannedEntry[] = [];
  const tree = new PathTree(limits.maxEntries);
  const ranges: { start: number; end: number; name: string }[] = [];
  let totalBytes = 0;
  let requiredFound = false;

  for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
    const name = decodeName(entry);
    const { path, isDirectory } = inspectEntry(entry, name);
    ranges.push({ start: entry.relativeOffsetOfLocalHeader, end: entry.relativeOffsetOfLocalHeader + LOCAL_HEADER_FIXED_BYTES + entry.compressedSize, name });

    if (isMacJunk(path)) {
      entries.push({ kind: 'skip', path, offset: entry.relativeOffsetOfLocalHeader });
      continue;
    }
    if (isDirectory) {
      tree.addDirectory(path, name);
      entries.push({ kind: 'directory', path, offset: entry.relativeOffsetOfLocalHeader });
      continue;
    }

    checkDecodable(entry, name);
    tree.addFile(path, name);
    const size = entry.uncompressedSize;
    totalBytes += size;
    if (totalBytes > limits.maxTotalBytes) {
      throw new AppError('PACKAGE_TOO_LARGE', `The package unpacks to more than ${formatBytes(limits.maxTotalBytes)}, the limit for one package.`, {
        details: { entry: shown(name), declaredBytes: totalBytes, limit: limits.maxTotalBytes },
        hint: 'Reduce the size of the course (e.g. compress its videos) or ask an administrator to raise the limit.',
      });
    }
    const isRequired = path === required?.path;
    if (isRequired) {
      requiredFound = true;
      if (size > required.maxBytes) throw required.tooLarge(size, name);
    }
    if (size > RATIO_CHECK_MIN_BYTES && size / entry.compressedSize > limits.maxCompressionRatio) {
      throw compressionRatio(size / entry.compressedSize, limits.maxCompressionRatio, name);
    }
    entries.push({ kind: 'file', path, offset: entry.relativeOffsetOfLocalHeader, compressedSize: entry.compressedSize, size, crc32: entry.crc32, isRequired });
  }

  checkNoOverlap(ranges);
  if (totalBytes > RATIO_CHECK_MIN_BYTES && totalBytes / zip.fileSize > limits.maxCompressionRatio) {
    throw compressionRatio(totalBytes / zip.fileSize, limits.maxCompressionRatio);
  }
  const files = tree.files();
  if (required !== undefined && !requiredFound) throw required.missing(files, entries.length === 0);

  return {
    entries,
    files,
    directories: tree.directories(),
    totalBytes,
    entriesToWrite: entries.filter((e) => e.kind !== 'skip').length,
  };
}

function inspectEntry(entry: Entry, name: string): { path: string; isDirectory: boolean } {
  const { path, isDirectoryName } = normaliseName(name);
  const unixMode = entry.externalFileAttributes >>> 16;
  if ((unixMode & S_IFMT) === S_IFLNK) {
    throw unsafeEntry(name, 'it is a symbolic link; links could point outside the package and are never extracted');
  }
  // Some Windows tools mark folders only by attribute, without the trailing '/'.
  const directoryByAttributes =
    ((unixMode & S_IFMT) === S_IFDIR || (entry.externalFileAttributes & MSDOS_DIRECTORY_ATTRIBUTE) !== 0) && entry.uncompressedSize === 0;
  return { path, isDirectory: isDirectoryName || directoryByAttributes };
}

function checkDecodable(entry: Entry, name: string): void {
  if (entry.isEncrypted()) {
    throw new AppError('PACKAGE_UNSUPPORTED', `The package contains the encrypted (password-protected) entry ${quote(name)}.`, {
      details: { entry: shown(name) },
      hint: 'Create the ZIP again without a password.',
    });
  }
  if (entry.compressionMethod !== METHOD_STORED && entry.compressionMethod !== METHOD_DEFLATE) {
    throw new AppError(
      'PACKAGE_UNSUPPORTED',
      `The entry ${quote(name)} uses ZIP compression method ${entry.compressionMethod}; only Store and Deflate are supported.`,
      {
        details: { entry: shown(name), compressionMethod: entry.compressionMethod },
        hint: 'Create the ZIP again with standard Deflate compression (the default of most tools).',
      },
    );
  }
  if (entry.compressionMethod === METHOD_STORED && entry.compressedSize !== entry.uncompressedSize) {
    throw damaged(`the stored entry ${quote(name)} declares ${entry.uncompressedSize} bytes but occupies ${entry.compressedSize}`, name);
  }
}

/**
 * Entries whose data overlap are never produced by a ZIP tool; they are the trick of the
 * "non-recursive" zip bombs (many entries inflating the same compressed bytes).
 */
function checkNoOverlap(ranges: { start: number; end: number; name: string }[]): void {
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1]!;
    const current = ranges[i]!;
    if (current.start < previous.end) {
      throw unsafeEntry(current.name, `its data overlaps the entry ${quote(previous.name)}, which only crafted archives (zip bombs) do`);
    }
  }
}
