import type { FastifyInstance } from 'fastify';
import type { ToolKeyService } from '../../keys/tool-keys.js';

export function jwksRoutes(app: FastifyInstance, keys: ToolKeyService): void {
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    const doc = await keys.jwks();
    // Platforms may cache for five minutes; a next key is published days before it signs.
    return reply.header('cache-control', 'public, max-age=300').type('application/json').send(doc);
  });
}
