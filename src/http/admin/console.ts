/**
 * The browser admin console under /admin: sessions, anti-forgery tokens, the page frame.
 *
 * ## Adding a page (for other features)
 *
 * 1. Write the page body as JSX in `src/web/admin/<feature>-page.tsx`.
 * 2. Write a module `src/http/routes/admin-<feature>.ts` exporting
 *    `const myPages: AdminPageModule = (c) => { c.get(...); c.post(...); }`, and append it to
 *    ADMIN_PAGE_MODULES in `src/http/routes/admin.ts`.
 * 3. Append `{ key, href, label }` to ADMIN_NAV in `src/web/admin/console-layout.tsx`.
 *
 * `c.get(path, handler)` and `c.post(path, handler)` take paths relative to /admin
 * (`'/dispatch'` is `/admin/dispatch`). Every route registered through them requires a
 * signed-in administrator (a GET without one is redirected to the sign-in page, a POST
 * refused with ADMIN_LOGIN_REQUIRED, 401), and every POST must carry the session's
 * anti-forgery token — the `<Csrf token={ctx.csrfToken} />` field, or the `x-csrf-token`
 * header — from this origin (else ADMIN_CSRF_INVALID, 403, before the handler runs).
 * Handlers receive `ctx`: the session, `ctx.actor` (`admin:<email>`) for the audit log and
 * `ctx.csrfToken` for forms. Render with `c.render(reply, ctx, { title, nav, body })`,
 * answer a POST with `c.redirect(reply, '/admin/…', 'Saved.')` (the notice is shown once; a request
 * with `X-Requested-With: XMLHttpRequest` gets `{ "redirect": "/admin/…" }` instead of a 303),
 * and record every change with `c.audit(request, ctx, 'thing.verb', target, details)`.
 * `c.deps` holds the services, the database, the config and the clock. Page helpers
 * (`Csrf`, `FormProblems` for validation problems that keep the user's input, `formatTime`)
 * are in `src/web/admin/console-layout.tsx`. Responses are `Cache-Control: no-store` and may
 * not be framed. Tests: `ConsoleClient` in `test/helpers/admin.ts` signs in over inject;
 * `test/e2e/admin-auth.test.ts` checks every route of `app.adminRouteList` refuses strangers.
 */
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/config.js';
import { AppError } from '../../errors/app-error.js';
import { csrfMatches, type ConsoleSession } from '../../admin/admin-accounts.service.js';
import type { Actor } from '../../audit/audit-log.service.js';
import type { Services } from '../services.js';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { ADMIN_NAV, ConsoleErrorBody, ConsoleLayout } from '../../web/admin/console-layout.js';
import { prepareError } from '../plugins/errors.js';
import { Type, type Static } from 'typebox';
import { readInput } from '../input.js';

/** A console form (urlencoded): every field a string, repeated fields a list. */
export const Form = Type.Record(
  Type.String(),
  Type.Union([Type.String({ maxLength: 65_536 }), Type.Array(Type.String({ maxLength: 65_536 }), { maxItems: 1000 })]),
);
/** Query parameters of a console page. */
export const Query = Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 2048 }), Type.Array(Type.String({ maxLength: 2048 }))]));
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** A console form's fields, validated. */
export function formOf(request: FastifyRequest): Static<typeof Form> {
  return readInput(Form, request.body ?? {});
}

/** A console page's query parameters, validated. */
export function queryOf(request: FastifyRequest): Static<typeof Query> {
  return readInput(Query, request.query ?? {});
}

/** The record id of a console path (`/…/:id`), validated. */
export function idOf(request: FastifyRequest): string {
  return readInput(IdParams, request.params).id;
}

export interface AdminDeps {
  readonly services: Services;
  readonly db: Kysely<Database>;
  readonly config: Config;
  readonly clock: Clock;
}

/** What a console handler knows about the signed-in administrator. */
export interface AdminContext {
  readonly session: ConsoleSession;
  readonly actor: Actor;
  readonly csrfToken: string;
  /** The one-time notice left by the previous action, if any. */
  readonly notice: string | undefined;
}

export type AdminHandler = (request: FastifyRequest, reply: FastifyReply, ctx: AdminContext) => Promise<unknown>;

