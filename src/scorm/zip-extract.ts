import { createWriteStream } from 'node:fs';
import { mkdir, opendir, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '../errors/app-error.js';

/**
 * Safe extraction of an uploaded SCORM package (a ZIP) into an empty staging directory.
 *
 * Two passes over the archive:
 * 1. `survey` reads the central directory only and refuses anything hostile or broken
 *    (unsafe names, symlinks, duplicates, encryption, unsupported compression, too many
 *    entries, declared sizes and compression ratios beyond the limits, overlapping entries,
 *    no manifest at the root) before a single byte is written.
 * 2. `writeEntries` streams every entry to disk with constant memory, counting the real
 *    bytes and checking the CRC, because the sizes declared in the headers can lie.
 *
 * Every failure is an AppError with a PACKAGE_* code; the caller deletes destDir.
 */

export interface ExtractLimits {
  /** Most entries in the central directory, and most distinct folders the files create. */
  maxEntries: number;
  /** Most bytes the package may unpack to (sum of the regular files). */
  maxTotalBytes: number;
  /** Highest uncompressed/compressed ratio, per large entry and for the whole archive. */
  maxCompressionRatio: number;
}

/**
 * - 20 000 entries: the largest real SCORM packages (Storyline/Rise exports with video
 *   segments, many-SCO courses) have a few thousand files; 20 000 leaves ample room while
 *   bounding the work and memory of the survey (one small record per entry).
 * - 2 GiB: courses with embedded video reach several hundred MB; 2 GiB is generous and still
 *   bounds disk use of one import.
 * - ratio 200: Deflate cannot exceed ~1032:1, and real course content (HTML, JS, XML, media)
 *   compresses between 1:1 (media) and ~10:1 (text); even very repetitive text seldom passes
 *   50:1. 200 is well above anything legitimate yet refuses the classic single-layer zip bomb
 *   (zeros at ~1000:1). Only entries over 1 MiB are checked alone, so tiny highly-compressible
 *   files (an empty JSON array padded with spaces) never trip it.
 */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = Object.freeze({
  maxEntries: 20_000,
  maxTotalBytes: 2 * 1024 ** 3,
  maxCompressionRatio: 200,
});

export interface ExtractProgress {
  entriesDone: number;
  entriesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface ExtractResult {
  /** Package-relative POSIX paths of the regular files extracted, sorted. */
  files: string[];
  /** Every folder created (explicit folder entries and the parents of files), sorted, no trailing '/'. */
  directories: string[];
  /** Bytes written (equals the declared total; a difference is refused). */
  totalBytes: number;
  /** The text of imsmanifest.xml at the package root, decoded per its BOM / XML declaration. */
  manifestXml: string;
}

const MiB = 1024 * 1024;
const MANIFEST_NAME = 'imsmanifest.xml';
const MAX_MANIFEST_BYTES = 4 * MiB;
/** Entries (and archives) smaller than this are not ratio-checked: small files prove nothing. */
const RATIO_CHECK_MIN_BYTES = 1 * MiB;
const PROGRESS_EVERY_BYTES = 8 * MiB;
/** Longer names than any real package needs; bounds the memory of the survey. */
const MAX_NAME_BYTES = 1024;
/** NAME_MAX on common file systems: refuse clearly instead of failing with ENAMETOOLONG. */
const MAX_SEGMENT_BYTES = 255;
/** Size of a local file header without its name and extra field. */
const LOCAL_HEADER_FIXED_BYTES = 30;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const MSDOS_DIRECTORY_ATTRIBUTE = 0x10;
const MACOS_RESOURCE_FORK_FOLDER = '__MACOSX';
const MACOS_FOLDER_METADATA = '.DS_Store';
const SHOWN_NAME_CHARS = 300;

/** Extracts zipPath into destDir (which exists and is empty). Throws AppError; the caller deletes destDir on failure. */
export async function extractPackage(
  zipPath: string,
  destDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  onProgress?: (p: ExtractProgress) => void,
): Promise<ExtractResult> {
  const plan = await withZip(zipPath, (zip) => survey(zip, limits));
  const root = await emptyDestination(destDir);
  const manifestXml = await withZip(zipPath, (zip) => writeEntries(zip, plan, root, limits, onProgress));
  return {
    files: plan.files,
    directories: plan.directories,
    totalBytes: plan.totalBytes,
    manifestXml,
  };
}

// ---------------------------------------------------------------------------------------
// Pass 1: survey the central directory

type PlannedEntry =
  | { readonly kind: 'file'; readonly path: string; readonly offset: number; readonly compressedSize: number; readonly size: number; readonly crc32: number; readonly isManifest: boolean }
  | { readonly kind: 'directory'; readonly path: string; readonly offset: number }
  | { readonly kind: 'skip'; readonly path: string; readonly offset: number };

interface Plan {
  /** One record per central-directory entry, in archive order. */
  readonly entries: readonly PlannedEntry[];
  readonly files: string[];
  readonly directories: string[];
  readonly totalBytes: number;
  /** Entries written in pass 2 (files and folders, not skipped junk). */
  readonly entriesToWrite: number;
}

async function survey(zip: ZipFile, limits: ExtractLimits): Promise<Plan> {
  if (zip.entryCount > limits.maxEntries) throw tooManyEntries(zip.entryCount, limits.maxEntries);

  const entries: PlannedEntry[] = [];
  const tree = new PathTree(limits.maxEntries);
  const ranges: { start: number; end: number; name: string }[] = [];
  let totalBytes = 0;
  let manifestFound = false;

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
    const isManifest = path === MANIFEST_NAME;
    if (isManifest) {
      manifestFound = true;
      if (size > MAX_MANIFEST_BYTES) {
        throw new AppError('PACKAGE_INVALID_MANIFEST', `imsmanifest.xml is ${formatBytes(size)}; a manifest larger than ${formatBytes(MAX_MANIFEST_BYTES)} is refused.`, {
          details: { entry: shown(name), bytes: size, limit: MAX_MANIFEST_BYTES },
        });
      }
    }
    if (size > RATIO_CHECK_MIN_BYTES && size / entry.compressedSize > limits.maxCompressionRatio) {
      throw compressionRatio(size / entry.compressedSize, limits.maxCompressionRatio, name);
    }
    entries.push({ kind: 'file', path, offset: entry.relativeOffsetOfLocalHeader, compressedSize: entry.compressedSize, size, crc32: entry.crc32, isManifest });
  }

  checkNoOverlap(ranges);
  if (totalBytes > RATIO_CHECK_MIN_BYTES && totalBytes / zip.fileSize > limits.maxCompressionRatio) {
    throw compressionRatio(totalBytes / zip.fileSize, limits.maxCompressionRatio);
  }
  const files = tree.files();
  if (!manifestFound) throw noManifest(files, entries.length === 0);

  return {
    entries,
    files,
    directories: tree.directories(),
    totalBytes,
    entriesToWrite: entries.filter((e) => e.kind !== 'skip').length,
  };
}

/**
 * The entry name as the archive means it: the Info-ZIP Unicode Path extra field when valid,
 * else UTF-8 (flag bit 11) or CP437. strictFileNames keeps backslashes so that we can refuse
 * them rather than guess. yauzl's own name check is off (decodeStrings: false) so that our
 * error names the entry and carries a stable code.
 */
function decodeName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
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

/**
 * Turns an entry name into a package-relative POSIX path, or refuses it. './' segments are
 * dropped (some tools write './imsmanifest.xml'); everything ambiguous is refused, not fixed.
 */
function normaliseName(name: string): { path: string; isDirectoryName: boolean } {
  if (name === '') throw unsafeEntry(name, 'the name is empty');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw unsafeEntry(name, `the name is longer than ${MAX_NAME_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw unsafeEntry(name, 'the name contains a control character (such as NUL)');
  if (name.includes('\\')) throw unsafeEntry(name, "the name contains a backslash; ZIP paths must use '/' (re-create the ZIP with a standard tool)");
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafeEntry(name, 'it is an absolute path');

  const isDirectoryName = name.endsWith('/');
  const segments: string[] = [];
  for (const segment of (isDirectoryName ? name.slice(0, -1) : name).split('/')) {
    if (segment === '') throw unsafeEntry(name, "the name has an empty path segment ('//')");
    if (segment === '..') throw unsafeEntry(name, "the name contains '..' and could escape the package folder");
    if (segment === '.') continue;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw unsafeEntry(name, `a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    segments.push(segment);
  }
  if (segments.length === 0) throw unsafeEntry(name, 'the name does not name a file or folder');
  return { path: segments.join('/'), isDirectoryName };
}

/**
 * macOS Finder adds `__MACOSX/` (resource forks) and `.DS_Store` (folder view settings) to
 * the ZIPs it makes. They are not course content: they are skipped (not extracted, not
 * listed in `files`, not counted in the totals). Their names are still validated.
 */
function isMacJunk(path: string): boolean {
  return path.split('/')[0] === MACOS_RESOURCE_FORK_FOLDER || basename(path) === MACOS_FOLDER_METADATA;
}

function checkDecodable(entry: Entry, name: string): void {
  if (entry.isEncrypted()) {
    throw new AppError('PACKAGE_UNSUPPORTED', `The package contains the encrypted (password-protected) entry ${quote(name)}.`, {
      details: { entry: shown(name) },
      hint: 'Create the ZIP again without a password.',
    });
  }
  if (entry.compressionMethod !== METHOD_STORED && entry.compressionMethod !== METHOD_DEFLATE) {
    throw new AppError('PACKAGE_UNSUPPORTED', `The entry ${quote(name)} uses ZIP compression method ${entry.compressionMethod}; only Store and Deflate are supported.`, {
      details: { entry: shown(name), compressionMethod: entry.compressionMethod },
      hint: 'Create the ZIP again with standard Deflate compression (the default of most tools).',
    });
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

/**
 * Files and folders seen so far, refusing names that would collide on disk: exact or
 * case-insensitive duplicates (one file silently replaces the other on macOS/Windows
 * storage), Unicode-normalisation twins, and a name used both as a file and a folder.
 * Folders differing only in case are allowed (they merge on case-insensitive storage).
 */
class PathTree {
  /** case-folded path → path as written */
  private readonly fileKeys = new Map<string, string>();
  private readonly directoryKeys = new Set<string>();
  private readonly directoryPaths = new Set<string>();

  constructor(private readonly maxDirectories: number) {}

  addFile(path: string, name: string): void {
    const key = foldCase(path);
    const existing = this.fileKeys.get(key);
    if (existing !== undefined) {
      const how = existing === path ? 'twice' : `twice, differing only in letter case (${quote(existing)}), which collide on macOS and Windows storage`;
      throw unsafeEntry(name, `the package contains this file ${how}`);
    }
    if (this.directoryKeys.has(key)) throw unsafeEntry(name, 'the name is used both for a file and a folder');
    this.fileKeys.set(key, path);
    this.addDirectory(parent(path), name);
  }

  /** Adds a folder and its parents; walks up only until a known folder, so the work stays linear. */
  addDirectory(path: string, name: string): void {
    for (let p = path; p !== '' && !this.directoryPaths.has(p); p = parent(p)) {
      const key = foldCase(p);
      if (this.fileKeys.has(key)) throw unsafeEntry(name, `${quote(p)} is used both for a file and a folder`);
      this.directoryPaths.add(p);
      this.directoryKeys.add(key);
      if (this.directoryPaths.size > this.maxDirectories) {
        throw new AppError('PACKAGE_TOO_MANY_ENTRIES', `The package creates more than ${this.maxDirectories} folders.`, {
          details: { limit: this.maxDirectories },
        });
      }
    }
  }

  files(): string[] {
    return [...this.fileKeys.values()].sort();
  }

  directories(): string[] {
    return [...this.directoryPaths].sort();
  }
}

function foldCase(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

function noManifest(files: readonly string[], emptyArchive: boolean): AppError {
  if (emptyArchive) return new AppError('PACKAGE_NO_MANIFEST', 'The ZIP archive is empty.');
  const candidates = files
    .filter((f) => basename(f).toLowerCase() === MANIFEST_NAME)
    .sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  const found = candidates[0];
  if (found === undefined) {
    return new AppError('PACKAGE_NO_MANIFEST', `The package has no ${MANIFEST_NAME}, so it is not a SCORM package.`, {
      hint: 'Export the course from your authoring tool as a SCORM package (1.2 or 2004).',
    });
  }
  const folder = parent(found);
  if (folder === '') {
    return new AppError('PACKAGE_NO_MANIFEST', `The manifest at the package root is named ${quote(found)}; it must be named exactly ${MANIFEST_NAME} (lower case).`, {
      details: { foundName: found },
    });
  }
  return new AppError(
    'PACKAGE_NO_MANIFEST',
    `${MANIFEST_NAME} must be at the root of the ZIP, but it is inside the folder ${quote(folder + '/')}. ` +
      'This usually means the ZIP was made from the course folder instead of from its contents.',
    {
      details: { foundAt: folder },
      hint: `Open the folder ${quote(folder)}, select everything inside it (including ${MANIFEST_NAME}) and compress that selection.`,
    },
  );
}

// ---------------------------------------------------------------------------------------
// Pass 2: stream the entries to disk

interface Counters {
  entriesDone: number;
  bytesDone: number;
  bytesAtLastReport: number;
  callbackError: unknown;
}

async function writeEntries(
  zip: ZipFile,
  plan: Plan,
  root: string,
  limits: ExtractLimits,
  onProgress: ((p: ExtractProgress) => void) | undefined,
): Promise<string> {
  const counters: Counters = { entriesDone: 0, bytesDone: 0, bytesAtLastReport: 0, callbackError: undefined };
  const report = (): void => {
    counters.bytesAtLastReport = counters.bytesDone;
    try {
      onProgress?.({ entriesDone: counters.entriesDone, entriesTotal: plan.entriesToWrite, bytesDone: counters.bytesDone, bytesTotal: plan.totalBytes });
    } catch (err) {
      counters.callbackError = err; // the caller's bug, not the package's: passed through unchanged
      throw err;
    }
  };
  const created = new Set<string>();
  const ensureDirectory = async (path: string): Promise<void> => {
    if (path === '' || created.has(path)) return;
    try {
      await mkdir(insideRoot(root, path), { recursive: true });
    } catch (err) {
      throw streamError(err, path, counters);
    }
    created.add(path);
  };
  let manifest: Buffer | undefined;

  report();
  let index = 0;
  for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip), index++) {
    const planned = plan.entries[index];
    if (planned === undefined || !sameEntry(entry, planned)) {
      throw damaged('the archive changed while it was being imported');
    }
    if (planned.kind === 'skip') continue;
    if (planned.kind === 'directory') {
      await ensureDirectory(planned.path);
    } else {
      await ensureDirectory(parent(planned.path));
      const content = await writeFile(zip, entry, planned, insideRoot(root, planned.path), limits, counters, report);
      if (planned.isManifest) manifest = content;
    }
    counters.entriesDone++;
    report();
  }
  if (index !== plan.entries.length) throw damaged('the archive changed while it was being imported');
  if (manifest === undefined) throw new AppError('INTERNAL', 'The manifest was not read during extraction.');
  return decodeXml(manifest);
}

function sameEntry(entry: Entry, planned: PlannedEntry): boolean {
  if (entry.relativeOffsetOfLocalHeader !== planned.offset) return false;
  if (normaliseName(decodeName(entry)).path !== planned.path) return false;
  if (planned.kind !== 'file') return true;
  return entry.compressedSize === planned.compressedSize && entry.uncompressedSize === planned.size && entry.crc32 === planned.crc32;
}

/**
 * Streams one entry to `target`, never holding more than a stream chunk in memory (the
 * manifest alone is collected, and returned). The real byte count is checked against the
 * declared size and the limits while streaming; the CRC at the end.
 */
async function writeFile(
  zip: ZipFile,
  entry: Entry,
  planned: Extract<PlannedEntry, { kind: 'file' }>,
  target: string,
  limits: ExtractLimits,
  counters: Counters,
  report: () => void,
): Promise<Buffer | undefined> {
  const name = planned.path;
  const manifestChunks: Buffer[] = [];
  let entryBytes = 0;
  let crc = 0;
  try {
    const source = await zip.openReadStreamPromise(entry);
    const meter = (chunk: Buffer): void => {
      entryBytes += chunk.length;
      counters.bytesDone += chunk.length;
      if (entryBytes > planned.size) {
        throw new AppError('PACKAGE_TOO_LARGE', `The entry ${quote(name)} unpacks to more than the ${planned.size} bytes its header declares; the archive is damaged or crafted.`, {
          details: { entry: shown(name), declaredBytes: planned.size, actualBytesAtLeast: entryBytes },
        });
      }
      if (counters.bytesDone > limits.maxTotalBytes) {
        throw new AppError('PACKAGE_TOO_LARGE', `The package unpacks to more than ${formatBytes(limits.maxTotalBytes)}, the limit for one package.`, {
          details: { entry: shown(name), limit: limits.maxTotalBytes },
        });
      }
      if (entryBytes > RATIO_CHECK_MIN_BYTES && entryBytes / planned.compressedSize > limits.maxCompressionRatio) {
        throw compressionRatio(entryBytes / planned.compressedSize, limits.maxCompressionRatio, name);
      }
      crc = crc32(chunk, crc);
      if (planned.isManifest) manifestChunks.push(chunk); // at most MAX_MANIFEST_BYTES: checked in the survey and above
      if (counters.bytesDone - counters.bytesAtLastReport >= PROGRESS_EVERY_BYTES) report();
    };
    await pipeline(
      source,
      // A plain Transform rather than an async generator: measurably less garbage per chunk,
      // hence a lower RSS peak on packages with thousands of files.
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            meter(chunk);
          } catch (err) {
            callback(err as Error);
            return;
          }
          callback(null, chunk);
        },
      }),
      // 'wx': never overwrite or follow anything already there.
      createWriteStream(target, { flags: 'wx' }),
    );
  } catch (err) {
    throw streamError(err, name, counters);
  }
  if (entryBytes !== planned.size) {
    throw damaged(`the entry ${quote(name)} holds ${entryBytes} bytes but declares ${planned.size}`, name);
  }
  if (crc !== planned.crc32) throw damaged(`the checksum (CRC-32) of ${quote(name)} does not match`, name);
  return planned.isManifest ? Buffer.concat(manifestChunks) : undefined;
}

