import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { API_DESCRIPTION, API_TAGS, apiTagOf } from './http/api-docs.js';
import { registerErrorHandling } from './http/plugins/errors.js';
import { serializeRequest } from './http/plugins/request-log.js';
import { defaultPagePolicy, PAGE } from './http/plugins/page-policy.js';
import { baseCsp, FrameAncestors, registerSecurityHeaders } from './http/plugins/security-headers.js';
import { apiRoutes } from './http/api/index.js';
import { healthRoutes } from './http/health/health.routes.js';
import { jwksRoutes } from './http/lti/jwks.routes.js';
import { ltiRoutes } from './http/lti/launch.routes.js';
import { playRoutes } from './http/play/play.routes.js';
import { contentRoutes } from './http/content/content.routes.js';
import { deepLinkingRoutes } from './http/lti/deep-linking.routes.js';
import { progressRoutes } from './http/progress/progress.routes.js';
import { dispatchRoutes } from './http/dispatch/dispatch.routes.js';
import { adminRoutes } from './http/admin/index.js';
import { registrationRoutes } from './http/lti/registration.routes.js';
import { sandboxRoutes } from './http/sandbox/sandbox.routes.js';
import { homeRoutes } from './http/home/home.routes.js';
import { join } from 'node:path';
import { createServices, type Services } from './container.js';
import type { Store } from './store/database.js';
import { systemClock, type Clock } from './util/clock.js';
import type { SafeFetch } from './util/safe-fetch.js';

export interface BuildOptions {
  readonly config: Config;
  readonly store: Store;
  readonly clock?: Clock;
  /** Replace outgoing HTTP (tests); defaults to the safe fetch helper built from config. */
  readonly fetch?: SafeFetch;
  /** TLS certificate and key (PEM) to serve https directly. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** Where log lines go (tests capture them); stdout by default. */
  readonly logStream?: { write(line: string): void };
}

/** Dynamic registrations started per client address and minute (each makes an outgoing request). */
const REGISTRATION_RATE_LIMIT_PER_MINUTE = 30;
/** How long the frame-ancestors platform list is trusted before it is read again (other processes' changes). */
const FRAME_ANCESTORS_TTL_MS = 30_000;
/** JSON bodies of the admin API (a registration with many deployments fits). */
const API_BODY_LIMIT = 512 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export type App = FastifyInstance;

export async function build(options: BuildOptions): Promise<App> {
  const { config, store } = options;
  const clock = options.clock ?? systemClock;
  const services = createServices(config, store, clock, options.fetch);
  const https = config.baseUrl.startsWith('https:');

  const app = Fastify({
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key } } : {}),
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      serializers: { req: serializeRequest },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    trustProxy: config.trustProxy,
    // Refuse what the schema does not declare instead of silently dropping or coercing it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // Routes that need more say so (launch 256 KiB, API 512 KiB, SCORM commits 1 MiB; uploads stream).
    bodyLimit: 128 * 1024,
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
  });

  services.platformKeys.useLogger(app.log);
  // A database outage is logged once, in the app's log, with the engine's own error.
  store.health.useLogger(app.log);

  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  // Forms are small (a launch's id_token gets 256 KiB on its route); JSON defaults to bodyLimit above.
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // CSP per page type (frame-ancestors = the registered platforms on LMS pages), HSTS, Secure cookies.
  const frameAncestors = new FrameAncestors(store.db, clock, baseCsp(https), { ttlMs: FRAME_ANCESTORS_TTL_MS, extra: config.security.frameAncestors });
  services.platforms.onChange(() => frameAncestors.invalidate());
  registerSecurityHeaders(app, { https, trustProxy: config.trustProxy, baseUrl: config.baseUrl, frameAncestors });
  registerErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Courseport admin API', version: '1', description: API_DESCRIPTION },
      tags: API_TAGS.map((t) => ({ ...t })),
      servers: [{ url: config.baseUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Only the admin API is documented here; LTI endpoints follow the 1EdTech specs.
    transform: ({ schema, url }) => ({ schema: url.startsWith('/api/v1') ? schema : { ...schema, hide: true }, url }),
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });

  healthRoutes(app, store);
  await app.register(async (scope) => {
    defaultPagePolicy(scope, PAGE.console);
    homeRoutes(scope, { baseUrl: config.baseUrl, sandbox: config.sandbox });
  });
  jwksRoutes(app, services.toolKeys, config.keys.jwksMaxAgeMs);
  playRoutes(app, { player: services.player, runtime: services.runtime });
  contentRoutes(app, { contentTokens: services.contentTokens, content: services.content, clock });
  dispatchRoutes(app, { dispatch: services.dispatch, player: services.player, launchRateLimitPerMinute: config.lti.loginRateLimitPerMinute });
  progressRoutes(app, { progress: services.progress });
  deepLinkingRoutes(app, { deepLinking: services.deepLinking });
  ltiRoutes(app, {
    launches: services.launches,
    flow: services.launchFlow,
    secureCookies: https,
    loginStateTtlMs: config.lti.loginStateTtlMs,
    loginRateLimitPerMinute: config.lti.loginRateLimitPerMinute,
    launchRateLimitPerMinute: config.security.launchRateLimitPerMinute,
    frameAncestors,
  });
  // LTI Dynamic Registration and the Canvas JSON configuration
  registrationRoutes(app, { registration: services.registration, baseUrl: config.baseUrl, rateLimitPerMinute: REGISTRATION_RATE_LIMIT_PER_MINUTE });
  // The sandbox LMS (docs/sandbox.md); absent (404) unless COURSEPORT_SANDBOX is on
  if (config.sandbox) await app.register(async (scope) => sandboxRoutes(scope, { db: store.db, sandbox: services.sandbox }));
  await app.register(
    async (scope) => {
      defaultPagePolicy(scope, PAGE.api);
      // A per-address limit on the whole API (before authentication, so token guessing counts too) and a body limit.
      if (config.security.apiRateLimitPerMinute > 0)
        scope.addHook('onRequest', app.rateLimit({ max: config.security.apiRateLimitPerMinute, timeWindow: 60_000 }));
      scope.addHook('onRoute', (route) => {
        route.bodyLimit ??= API_BODY_LIMIT;
        const tag = apiTagOf(route.url);
        if (tag) route.schema = { ...route.schema, tags: [tag] };
      });
      await apiRoutes(scope, {
        ...services,
        db: store.db,
        baseUrl: config.baseUrl,
        uploadDir: join(config.dataDir, 'uploads'),
        maxUploadBytes: config.packages.maxUploadBytes,
      });
    },
    { prefix: '/api/v1' },
  );

  // Admin console
  await adminRoutes(app, { services, db: store.db, config, clock });

  app.addHook('onClose', async () => {
    const f = services.fetch as SafeFetch & { close?: () => Promise<void> };
    if (!options.fetch && f.close) await f.close();
  });
  app.decorate('services', services);
  return app;
}
