import multipart from '@fastify/multipart';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { receivePackageUpload, uploadLimits, type PackageUploadDeps } from '../package-upload.js';
import type { PackageAdmin } from '../../packages/package-admin.js';
import { packageJson, versionJson } from '../../packages/package-view.js';
import { TITLE_MAX_LENGTH } from '../../packages/titles.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const UploadQuery = Type.Object({ title: Type.Optional(Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH })) }, { additionalProperties: false });
const RenameBody = Type.Object({ title: Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH }) }, { additionalProperties: false });

export interface PackageApiDeps extends PackageUploadDeps {
  readonly packageAdmin: PackageAdmin;
}

/**
 * Package upload (multipart, field `file`), streamed to a temporary file and imported from
 * there — never held in memory. The title may come as a form field before the file or as
 * the `title` query parameter.
 */
export async function packageApiRoutes(app: FastifyInstance, deps: PackageApiDeps): Promise<void> {
  await app.register(multipart, uploadLimits(deps.maxUploadBytes));
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  const receive = (request: FastifyRequest, packageId: string | undefined, queryTitle: string | undefined) =>
    receivePackageUpload(request, deps, { packageId, queryTitle });

  api.post('/packages', { schema: { querystring: UploadQuery } }, async (request, reply) => {
    const result = await receive(request, undefined, request.query.title);
    return reply
      .code(201)
      .header('location', `/api/v1/packages/${result.package.id}`)
      .send({ ...packageJson(result.package), version: versionJson(result.version) });
  });

  // Archived packages leave the content picker and cannot be bound to new links; bound links keep playing.
  for (const [verb, status] of [
    ['archive', 'archived'],
    ['unarchive', 'active'],
  ] as const) {
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
    await deps.audit.record({
      actor: request.actor ?? 'system',
      action: 'package.rename',
      target: pkg.id,
      details: { from: previousTitle, to: pkg.title },
      ip: request.ip,
    });
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
