import { dispatchJson } from '../../dispatch/dispatch-reports.js';
import type { FastifyReply } from 'fastify';
import { parseExpiry, type LicenceInput } from '../../dispatch/dispatch.service.js';
import { dispatchFileName, dispatchZip, launcherConfig } from '../../dispatch/package-export.js';
import { dispatchReportCsv } from '../../dispatch/report-csv.js';
import { unreachableOriginReason } from '../../dispatch/launch-origin.js';
import { AppError } from '../../errors/app-error.js';
import {
  DestinationPage,
  DispatchDetailPage,
  DispatchOverviewPage,
  type DispatchOverviewProps,
  type LicenceFormValues,
} from '../../web/admin/dispatch-page.js';
import type { AdminContext, AdminPageModule } from './console.js';
import { queryOf, idOf } from './console.js';

function field(body: unknown, name: string, max = 1024): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

const checked = (body: unknown, name: string) => field(body, name) === 'on';

/** The licence form as typed (kept on the page when refused). */
function licenceForm(body: unknown): LicenceFormValues {
  return {
    title: field(body, 'title'),
    enabled: checked(body, 'enabled'),
    allowNewRegistrations: checked(body, 'allowNewRegistrations'),
    registrationCap: field(body, 'registrationCap', 20).trim(),
    expires: field(body, 'expires', 40).trim(),
    launchCap: field(body, 'launchCap', 20).trim(),
    hashLearnerIds: checked(body, 'hashLearnerIds'),
    scormVersion: field(body, 'scormVersion') === '2004' ? '2004' : '1.2',
  };
}

/** The typed licence, or VALIDATION_FAILED listing every problem. */
function licenceInput(v: LicenceFormValues): LicenceInput & { hashLearnerIds: boolean; scormVersion: '1.2' | '2004' } {
  const problems: string[] = [];
  const whole = (s: string, what: string): number | undefined => {
    if (s === '') return undefined;
    if (!/^\d{1,12}$/.test(s)) {
      problems.push(`${what} must be a whole number ≥ 0`);
      return undefined;
    }
    return Number(s);
  };
  const registrationCap = whole(v.registrationCap, 'the registration cap') ?? 0;
  const launchCap = whole(v.launchCap, 'the launch cap');
  let expiresAt: number | null = null;
  try {
    expiresAt = parseExpiry(v.expires);
  } catch (err) {
    if (err instanceof AppError) problems.push(err.message);
    else throw err;
  }
  if (problems.length) throw new AppError('VALIDATION_FAILED', `Invalid licence: ${problems.join('; ')}.`, { details: { problems } });
  return {
    enabled: v.enabled,
    allowNewRegistrations: v.allowNewRegistrations,
    registrationCap,
    expiresAt,
    launchCap: launchCap ?? null,
    hashLearnerIds: v.hashLearnerIds,
    scormVersion: v.scormVersion,
  };
}

const problemsOf = (err: AppError): string[] => (err.details?.problems as string[] | undefined) ?? [err.message];

