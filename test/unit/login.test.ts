import { describe, expect, it } from 'vitest';
import { LtiError } from '../../src/errors/app-error.js';
import { buildAuthRedirect, param, parseLoginRequest, type LoginRequest, type Params } from '../../src/lti/login.js';

const BASE = {
  iss: 'https://lms.example.edu',
  login_hint: 'user-7',
  target_link_uri: 'https://courseport.test/lti/launch',
};

function loginErrorOf(params: Params): LtiError {
  try {
    parseLoginRequest(params);
  } catch (err) {
    expect(err).toBeInstanceOf(LtiError);
    const e = err as LtiError;
    expect(e.code).toBe('LTI_LOGIN_INVALID_REQUEST');
    expect(e.status).toBe(400);
    return e;
  }
  throw new Error('expected parseLoginRequest to throw');
}

describe('parseLoginRequest', () => {
  it('reads the required and optional parameters', () => {
    const r = parseLoginRequest({
      ...BASE,
      lti_message_hint: 'hint-1',
      client_id: 'client-1',
      lti_deployment_id: 'dep-1',
      unrelated: ['ignored', 'twice'],
    });
    expect(r).toEqual({
      iss: BASE.iss,
      loginHint: 'user-7',
      targetLinkUri: BASE.target_link_uri,
      ltiMessageHint: 'hint-1',
      clientId: 'client-1',
      deploymentId: 'dep-1',
    });
  });

  it('leaves the optional parameters undefined when absent or empty', () => {
    const r = parseLoginRequest({ ...BASE, client_id: '', lti_deployment_id: null });
    expect(r.ltiMessageHint).toBeUndefined();
    expect(r.clientId).toBeUndefined();
    expect(r.deploymentId).toBeUndefined();
  });

  it('lists every missing required parameter in details.missing', () => {
    expect(loginErrorOf({}).details?.missing).toEqual(['iss', 'login_hint', 'target_link_uri']);
    expect(loginErrorOf({ iss: BASE.iss }).details?.missing).toEqual(['login_hint', 'target_link_uri']);
    expect(loginErrorOf({ ...BASE, login_hint: '' }).details?.missing).toEqual(['login_hint']);
    const err = loginErrorOf({ login_hint: 'u', target_link_uri: BASE.target_link_uri });
    expect(err.details?.missing).toEqual(['iss']);
    expect(err.message).toContain('iss');
    expect(err.hint).toMatch(/LMS/);
  });

  it('refuses repeated parameters (arrays), naming the parameter', () => {
    for (const name of ['iss', 'login_hint', 'target_link_uri', 'lti_message_hint', 'client_id', 'lti_deployment_id']) {
      const err = loginErrorOf({ ...BASE, [name]: ['a', 'b'] });
      expect(err.details).toEqual({ parameter: name });
    }
  });

  it('refuses non-string values', () => {
    expect(loginErrorOf({ ...BASE, client_id: 5 }).details).toEqual({ parameter: 'client_id' });
    expect(loginErrorOf({ ...BASE, iss: { a: 1 } }).details).toEqual({ parameter: 'iss' });
  });

  it('refuses over-long parameters, accepts 8192 characters', () => {
    expect(loginErrorOf({ ...BASE, lti_message_hint: 'h'.repeat(8193) }).details).toEqual({ parameter: 'lti_message_hint' });
    expect(loginErrorOf({ ...BASE, login_hint: 'h'.repeat(8193) }).details).toEqual({ parameter: 'login_hint' });
    expect(parseLoginRequest({ ...BASE, lti_message_hint: 'h'.repeat(8192) }).ltiMessageHint).toHaveLength(8192);
  });
});

describe('param', () => {
  it('returns undefined for undefined, null and the empty string, the value otherwise', () => {
    expect(param({ a: undefined }, 'a')).toBeUndefined();
    expect(param({ a: null }, 'a')).toBeUndefined();
    expect(param({ a: '' }, 'a')).toBeUndefined();
    expect(param({}, 'a')).toBeUndefined();
    expect(param({ a: ' x ' }, 'a')).toBe(' x ');
  });
});

describe('buildAuthRedirect', () => {
  const request: LoginRequest = {
    iss: BASE.iss,
    loginHint: 'user-7',
    targetLinkUri: BASE.target_link_uri,
    ltiMessageHint: 'msg & hint=1',
    clientId: 'client-1',
    deploymentId: undefined,
  };
  const redirect = {
    authUrl: 'https://lms.example.edu/auth',
    clientId: 'client-1',
    redirectUri: 'https://courseport.test/lti/launch',
    state: 'state-abc',
    nonce: 'nonce-xyz',
    request,
  };

  it('carries every parameter of the OIDC authentication request', () => {
    const url = new URL(buildAuthRedirect(redirect));
    expect(`${url.origin}${url.pathname}`).toBe('https://lms.example.edu/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: 'client-1',
      redirect_uri: 'https://courseport.test/lti/launch',
      login_hint: 'user-7',
      state: 'state-abc',
      nonce: 'nonce-xyz',
      lti_message_hint: 'msg & hint=1',
    });
  });

  it('keeps the query string the auth URL already has', () => {
    const url = new URL(buildAuthRedirect({ ...redirect, authUrl: 'https://lms.example.edu/mod/lti/auth.php?tenant=42&x=y' }));
    expect(url.pathname).toBe('/mod/lti/auth.php');
    expect(url.searchParams.get('tenant')).toBe('42');
    expect(url.searchParams.get('x')).toBe('y');
    expect(url.searchParams.get('state')).toBe('state-abc');
    expect(url.searchParams.get('client_id')).toBe('client-1');
  });

  it('overrides, rather than duplicates, protocol parameters already in the auth URL', () => {
    const url = new URL(buildAuthRedirect({ ...redirect, authUrl: 'https://lms.example.edu/auth?state=old&prompt=login' }));
    expect(url.searchParams.getAll('state')).toEqual(['state-abc']);
    expect(url.searchParams.getAll('prompt')).toEqual(['none']);
  });

  it('omits lti_message_hint when the login had none', () => {
    const url = new URL(buildAuthRedirect({ ...redirect, request: { ...request, ltiMessageHint: undefined } }));
    expect(url.searchParams.has('lti_message_hint')).toBe(false);
    expect(url.searchParams.get('login_hint')).toBe('user-7');
  });
});
