import { listOutbox, outboxCounts, requeue } from '../../grades/grade-outbox.js';
import { AppError } from '../../errors/app-error.js';
import { GradesPage } from '../../web/admin/grades-page.js';
import type { AdminPageModule } from './console.js';
import { idOf } from './console.js';

/** Grades: the outbox's counts, pending and dead scores with their last error, retry one or all dead. */
export const gradePages: AdminPageModule = (c) => {
  const { db, clock } = c.deps;

  c.get('/grades', async (_request, reply, ctx) => {
    const [counts, dead, pending] = await Promise.all([outboxCounts(db), listOutbox(db, ['dead'], 200), listOutbox(db, ['pending', 'sending'], 200)]);
    return c.render(reply, ctx, { title: 'Grades', nav: 'grades', body: GradesPage({ counts, dead, pending, csrfToken: ctx.csrfToken }) });
  });

  c.post('/grades/:id/retry', async (request, reply, ctx) => {
    const id = idOf(request);
    const requeued = await requeue(db, [id.slice(0, 64)], clock.now());
    if (requeued === 0)
      throw new AppError('NOT_FOUND', `No pending or dead score ${id}.`, { hint: 'It may have been delivered meanwhile: reload the Grades page.' });
    request.log.info({ outbox: id }, 'grade delivery retried from the console');
    await c.audit(request, ctx, 'grades.retry', id, { requeued });
    return c.redirect(reply, '/admin/grades', `Score ${id} will be sent again now.`);
  });

  c.post('/grades/retry-dead', async (request, reply, ctx) => {
    const requeued = await requeue(db, 'all-dead', clock.now());
    request.log.info({ requeued }, 'all dead grades retried from the console');
    await c.audit(request, ctx, 'grades.retry', undefined, { requeued, dead: true });
    return c.redirect(reply, '/admin/grades', `${requeued} dead score(s) will be sent again now.`);
  });
};
