import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DispatchService } from '../../dispatch/dispatch.service.js';
import { AppError } from '../../errors/app-error.js';
import type { Player } from '../../play/player.js';
import { PlayerPage } from '../../web/player-page.js';
import { PAGE, withWayBack } from '../plugins/page-policy.js';
import { sendHtml } from '../reply.js';
import { perMinute } from '../route-config.js';

export interface DispatchRouteDeps {
  readonly dispatch: DispatchService;
  readonly player: Player;
  readonly launchRateLimitPerMinute: number;
}

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const ORIGIN = /^https?:\/\/[^/?#\s]+$/;

/**
 * POST /dispatch/launch: the form the launcher of a dispatch package posts into its frame.
 * The licence is checked and counted first; only an admitted launch renders the player (and
 * so mints play and content tokens). A refusal is an error page in the course frame.
 */
const LaunchBody = Type.Object({
  dispatch: Type.Optional(Type.String({ maxLength: 64 })),
  secret: Type.Optional(Type.String({ maxLength: 128 })),
  nonce: Type.Optional(Type.String({ maxLength: 128 })),
  learner_id: Type.Optional(Type.String({ maxLength: 1024 })),
  learner_name: Type.Optional(Type.String({ maxLength: 1024 })),
  hashed: Type.Optional(Type.String({ maxLength: 8 })),
  bookmark: Type.Optional(Type.String({ maxLength: 1024 })),
});

export function dispatchRoutes(app: FastifyInstance, deps: DispatchRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/dispatch/launch',
    {
      config: { page: withWayBack(PAGE.open, 'lms'), invalidCode: 'DISPATCH_LAUNCH_INVALID', ...perMinute(deps.launchRateLimitPerMinute) },
      schema: { body: LaunchBody },
    },
    async (request, reply) => {
      const body = request.body;
      const nonce = body.nonce ?? '';
      if (!NONCE.test(nonce))
        throw new AppError('DISPATCH_LAUNCH_INVALID', 'The launch carries no valid handshake nonce.', {
          hint: 'Upload the course package to the LMS unchanged.',
        });
      const origin = request.headers.origin;
      const expectedOrigin = typeof origin === 'string' && ORIGIN.test(origin) ? origin : null;
      const admission = await deps.dispatch.admit({
        dispatchId: body.dispatch ?? '',
        secret: body.secret ?? '',
        learnerId: body.learner_id ?? '',
        learnerName: body.learner_name,
        hashed: body.hashed === '1',
        bookmark: body.bookmark,
        ip: request.ip,
      });
      request.log.info(
        {
          dispatch: admission.dispatch.id,
          registration: admission.registration.id,
          newRegistration: admission.newRegistration,
          launcherOrigin: expectedOrigin,
        },
        'dispatch launch admitted',
      );
      return sendHtml(reply, PlayerPage(await deps.player.view(admission.attemptId, { relay: { nonce, expectedOrigin, baseTimeMs: admission.baseTimeMs } })));
    },
  );
}
