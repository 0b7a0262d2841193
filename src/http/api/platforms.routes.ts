import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.service.js';
import type { PlatformKeys } from '../../lti/platform-keys.js';
import type { PlatformKeyStatusService } from '../../platforms/platform-key-status.service.js';
import { deploymentJson, platformJson, type PlatformService } from '../../platforms/platform.service.js';
import { actorOf } from '../actor.js';

export interface PlatformApiDeps {
  readonly platforms: PlatformService;
  readonly platformKeys: PlatformKeys;
  readonly platformKeyStatus: PlatformKeyStatusService;
  readonly audit: AuditLog;
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
/** LMS registrations and their deployments. */
export async function platformApiRoutes(app: FastifyInstance, deps: PlatformApiDeps): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/platforms', async () => ({ platforms: (await deps.platforms.list()).map(platformJson) }));

  api.post('/platforms', { schema: { body: PlatformBody } }, async (request, reply) => {
    const created = await deps.platforms.register(request.body);
    await deps.audit.record({
      actor: actorOf(request),
      action: 'platform.register',
      target: created.platform.id,
      details: { issuer: created.platform.issuer, clientId: created.platform.client_id, allowMissingKid: created.platform.allow_missing_kid === 1 },
      ip: request.ip,
    });
    return reply.code(201).header('location', `/api/v1/platforms/${created.platform.id}`).send(platformJson(created));
  });

  api.get('/platforms/:id', { schema: { params: IdParams } }, async (request) => platformJson(await deps.platforms.get(request.params.id)));

  // The health of the platform's JWKS endpoint (stale key set warnings for the admin row).
  api.get('/platforms/:id/keys', { schema: { params: IdParams } }, async (request) => {
    const p = await deps.platforms.get(request.params.id);
    return { platformId: p.platform.id, jwksUrl: p.platform.jwks_url, ...(await deps.platformKeyStatus.get(p.platform.id)) };
  });

  api.put('/platforms/:id', { schema: { params: IdParams, body: PlatformUpdateBody } }, async (request) => {
    const updated = await deps.platforms.update(request.params.id, request.body);
    // A new JWKS URL or static key must not be shadowed by the cached key set.
    deps.platformKeys.forget(updated.platform.id);
    await deps.audit.record({
      actor: actorOf(request),
      action: 'platform.update',
      target: updated.platform.id,
      details: { issuer: updated.platform.issuer, clientId: updated.platform.client_id, allowMissingKid: updated.platform.allow_missing_kid === 1 },
      ip: request.ip,
    });
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
    await deps.audit.record({
      actor: actorOf(request),
      action: 'deployment.add',
      target: request.params.id,
      details: { deploymentId: d.deployment_id },
      ip: request.ip,
    });
    return reply.code(201).send(deploymentJson(d));
  });
}
