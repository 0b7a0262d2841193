import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, LtiError } from '../../errors/app-error.js';
import { ErrorPage } from '../../web/error-page.js';
import { wayBackOf } from './way-back.js';

/** Turns any error into an AppError: typed errors pass, framework errors map to catalogue codes. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.validation) return new AppError('BAD_REQUEST', fe.message ?? 'The request is invalid.');
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
  if (fe.statusCode === 429) return new AppError('RATE_LIMITED', 'Too many requests; slow down and try again shortly.');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('BAD_REQUEST', fe.message ?? 'The request is invalid.');
  }
  return new AppError('INTERNAL', 'Something went wrong inside Courseport.', { cause: err });
}

export function wantsHtml(request: FastifyRequest): boolean {
  const path = request.url;
  if (path.startsWith('/api/') || path.startsWith('/.well-known/') || path.startsWith('/healthz') || path.startsWith('/readyz')) return false;
  // The player's runtime calls (/play/<token>/sco/…, /play/<token>/attempt) are read by scripts.
  if (path.startsWith('/play/')) return path.split('?')[0]!.split('/').length <= 3;
  if (path.startsWith('/lti/') || path.startsWith('/progress/') || path.startsWith('/admin')) return true;
  return (request.headers.accept ?? '').includes('text/html');
}

/** What a person may see of an error (messages of 5xx errors stay in the log). */
export interface ShownError {
  readonly error: AppError;
  readonly message: string;
  readonly hint: string | undefined;
}

/** Logs an error and sets the reply's status and headers; the caller renders what is returned. */
export function prepareError(request: FastifyRequest, reply: FastifyReply, err: unknown): ShownError {
  const e = toAppError(err);
  const log = { code: e.code, status: e.status, details: e.details, path: request.routeOptions.url ?? request.url };
  if (e.status >= 500) request.log.error({ ...log, err }, e.message);
  else request.log.warn(log, `${e instanceof LtiError ? 'LTI validation failed' : 'request refused'}: ${e.message}`);
  reply.code(e.status).header('cache-control', 'no-store');
  if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="courseport"');
  return { error: e, message: e.expose ? e.message : 'Something went wrong inside Courseport. The problem has been logged.', hint: e.expose ? e.hint : undefined };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { error: e, message } = prepareError(request, reply, err);
  if (wantsHtml(request)) {
    return reply.type('text/html; charset=utf-8').send(
      ErrorPage({ status: e.status, code: e.code, title: e.title, message, hint: e.expose ? e.hint : undefined, requestId: request.id, wayBack: wayBackOf(request.url, e.code) }),
    );
  }
  return reply.send({ error: e.code, message, ...(e.expose && e.details ? { details: e.details } : {}), requestId: request.id });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('NOT_FOUND', `Nothing at ${request.method} ${request.url.split('?')[0]}.`)),
  );
}

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE);
