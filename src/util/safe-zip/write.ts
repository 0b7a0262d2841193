import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import type { Entry, ZipFile } from 'yauzl';
import { AppError } from '../../errors/app-error.js';
import { nextEntry } from './archive.js';
import { decodeName, normaliseName, parent } from './entry-names.js';
import { compressionRatio, damaged, errorMessage, formatBytes, isSystemError, quote, shown, unsafeEntry } from './errors.js';
import { RATIO_CHECK_MIN_BYTES, type Plan, type PlannedEntry } from './survey.js';
import type { ExtractLimits, ExtractProgress } from './types.js';

/**
 * Pass 2: streams every entry to disk with constant memory, counting the real bytes and
 * checking the CRC, because the sizes declared in the headers can lie.
 */

const PROGRESS_EVERY_BYTES = 8 * 1024 * 1024;

interface Counters {
  entriesDone: number;
  bytesDone: number;
  bytesAtLastReport: number;
  callbackError: unknown;
}

/** Writes the planned entries under `root`; returns the required file's bytes, if the plan has one. */
export async function writeEntries(
  zip: ZipFile,
  plan: Plan,
  root: string,
  limits: ExtractLimits,
  onProgress: ((p: ExtractProgress) => void) | undefined,
): Promise<Buffer | undefined> {
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
  let required: Buffer | undefined;

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
      if (planned.isRequired) required = content;
    }
    counters.entriesDone++;
    report();
  }
  if (index !== plan.entries.length) throw damaged('the archive changed while it was being imported');
  return required;
}

function sameEntry(entry: Entry, planned: PlannedEntry): boolean {
  if (entry.relativeOffsetOfLocalHeader !== planned.offset) return false;
  if (normaliseName(decodeName(entry)).path !== planned.path) return false;
  if (planned.kind !== 'file') return true;
  return entry.compressedSize === planned.compressedSize && entry.uncompressedSize === planned.size && entry.crc32 === planned.crc32;
}

/**
 * Streams one entry to `target`, never holding more than a stream chunk in memory (the
 * required file alone is collected, and returned). The real byte count is checked against the
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
  const requiredChunks: Buffer[] = [];
  let entryBytes = 0;
  let crc = 0;
  try {
    const source = await zip.openReadStreamPromise(entry);
    const meter = (chunk: Buffer): void => {
      entryBytes += chunk.length;
      counters.bytesDone += chunk.length;
      if (entryBytes > planned.size) {
        throw new AppError(
          'PACKAGE_TOO_LARGE',
          `The entry ${quote(name)} unpacks to more than the ${planned.size} bytes its header declares; the archive is damaged or crafted.`,
          {
            details: { entry: shown(name), declaredBytes: planned.size, actualBytesAtLeast: entryBytes },
          },
        );
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
      if (planned.isRequired) requiredChunks.push(chunk); // at most RequiredFile.maxBytes: checked in the survey and above
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
  return planned.isRequired ? Buffer.concat(requiredChunks) : undefined;
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
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw unsafeEntry(path, 'it resolves outside the package folder');
  }
  return target;
}
