import type { FastifyInstance } from 'fastify';
import { isReady, type Store } from '../../store/database.js';

export function healthRoutes(app: FastifyInstance, store: Store): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = await isReady(store);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', database: store.dialect });
  });
}
