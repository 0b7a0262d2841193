import { TextDecoder } from 'node:util';
import { AppError } from '../errors/app-error.js';
import { basename, parent } from '../util/safe-zip/entry-names.js';
import { formatBytes, quote, shown } from '../util/safe-zip/errors.js';
import { extractZip } from '../util/safe-zip/extract.js';
import type { ExtractLimits, ExtractProgress, RequiredFile } from '../util/safe-zip/types.js';

/**
 * An uploaded SCORM package is a ZIP extracted with every safety limit, plus the package's own
 * rule: an `imsmanifest.xml` at the root, whose text is returned for parsing.
 */

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

interface ExtractedPackage {
  /** Package-relative POSIX paths of the regular files extracted, sorted. */
  files: string[];
  /** Every folder created (explicit folder entries and the parents of files), sorted, no trailing '/'. */
  directories: string[];
  /** Bytes written (equals the declared total; a difference is refused). */
  totalBytes: number;
  /** The text of imsmanifest.xml at the package root, decoded per its BOM / XML declaration. */
  manifestXml: string;
}

const MANIFEST_NAME = 'imsmanifest.xml';
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const MANIFEST: RequiredFile = {
  path: MANIFEST_NAME,
  maxBytes: MAX_MANIFEST_BYTES,
  tooLarge: (size, name) =>
    new AppError('PACKAGE_INVALID_MANIFEST', `imsmanifest.xml is ${formatBytes(size)}; a manifest larger than ${formatBytes(MAX_MANIFEST_BYTES)} is refused.`, {
      details: { entry: shown(name), bytes: size, limit: MAX_MANIFEST_BYTES },
    }),
  missing: noManifest,
};

/** Extracts zipPath into destDir (which exists and is empty). Throws AppError; the caller deletes destDir on failure. */
export async function extractPackage(
  zipPath: string,
  destDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  onProgress?: (p: ExtractProgress) => void,
): Promise<ExtractedPackage> {
  const extracted = await extractZip(zipPath, destDir, { limits, required: MANIFEST, onProgress });
  if (extracted.required === undefined) throw new AppError('INTERNAL', 'The manifest was not read during extraction.');
  return {
    files: extracted.files,
    directories: extracted.directories,
    totalBytes: extracted.totalBytes,
    manifestXml: decodeXml(extracted.required),
  };
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
    return new AppError(
      'PACKAGE_NO_MANIFEST',
      `The manifest at the package root is named ${quote(found)}; it must be named exactly ${MANIFEST_NAME} (lower case).`,
      {
        details: { foundName: found },
      },
    );
  }
  return new AppError(
    'PACKAGE_NO_MANIFEST',
    `${MANIFEST_NAME} must be at the root of the ZIP, but it is inside the folder ${quote(`${folder}/`)}. ` +
      'This usually means the ZIP was made from the course folder instead of from its contents.',
    {
      details: { foundAt: folder },
      hint: `Open the folder ${quote(folder)}, select everything inside it (including ${MANIFEST_NAME}) and compress that selection.`,
    },
  );
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
