import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { originOf } from '../../util/url.js';
import { listActivePlatformOrigins } from '../../platforms/platform.repository.js';
import { pagePolicyOf, type FramePolicy } from './page-policy.js';

/**
 * Response headers by page policy (page-policy.ts). Pages an LMS frames (launch, player, picker,
 * progress) allow exactly the registered platforms as frame ancestors; package files are framed
 * only by our own player; everything else (admin console, API, its docs) may not be framed at all.
 * The header strings are built once and rebuilt only when the platform list changes, so a
 * request costs one lookup and one setHeader.
 */

/**
 * Package files get no CSP at all: they run their own (often inline) scripts, and they are
 * framed by our player, which is itself framed by the LMS — `frame-ancestors` checks every
 * ancestor, and content dispatch players live in LMSs that are not registered platforms.
 * Error pages under /content get the page policy without frame-ancestors.
 */

export interface FrameAncestorsOptions {
  /** How long the platform list is trusted before it is read again (other processes may register platforms). */
  readonly ttlMs: number;
  /** Extra sources from COURSEPORT_FRAME_ANCESTORS. */
  readonly extra: readonly string[];
}

/**
 * The origins allowed to frame LMS pages: issuer and auth URL origins of the active platforms,
 * plus COURSEPORT_FRAME_ANCESTORS. Cached in memory; PlatformService changes invalidate it at once,
 * changes made by another process are seen within `ttlMs`, and a validated launch from a platform
 * not yet in the list admits it immediately.
 */
export class FrameAncestors {
  private sources: string[] = [];
  /** `sources` as a set, for the per-launch membership checks. */
  private known = new Set<string>();
  /** Each platform's origins by issuer and auth URL: a launch does not parse its URLs again. */
  private readonly originsOf = new Map<string, readonly string[]>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;
  private header = '';

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly base: string,
    private readonly options: FrameAncestorsOptions,
  ) {
    this.build();
  }

  /** The LMS-page CSP when fresh; otherwise a promise of it after one reload (single flight). */
  lmsCsp(): string | Promise<string> {
    if (this.clock.now() - this.loadedAt < this.options.ttlMs) return this.header;
    this.pending ??= this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending.then(() => this.header);
  }

  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Adds a platform's origins (a launch just validated from it) and returns the policy for this
   * launch's response, which also allows `launchOrigins`: the origins of the URLs the platform
   * put in the signed id_token (return URL, deep linking return URL), where the LMS page that
   * frames this launch lives (a Canvas or Blackboard customer domain, say).
   */
  admit(platform: { issuer: string; auth_url: string }, launchOrigins: readonly string[] = []): string {
    const key = `${platform.issuer}\n${platform.auth_url}`;
    let origins = this.originsOf.get(key);
    if (!origins) {
      // Registrations are few; the bound only guards against unbounded growth.
      if (this.originsOf.size >= 1000) this.originsOf.clear();
      origins = platformOrigins(platform);
      this.originsOf.set(key, origins);
    }
    const missing = origins.filter((o) => !this.known.has(o));
    if (missing.length) {
      this.setSources([...this.sources, ...missing]);
      this.build();
    }
    if (launchOrigins.length === 0) return this.header;
    const extra = launchOrigins.filter((o) => !this.known.has(o) && !this.options.extra.includes(o));
    return extra.length ? `${this.header} ${extra.join(' ')}` : this.header;
  }

  /** The origins currently allowed (diagnostics, tests). */
  list(): readonly string[] {
    return this.sources;
  }

  private async load(): Promise<void> {
    const rows = await listActivePlatformOrigins(this.db);
    this.setSources([...new Set(rows.flatMap(platformOrigins))].sort());
    this.loadedAt = this.clock.now();
    this.build();
  }

  private setSources(sources: string[]): void {
    this.sources = sources;
    this.known = new Set(sources);
  }

  private build(): void {
    this.header = `${this.base}; frame-ancestors ${["'self'", ...this.sources, ...this.options.extra].join(' ')}`;
  }
}

/**
 * Multi-tenant LMSs whose issuer is not where their course pages live: every customer site of
 * the vendor may frame Courseport (the registration's client id still decides who may launch).
 */
const TENANT_ORIGINS: Record<string, string> = {
  'https://canvas.instructure.com': 'https://*.instructure.com',
  'https://canvas.beta.instructure.com': 'https://*.instructure.com',
  'https://canvas.test.instructure.com': 'https://*.instructure.com',
  'https://blackboard.com': 'https://*.blackboard.com',
};

function platformOrigins(p: { issuer: string; auth_url: string }): string[] {
  const out: string[] = [];
  for (const u of [p.issuer, p.auth_url]) {
    const origin = originOf(u);
    if (origin) out.push(origin);
  }
  const tenants = TENANT_ORIGINS[p.issuer.replace(/\/$/, '')];
  if (tenants) out.push(tenants);
  return out;
}

