import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors/app-error.js';
import type { ToolKeyService } from '../../keys/tool-keys.js';
import type { PlatformKeys } from '../../lti/platform-keys.js';
import type { AdminTokenService } from '../../services/admin-tokens.js';
import type { Actor, AuditLog } from '../../services/audit-log.js';
import { deploymentJson, platformJson, type PlatformService } from '../../services/platforms.js';
import type { PlatformKeyStatusService } from '../../services/platform-key-status.js';
import { keyScheduleJson, toolKeyJson } from '../../services/tool-keys-view.js';
import { packageApiRoutes, type PackageApiDeps } from './api-packages.js';
// issue 10: content dispatch
import { dispatchApiRoutes, type DispatchApiDeps } from './api-dispatch.js';
import type { Kysely } from 'kysely';
import { listOutbox, outboxCounts, requeue } from '../../grades/grade-outbox.js';
import type { Database } from '../../store/tables.js';

export interface ApiDeps extends PackageApiDeps, DispatchApiDeps {
  readonly db: Kysely<Database>;
  readonly platforms: PlatformService;
  readonly adminTokens: AdminTokenService;
  readonly toolKeys: ToolKeyService;
  readonly platformKeys: PlatformKeys;
  readonly platformKeyStatus: PlatformKeyStatusService;
  readonly audit: AuditLog;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, for the audit log (set by the API or console authentication). */
    actor?: Actor;
  }
}

/** The actor of an authenticated request; routes behind authentication only. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('UNAUTHORIZED', 'Authentication required.');
  return request.actor;
}

const platformFields = {
    issuer: Type.String({ minLength: 1, maxLength: 1024 }),
    clientId: Type.String({ minLength: 1, maxLength: 255 }),
    authUrl: Type.String({ minLength: 1, maxLength: 2048 }),
    tokenUrl: Type.String({ minLength: 1, maxLength: 2048 }),
    jwksUrl: Type.Optional(Type.String({ maxLength: 2048 })),
    publicKey: Type.Optional(Type.String({ maxLength: 16384 })),
    tokenAudience: Type.Optional(Type.String({ maxLength: 2048 })),
    name: Type.Optional(Type.String({ maxLength: 255 })),
    gradePolicy: Type.Optional(Type.Union([Type.Literal('overwrite'), Type.Literal('raise'), Type.Literal('preserve')])),
    allowMissingKid: Type.Optional(Type.Boolean({ description: 'accept launch id_tokens without a kid (default false: refused with LTI_MISSING_KID)' })),
};
const PlatformBody = Type.Object(
  { ...platformFields, deployments: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000 })) },
  { additionalProperties: false },
);
/** A full replacement of a registration's fields (its status and deployments have their own routes). */
const PlatformUpdateBody = Type.Object(platformFields, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const DeploymentBody = Type.Object(
  { deploymentId: Type.String({ minLength: 1, maxLength: 255 }), name: Type.Optional(Type.String({ maxLength: 255 })) },
  { additionalProperties: false },
);
const RetryBody = Type.Object(
  { ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })), dead: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (default 100)' })), action: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);
