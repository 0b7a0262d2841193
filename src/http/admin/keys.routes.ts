import { KeysPage } from '../../web/admin/keys-page.js';
import { formatTime } from '../../web/admin/console-layout.js';
import type { AdminPageModule } from './console.js';

/** Keys: the tool's signing keys, rotation (ToolKeyService.rotate) with audit entries. */
export const keyPages: AdminPageModule = (c) => {
  const { toolKeys } = c.deps.services;

  c.get('/keys', async (_request, reply, ctx) =>
    c.render(reply, ctx, {
      title: 'Keys',
      nav: 'keys',
      // The schedule (configured policy, next automatic step) comes with the list.
      body: await (async () => {
        const schedule = await toolKeys.schedule();
        return KeysPage({
          keys: await toolKeys.list(),
          csrfToken: ctx.csrfToken,
          publishBeforeUseDays: Math.round(schedule.policy.publishBeforeUseMs / 86_400_000),
          schedule,
        });
      })(),
    }),
  );

  for (const [path, now] of [
    ['/keys/rotate', false],
    ['/keys/rotate-now', true],
  ] as const) {
    c.post(path, async (request, reply, ctx) => {
      const result = await toolKeys.rotate({ now });
      request.log.warn({ action: result.action, kid: result.kid }, 'tool key rotation from the console');
      await c.audit(request, ctx, 'key.rotate', result.kid, { result: result.action, now });
      const notice =
        result.action === 'published-next'
          ? `Key ${result.kid} is published as next; it can become current from ${formatTime(result.promotableAt)}.`
          : result.action === 'waiting'
            ? `Key ${result.kid} is published as next and can become current from ${formatTime(result.promotableAt)}. Use “Rotate now” to promote it at once.`
            : `Key ${result.kid} is now current; the previous key is retired.`;
      return c.redirect(reply, '/admin/keys', notice);
    });
  }
};
