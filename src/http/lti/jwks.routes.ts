import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ToolKeyService } from '../../keys/tool-keys.service.js';
import { PAGE } from '../plugins/page-policy.js';

/**
 * The tool's public keys. Platforms may cache them for `maxAgeMs` (COURSEPORT_JWKS_MAX_AGE_SECONDS),
 * which the configuration keeps well below the publication window of a next key (7 days by
 * default): every platform that honours the header has seen a key before it signs anything.
 * An ETag lets them revalidate cheaply.
 */
export function jwksRoutes(app: FastifyInstance, keys: ToolKeyService, maxAgeMs = 300_000): void {
  const cacheControl = `public, max-age=${Math.floor(maxAgeMs / 1000)}`;
  app.get('/.well-known/jwks.json', { config: { page: PAGE.machine } }, async (request, reply) => {
    const body = JSON.stringify(await keys.jwks());
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    reply.header('cache-control', cacheControl).header('etag', etag).header('access-control-allow-origin', '*');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json').send(body);
  });
}
