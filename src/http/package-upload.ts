import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.service.js';
import { AppError } from '../errors/app-error.js';
import type { ImportResult, PackageService } from '../packages/package.service.js';
import { randomToken } from '../util/ids.js';

export interface PackageUploadDeps {
  readonly packages: PackageService;
  readonly uploadDir: string;
  readonly maxUploadBytes: number;
  readonly audit: AuditLog;
}

/** Options of one upload: a new version of `packageId`, or a new package. */
export interface ReceiveOptions {
  readonly packageId?: string | undefined;
  readonly queryTitle?: string | undefined;
  /**
   * Called with the form fields that came before the file, once the file starts and before
   * anything is written to disk (the admin console checks its anti-forgery field here).
   */
  readonly beforeStore?: (field: (name: string) => string | undefined) => void;
}

/** The multipart limits of a package upload route (the API's and the admin console's). */
export function uploadLimits(maxUploadBytes: number) {
  return { limits: { fileSize: maxUploadBytes, files: 1, fields: 10, fieldSize: 4096, parts: 12 } };
}

/**
 * Receives one package upload: streams the `file` part to a temporary file (never into
 * memory), imports it from there, records the audit entry, and removes the file.
 */
export async function receivePackageUpload(request: FastifyRequest, deps: PackageUploadDeps, options: ReceiveOptions = {}): Promise<ImportResult> {
  if (!request.isMultipart()) throw new AppError('BAD_REQUEST', 'Upload the package as multipart/form-data with a `file` field.');
  const part = await request.file();
  if (!part) throw new AppError('BAD_REQUEST', 'The upload has no file.');
  const field = (name: string): string | undefined => {
    const f = part.fields[name];
    return f && !Array.isArray(f) && f.type === 'field' && typeof f.value === 'string' ? f.value : undefined;
  };
  if (options.beforeStore) {
    try {
      options.beforeStore(field);
    } catch (err) {
      part.file.resume(); // drain, so that the refusal can be answered
      throw err;
    }
  }
  await mkdir(deps.uploadDir, { recursive: true });
  const tmp = join(deps.uploadDir, `upload-${randomToken(9)}.zip`);
  try {
    try {
      await pipeline(part.file, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new AppError('PACKAGE_TOO_LARGE', `The upload is larger than ${deps.maxUploadBytes} bytes (COURSEPORT_UPLOAD_MAX_BYTES).`);
      }
      throw err;
    }
    const result = await deps.packages.importPackage(
      tmp,
      { title: field('title') ?? options.queryTitle, packageId: options.packageId, sourceName: part.filename },
      (p) => {
        if (p.phase !== 'extract') request.log.info({ phase: p.phase }, 'package import');
      },
    );
    request.log.info({ package: result.package.id, version: result.version.id, files: result.version.file_count }, 'package imported');
    await deps.audit.record({
      actor: request.actor ?? 'system',
      action: 'package.import',
      target: result.package.id,
      details: { version: result.version.id, title: result.package.title },
      ip: request.ip,
    });
    return result;
  } finally {
    await rm(tmp, { force: true });
  }
}
