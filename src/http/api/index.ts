import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminTokenService } from '../../admin/admin-tokens.service.js';
import { AppError } from '../../errors/app-error.js';
import { auditApiRoutes } from './audit.routes.js';
import { dispatchApiRoutes, type DispatchApiDeps } from './dispatch.routes.js';
import { gradeApiRoutes, type GradeApiDeps } from './grades.routes.js';
import { keyApiRoutes } from './keys.routes.js';
import { packageApiRoutes, type PackageApiDeps } from './packages.routes.js';
import { platformApiRoutes, type PlatformApiDeps } from './platforms.routes.js';
import type { ToolKeyService } from '../../keys/tool-keys.service.js';

export interface ApiDeps extends PackageApiDeps, DispatchApiDeps, PlatformApiDeps, GradeApiDeps {
  readonly adminTokens: AdminTokenService;
  readonly toolKeys: ToolKeyService;
}

/** The admin REST API, /api/v1, behind bearer tokens from `courseport admin token create`. */
export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
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
  app.addHook('onRequest', authenticate);
  // Unknown API paths answer 401 before 404, so that they reveal nothing to strangers.
  app.setNotFoundHandler({ preHandler: authenticate }, async (request) => {
    throw new AppError('NOT_FOUND', `Nothing at ${request.method} ${request.url.split('?')[0]}.`);
  });

  await platformApiRoutes(app, deps);
  await packageApiRoutes(app, deps);
  await dispatchApiRoutes(app, deps);
  await gradeApiRoutes(app, deps);
  await auditApiRoutes(app, deps);
  await keyApiRoutes(app, deps);
}
