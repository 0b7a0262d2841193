import yauzl, { type Entry } from 'yauzl';
import { AppError } from '../../errors/app-error.js';
import { quote, unsafeEntry } from './errors.js';

/** Longer names than any real archive needs; bounds the memory of the survey. */
const MAX_NAME_BYTES = 1024;
/** NAME_MAX on common file systems: refuse clearly instead of failing with ENAMETOOLONG. */
const MAX_SEGMENT_BYTES = 255;
const MACOS_RESOURCE_FORK_FOLDER = '__MACOSX';
const MACOS_FOLDER_METADATA = '.DS_Store';

/**
 * The entry name as the archive means it: the Info-ZIP Unicode Path extra field when valid,
 * else UTF-8 (flag bit 11) or CP437. strictFileNames keeps backslashes so that we can refuse
 * them rather than guess. yauzl's own name check is off (decodeStrings: false) so that our
 * error names the entry and carries a stable code.
 */
export function decodeName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}

/**
 * Turns an entry name into an archive-relative POSIX path, or refuses it. './' segments are
 * dropped (some tools write './imsmanifest.xml'); everything ambiguous is refused, not fixed.
 */
export function normaliseName(name: string): { path: string; isDirectoryName: boolean } {
  if (name === '') throw unsafeEntry(name, 'the name is empty');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw unsafeEntry(name, `the name is longer than ${MAX_NAME_BYTES} bytes`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses.
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
 * the ZIPs it makes. They are not content: they are skipped (not extracted, not
 * listed in `files`, not counted in the totals). Their names are still validated.
 */
export function isMacJunk(path: string): boolean {
  return path.split('/')[0] === MACOS_RESOURCE_FORK_FOLDER || basename(path) === MACOS_FOLDER_METADATA;
}

/**
 * Files and folders seen so far, refusing names that would collide on disk: exact or
 * case-insensitive duplicates (one file silently replaces the other on macOS/Windows
 * storage), Unicode-normalisation twins, and a name used both as a file and a folder.
 * Folders differing only in case are allowed (they merge on case-insensitive storage).
 */
export class PathTree {
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

export function parent(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