export interface SecurityHeadersOptions {
  /** The public base URL is https: HSTS, Secure cookies, http→https redirects behind a trusted proxy. */
  readonly https: boolean;
  readonly trustProxy: boolean;
  readonly baseUrl: string;
  readonly frameAncestors: FrameAncestors;
}

/** The directives every Courseport page shares (no inline scripts; forms may post back to LMSs). */
export function baseCsp(https: boolean): string {
  return [
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `form-action 'self' https:${https ? '' : ' http:'}`,
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

function forwardedHttp(request: FastifyRequest): boolean {
  const proto = request.headers['x-forwarded-proto'];
  if (typeof proto !== 'string') return false;
  // With several proxies the header is a list; the client's own scheme is the first.
  return proto.split(',')[0]?.trim().toLowerCase() === 'http';
}

type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The headers a middleware sets and removes, recorded by running it once against a stand-in
 * response. Only for middlewares whose headers depend on their options, not on the request
 * (helmet without a CSP nonce); it must finish synchronously.
 */
export function recordHeaders(middleware: HeaderMiddleware): { readonly set: readonly (readonly [string, string])[]; readonly remove: readonly string[] } {
  // By lower-cased name; the name is replayed as the middleware spelled it.
  const set = new Map<string, readonly [string, string]>();
  const remove: string[] = [];
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.set(name.toLowerCase(), [name, Array.isArray(value) ? value.join(', ') : String(value)]);
      return res;
    },
    removeHeader(name: string) {
      set.delete(name.toLowerCase());
      remove.push(name);
    },
    getHeader: (name: string) => set.get(name.toLowerCase())?.[1],
  };
  let finished = false;
  middleware({ headers: {} } as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    finished = true;
  });
  if (!finished) throw new Error('the header middleware did not finish synchronously');
  return { set: [...set.values()], remove };
}

export function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): void {
  const base = baseCsp(options.https);
  const fixed: Record<Exclude<FramePolicy, 'lms'>, string> = {
    content: base,
    self: `${base}; frame-ancestors 'self'`,
    none: `${base}; frame-ancestors 'none'`,
    any: `${base}; frame-ancestors *`,
  };
  // Helmet for the rest (X-Content-Type-Options, Referrer-Policy: no-referrer, HSTS, ...): its
  // middleware is run once here and what it sets is replayed per request (no per-request helmet call).
  const helmetHeaders = recordHeaders(
    helmet({
      contentSecurityPolicy: false,
      frameguard: false,
      crossOriginEmbedderPolicy: false,
      crossOriginOpenerPolicy: false,
      hsts: options.https ? { maxAge: 31536000 } : false,
    }),
  );
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    // Behind a trusted proxy, a client that reached the proxy over http is sent to https. Only on
    // an explicit `X-Forwarded-Proto: http`: a proxy that sends no header must not cause a loop.
    if (options.trustProxy && options.https && forwardedHttp(request) && !request.url.startsWith('/healthz') && !request.url.startsWith('/readyz')) {
      reply.code(308).header('location', `${options.baseUrl}${request.url}`).send();
      return;
    }
    // Helmet's headers, set from the list recorded at start (they never depend on the request).
    const raw = reply.raw;
    for (let i = 0; i < helmetHeaders.set.length; i++) raw.setHeader(helmetHeaders.set[i]![0], helmetHeaders.set[i]![1]);
    for (let i = 0; i < helmetHeaders.remove.length; i++) raw.removeHeader(helmetHeaders.remove[i]!);
    const policy: FramePolicy = pagePolicyOf(request)?.frame ?? 'none';
    if (policy !== 'lms') {
      raw.setHeader('content-security-policy', fixed[policy]);
      // Older browsers without CSP level 2 still honour X-Frame-Options.
      if (policy === 'none') raw.setHeader('x-frame-options', 'DENY');
      return done();
    }
    const csp = options.frameAncestors.lmsCsp();
    if (typeof csp === 'string') {
      raw.setHeader('content-security-policy', csp);
      return done();
    }
    csp.then(
      (value) => {
        raw.setHeader('content-security-policy', value);
        done();
      },
      (e: unknown) => {
        request.log.error({ err: e }, 'could not read the platforms for frame-ancestors; sending frame-ancestors self');
        raw.setHeader('content-security-policy', fixed.self);
        done();
      },
    );
  });

  if (options.https) {
    // Every cookie Courseport sets (whoever sets it) is Secure when served over https.
    app.addHook('onSend', (_request, reply, payload, done) => {
      const cookies = reply.getHeader('set-cookie');
      if (cookies !== undefined) {
        const list = Array.isArray(cookies) ? cookies : [String(cookies)];
        // reply.header appends Set-Cookie values: remove them first.
        reply.removeHeader('set-cookie');
        reply.header(
          'set-cookie',
          list.map((c) => (/;\s*secure\s*(;|$)/i.test(c) ? c : `${c}; Secure`)),
        );
      }
      done(null, payload);
    });
  }
}
