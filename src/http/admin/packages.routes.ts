import { receivePackageUpload, type PackageUploadDeps } from '../package-upload.js';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { packageUsage } from '../../packages/package.repository.js';
import { PackageDetailPage, PackageListPage, type PackageDetailProps } from '../../web/admin/packages-page.js';
import type { AdminContext, AdminPageModule } from './console.js';
import { formOf, queryOf, idOf } from './console.js';

/** Packages: upload (streamed to disk by the API's upload code), list, versions, archive and unarchive, rename, delete, preview. */
export const packagePages: AdminPageModule = (c) => {
  const { packages, packageAdmin, audit } = c.deps.services;
  const uploadDeps: PackageUploadDeps = {
    packages,
    audit,
    uploadDir: join(c.deps.config.dataDir, 'uploads'),
    maxUploadBytes: c.deps.config.packages.maxUploadBytes,
  };
  const maxUploadBytes = uploadDeps.maxUploadBytes;

  c.get('/packages', async (request, reply, ctx) => {
    const [all, usage] = await Promise.all([packages.list(), packageUsage(c.deps.db)]);
    const rows = all.map((pkg) => ({ pkg, versions: usage.get(pkg.id)?.versions ?? 0, links: usage.get(pkg.id)?.links ?? 0 }));
    const showArchived = queryOf(request).archived === '1';
    return c.render(reply, ctx, {
      title: 'Packages',
      nav: 'packages',
      body: PackageListPage({ rows, csrfToken: ctx.csrfToken, maxUploadBytes, showArchived }),
    });
  });

  const detail = async (reply: FastifyReply, ctx: AdminContext, id: string, extra: Partial<PackageDetailProps> = {}, status = 200) => {
    const { package: pkg, versions } = await packages.get(id);
    const links = (await packageUsage(c.deps.db)).get(pkg.id)?.links ?? 0;
    return c.render(reply, ctx, {
      title: pkg.title,
      nav: 'packages',
      status,
      body: PackageDetailPage({ pkg, versions, links, csrfToken: ctx.csrfToken, maxUploadBytes, ...extra }),
    });
  };

  c.get('/packages/:id', async (request, reply, ctx) => detail(reply, ctx, idOf(request)));

  c.post('/packages/:id/rename', async (request, reply, ctx) => {
    const id = idOf(request);
    const raw = formOf(request).title;
    const title = typeof raw === 'string' ? raw.slice(0, 4096) : '';
    try {
      const { package: pkg, previousTitle } = await packageAdmin.rename(id, title);
      await c.audit(request, ctx, 'package.rename', pkg.id, { from: previousTitle, to: pkg.title });
      return c.redirect(reply, `/admin/packages/${encodeURIComponent(pkg.id)}`, `Renamed to “${pkg.title}”.`);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'VALIDATION_FAILED') throw err;
      return detail(
        reply,
        ctx,
        id,
        { renameValue: title, renameProblems: (err.details?.problems as string[] | undefined) ?? [err.message], code: err.code },
        err.status,
      );
    }
  });

  c.post('/packages/:id/delete', async (request, reply, ctx) => {
    const id = idOf(request);
    try {
      const deleted = await packageAdmin.delete(id);
      await c.audit(request, ctx, 'package.delete', id, deleted);
      request.log.warn({ package: id, versions: deleted.versions }, 'package deleted from the console');
      return c.redirect(reply, '/admin/packages', `Package “${deleted.title}” deleted (${deleted.versions} version(s)).`);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'PACKAGE_IN_USE') throw err;
      request.log.warn({ package: id, code: err.code, details: err.details }, 'package deletion refused');
      return detail(reply, ctx, id, { deleteProblems: [err.message, ...(err.hint ? [err.hint] : [])], code: err.code }, err.status);
    }
  });

  // The player as a learner sees it, on an internal platform (nothing reaches an LMS); opened in a new tab.
  c.post('/packages/:id/preview', async (request, reply, ctx) => {
    const id = idOf(request);
    const attemptId = await packageAdmin.startPreview(id, ctx.session.admin.email);
    await c.audit(request, ctx, 'package.preview', id);
    return c.redirect(reply, `/play/${c.deps.services.playTokens.issue(attemptId, c.deps.clock.now())}`);
  });

  const upload = async (request: FastifyRequest, ctx: AdminContext, packageId: string | undefined) =>
    receivePackageUpload(request, uploadDeps, { packageId, beforeStore: (field) => c.checkCsrf(request, ctx, field('_csrf')) });

  c.post(
    '/packages/upload',
    async (request, reply, ctx) => {
      const result = await upload(request, ctx, undefined);
      return c.redirect(
        reply,
        `/admin/packages/${encodeURIComponent(result.package.id)}`,
        `Package “${result.package.title}” imported (version ${result.version.version}).`,
      );
    },
    { multipart: true },
  );

  c.post(
    '/packages/:id/upload',
    async (request, reply, ctx) => {
      const result = await upload(request, ctx, idOf(request));
      return c.redirect(
        reply,
        `/admin/packages/${encodeURIComponent(result.package.id)}`,
        `Version ${result.version.version} of “${result.package.title}” imported.`,
      );
    },
    { multipart: true },
  );

  for (const [verb, status] of [
    ['archive', 'archived'],
    ['unarchive', 'active'],
  ] as const) {
    c.post(`/packages/:id/${verb}`, async (request, reply, ctx) => {
      const pkg = await packages.setStatus(idOf(request), status);
      await c.audit(request, ctx, `package.${verb}`, pkg.id, { title: pkg.title });
      request.log.info({ package: pkg.id, status }, `package ${verb}d from the console`);
      const back = formOf(request).back === 'list' ? '/admin/packages' : `/admin/packages/${encodeURIComponent(pkg.id)}`;
      return c.redirect(
        reply,
        back,
        `“${pkg.title}” ${verb === 'archive' ? 'archived: it no longer appears in the content picker' : 'is back in the content picker'}.`,
      );
    });
  }
};