function streamError(err: unknown, name: string, counters: Counters): unknown {
  if (err instanceof AppError || err === counters.callbackError) return err;
  if (isSystemError(err)) {
    if (err.code === 'EEXIST') return unsafeEntry(name, 'it collides with another entry on this storage');
    return new AppError('INTERNAL', `Could not write ${quote(name)} while extracting the package (${err.code ?? 'I/O error'}).`, { cause: err });
  }
  // zlib errors (corrupt Deflate data), bad local headers, data beyond the end of the file.
  return damaged(`the entry ${quote(name)} cannot be read (${errorMessage(err)})`, name, err);
}

/** Defence in depth: names were validated in the survey, yet every target is checked again. */
function insideRoot(root: string, path: string): string {
  const target = resolve(root, ...path.split('/'));
  const rel = relative(root, target);
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
    throw unsafeEntry(path, 'it resolves outside the package folder');
  }
  return target;
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
  if (!empty) throw new AppError('INTERNAL', 'extractPackage needs an empty destination directory.');
  return root;
}

/**
 * The manifest as text. XML says its own encoding: a BOM, else the `encoding` of the XML
 * declaration (old SCORM 1.2 packages use ISO-8859-1 / windows-1252), else UTF-8.
 */
function decodeXml(bytes: Buffer): string {
  let encoding = 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = 'utf-16le';
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = 'utf-16be';
  else if (!(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)) {
    const declared = /^\s*<\?xml[^>]*\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(bytes.subarray(0, 512).toString('latin1'));
    if (declared?.[1]) encoding = declared[1];
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    throw new AppError('PACKAGE_INVALID_MANIFEST', `imsmanifest.xml declares the unknown character encoding ${quote(encoding)}.`, {
      details: { encoding },
    });
  }
  return decoder.decode(bytes);
}

