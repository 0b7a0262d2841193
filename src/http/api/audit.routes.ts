import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.service.js';

const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (default 100)' })),
    action: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
/** The audit log. */
export async function auditApiRoutes(app: FastifyInstance, deps: { readonly audit: AuditLog }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/audit', { schema: { querystring: AuditQuery } }, async (request) => ({
    entries: await deps.audit.list({ limit: Number(request.query.limit ?? 100), ...(request.query.action ? { action: request.query.action } : {}) }),
  }));
}
