import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { PackageAdmin } from '../../packages/package-admin.js';
import { TITLE_MAX_LENGTH } from '../../packages/titles.js';
import type { ImportResult, PackageService } from '../../scorm/package-service.js';
import { packageJson, versionJson } from '../../scorm/package-view.js';
import { randomToken } from '../../util/ids.js';

import type { AuditLog } from '../../services/audit-log.js';

export interface PackageApiDeps {
  readonly packages: PackageService;
  readonly packageAdmin: PackageAdmin;
  readonly uploadDir: string;
  readonly maxUploadBytes: number;
  readonly audit: AuditLog;
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const UploadQuery = Type.Object({ title: Type.Optional(Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH })) }, { additionalProperties: false });
const RenameBody = Type.Object({ title: Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH }) }, { additionalProperties: false });

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
export async function receivePackageUpload(request: FastifyRequest, deps: PackageApiDeps, options: ReceiveOptions = {}): Promise<ImportResult> {
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
    const result = await deps.packages.importPackage(tmp, { title: field('title') ?? options.queryTitle, packageId: options.packageId, sourceName: part.filename }, (p) => {
      if (p.phase !== 'extract') request.log.info({ phase: p.phase }, 'package import');
    });
    request.log.info({ package: result.package.id, version: result.version.id, files: result.version.file_count }, 'package imported');
    await deps.audit.record({ actor: request.actor ?? 'system', action: 'package.import', target: result.package.id, details: { version: result.version.id, title: result.package.title }, ip: request.ip });
    return result;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Package upload (multipart, field `file`), streamed to a temporary file and imported from
 * there — never held in memory. The title may come as a form field before the file or as
 * the `title` query parameter.
 */
export async function packageApiRoutes(app: FastifyInstance, deps: PackageApiDeps): Promise<void> {
  await app.register(multipart, uploadLimits(deps.maxUploadBytes));
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  const receive = (request: FastifyRequest, packageId: string | undefined, queryTitle: string | undefined) => receivePackageUpload(request, deps, { packageId, queryTitle });

  api.post('/packages', { schema: { querystring: UploadQuery } }, async (request, reply) => {
    const result = await receive(request, undefined, request.query.title);
    return reply.code(201).header('location', `/api/v1/packages/${result.package.id}`).send({ ...packageJson(result.package), version: versionJson(result.version) });
  });

  // Archived packages leave the content picker and cannot be bound to new links; bound links keep playing.
  for (const [verb, status] of [['archive', 'archived'], ['unarchive', 'active']] as const) {
    api.post(`/packages/:id/${verb}`, { schema: { params: IdParams } }, async (request) => {
      const pkg = await deps.packages.setStatus(request.params.id, status);
      await deps.audit.record({ actor: request.actor ?? 'system', action: `package.${verb}`, target: pkg.id, details: { title: pkg.title }, ip: request.ip });
      return packageJson(pkg);
    });
  }

  api.post('/packages/:id/versions', { schema: { params: IdParams, querystring: UploadQuery } }, async (request, reply) => {
    const result = await receive(request, request.params.id, request.query.title);
    return reply.code(201).send({ ...packageJson(result.package), version: versionJson(result.version) });
  });

  api.patch('/packages/:id', { schema: { params: IdParams, body: RenameBody } }, async (request) => {
    const { package: pkg, previousTitle } = await deps.packageAdmin.rename(request.params.id, request.body.title);
    await deps.audit.record({ actor: request.actor ?? 'system', action: 'package.rename', target: pkg.id, details: { from: previousTitle, to: pkg.title }, ip: request.ip });
    return packageJson(pkg);
  });

  // Only while no LMS link, dispatch or attempt uses it (PACKAGE_IN_USE, 409): archive it otherwise.
  api.delete('/packages/:id', { schema: { params: IdParams } }, async (request) => {
    const deleted = await deps.packageAdmin.delete(request.params.id);
    await deps.audit.record({ actor: request.actor ?? 'system', action: 'package.delete', target: request.params.id, details: deleted, ip: request.ip });
    return { deleted: request.params.id, ...deleted };
  });

  api.get('/packages', async () => ({ packages: (await deps.packages.list()).map(packageJson) }));

  api.get('/packages/:id', { schema: { params: IdParams } }, async (request) => {
    const { package: pkg, versions } = await deps.packages.get(request.params.id);
    return { ...packageJson(pkg), versions: versions.map(versionJson) };
  });
}
