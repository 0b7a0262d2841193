import type { FastifyInstance } from 'fastify';
import { canvasConfiguration } from '../../lti/canvas-config.js';
import type { RegistrationService } from '../../platforms/registration.service.js';
import { RegistrationConfirmPage, RegistrationDonePage } from '../../web/registration-page.js';

export interface RegistrationRouteDeps {
  readonly registration: RegistrationService;
  readonly baseUrl: string;
  /** Registrations started per client address and minute (each fetches the LMS's configuration). */
  readonly rateLimitPerMinute: number;
}

/**
 * LTI Dynamic Registration (GET shows what will be registered, POST confirms) and the Canvas
 * developer-key JSON configuration. The registration token never reaches the log: the request
 * serializer redacts it from the URL and the form carries only a session id.
 */
export function registrationRoutes(app: FastifyInstance, deps: RegistrationRouteDeps): void {
  const limited = deps.rateLimitPerMinute > 0 ? { config: { rateLimit: { max: deps.rateLimitPerMinute, timeWindow: 60_000 } } } : {};

  app.get('/lti/register', limited, async (request, reply) => {
    const preview = await deps.registration.start(request.query as Record<string, unknown>);
    request.log.info(
      { issuer: preview.configuration.issuer, product: preview.configuration.productFamilyCode, scopes: preview.scopes },
      'dynamic registration started: waiting for the administrator to confirm',
    );
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(RegistrationConfirmPage({ preview }));
  });

  app.post('/lti/register', limited, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
    if (body.action === 'cancel') {
      await deps.registration.cancel(body.session);
      request.log.info('dynamic registration cancelled by the administrator');
      return reply.send(RegistrationDonePage({ outcome: undefined }));
    }
    const outcome = await deps.registration.confirm(body.session, request.ip);
    request.log.info(
      { platform: outcome.platform.id, issuer: outcome.platform.issuer, clientId: outcome.platform.client_id, status: outcome.platform.status, reregistered: outcome.reregistered },
      'dynamic registration completed',
    );
    return reply.send(RegistrationDonePage({ outcome }));
  });

  app.get('/lti/config/canvas.json', async (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(canvasConfiguration(deps.baseUrl));
  });
}