// ---------------------------------------------------------------------------------------
// yauzl plumbing

async function withZip<T>(zipPath: string, use: (zip: ZipFile) => Promise<T>): Promise<T> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false, strictFileNames: true });
  } catch (err) {
    throw openError(err);
  }
  // Errors that matter reach the pending nextEntry(); this keeps a stray one (e.g. from
  // closing the file) from becoming an uncaught exception.
  zip.on('error', () => {});
  try {
    return await use(zip);
  } finally {
    zip.close();
  }
}

/** The next central-directory entry, or null at the end. */
function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise<Entry | null>((resolvePromise, reject) => {
    const done = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: Entry): void => {
      done();
      resolvePromise(entry);
    };
    const onEnd = (): void => {
      done();
      resolvePromise(null);
    };
    const onError = (err: unknown): void => {
      done();
      reject(centralDirectoryError(err));
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openError(err: unknown): AppError {
  if (isSystemError(err)) return new AppError('INTERNAL', `Could not open the uploaded package (${err.code ?? 'I/O error'}).`, { cause: err });
  const reason = errorMessage(err);
  if (/multi-disk/i.test(reason)) {
    return new AppError('PACKAGE_UNSUPPORTED', 'The package is a split (multi-part) ZIP archive, which is not supported.', {
      details: { reason },
      hint: 'Create the ZIP again as a single file.',
    });
  }
  return new AppError('PACKAGE_NOT_ZIP', 'The file is not a ZIP archive, or it is damaged or truncated (an interrupted upload or download?).', {
    details: { reason },
    hint: 'Upload the .zip file exported by your authoring tool.',
    cause: err,
  });
}

function centralDirectoryError(err: unknown): AppError {
  if (isSystemError(err)) return new AppError('INTERNAL', `Could not read the uploaded package (${err.code ?? 'I/O error'}).`, { cause: err });
  const reason = errorMessage(err);
  if (/encryption/i.test(reason)) {
    return new AppError('PACKAGE_UNSUPPORTED', 'The package uses strong encryption, which is not supported.', {
      details: { reason },
      hint: 'Create the ZIP again without a password.',
    });
  }
  return new AppError('PACKAGE_NOT_ZIP', 'The ZIP archive is damaged: its table of contents (central directory) cannot be read.', {
    details: { reason },
    cause: err,
  });
}

// ---------------------------------------------------------------------------------------
// errors and small helpers

function unsafeEntry(name: string, reason: string): AppError {
  return new AppError('PACKAGE_UNSAFE_ENTRY', `The package contains an unsafe entry ${quote(name)}: ${reason}.`, {
    details: { entry: shown(name), reason },
  });
}

function tooManyEntries(count: number, limit: number): AppError {
  return new AppError('PACKAGE_TOO_MANY_ENTRIES', `The package contains ${count} entries; at most ${limit} are allowed.`, {
    details: { entries: count, limit },
  });
}

function compressionRatio(ratio: number, limit: number, name?: string): AppError {
  const rounded = Number.isFinite(ratio) ? Math.round(ratio) : 'infinite';
  const what = name === undefined ? 'The archive as a whole' : `The entry ${quote(name)}`;
  return new AppError('PACKAGE_COMPRESSION_RATIO', `${what} is compressed ${rounded}:1, beyond the ${limit}:1 that real course content reaches; it looks like a zip bomb.`, {
    details: { ...(name === undefined ? {} : { entry: shown(name) }), ratio: rounded, limit },
  });
}

function damaged(reason: string, name?: string, cause?: unknown): AppError {
  return new AppError('PACKAGE_NOT_ZIP', `The ZIP archive is damaged: ${reason}.`, {
    details: { ...(name === undefined ? {} : { entry: shown(name) }), reason },
    cause,
  });
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Names are attacker-controlled: cap their length wherever they are echoed. */
function shown(name: string): string {
  return name.length > SHOWN_NAME_CHARS ? `${name.slice(0, SHOWN_NAME_CHARS)}…` : name;
}

/** JSON quoting makes control characters visible (`"a\u0000b"`). */
function quote(name: string): string {
  return JSON.stringify(shown(name));
}

function parent(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
