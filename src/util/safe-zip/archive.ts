import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '../../errors/app-error.js';
import { errorMessage, isSystemError } from './errors.js';

/** yauzl plumbing: opening the archive, reading its central directory entry by entry. */

export async function withZip<T>(zipPath: string, use: (zip: ZipFile) => Promise<T>): Promise<T> {
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
export function nextEntry(zip: ZipFile): Promise<Entry | null> {
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
