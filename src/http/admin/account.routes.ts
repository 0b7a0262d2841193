import { AppError } from '../../errors/app-error.js';
import { AccountPage } from '../../web/admin/account-page.js';
import type { AdminContext, AdminPageModule } from './console.js';
import { formOf } from './console.js';
import type { FastifyReply } from 'fastify';

/** Your account (linked from the header): change your password; the list of administrators. */
export const accountPages: AdminPageModule = (c) => {
  const { admins } = c.deps.services;
  const page = async (reply: FastifyReply, ctx: AdminContext, extra: { problems?: string[]; code?: string } = {}, status = 200) =>
    c.render(reply, ctx, {
      title: 'Your account',
      nav: 'account',
      status,
      body: AccountPage({
        me: ctx.session.admin.email,
        admins: await admins.list(),
        sessions: await admins.sessionCounts(),
        csrfToken: ctx.csrfToken,
        ...extra,
      }),
    });

  c.get('/account', async (_request, reply, ctx) => page(reply, ctx));

  c.post('/account/password', async (request, reply, ctx) => {
    const body = formOf(request);
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).slice(0, 2048) : '');
    try {
      await admins.changePassword(ctx.session.admin.id, str('current'), str('password'), str('confirm'), ctx.session.idHash);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'VALIDATION_FAILED') throw err;
      request.log.warn({ code: err.code, problems: err.details?.problems }, 'password change refused');
      return page(reply, ctx, { problems: (err.details?.problems as string[] | undefined) ?? [err.message], code: err.code }, 400);
    }
    await c.audit(request, ctx, 'admin.password', ctx.session.admin.id);
    request.log.info({ admin: ctx.session.admin.id }, 'admin password changed');
    return c.redirect(reply, '/admin/account', 'Password changed. Your other sessions are signed out.');
  });
};
