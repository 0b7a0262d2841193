import type { FastifyRequest } from 'fastify';
import { redactPath } from './page-policy.js';

/** Query parameters that carry bearer-like values: never written to the log. */
const SECRET_PARAMS = ['lt', 'login_hint', 'lti_message_hint', 'id_token', 'state', 'token', 'registration_token'];

/**
 * The shape of Courseport's signed tokens (util/signed-tokens.ts) as a path segment. Routes name
 * their token parameters in their page policy; this catches a token in a URL no route matched.
 */
const SIGNED_TOKEN_SEGMENT = /\/[A-Za-z0-9_-]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}(?=[/?]|$)/g;

/** A URL with its secret query parameters replaced. */
export function redactUrl(rawUrl: string): string {
  const url = rawUrl.replace(SIGNED_TOKEN_SEGMENT, '/REDACTED');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of SECRET_PARAMS) if (params.has(name)) params.set(name, 'REDACTED');
  // Dynamic registration: the LMS's configuration URL may carry its own token in its query.
  const configUrl = params.get('openid_configuration');
  if (configUrl?.includes('?')) params.set('openid_configuration', `${configUrl.slice(0, configUrl.indexOf('?'))}?REDACTED`);
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** How a request appears in the log: the route's secret path parameters and secret query values hidden. */
export function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: redactUrl(redactPath(req, req.url)), remoteAddress: req.ip };
}
