import type { FastifyInstance } from 'fastify';
import { isReady, type Store } from '../../store/database.js';
import { PAGE } from '../plugins/page-policy.js';

export function healthRoutes(app: FastifyInstance, store: Store): void {
  const config = { config: { page: PAGE.machine } };
  app.get('/healthz', config, async () => ({ status: 'ok' }));
  // Browsers ask for it on every page: an empty answer, not a 404 logged as a refused request each time.
  app.get('/favicon.ico', config, async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
  app.get('/readyz', config, async (_req, reply) => {
    const ready = await isReady(store);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', database: store.dialect });
  });
}
