import { uploadLimits } from '../package-upload.js';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { sendError } from '../plugins/errors.js';
import { randomToken } from '../../util/ids.js';
import { defaultPagePolicy, PAGE } from '../plugins/page-policy.js';
import { LoginPage, SetupPage } from '../../web/admin/auth-pages.js';
import {
  checkOrigin,
  contextOfSession,
  createAdminConsole,
  csrfError,
  FLASH_COOKIE,
  sessionCookieName,
  sessionCookieOptions,
  type AdminDeps,
  type AdminPageModule,
  queryOf,
} from './console.js';
import { accountPages } from './account.routes.js';
import { auditPages } from './audit.routes.js';
import { gradePages } from './grades.routes.js';
import { keyPages } from './keys.routes.js';
import { packagePages } from './packages.routes.js';
import { platformPages } from './platforms.routes.js';
import { settingsPages } from './settings.routes.js';
import { dispatchPages } from './dispatch.routes.js';

/** The console's pages. Other features append their module here (see admin-console.ts). */
export const ADMIN_PAGE_MODULES: AdminPageModule[] = [settingsPages, platformPages, packagePages, gradePages, keyPages, auditPages, accountPages];
ADMIN_PAGE_MODULES.push(dispatchPages);

/** Before a session exists (sign-in, first administrator): a double-submit token in a Strict cookie. */
const PRE_COOKIE = 'cp_admin_pre';
/** Sign-in and setup attempts per address and minute, before any password work (scrypt is costly on purpose). */
const AUTH_POSTS_PER_MINUTE = 30;

