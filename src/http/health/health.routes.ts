import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/database.js';
import { checkReadiness } from '../../store/readiness.js';
import { PAGE } from '../plugins/page-policy.js';

/** /readyz answers within this, whatever the database does (a load balancer's check times out at 2 s or more). */
export const READYZ_TIMEOUT_MS = 1500;

export function healthRoutes(app: FastifyInstance, store: Store): void {
  const config = { config: { page: PAGE.machine } };
  app.get('/healthz', config, async () => ({ status: 'ok' }));
  // Browsers ask for it on every page: an empty answer, not a 404 logged as a refused request each time.
  app.get('/favicon.ico', config, async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
  app.get('/readyz', config, async (_req, reply) => {
    const r = await checkReadiness(store, READYZ_TIMEOUT_MS);
    reply.header('cache-control', 'no-store');
    if (r.ready) return reply.code(200).send({ status: 'ready', database: store.dialect });
    if (!r.unavailable) return reply.code(503).send({ status: 'not-ready', database: store.dialect });
    // The engine's code only (SQLITE_FULL, ECONNREFUSED, …): the full reason, with host names, is in the log.
    return reply.code(503).send({ status: 'not-ready', database: store.dialect, error: 'DATABASE_UNAVAILABLE', ...(r.dbError ? { dbError: r.dbError } : {}) });
  });
}
