import { LtiError } from '../errors/app-error.js';

/** Parameters of an OIDC third-party initiated login (LTI 1.3 Core §5.1.1). */
export interface LoginRequest {
  readonly iss: string;
  readonly loginHint: string;
  readonly targetLinkUri: string;
  readonly ltiMessageHint: string | undefined;
  readonly clientId: string | undefined;
  readonly deploymentId: string | undefined;
}

export type Params = Readonly<Record<string, unknown>>;

export function parseLoginRequest(params: Params): LoginRequest {
  const iss = param(params, 'iss');
  const loginHint = param(params, 'login_hint');
  const targetLinkUri = param(params, 'target_link_uri');
  const missing = [!iss && 'iss', !loginHint && 'login_hint', !targetLinkUri && 'target_link_uri'].filter(Boolean);
  if (missing.length || !iss || !loginHint || !targetLinkUri) {
    throw new LtiError('LTI_LOGIN_INVALID_REQUEST', `The login request from the LMS is missing ${missing.join(', ')}.`, {
      details: { missing },
      hint: 'Courseport must be launched from an LMS through LTI 1.3; opening this URL directly does not work.',
    });
  }
  return {
    iss,
    loginHint,
    targetLinkUri,
    ltiMessageHint: param(params, 'lti_message_hint'),
    clientId: param(params, 'client_id'),
    deploymentId: param(params, 'lti_deployment_id'),
  };
}

export interface AuthRedirect {
  readonly authUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly nonce: string;
  readonly request: LoginRequest;
}

/** The OIDC authentication request (LTI 1.3 Core §5.1.1.2), keeping any query the auth URL already has. */
export function buildAuthRedirect(r: AuthRedirect): string {
  const url = new URL(r.authUrl);
  const q = url.searchParams;
  q.set('scope', 'openid');
  q.set('response_type', 'id_token');
  q.set('response_mode', 'form_post');
  q.set('prompt', 'none');
  q.set('client_id', r.clientId);
  q.set('redirect_uri', r.redirectUri);
  q.set('login_hint', r.request.loginHint);
  q.set('state', r.state);
  q.set('nonce', r.nonce);
  if (r.request.ltiMessageHint !== undefined) q.set('lti_message_hint', r.request.ltiMessageHint);
  return url.toString();
}

/** A single string parameter; repeated parameters are refused rather than guessed at. */
export function param(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    throw new LtiError('LTI_LOGIN_INVALID_REQUEST', `The parameter ${name} must be given once, as text.`, { details: { parameter: name } });
  }
  if (v.length > 8192) throw new LtiError('LTI_LOGIN_INVALID_REQUEST', `The parameter ${name} is too long.`, { details: { parameter: name } });
  return v;
}
