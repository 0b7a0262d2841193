import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { canvasConfiguration } from '../../lti/canvas-config.js';
import type { RegistrationService } from '../../platforms/registration.service.js';
import { RegistrationConfirmPage, RegistrationDonePage } from '../../web/registration-page.js';
import { PAGE } from '../plugins/page-policy.js';
import { sendHtml } from '../reply.js';
import { perMinute } from '../route-config.js';

/** The LMS's initiation parameters; the registration service checks each. */
const StartQuery = Type.Record(Type.String(), Type.Unknown());
const ConfirmBody = Type.Object({ action: Type.Optional(Type.String({ maxLength: 20 })), session: Type.Optional(Type.String({ maxLength: 256 })) });

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
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // Shown in the dialog of an LMS that is not registered yet: its one-time registration token is the gate.
  const config = { page: PAGE.open, ...perMinute(deps.rateLimitPerMinute) };

  api.get('/lti/register', { config, schema: { querystring: StartQuery } }, async (request, reply) => {
    const preview = await deps.registration.start(request.query);
    request.log.info(
      { issuer: preview.configuration.issuer, product: preview.configuration.productFamilyCode, scopes: preview.scopes },
      'dynamic registration started: waiting for the administrator to confirm',
    );
    return sendHtml(reply, RegistrationConfirmPage({ preview }));
  });

  api.post('/lti/register', { config, schema: { body: ConfirmBody } }, async (request, reply) => {
    const body = request.body;
    if (body.action === 'cancel') {
      await deps.registration.cancel(body.session);
      request.log.info('dynamic registration cancelled by the administrator');
      return sendHtml(reply, RegistrationDonePage({ outcome: undefined }));
    }
    const outcome = await deps.registration.confirm(body.session, request.ip);
    request.log.info(
      {
        platform: outcome.platform.id,
        issuer: outcome.platform.issuer,
        clientId: outcome.platform.client_id,
        status: outcome.platform.status,
        reregistered: outcome.reregistered,
      },
      'dynamic registration completed',
    );
    return sendHtml(reply, RegistrationDonePage({ outcome }));
  });

  app.get('/lti/config/canvas.json', { config: { page: PAGE.machine } }, async (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(canvasConfiguration(deps.baseUrl));
  });
}
