import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, LtiError, type ErrorCode } from '../../errors/app-error.js';
import { databaseErrorCode, isDatabaseUnavailable } from '../../store/database-errors.js';
import { ErrorPage } from '../../web/error-page.js';
import { wantsHtml } from './page-policy.js';

/** What a client is told to wait before trying again while the database is away. */
const DATABASE_RETRY_AFTER_S = 2;
import { wayBackOf } from './way-back.js';

/** Turns any error into an AppError: typed errors pass, framework errors map to catalogue codes. */
export function toAppError(err: unknown, invalidCode: ErrorCode = 'BAD_REQUEST'): AppError {
  if (err instanceof AppError) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.validation) return new AppError(invalidCode, fe.message ?? 'The request is invalid.');
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('BAD_REQUEST', fe.message ?? 'The request body cannot be read.');
    default:
      break;
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError('DATABASE_UNAVAILABLE', 'The database is unavailable right now; try again in a moment.', {
      cause: err,
      details: { retryAfterSeconds: DATABASE_RETRY_AFTER_S },
    });
  }
  if (fe.statusCode === 429) return new AppError('RATE_LIMITED', 'Too many requests; slow down and try again shortly.');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('BAD_REQUEST', fe.message ?? 'The request is invalid.');
  }
  return new AppError('INTERNAL', 'Something went wrong inside Courseport.', { cause: err });
}

/** What a person may see of an error (messages of 5xx errors stay in the log). */
export interface ShownError {
  readonly error: AppError;
  readonly message: string;
  readonly hint: string | undefined;
}

/** Logs an error and sets the reply's status and headers; the caller renders what is returned. */
export function prepareError(request: FastifyRequest, reply: FastifyReply, err: unknown): ShownError {
  const e = toAppError(err, request.routeOptions.config?.invalidCode);
  const log = { code: e.code, status: e.status, details: e.details, path: request.routeOptions.url ?? request.url };
  // The outage itself is logged once, with the engine's error, by the store (DatabaseHealth): each
  // request refused meanwhile is one short line, not a stack trace.
  if (e.code === 'DATABASE_UNAVAILABLE') request.log.warn({ ...log, dbError: databaseErrorCode(e.cause) }, `request refused: ${e.message}`);
  else if (e.status >= 500) request.log.error({ ...log, err }, e.message);
  else request.log.warn(log, `${e instanceof LtiError ? 'LTI validation failed' : 'request refused'}: ${e.message}`);
  reply.code(e.status).header('cache-control', 'no-store');
  if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="courseport"');
  if (e.code === 'DATABASE_UNAVAILABLE') reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
  return {
    error: e,
    message: e.expose ? e.message : 'Something went wrong inside Courseport. The problem has been logged.',
    hint: e.expose ? e.hint : undefined,
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { error: e, message, hint } = prepareError(request, reply, err);
  if (wantsHtml(request)) {
    return reply
      .type('text/html; charset=utf-8')
      .send(ErrorPage({ status: e.status, code: e.code, title: e.title, message, hint, requestId: request.id, wayBack: wayBackOf(request, e.code) }));
  }
  return reply.send({ error: e.code, message, ...(e.expose && e.details ? { details: e.details } : {}), requestId: request.id });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('NOT_FOUND', `Nothing at ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
