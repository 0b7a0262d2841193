import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { progressSort, type ProgressService } from '../../rosters/progress.service.js';
import { sortQuery } from '../../rosters/progress-view.js';
import { ProgressPage } from '../../web/progress-page.js';
import { PAGE, withSecret, withWayBack } from '../plugins/page-policy.js';
import { sendHtml } from '../reply.js';

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) });
const SortQuery = Type.Object({ sort: Type.Optional(Type.String({ maxLength: 20 })) });

/** The instructors' progress view of a resource link, its roster refresh and its CSV. */
export function progressRoutes(app: FastifyInstance, deps: { readonly progress: ProgressService }): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { page: withWayBack(withSecret(PAGE.lms, 'token'), 'progress') };
  const schema = { params: TokenParams, querystring: SortQuery };
  const logSyncError = (request: FastifyRequest, contextId: string | null) => (err: unknown) =>
    request.log.warn({ err: (err as Error).message, context: contextId }, 'roster sync failed; the previous roster stays');

  api.get('/progress/:token', { config, schema }, async (request, reply) => {
    const c = await deps.progress.open(request.params.token);
    return sendHtml(reply, ProgressPage(await deps.progress.view(c, progressSort(request.query.sort), logSyncError(request, c.contextId))));
  });

  api.post('/progress/:token/sync', { config, schema }, async (request, reply) => {
    const c = await deps.progress.open(request.params.token);
    await deps.progress.syncNow(c, logSyncError(request, c.contextId));
    return reply.redirect(`${c.base}${sortQuery(progressSort(request.query.sort))}`, 303);
  });

  api.get('/progress/:token/export.csv', { config, schema }, async (request, reply) => {
    const c = await deps.progress.open(request.params.token);
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', await deps.progress.csvDisposition(c))
      .type('text/csv; charset=utf-8')
      .send(await deps.progress.csv(c, progressSort(request.query.sort)));
  });
}
