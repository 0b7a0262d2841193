import { destinationJson, dispatchJson, eventJson, reportJson } from '../../dispatch/dispatch-reports.js';
import { actorOf } from '../actor.js';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { parseExpiry, type DispatchService } from '../../dispatch/dispatch.service.js';
import { dispatchFileName, dispatchZip, launcherConfig } from '../../dispatch/package-export.js';
import { dispatchReportCsv } from '../../dispatch/report-csv.js';
import type { AuditLog } from '../../audit/audit-log.service.js';
import { TITLE_MAX_LENGTH } from '../../packages/titles.js';

export interface DispatchApiDeps {
  readonly dispatch: DispatchService;
  readonly audit: AuditLog;
  readonly baseUrl: string;
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const DestinationBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), notes: Type.Optional(Type.String({ maxLength: 10000 })), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const DestinationPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 10000 }), Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ScormVersion = Type.Union([Type.Literal('1.2'), Type.Literal('2004')]);
const LicenceFields = {
  enabled: Type.Optional(Type.Boolean()),
  allowNewRegistrations: Type.Optional(Type.Boolean()),
  registrationCap: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: '0 = unlimited' })),
  expiresAt: Type.Optional(Type.Union([Type.String({ maxLength: 64, description: 'YYYY-MM-DD (end of that day, UTC) or ISO 8601' }), Type.Null()])),
  launchCap: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: '0 or null = no cap' }), Type.Null()])),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH })),
  scormVersion: Type.Optional(ScormVersion),
  hashLearnerIds: Type.Optional(Type.Boolean()),
};
const DispatchBody = Type.Object(
  { destinationId: Type.String({ minLength: 1, maxLength: 64 }), packageId: Type.String({ minLength: 1, maxLength: 64 }), ...LicenceFields },
  { additionalProperties: false },
);
const DispatchPatch = Type.Object(LicenceFields, { additionalProperties: false });
const ListQuery = Type.Object({ destination: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
const ExportQuery = Type.Object({ scorm: Type.Optional(ScormVersion) }, { additionalProperties: false });

const expiryOf = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : parseExpiry(v));

/** Content dispatch in the admin API: destinations, dispatches and their licence, package export, reports. */
export async function dispatchApiRoutes(app: FastifyInstance, deps: DispatchApiDeps): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const svc = deps.dispatch;

  api.get('/dispatch/destinations', async () => ({ destinations: (await svc.listDestinations()).map(destinationJson) }));

  api.post('/dispatch/destinations', { schema: { body: DestinationBody } }, async (request, reply) => {
    const d = await svc.createDestination(request.body);
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.destination.create', target: d.id, details: { name: d.name }, ip: request.ip });
    return reply.code(201).header('location', `/api/v1/dispatch/destinations/${d.id}`).send(destinationJson(d));
  });

  api.get('/dispatch/destinations/:id', { schema: { params: IdParams } }, async (request) => {
    const d = await svc.getDestination(request.params.id);
    return { ...destinationJson(d), dispatches: (await svc.listDispatches({ destinationId: d.id })).map(dispatchJson) };
  });

  api.patch('/dispatch/destinations/:id', { schema: { params: IdParams, body: DestinationPatch } }, async (request) => {
    const d = await svc.updateDestination(request.params.id, request.body);
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.destination.update', target: d.id, details: { ...request.body }, ip: request.ip });
    return destinationJson(d);
  });

  api.delete('/dispatch/destinations/:id', { schema: { params: IdParams } }, async (request) => {
    const r = await svc.deleteDestination(request.params.id);
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.destination.delete', target: request.params.id, details: r, ip: request.ip });
    return { deleted: request.params.id, ...r };
  });

  api.get('/dispatches', { schema: { querystring: ListQuery } }, async (request) => ({
    dispatches: (await svc.listDispatches({ destinationId: request.query.destination })).map(dispatchJson),
  }));

  api.post('/dispatches', { schema: { body: DispatchBody } }, async (request, reply) => {
    const { expiresAt, ...rest } = request.body;
    const d = await svc.createDispatch({ ...rest, expiresAt: expiryOf(expiresAt) });
    await deps.audit.record({
      actor: actorOf(request),
      action: 'dispatch.create',
      target: d.id,
      details: { destination: d.destination_id, package: d.package_id, licence: dispatchJson(d).licence },
      ip: request.ip,
    });
    return reply.code(201).header('location', `/api/v1/dispatches/${d.id}`).send(dispatchJson(d));
  });

  api.get('/dispatches/:id', { schema: { params: IdParams } }, async (request) => dispatchJson(await svc.getDispatch(request.params.id)));

  api.patch('/dispatches/:id', { schema: { params: IdParams, body: DispatchPatch } }, async (request) => {
    const { expiresAt, ...rest } = request.body;
    const d = await svc.updateDispatch(request.params.id, { ...rest, expiresAt: expiryOf(expiresAt) });
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.update', target: d.id, details: { ...request.body }, ip: request.ip });
    return dispatchJson(d);
  });

  api.post('/dispatches/:id/rotate-secret', { schema: { params: IdParams } }, async (request) => {
    const d = await svc.rotateSecret(request.params.id);
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.rotate-secret', target: d.id, ip: request.ip });
    return dispatchJson(d);
  });

  api.delete('/dispatches/:id', { schema: { params: IdParams } }, async (request) => {
    await svc.deleteDispatch(request.params.id);
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.delete', target: request.params.id, ip: request.ip });
    return { deleted: request.params.id };
  });

  api.get('/dispatches/:id/package', { schema: { params: IdParams, querystring: ExportQuery } }, async (request, reply) => {
    const d = await svc.getDispatch(request.params.id);
    const version = request.query.scorm ?? d.scorm_version;
    await deps.audit.record({ actor: actorOf(request), action: 'dispatch.export', target: d.id, details: { scormVersion: version }, ip: request.ip });
    return reply
      .header('content-disposition', `attachment; filename="${dispatchFileName(d, version)}"`)
      .type('application/zip')
      .send(dispatchZip(launcherConfig({ ...d, scorm_version: version }, deps.baseUrl, svc.secretOf(d))));
  });

  api.get('/dispatches/:id/report', { schema: { params: IdParams } }, async (request) => {
    const d = await svc.getDispatch(request.params.id);
    return { dispatch: dispatchJson(d), registrations: (await svc.report(d.id)).map(reportJson), refusals: (await svc.events(d.id)).map(eventJson) };
  });

  api.get('/dispatches/:id/report.csv', { schema: { params: IdParams } }, async (request, reply) => {
    const csv = dispatchReportCsv(await svc.report(request.params.id));
    return reply.header('content-disposition', `attachment; filename="dispatch-${request.params.id}.csv"`).type('text/csv; charset=utf-8').send(csv);
  });
}
