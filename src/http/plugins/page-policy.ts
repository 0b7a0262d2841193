import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors/app-error.js';

/**
 * Who may frame a response:
 * - `lms`: the registered platforms (launch, player, picker, progress);
 * - `content`: package files, framed by the player;
 * - `self`: Courseport's own pages only (sandbox LMS, static assets);
 * - `any`: pages an unregistered LMS frames and whose gate is a secret in the request
 *   (dynamic registration, content dispatch);
 * - `none`: console, API and machine endpoints.
 */
export type FramePolicy = 'lms' | 'content' | 'self' | 'none' | 'any';

/**
 * What kind of page a route serves, declared in its route config (`config: { page: PAGE.lms }`)
 * and read in one place each by the security headers hook, the error handler and the request
 * log: a route's framing, error format and secret path segments stay next to the route.
 */
export interface PagePolicy {
  readonly frame: FramePolicy;
  /** A person reads errors as an HTML page; scripts and API clients get JSON. */
  readonly errors: 'html' | 'json';
  /** Path parameters that are bearer tokens: replaced in the logged URL. */
  readonly secretParams?: readonly string[];
  /**
   * What an error page offers as a way back: `lms` (return through the LMS), or a GET page of
   * this area behind the same `token` path parameter (the picker, the progress view).
   */
  readonly wayBack?: 'lms' | 'picker' | 'progress';
}

export const PAGE = {
  /** Pages shown inside the LMS: launch, player, picker, progress. */
  lms: { frame: 'lms', errors: 'html', wayBack: 'lms' },
  /** Calls the player's scripts make from inside the LMS frame. */
  lmsScript: { frame: 'lms', errors: 'json' },
  content: { frame: 'content', errors: 'html' },
  console: { frame: 'none', errors: 'html' },
  api: { frame: 'none', errors: 'json' },
  /** JWKS, health: read by machines, never framed. */
  machine: { frame: 'none', errors: 'json' },
  /** Dynamic registration and content dispatch: framed by LMSs not registered (yet). */
  open: { frame: 'any', errors: 'html' },
  /** The sandbox LMS and static assets: Courseport's own pages. */
  self: { frame: 'self', errors: 'html' },
} as const satisfies Record<string, PagePolicy>;

/** A policy with the named path parameters kept out of the logs. */
export function withSecret(policy: PagePolicy, ...secretParams: string[]): PagePolicy {
  return { ...policy, secretParams };
}

/** A policy whose error pages offer another way back. */
export function withWayBack(policy: PagePolicy, wayBack: NonNullable<PagePolicy['wayBack']>): PagePolicy {
  return { ...policy, wayBack };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's page policy; routes without one are treated as `PAGE.console` framing with errors by Accept. */
    page?: PagePolicy;
    /** The error code a request that fails the route's schema gets (BAD_REQUEST by default). */
    invalidCode?: ErrorCode;
  }
}

/** The policy of the route that matched (undefined for unknown URLs). */
export function pagePolicyOf(request: FastifyRequest): PagePolicy | undefined {
  return request.routeOptions.config?.page;
}

/** Whether an error for this request is rendered as an HTML page. */
export function wantsHtml(request: FastifyRequest): boolean {
  const policy = pagePolicyOf(request);
  if (policy) return policy.errors === 'html';
  return (request.headers.accept ?? '').includes('text/html');
}

/** Secret path parameters of a request, replaced in its URL for the log. */
export function redactPath(request: FastifyRequest, url: string): string {
  const secret = pagePolicyOf(request)?.secretParams;
  if (!secret) return url;
  const params = request.params as Record<string, unknown> | undefined;
  let out = url;
  for (const name of secret) {
    const value = params?.[name];
    if (typeof value === 'string' && value.length > 0) out = out.split(encodeURIComponent(value)).join('REDACTED').split(value).join('REDACTED');
  }
  return out;
}

/**
 * Gives every route registered after it in this plugin scope `policy`, unless the route declares
 * its own: an area's routes (console, API, sandbox) share one declaration at the top of the area.
 */
export function defaultPagePolicy(scope: FastifyInstance, policy: PagePolicy): void {
  scope.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as FastifyContextConfig;
    if (!config.page) route.config = { ...config, page: policy };
  });
}