export interface AdminRouteOptions {
  /**
   * multipart/form-data uploads: the body is not parsed before the handler, so the handler
   * must call `c.checkCsrf(request, ctx, fieldValue)` before storing anything (the
   * `x-csrf-token` header, when present, is checked before the handler like any POST).
   */
  readonly multipart?: boolean;
  readonly bodyLimit?: number;
}

export interface AdminPageSpec {
  readonly title: string;
  /** ADMIN_NAV key of the page, marked as current. */
  readonly nav: string;
  readonly body: JSX.Element | string;
  readonly status?: number;
}

export interface AdminConsole {
  readonly deps: AdminDeps;
  /** Every route registered through `get` and `post` (full paths), e.g. for tests that check them all. */
  readonly routes: { method: 'GET' | 'POST'; url: string }[];
  get(path: string, handler: AdminHandler): void;
  post(path: string, handler: AdminHandler, options?: AdminRouteOptions): void;
  render(reply: FastifyReply, ctx: AdminContext, page: AdminPageSpec): FastifyReply;
  /** An error page inside the console's frame, with the error's status (logged like any error). */
  renderError(request: FastifyRequest, reply: FastifyReply, ctx: AdminContext, err: unknown): FastifyReply;
  redirect(reply: FastifyReply, to: string, notice?: string): FastifyReply;
  audit(request: FastifyRequest, ctx: AdminContext, action: string, target?: string, details?: Record<string, unknown>): Promise<void>;
  /** For multipart routes: refuses (ADMIN_CSRF_INVALID) unless the header or the given field carries the token. */
  checkCsrf(request: FastifyRequest, ctx: AdminContext, submitted: unknown): void;
}

export type AdminPageModule = (c: AdminConsole) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The console's routes behind sign-in (method and full path). */
    adminRouteList: readonly { method: 'GET' | 'POST'; url: string }[];
  }
  interface FastifyRequest {
    /** The console session (routes registered through AdminConsole only). */
    adminContext?: AdminContext;
  }
  interface FastifyContextConfig {
    /** Console POSTs whose anti-forgery token the handler checks (multipart uploads). */
    adminDeferredCsrf?: boolean;
  }
}

export const FLASH_COOKIE = 'cp_admin_notice';

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Secure-cp_admin_session' : 'cp_admin_session';
}

export function sessionCookieOptions(secure: boolean) {
  return { path: '/admin', httpOnly: true, secure, sameSite: 'lax' as const };
}

/** Refuses a console POST that another origin sent (browsers always send Origin on POST). */
export function checkOrigin(request: FastifyRequest, baseUrl: string): void {
  const origin = request.headers.origin;
  const expected = new URL(baseUrl).origin;
  if (origin !== undefined && origin !== expected) {
    const e = csrfError('the form was sent from another site', { origin, expected });
    throw new AppError('ADMIN_CSRF_INVALID', e.message, {
      details: e.details,
      hint: `Open the console at ${expected}/admin (COURSEPORT_BASE_URL), not through another address, and submit again. If you did not submit a form, another site may have tried to act in your name.`,
    });
  }
}

export function csrfError(reason: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('ADMIN_CSRF_INVALID', `This form cannot be accepted: ${reason}. Nothing was changed.`, {
    details: { reason, ...details },
    hint: 'Reload the page and submit the form again. If you did not submit a form, another site may have tried to act in your name.',
  });
}

/**
 * Resolves the session of a console request, or answers: a GET goes to the sign-in page (or to
 * the first-administrator form on an empty database), a POST is refused.
 */
