import { receivePackageUpload, type PackageUploadDeps } from '../package-upload.js';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { packageUsage } from '../../packages/package.repository.js';
import { PackageDetailPage, PackageListPage } from '../../web/admin/packages-page.js';
import type { AdminContext, AdminPageModule } from './console.js';

/** Packages: upload (streamed to disk by the API's upload code), list, versions, archive and unarchive. */
export const packagePages: AdminPageModule = (c) => {
  const { packages, audit } = c.deps.services;
  const uploadDeps: PackageUploadDeps = { packages, audit, uploadDir: join(c.deps.config.dataDir, 'uploads'), maxUploadBytes: c.deps.config.packages.maxUploadBytes };
  const maxUploadBytes = uploadDeps.maxUploadBytes;

  c.get('/packages', async (request, reply, ctx) => {
    const [all, usage] = await Promise.all([packages.list(), packageUsage(c.deps.db)]);
    const rows = all.map((pkg) => ({ pkg, versions: usage.get(pkg.id)?.versions ?? 0, links: usage.get(pkg.id)?.links ?? 0 }));
    const showArchived = (request.query as { archived?: unknown }).archived === '1';
    return c.render(reply, ctx, { title: 'Packages', nav: 'packages', body: PackageListPage({ rows, csrfToken: ctx.csrfToken, maxUploadBytes, showArchived }) });
  });

  c.get('/packages/:id', async (request, reply, ctx) => {
    const { package: pkg, versions } = await packages.get((request.params as { id: string }).id.slice(0, 64));
    const links = (await packageUsage(c.deps.db)).get(pkg.id)?.links ?? 0;
    return c.render(reply, ctx, { title: pkg.title, nav: 'packages', body: PackageDetailPage({ pkg, versions, links, csrfToken: ctx.csrfToken, maxUploadBytes }) });
  });

  const upload = async (request: FastifyRequest, ctx: AdminContext, packageId: string | undefined) =>
    receivePackageUpload(request, uploadDeps, { packageId, beforeStore: (field) => c.checkCsrf(request, ctx, field('_csrf')) });

  c.post(
    '/packages/upload',
    async (request, reply, ctx) => {
      const result = await upload(request, ctx, undefined);
      return c.redirect(reply, `/admin/packages/${encodeURIComponent(result.package.id)}`, `Package “${result.package.title}” imported (version ${result.version.version}).`);
    },
    { multipart: true },
  );

  c.post(
    '/packages/:id/upload',
    async (request, reply, ctx) => {
      const result = await upload(request, ctx, (request.params as { id: string }).id.slice(0, 64));
      return c.redirect(reply, `/admin/packages/${encodeURIComponent(result.package.id)}`, `Version ${result.version.version} of “${result.package.title}” imported.`);
    },
    { multipart: true },
  );

  for (const [verb, status] of [['archive', 'archived'], ['unarchive', 'active']] as const) {
    c.post(`/packages/:id/${verb}`, async (request, reply, ctx) => {
      const pkg = await packages.setStatus((request.params as { id: string }).id.slice(0, 64), status);
      await c.audit(request, ctx, `package.${verb}`, pkg.id, { title: pkg.title });
      request.log.info({ package: pkg.id, status }, `package ${verb}d from the console`);
      const back = (request.body as Record<string, unknown>).back === 'list' ? '/admin/packages' : `/admin/packages/${encodeURIComponent(pkg.id)}`;
      return c.redirect(reply, back, `“${pkg.title}” ${verb === 'archive' ? 'archived: it no longer appears in the content picker' : 'is back in the content picker'}.`);
    });
  }
};