/** Content dispatch pages: destinations, dispatches and their licence, package download, reports. */
export const dispatchPages: AdminPageModule = (c) => {
  const { dispatch: svc, packages } = c.deps.services;
  const now = () => c.deps.clock.now();

  const overview = async (reply: FastifyReply, ctx: AdminContext, extra: Partial<DispatchOverviewProps> = {}, status = 200) => {
    const [destinations, dispatches, pkgs] = await Promise.all([svc.listDestinations(), svc.listDispatches(), packages.list()]);
    return c.render(reply, ctx, {
      title: 'Content dispatch',
      nav: 'dispatch',
      status,
      body: DispatchOverviewPage({ destinations, dispatches, packages: pkgs, csrfToken: ctx.csrfToken, now: now(), ...extra }),
    });
  };

  const detail = async (
    reply: FastifyReply,
    ctx: AdminContext,
    id: string,
    extra: { values?: LicenceFormValues; problems?: string[]; code?: string } = {},
    status = 200,
  ) => {
    const d = await svc.getDispatch(id);
    const [destination, pkg, report, events] = await Promise.all([
      svc.getDestination(d.destination_id),
      packages.get(d.package_id),
      svc.report(d.id),
      svc.events(d.id, 50),
    ]);
    return c.render(reply, ctx, {
      title: d.title,
      nav: 'dispatch',
      status,
      body: DispatchDetailPage({
        dispatch: d,
        destination,
        packageTitle: pkg.package.title,
        report,
        events,
        csrfToken: ctx.csrfToken,
        now: now(),
        launchOrigin: new URL(c.deps.config.baseUrl).origin,
        unreachable: unreachableOriginReason(c.deps.config.baseUrl),
        ...extra,
      }),
    });
  };

  c.get('/dispatch', async (_request, reply, ctx) => overview(reply, ctx));

  c.post('/dispatch/destinations', async (request, reply, ctx) => {
    const values = { name: field(request.body, 'name', 300), notes: field(request.body, 'notes', 10_001) };
    try {
      const d = await svc.createDestination(values);
      await c.audit(request, ctx, 'dispatch.destination.create', d.id, { name: d.name });
      return c.redirect(reply, `/admin/dispatch/destinations/${encodeURIComponent(d.id)}`, `Destination “${d.name}” added.`);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'VALIDATION_FAILED') throw err;
      return overview(reply, ctx, { destinationValues: values, problems: problemsOf(err), code: err.code, problemsFor: 'destination' }, 400);
    }
  });

  c.get('/dispatch/destinations/:id', async (request, reply, ctx) => {
    const destination = await svc.getDestination(idOf(request));
    const dispatches = await svc.listDispatches({ destinationId: destination.id });
    return c.render(reply, ctx, {
      title: destination.name,
      nav: 'dispatch',
      body: DestinationPage({ destination, dispatches, csrfToken: ctx.csrfToken, now: now() }),
    });
  });

  c.post('/dispatch/destinations/:id', async (request, reply, ctx) => {
    const id = idOf(request);
    const changes = { name: field(request.body, 'name', 300), notes: field(request.body, 'notes', 10_001) || null, enabled: checked(request.body, 'enabled') };
    try {
      const d = await svc.updateDestination(id, changes);
      await c.audit(request, ctx, 'dispatch.destination.update', d.id, changes);
      return c.redirect(reply, `/admin/dispatch/destinations/${encodeURIComponent(d.id)}`, 'Destination saved.');
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'VALIDATION_FAILED') throw err;
      const destination = await svc.getDestination(id);
      const dispatches = await svc.listDispatches({ destinationId: id });
      return c.render(reply, ctx, {
        title: destination.name,
        nav: 'dispatch',
        status: 400,
        body: DestinationPage({ destination, dispatches, csrfToken: ctx.csrfToken, now: now(), problems: problemsOf(err), code: err.code }),
      });
    }
  });

  c.post('/dispatch/destinations/:id/delete', async (request, reply, ctx) => {
    const id = idOf(request);
    const { name } = await svc.getDestination(id);
    const r = await svc.deleteDestination(id);
    await c.audit(request, ctx, 'dispatch.destination.delete', id, { name, ...r });
    return c.redirect(reply, '/admin/dispatch', `Destination “${name}” and ${r.dispatches} dispatch(es) deleted.`);
  });

  c.post('/dispatch/dispatches', async (request, reply, ctx) => {
    const values = { ...licenceForm(request.body), destinationId: field(request.body, 'destinationId', 64), packageId: field(request.body, 'packageId', 64) };
    try {
      const input = licenceInput(values);
      const d = await svc.createDispatch({
        ...input,
        destinationId: values.destinationId,
        packageId: values.packageId,
        title: values.title.trim() || undefined,
      });
      await c.audit(request, ctx, 'dispatch.create', d.id, { destination: d.destination_id, package: d.package_id, licence: dispatchJson(d).licence });
      return c.redirect(reply, `/admin/dispatch/${encodeURIComponent(d.id)}`, `Dispatch “${d.title}” created. Download its package below.`);
    } catch (err) {
      if (!(err instanceof AppError) || !['VALIDATION_FAILED', 'DESTINATION_NOT_FOUND', 'PACKAGE_NOT_FOUND', 'PACKAGE_ARCHIVED'].includes(err.code)) throw err;
      return overview(reply, ctx, { dispatchValues: values, problems: problemsOf(err), code: err.code, problemsFor: 'dispatch' }, 400);
    }
  });

  c.get('/dispatch/:id', async (request, reply, ctx) => detail(reply, ctx, idOf(request)));

  c.post('/dispatch/:id/licence', async (request, reply, ctx) => {
    const id = idOf(request);
    const values = licenceForm(request.body);
    try {
      const input = licenceInput(values);
      const d = await svc.updateDispatch(id, { ...input, ...(values.title.trim() ? { title: values.title } : {}) });
      await c.audit(request, ctx, 'dispatch.update', d.id, {
        licence: dispatchJson(d).licence,
        hashLearnerIds: input.hashLearnerIds,
        scormVersion: input.scormVersion,
        title: d.title,
      });
      return c.redirect(reply, `/admin/dispatch/${encodeURIComponent(d.id)}`, 'Licence saved.');
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'VALIDATION_FAILED') throw err;
      return detail(reply, ctx, id, { values, problems: problemsOf(err), code: err.code }, 400);
    }
  });

  c.post('/dispatch/:id/rotate-secret', async (request, reply, ctx) => {
    const d = await svc.rotateSecret(idOf(request));
    await c.audit(request, ctx, 'dispatch.rotate-secret', d.id);
    return c.redirect(
      reply,
      `/admin/dispatch/${encodeURIComponent(d.id)}`,
      'New secret: packages downloaded before no longer work. Download the package again.',
    );
  });

  c.post('/dispatch/:id/delete', async (request, reply, ctx) => {
    const d = await svc.getDispatch(idOf(request));
    await svc.deleteDispatch(d.id);
    await c.audit(request, ctx, 'dispatch.delete', d.id, { title: d.title });
    return c.redirect(reply, '/admin/dispatch', `Dispatch “${d.title}” deleted: its packages no longer work.`);
  });

  c.get('/dispatch/:id/package', async (request, reply, ctx) => {
    const d = await svc.getDispatch(idOf(request));
    const q = queryOf(request).scorm;
    const version = q === '2004' ? '2004' : q === '1.2' ? '1.2' : d.scorm_version;
    await c.audit(request, ctx, 'dispatch.export', d.id, { scormVersion: version });
    return reply
      .header('content-disposition', `attachment; filename="${dispatchFileName(d, version)}"`)
      .type('application/zip')
      .send(dispatchZip(launcherConfig({ ...d, scorm_version: version }, c.deps.config.baseUrl, svc.secretOf(d))));
  });

  c.get('/dispatch/:id/report.csv', async (request, reply) => {
    const id = idOf(request);
    const csv = dispatchReportCsv(await svc.report(id));
    return reply.header('content-disposition', `attachment; filename="dispatch-${id}.csv"`).type('text/csv; charset=utf-8').send(csv);
  });
};
