import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { keyScheduleJson, toolKeyJson } from '../../keys/tool-keys-view.js';
import type { ToolKeyService } from '../../keys/tool-keys.service.js';
import { actorOf } from '../actor.js';

const RotateBody = Type.Object({ now: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** The tool's signing keys: list with the rotation schedule, and rotation. */
export async function keyApiRoutes(app: FastifyInstance, deps: { readonly toolKeys: ToolKeyService }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
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
