import { LtiError } from '../errors/app-error.js';

/** Parameters of an OIDC third-party initiated login (LTI 1.3 Core §5.1.1). */
export interface LoginRequest {
  readonly iss: string;
  readonly loginHint: string;
  readonly targetLinkUri: string;
  readonly ltiMessageHint: string | undefined;
  readonly clientId: string | undefined;
  readonly deploymentId: string | undefined;
  /**
   * LTI platform storage (1EdTech "Client Side postMessages" / "Platform Storage"): the frame
   * that keeps values for the tool, `_parent` or a frame name. Undefined when not offered or
   * when the value is not a plausible frame name.
   */
  readonly storageTarget?: string | undefined;
}

/** The login parameters kept to re-run the same login in a new window (LTI Core §5.1.1). */
export const RESUMABLE_LOGIN_PARAMS = ['iss', 'login_hint', 'target_link_uri', 'lti_message_hint', 'client_id', 'lti_deployment_id'] as const;

/** `_parent` or a frame name; anything else is ignored (platform storage is optional). */
const STORAGE_TARGET = /^(?:_parent|[A-Za-z0-9][A-Za-z0-9_.:-]{0,127})$/;

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
    storageTarget: storageTarget(params),
  };
}

function storageTarget(params: Params): string | undefined {
  const v = params.lti_storage_target;
  return typeof v === 'string' && STORAGE_TARGET.test(v) ? v : undefined;
}

/** The parameters of a login, as sent, for a later form post to /lti/login. */
export function resumeParams(request: LoginRequest): Record<string, string> {
  const values: Record<(typeof RESUMABLE_LOGIN_PARAMS)[number], string | undefined> = {
    iss: request.iss,
    login_hint: request.loginHint,
    target_link_uri: request.targetLinkUri,
    lti_message_hint: request.ltiMessageHint,
    client_id: request.clientId,
    lti_deployment_id: request.deploymentId,
  };
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
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
