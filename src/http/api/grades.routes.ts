import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/audit-log.service.js';
import { listOutbox, outboxCounts, requeue } from '../../grades/grade-outbox.js';
import type { Database } from '../../store/tables.js';
import { actorOf } from '../actor.js';

export interface GradeApiDeps {
  readonly db: Kysely<Database>;
  readonly audit: AuditLog;
}

const RetryBody = Type.Object(
  { ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })), dead: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
/** Grade delivery: what waits or failed, and retrying it. */
export async function gradeApiRoutes(app: FastifyInstance, deps: GradeApiDeps): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/grades', async () => ({ counts: await outboxCounts(deps.db), entries: await listOutbox(deps.db, ['dead', 'pending'], 100) }));

  api.post('/grades/retry', { schema: { body: RetryBody } }, async (request) => {
    const requeued = await requeue(deps.db, request.body.dead ? 'all-dead' : (request.body.ids ?? []), Date.now());
    request.log.info({ requeued }, 'grade delivery retried by an administrator');
    await deps.audit.record({ actor: actorOf(request), action: 'grades.retry', details: { requeued, dead: request.body.dead === true }, ip: request.ip });
    return { requeued };
  });
}
