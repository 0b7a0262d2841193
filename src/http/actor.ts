import type { FastifyRequest } from 'fastify';
import type { Actor } from '../audit/audit-log.service.js';
import { AppError } from '../errors/app-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, for the audit log (set by the API or console authentication). */
    actor?: Actor;
  }
}

/** The actor of an authenticated request; routes behind authentication only. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('UNAUTHORIZED', 'Authentication required.');
  return request.actor;
}