/** A console path to go to after sign-in; printable ASCII only, since it becomes the Location header. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/admin(?:[/?]|$)/.test(next) && /^[\x21-\x7e]*$/.test(next) && !/\.\.|\\|\/\//.test(next) && next.length < 1000
    ? next
    : '/admin';
}

function field(body: unknown, name: string, max = 1024): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** The admin console under /admin (see admin-console.ts for how pages are added). */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const routeList: { method: 'GET' | 'POST'; url: string }[] = [];
  app.decorate('adminRouteList', routeList);
  const secure = deps.config.baseUrl.startsWith('https:');
  const cookieName = sessionCookieName(secure);
  const { admins, audit } = deps.services;

  await app.register(
    async (scope) => {
      defaultPagePolicy(scope, PAGE.console);
      // Console pages are never cached nor framed (LTI pages elsewhere are framed by LMSs).
      scope.addHook('onRequest', async (request, reply) => {
        reply.header('cache-control', 'no-store');
        reply.header('x-frame-options', 'DENY');
        // Browsers send `Origin: null` on form posts under no-referrer; the console checks Origin.
        reply.header('referrer-policy', 'same-origin');
        const csp = reply.raw.getHeader('content-security-policy');
        if (typeof csp === 'string') {
          reply.header(
            'content-security-policy',
            csp.replace(/frame-ancestors [^;]*/, "frame-ancestors 'none'").replace(/form-action [^;]*/, "form-action 'self'"),
          );
        }
        // Package files share this origin (docs/security.md). A script of theirs may neither read a
        // console page with fetch/XHR (browsers say what a request is for: a page is a `document`)
        // nor script a console window it opened (COOP puts that window in its own group).
        reply.header('cross-origin-opener-policy', 'same-origin');
        const dest = request.headers['sec-fetch-dest'];
        if ((request.method === 'GET' || request.method === 'HEAD') && typeof dest === 'string' && dest !== 'document') {
          request.log.warn(
            { path: request.url.split('?')[0], dest, site: request.headers['sec-fetch-site'] },
            'console page requested by a script or subresource: refused',
          );
          throw new AppError('ADMIN_PAGE_ONLY', 'Console pages open only as pages of their own, not from scripts, frames or other pages.');
        }
        request.log.debug({ path: request.url.split('?')[0] }, 'admin console request');
      });

      // Package uploads (admin-packages.ts); other console forms are urlencoded.
      await scope.register(multipart, uploadLimits(deps.config.packages.maxUploadBytes));
      const c = createAdminConsole(scope, deps);

      const preToken = (request: FastifyRequest, reply: FastifyReply): string => {
        const existing = request.cookies[PRE_COOKIE];
        if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
        const token = randomToken(32);
        reply.setCookie(PRE_COOKIE, token, { path: '/admin', httpOnly: true, secure, sameSite: 'strict', maxAge: 3600 });
        return token;
      };
      const checkPreToken = (request: FastifyRequest): void => {
        checkOrigin(request, deps.config.baseUrl);
        const cookie = request.cookies[PRE_COOKIE];
        const submitted = field(request.body, '_csrf', 256);
        if (!cookie || !submitted || cookie !== submitted) {
          throw csrfError(
            cookie ? 'the anti-forgery token does not match' : 'the anti-forgery cookie is missing (cookies blocked, or the form is older than an hour)',
          );
        }
      };
      const html = (reply: FastifyReply, status: number, page: JSX.Element | string) => reply.code(status).type('text/html; charset=utf-8').send(page);
      const authLimit = { config: { rateLimit: { max: AUTH_POSTS_PER_MINUTE, timeWindow: 60_000 } } };

      // Reachable without a session (registered on the scope directly, not through the console API).
      scope.get('/setup', async (request, reply) => {
        if ((await admins.count()) > 0) return reply.redirect('/admin/login', 303);
        return html(reply, 200, SetupPage({ csrfToken: preToken(request, reply) }));
      });

      scope.post('/setup', authLimit, async (request, reply) => {
        checkPreToken(request);
        if ((await admins.count()) > 0) {
          throw new AppError('ADMIN_SETUP_DONE', 'An administrator already exists: sign in instead.', {
            hint: 'More administrators are created with `courseport admin create --email …`.',
          });
        }
        const email = field(request.body, 'email', 400);
        let admin: Awaited<ReturnType<typeof admins.create>>;
        try {
          admin = await admins.create(email, field(request.body, 'password'), { confirm: field(request.body, 'confirm'), onlyIfNone: true });
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== 'VALIDATION_FAILED') throw err;
          request.log.warn({ code: err.code, details: err.details }, 'first administrator refused');
          const problems = (err.details?.problems as string[] | undefined) ?? [err.message];
          return html(reply, 400, SetupPage({ csrfToken: preToken(request, reply), email, problems, code: err.code }));
        }
        const { sessionId } = await admins.createSession(admin, { ip: request.ip, userAgent: request.headers['user-agent'] });
        // The audit log records this as a sign-in; so does the account's "Last sign-in".
        await admins.recordSignIn(admin.id);
        await audit.record({ actor: `admin:${admin.email}`, action: 'admin.setup', target: admin.id, details: { email: admin.email }, ip: request.ip });
        await audit.record({ actor: `admin:${admin.email}`, action: 'admin.login', target: admin.id, ip: request.ip });
        request.log.warn({ admin: admin.id }, 'first administrator created from the console');
        reply.setCookie(cookieName, sessionId, sessionCookieOptions(secure));
        return c.redirect(reply, '/admin/settings', `Welcome! Administrator ${admin.email} created. Start by connecting an LMS.`);
      });

      scope.get('/login', async (request, reply) => {
        if ((await admins.count()) === 0) return reply.redirect('/admin/setup', 303);
        if (await admins.findSession(request.cookies[cookieName])) return reply.redirect('/admin', 303);
        const notice = request.cookies[FLASH_COOKIE];
        if (notice !== undefined) reply.clearCookie(FLASH_COOKIE, { path: '/admin' });
        const next = queryOf(request).next;
        return html(reply, 200, LoginPage({ csrfToken: preToken(request, reply), next: safeNext(next), ...(notice ? { notice: notice.slice(0, 300) } : {}) }));
      });

      scope.post('/login', authLimit, async (request, reply) => {
        checkPreToken(request);
        const email = field(request.body, 'email', 400);
        const next = safeNext(field(request.body, 'next'));
        const outcome = await admins.login(email, field(request.body, 'password'), request.ip);
        if (!outcome.ok) {
          const error =
            outcome.reason === 'throttled'
              ? new AppError(
                  'ADMIN_LOGIN_THROTTLED',
                  `Too many failed sign-ins for this account or from your address. Try again in ${Math.ceil(outcome.retryAfterMs / 60_000)} minute(s).`,
                )
              : new AppError('ADMIN_LOGIN_FAILED', 'Wrong email or password.');
          request.log.warn({ code: error.code, email: email.trim().toLowerCase() }, `admin sign-in refused: ${error.message}`);
          await audit.record({
            actor: `admin:${email.trim().toLowerCase() || '(empty)'}`,
            action: outcome.reason === 'throttled' ? 'admin.login.throttled' : 'admin.login.failed',
            ip: request.ip,
          });
          if (outcome.reason === 'throttled') reply.header('retry-after', String(Math.ceil(outcome.retryAfterMs / 1000)));
          return html(
            reply,
            error.status,
            LoginPage({ csrfToken: preToken(request, reply), email, next, error: { code: error.code, message: error.message } }),
          );
        }
        const { sessionId } = await admins.createSession(outcome.admin, { ip: request.ip, userAgent: request.headers['user-agent'] });
        await audit.record({ actor: `admin:${outcome.admin.email}`, action: 'admin.login', target: outcome.admin.id, ip: request.ip });
        request.log.info({ admin: outcome.admin.id }, 'admin signed in');
        reply.setCookie(cookieName, sessionId, sessionCookieOptions(secure));
        return reply.redirect(next, 303);
      });

      c.post('/logout', async (request, reply, ctx) => {
        await admins.revokeSession(ctx.session.idHash);
        await c.audit(request, ctx, 'admin.logout', ctx.session.admin.id);
        reply.clearCookie(cookieName, sessionCookieOptions(secure));
        request.log.info({ admin: ctx.session.admin.id }, 'admin signed out');
        return c.redirect(reply, '/admin/login', 'You are signed out.');
      });

      c.get('/', async (_request, reply) => reply.redirect('/admin/settings', 303));

      for (const module of ADMIN_PAGE_MODULES) await module(c);
      routeList.push(...c.routes);

      // Unknown console paths: sign-in first (nothing is revealed to strangers), then a 404 inside the console.
      scope.setNotFoundHandler(async (request, reply) => {
        const session = await admins.findSession(request.cookies[cookieName]);
        if (!session) {
          if (request.method === 'GET' || request.method === 'HEAD') {
            return reply.redirect((await admins.count()) === 0 ? '/admin/setup' : `/admin/login?next=${encodeURIComponent('/admin')}`, 303);
          }
          throw new AppError('ADMIN_LOGIN_REQUIRED', 'Sign in to use the console. Nothing was changed.');
        }
        const notFound = new AppError('NOT_FOUND', `Nothing at ${request.method} ${request.url.split('?')[0]}.`, {
          hint: 'Use the navigation above to find your way.',
        });
        return c.renderError(request, reply, contextOfSession(session), notFound);
      });
      // Errors of signed-in requests (an unknown id, a refused action) keep the console's navigation.
      scope.setErrorHandler(async (err, request, reply) => {
        if (request.adminContext) return c.renderError(request, reply, request.adminContext, err);
        return sendError(request, reply, err);
      });
    },
    { prefix: '/admin' },
  );
}
