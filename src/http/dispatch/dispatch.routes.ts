import type { FastifyInstance } from 'fastify';
import type { DispatchService } from '../../dispatch/dispatch.service.js';
import { AppError } from '../../errors/app-error.js';
import { renderPlayer, type PlayRouteDeps } from '../play/play.routes.js';

export interface DispatchRouteDeps {
  readonly dispatch: DispatchService;
  readonly play: PlayRouteDeps;
  readonly launchRateLimitPerMinute: number;
}

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const ORIGIN = /^https?:\/\/[^/?#\s]+$/;

/**
 * POST /dispatch/launch: the form the launcher of a dispatch package posts into its frame.
 * The licence is checked and counted first; only an admitted launch renders the player (and
 * so mints play and content tokens). A refusal is an error page in the course frame.
 */
export function dispatchRoutes(app: FastifyInstance, deps: DispatchRouteDeps): void {
  const limit = deps.launchRateLimitPerMinute > 0 ? { config: { rateLimit: { max: deps.launchRateLimitPerMinute, timeWindow: 60_000 } } } : {};
  app.post(
    '/dispatch/launch',
    limit,
    async (request, reply) => {
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
      const field = (name: string, max: number): string | undefined => {
        const v = body[name];
        if (v === undefined) return undefined;
        if (typeof v !== 'string' || v.length > max) throw new AppError('DISPATCH_LAUNCH_INVALID', `The launch field ${name} is invalid.`);
        return v;
      };
      const nonce = field('nonce', 128) ?? '';
      if (!NONCE.test(nonce)) throw new AppError('DISPATCH_LAUNCH_INVALID', 'The launch carries no valid handshake nonce.', { hint: 'Upload the course package to the LMS unchanged.' });
      const origin = request.headers.origin;
      const expectedOrigin = typeof origin === 'string' && ORIGIN.test(origin) ? origin : null;
      const admission = await deps.dispatch.admit({
        dispatchId: field('dispatch', 64) ?? '',
        secret: field('secret', 128) ?? '',
        learnerId: field('learner_id', 1024) ?? '',
        learnerName: field('learner_name', 1024),
        hashed: field('hashed', 8) === '1',
        bookmark: field('bookmark', 1024),
        ip: request.ip,
      });
      request.log.info(
        { dispatch: admission.dispatch.id, registration: admission.registration.id, newRegistration: admission.newRegistration, launcherOrigin: expectedOrigin },
        'dispatch launch admitted',
      );
      return renderPlayer(deps.play, reply, admission.attemptId, { relay: { nonce, expectedOrigin, baseTimeMs: admission.baseTimeMs } });
    },
  );
}