async function authenticate(deps: AdminDeps, request: FastifyRequest, reply: FastifyReply): Promise<AdminContext | undefined> {
  const secure = deps.config.baseUrl.startsWith('https:');
  const session = await deps.services.admins.findSession(request.cookies[sessionCookieName(secure)]);
  if (!session) {
    if (request.method === 'GET' || request.method === 'HEAD') {
      const target = (await deps.services.admins.count()) === 0 ? '/admin/setup' : `/admin/login?next=${encodeURIComponent(request.url)}`;
      await reply.redirect(target, 303);
      return undefined;
    }
    throw new AppError('ADMIN_LOGIN_REQUIRED', 'Your console session has ended (or you never signed in). Nothing was changed.', {
      hint: 'Sign in again at /admin/login, then repeat the action.',
    });
  }
  const notice = request.cookies[FLASH_COOKIE];
  if (notice !== undefined) reply.clearCookie(FLASH_COOKIE, { path: '/admin' });
  const ctx: AdminContext = { session, actor: `admin:${session.admin.email}`, csrfToken: session.csrfToken, notice: notice?.slice(0, 300) };
  request.adminContext = ctx;
  request.actor = ctx.actor;
  if (request.method === 'POST') {
    checkOrigin(request, deps.config.baseUrl);
    const header = request.headers['x-csrf-token'];
    const deferred = request.routeOptions.config.adminDeferredCsrf === true;
    if (header !== undefined) {
      if (!csrfMatches(session.csrfToken, header)) throw csrfError('the anti-forgery token does not match this session');
    } else if (!deferred) {
      const submitted = formOf(request)._csrf;
      if (!csrfMatches(session.csrfToken, submitted)) {
        throw csrfError(submitted === undefined ? 'the anti-forgery token is missing' : 'the anti-forgery token does not match this session');
      }
    }
  }
  return ctx;
}

/** The context of a signed-in administrator outside a console route (unknown console paths). */
export function contextOfSession(session: ConsoleSession): AdminContext {
  return { session, actor: `admin:${session.admin.email}`, csrfToken: session.csrfToken, notice: undefined };
}

/** Builds the console API that page modules use, on the /admin scope. */
export function createAdminConsole(scope: FastifyInstance, deps: AdminDeps): AdminConsole {
  const wrap =
    (handler: AdminHandler) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const ctx = await authenticate(deps, request, reply);
      if (!ctx) return reply;
      return handler(request, reply, ctx);
    };
  const c: AdminConsole = {
    deps,
    routes: [],
    get(path, handler) {
      c.routes.push({ method: 'GET', url: `/admin${path === '/' ? '' : path}` });
      scope.get(path, wrap(handler));
    },
    post(path, handler, options = {}) {
      c.routes.push({ method: 'POST', url: `/admin${path}` });
      scope.post(
        path,
        { config: { adminDeferredCsrf: options.multipart === true }, ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) },
        wrap(handler),
      );
    },
    render(reply, ctx, page) {
      return reply
        .code(page.status ?? 200)
        .type('text/html; charset=utf-8')
        .send(
          ConsoleLayout({
            title: page.title,
            nav: page.nav,
            email: ctx.session.admin.email,
            csrfToken: ctx.csrfToken,
            notice: ctx.notice,
            sandbox: deps.config.sandbox,
            children: page.body,
          }),
        );
    },
    renderError(request, reply, ctx, err) {
      const { error, message, hint } = prepareError(request, reply, err);
      // The section the path belongs to stays marked, so the navigation says where one is.
      const section = /^\/admin\/([^/?]+)/.exec(request.url)?.[1] ?? '';
      return c.render(reply, ctx, {
        title: error.title,
        nav: ADMIN_NAV.some((n) => n.key === section) ? section : '',
        status: error.status,
        body: ConsoleErrorBody({ status: error.status, code: error.code, title: error.title, message, hint, requestId: request.id }),
      });
    },
    redirect(reply, to, notice) {
      if (notice)
        reply.setCookie(FLASH_COOKIE, notice.slice(0, 300), {
          path: '/admin',
          httpOnly: true,
          sameSite: 'lax',
          secure: deps.config.baseUrl.startsWith('https:'),
          maxAge: 60,
        });
      // A script (the upload progress form) navigates itself: following a 303 inside XHR would eat the notice.
      if (reply.request.headers['x-requested-with'] === 'XMLHttpRequest') return reply.code(200).send({ redirect: to });
      return reply.redirect(to, 303);
    },
    async audit(request, ctx, action, target, details) {
      await deps.services.audit.record({ actor: ctx.actor, action, target, details, ip: request.ip });
    },
    checkCsrf(request, ctx, submitted) {
      if (request.headers['x-csrf-token'] !== undefined) return; // checked before the handler
      if (!csrfMatches(ctx.csrfToken, submitted))
        throw csrfError(submitted === undefined ? 'the anti-forgery token is missing' : 'the anti-forgery token does not match this session');
    },
  };
  return c;
}