const RotateBody = Type.Object({ now: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** The admin REST API, /api/v1, behind bearer tokens from `courseport admin token create`. */
export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.header('cache-control', 'no-store');
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match?.[1] ? await deps.adminTokens.authenticate(match[1]) : undefined;
    if (!token) {
      throw new AppError('UNAUTHORIZED', 'A valid admin API token is required (Authorization: Bearer …). Create one with `courseport admin token create`.');
    }
    request.actor = `api-token:${token.name}`;
    request.log.info({ adminToken: token.id, method: request.method, path: request.url }, 'admin API call');
  };
  api.addHook('onRequest', authenticate);
  // Unknown API paths answer 401 before 404, so that they reveal nothing to strangers.
  api.setNotFoundHandler({ preHandler: authenticate }, async (request) => {
    throw new AppError('NOT_FOUND', `Nothing at ${request.method} ${request.url.split('?')[0]}.`);
  });

  api.get('/platforms', async () => ({ platforms: (await deps.platforms.list()).map(platformJson) }));

  api.post('/platforms', { schema: { body: PlatformBody } }, async (request, reply) => {
    const created = await deps.platforms.register(request.body);
    await deps.audit.record({ actor: actorOf(request), action: 'platform.register', target: created.platform.id, details: { issuer: created.platform.issuer, clientId: created.platform.client_id, allowMissingKid: created.platform.allow_missing_kid === 1 }, ip: request.ip });
    return reply.code(201).header('location', `/api/v1/platforms/${created.platform.id}`).send(platformJson(created));
  });

  api.get('/platforms/:id', { schema: { params: IdParams } }, async (request) => platformJson(await deps.platforms.get(request.params.id)));

  // Issue 8: the health of the platform's JWKS endpoint (stale key set warnings for the admin row).
  api.get('/platforms/:id/keys', { schema: { params: IdParams } }, async (request) => {
    const p = await deps.platforms.get(request.params.id);
    return { platformId: p.platform.id, jwksUrl: p.platform.jwks_url, ...(await deps.platformKeyStatus.get(p.platform.id)) };
  });

  api.put('/platforms/:id', { schema: { params: IdParams, body: PlatformUpdateBody } }, async (request) => {
    const updated = await deps.platforms.update(request.params.id, request.body);
    // A new JWKS URL or static key must not be shadowed by the cached key set.
    deps.platformKeys.forget(updated.platform.id);
    await deps.audit.record({ actor: actorOf(request), action: 'platform.update', target: updated.platform.id, details: { issuer: updated.platform.issuer, clientId: updated.platform.client_id, allowMissingKid: updated.platform.allow_missing_kid === 1 }, ip: request.ip });
    return platformJson(updated);
  });

  api.post('/platforms/:id/disable', { schema: { params: IdParams } }, async (request) => {
    deps.platformKeys.forget(request.params.id);
    const p = await deps.platforms.setStatus(request.params.id, 'disabled');
    await deps.audit.record({ actor: actorOf(request), action: 'platform.disable', target: p.platform.id, ip: request.ip });
    return platformJson(p);
  });

  api.post('/platforms/:id/enable', { schema: { params: IdParams } }, async (request) => {
    const p = await deps.platforms.setStatus(request.params.id, 'active');
    await deps.audit.record({ actor: actorOf(request), action: 'platform.enable', target: p.platform.id, ip: request.ip });
    return platformJson(p);
  });

  api.get('/platforms/:id/deployments', { schema: { params: IdParams } }, async (request) => ({
    deployments: (await deps.platforms.listDeployments(request.params.id)).map(deploymentJson),
  }));

  api.post('/platforms/:id/deployments', { schema: { params: IdParams, body: DeploymentBody } }, async (request, reply) => {
    const d = await deps.platforms.addDeployment(request.params.id, request.body.deploymentId, request.body.name);
    await deps.audit.record({ actor: actorOf(request), action: 'deployment.add', target: request.params.id, details: { deploymentId: d.deployment_id }, ip: request.ip });
    return reply.code(201).send(deploymentJson(d));
  });

  await packageApiRoutes(app, deps);
  // issue 10: content dispatch
  await dispatchApiRoutes(app, deps);

  api.get('/grades', async () => ({ counts: await outboxCounts(deps.db), entries: await listOutbox(deps.db, ['dead', 'pending'], 100) }));

  api.post('/grades/retry', { schema: { body: RetryBody } }, async (request) => {
    const requeued = await requeue(deps.db, request.body.dead ? 'all-dead' : (request.body.ids ?? []), Date.now());
    request.log.info({ requeued }, 'grade delivery retried by an administrator');
    await deps.audit.record({ actor: actorOf(request), action: 'grades.retry', details: { requeued, dead: request.body.dead === true }, ip: request.ip });
    return { requeued };
  });

  api.get('/audit', { schema: { querystring: AuditQuery } }, async (request) => ({
    entries: await deps.audit.list({ limit: Number(request.query.limit ?? 100), ...(request.query.action ? { action: request.query.action } : {}) }),
  }));

  // Issue 8: the list comes with the rotation schedule.
  api.get('/keys', async () => ({ keys: (await deps.toolKeys.list()).map(toolKeyJson), schedule: keyScheduleJson(await deps.toolKeys.schedule()) }));

  api.post(
    '/keys/rotate',
    {
      schema: { body: RotateBody },
      // `curl -X POST` sends no body: treat it as {}.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request) => {
      // Audited by the service, in the rotation's transaction.
      const result = await deps.toolKeys.rotate({ now: request.body.now === true, actor: actorOf(request), ip: request.ip });
      request.log.warn({ action: result.action, kid: result.kid }, 'tool key rotation');
      return { ...result, promotableAt: result.promotableAt ? new Date(result.promotableAt).toISOString() : undefined };
    },
  );
}
