import { ROLE } from '../../src/lti/roles.js';
import { SignJWT } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM, MESSAGE_TYPE } from '../../src/lti/claims.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe.each(DIALECTS)('LTI 1.3 launch rejections (%s)', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(async () => {
    await h.close();
  });

  const launchCount = async () =>
    Number(
      (
        await h.store.db
          .selectFrom('launches')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** A refused launch: the right status and code on an HTML page, logged, and nothing recorded. */
  async function expectRefused(run: () => Promise<LightMyRequestResponse>, code: string, status?: number): Promise<LightMyRequestResponse> {
    const before = await launchCount();
    const logsBefore = h.logs.length;
    const res = await run();
    expect(errorCode(res.body), res.body.slice(0, 300)).toBe(code);
    if (status !== undefined) expect(res.statusCode).toBe(status);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('Error code');
    expect(h.logs.slice(logsBefore).some((l) => l.code === code && l.level >= 40)).toBe(true);
    expect(await launchCount()).toBe(before);
    return res;
  }

  describe('signature and keys', () => {
    it('refuses a token signed by another key under the platform kid (bad signature)', async () => {
      const impostor = await SimulatedPlatform.generateKey();
      await expectRefused(() => h.launch({ key: { ...impostor, kid: h.platform.signingKey.kid } }), 'LTI_INVALID_SIGNATURE', 401);
    });

    it('refuses a token whose payload was altered after signing', async () => {
      const l = await h.login();
      const token = await h.platform.mint(h.launchClaims(l));
      const [header, , sig] = token.split('.');
      const forged = `${header}.${b64({ ...h.launchClaims(l), sub: 'admin', iat: Math.floor(h.clock.now() / 1000), exp: Math.floor(h.clock.now() / 1000) + 60 })}.${sig}`;
      await expectRefused(() => h.launch({ login: l, idToken: forged }), 'LTI_INVALID_SIGNATURE', 401);
    });

    it('refuses alg none', async () => {
      const l = await h.login();
      const now = Math.floor(h.clock.now() / 1000);
      const token = `${b64({ alg: 'none', typ: 'JWT', kid: h.platform.signingKey.kid })}.${b64({ ...h.launchClaims(l), iat: now, exp: now + 60 })}.`;
      await expectRefused(() => h.launch({ login: l, idToken: token }), 'LTI_UNSUPPORTED_ALG', 401);
    });

    it('refuses HS256 (a symmetric algorithm)', async () => {
      const l = await h.login();
      const now = Math.floor(h.clock.now() / 1000);
      const token = await new SignJWT({ ...h.launchClaims(l), iat: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'HS256', kid: h.platform.signingKey.kid })
        .sign(new TextEncoder().encode(JSON.stringify(h.platform.signingKey.publicJwk)));
      await expectRefused(() => h.launch({ login: l, idToken: token }), 'LTI_UNSUPPORTED_ALG', 401);
    });

    it('refuses an id_token that names no kid, before fetching any key', async () => {
      h.app.services.platformKeys.forget(h.platformId);
      const hits = h.platform.jwksHits;
      await expectRefused(() => h.launch({ header: { kid: undefined } }), 'LTI_MISSING_KID', 401);
      await expectRefused(() => h.launch({ header: { kid: '' } }), 'LTI_MISSING_KID', 401);
      expect(h.platform.jwksHits).toBe(hits);
    });

    it('refuses an unknown kid after exactly one JWKS refetch', async () => {
      expect((await h.launch()).statusCode).toBe(200); // the key set is cached now
      const hits = h.platform.jwksHits;
      const stranger = await SimulatedPlatform.generateKey();
      await expectRefused(() => h.launch({ key: stranger }), 'LTI_UNKNOWN_KID', 401);
      expect(h.platform.jwksHits - hits).toBe(1);
    });

    it('does not fetch the JWKS on every launch', async () => {
      expect((await h.launch()).statusCode).toBe(200);
      const hits = h.platform.jwksHits;
      for (let i = 0; i < 5; i++) expect((await h.launch()).statusCode).toBe(200);
      expect(h.platform.jwksHits).toBe(hits);
    });

    it('follows a platform key rotation by refetching on the new kid', async () => {
      expect((await h.launch()).statusCode).toBe(200);
      const hits = h.platform.jwksHits;
      await h.platform.rotateKey({ dropOld: true });
      const res = await h.launch();
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      expect(h.platform.jwksHits - hits).toBe(1);
    });

    it('answers 424 (a 4xx, as every refused launch) with a clear code when the platform JWKS cannot be fetched', async () => {
      h.app.services.platformKeys.forget(h.platformId);
      h.platform.jwksUp = false;
      try {
        await expectRefused(() => h.launch(), 'LTI_JWKS_UNAVAILABLE', 424);
      } finally {
        h.platform.jwksUp = true;
      }
    });
  });

  describe('issuer, audience, times', () => {
    it('refuses an iss other than the registration that started the login', async () => {
      await expectRefused(() => h.launch({ claims: { iss: 'https://other-lms.example' } }), 'LTI_INVALID_ISSUER', 401);
    });
    it('refuses an aud without the client id', async () => {
      await expectRefused(() => h.launch({ claims: { aud: 'someone-else' } }), 'LTI_INVALID_AUDIENCE', 401);
      await expectRefused(() => h.launch({ claims: { aud: ['a', 'b'], azp: 'a' } }), 'LTI_INVALID_AUDIENCE', 401);
    });
    it('refuses audiences other than this tool, and a wrong or missing azp', async () => {
      await expectRefused(() => h.launch({ claims: { aud: [h.platform.clientId, 'other'], azp: h.platform.clientId } }), 'LTI_INVALID_AUDIENCE', 401);
      await expectRefused(() => h.launch({ claims: { aud: [h.platform.clientId, h.platform.clientId] } }), 'LTI_INVALID_AZP', 401);
      await expectRefused(() => h.launch({ claims: { azp: 'other' } }), 'LTI_INVALID_AZP', 401);
    });
    it('accepts aud as an array holding the client id, with or without azp', async () => {
      expect((await h.launch({ claims: { aud: [h.platform.clientId] } })).statusCode).toBe(200);
      expect((await h.launch({ claims: { aud: [h.platform.clientId], azp: h.platform.clientId } })).statusCode).toBe(200);
    });
    it('refuses an expired token', async () => {
      const now = Math.floor(h.clock.now() / 1000);
      await expectRefused(() => h.launch({ claims: { iat: now - 600, exp: now - 120 } }), 'LTI_TOKEN_EXPIRED', 401);
    });
    it('allows a small clock skew on exp', async () => {
      const now = Math.floor(h.clock.now() / 1000);
      expect((await h.launch({ claims: { iat: now - 30, exp: now - 10 } })).statusCode).toBe(200);
    });
    it('refuses a token issued before its login started (an old token replayed)', async () => {
      const now = Math.floor(h.clock.now() / 1000);
      await expectRefused(() => h.launch({ claims: { iat: now - 3600, exp: now + 3600 } }), 'LTI_TOKEN_EXPIRED', 401);
    });
    it('refuses iat in the future beyond the skew', async () => {
      const now = Math.floor(h.clock.now() / 1000);
      await expectRefused(() => h.launch({ claims: { iat: now + 3600, exp: now + 4000 } }), 'LTI_TOKEN_ISSUED_IN_FUTURE', 401);
    });
    it('refuses nbf in the future', async () => {
      const now = Math.floor(h.clock.now() / 1000);
      await expectRefused(() => h.launch({ claims: { nbf: now + 3600 } }), 'LTI_TOKEN_NOT_YET_VALID', 401);
    });
  });

  describe('nonce and state', () => {
    it('refuses a nonce other than the one issued for this state', async () => {
      await expectRefused(() => h.launch({ nonce: 'a-nonce-we-never-issued' }), 'LTI_NONCE_MISMATCH', 401);
    });
    it('refuses a token without nonce', async () => {
      await expectRefused(() => h.launch({ claims: { nonce: undefined } }), 'LTI_NONCE_MISSING', 401);
    });
    it('refuses a replayed id_token under a fresh state (nonce already used)', async () => {
      const first = await h.launch();
      expect(first.statusCode).toBe(200);
      const fresh = await h.login();
      await expectRefused(() => h.launch({ login: fresh, idToken: first.idToken }), 'LTI_NONCE_USED', 401);
    });
    it('refuses an unknown state', async () => {
      await expectRefused(() => h.launch({ form: { state: 'never-issued-state' } }), 'LTI_UNKNOWN_STATE', 400);
    });
    it('refuses a missing state', async () => {
      await expectRefused(() => h.launch({ form: { state: undefined } }), 'LTI_MISSING_STATE', 400);
    });
    it('refuses an expired state', async () => {
      const l = await h.login();
      h.clock.advance(h.config.lti.loginStateTtlMs + 1000);
      try {
        await expectRefused(() => h.launch({ login: l }), 'LTI_STATE_EXPIRED', 400);
      } finally {
        h.clock.advance(-(h.config.lti.loginStateTtlMs + 1000));
      }
    });
    it('refuses a state that was already used', async () => {
      const first = await h.launch();
      expect(first.statusCode).toBe(200);
      await expectRefused(() => h.launch({ login: first.login, idToken: first.idToken }), 'LTI_STATE_USED', 400);
    });
    it('refuses a state whose cookie does not match', async () => {
      const l = await h.login();
      const other = await h.login();
      const cookieName = l.cookie.split('=')[0];
      await expectRefused(() => h.launch({ login: l, cookie: `${cookieName}=${other.state}` }), 'LTI_STATE_COOKIE_MISMATCH', 400);
    });
    it('clears the state cookie even when the launch is refused', async () => {
      const res = await h.launch({ nonce: 'wrong' });
      expect(errorCode(res.body)).toBe('LTI_NONCE_MISMATCH');
      const cleared = String(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0] ?? '');
      expect(cleared.split('=')[0]).toBe(res.login.cookie.split('=')[0]);
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    });
    it('refuses a launch whose state cookie did not come back, and says why', async () => {
      const res = await expectRefused(() => h.launch({ cookie: null }), 'LTI_STATE_COOKIE_MISSING', 400);
      expect(res.body).toContain('third-party cookies');
    });
    it('lets exactly one of two concurrent launches with the same id_token through', async () => {
      const l = await h.login();
      const token = await h.platform.mint(h.launchClaims(l));
      const before = await launchCount();
      const results = await Promise.all(Array.from({ length: 4 }, () => h.launch({ login: l, idToken: token })));
      const codes = results.map((r) => r.statusCode).sort();
      expect(codes.filter((c) => c === 200)).toHaveLength(1);
      for (const r of results.filter((x) => x.statusCode !== 200)) expect(errorCode(r.body)).toBe('LTI_STATE_USED');
      expect(await launchCount()).toBe(before + 1);
    });
  });

  describe('LTI message claims', () => {
    it('refuses a deployment that is not registered for this platform', async () => {
      await expectRefused(() => h.launch({ claims: { [CLAIM.DEPLOYMENT_ID]: 'deployment-unknown' } }), 'LTI_UNKNOWN_DEPLOYMENT', 403);
    });
    it('refuses an LTI version other than 1.3.0', async () => {
      await expectRefused(() => h.launch({ claims: { [CLAIM.VERSION]: '1.1.0' } }), 'LTI_INVALID_VERSION', 400);
      await expectRefused(() => h.launch({ claims: { [CLAIM.VERSION]: undefined } }), 'LTI_INVALID_VERSION', 400);
    });
    it('refuses an unsupported message type', async () => {
      await expectRefused(() => h.launch({ claims: { [CLAIM.MESSAGE_TYPE]: 'LtiSubmissionReviewRequest' } }), 'LTI_UNSUPPORTED_MESSAGE_TYPE', 400);
      await expectRefused(() => h.launch({ claims: { [CLAIM.MESSAGE_TYPE]: undefined } }), 'LTI_UNSUPPORTED_MESSAGE_TYPE', 400);
    });
    it.each([
      ['resource link', { [CLAIM.RESOURCE_LINK]: undefined }],
      ['resource link id', { [CLAIM.RESOURCE_LINK]: { title: 'no id' } }],
      ['roles', { [CLAIM.ROLES]: undefined }],
      ['target_link_uri', { [CLAIM.TARGET_LINK_URI]: undefined }],
      ['deployment_id', { [CLAIM.DEPLOYMENT_ID]: undefined }],
      ['sub', { sub: undefined }],
      ['deep linking settings', { [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.DEEP_LINKING, [CLAIM.RESOURCE_LINK]: undefined }],
    ])('refuses a launch without %s', async (_name, claims) => {
      await expectRefused(() => h.launch({ claims }), 'LTI_MISSING_CLAIM', 400);
    });
    it('refuses a target_link_uri other than the one sent with the login', async () => {
      await expectRefused(() => h.launch({ claims: { [CLAIM.TARGET_LINK_URI]: `${TOOL_BASE_URL}/admin/anything` } }), 'LTI_INVALID_CLAIM', 400);
    });
    it('refuses a target_link_uri that does not point at this tool', async () => {
      await expectRefused(() => h.launch({ claims: { [CLAIM.TARGET_LINK_URI]: 'https://evil.example/lti/launch' } }), 'LTI_INVALID_CLAIM', 400);
    });
    it('accepts a deep linking request with its settings claim from an instructor', async () => {
      const res = await h.launch({ claims: { ...h.platform.deepLinkingClaims(), [CLAIM.ROLES]: [ROLE.CONTEXT_INSTRUCTOR] } });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      expect(res.body).toContain('Choose content from Courseport');
    });
  });

  describe('malformed requests', () => {
    it('refuses a launch without id_token', async () => {
      await expectRefused(() => h.launch({ form: { id_token: undefined } }), 'LTI_MISSING_ID_TOKEN', 400);
    });
    it.each(['not-a-jwt', 'a.b.c', `${b64({ alg: 'RS256' })}.!!!.sig`, `${'x'.repeat(70_000)}.a.b`])('refuses a malformed id_token %#', async (token) => {
      await expectRefused(() => h.launch({ idToken: token }), 'LTI_MALFORMED_JWT', 400);
    });
    it('shows the platform error when the LMS answers with one instead of an id_token', async () => {
      const res = await expectRefused(
        () => h.launch({ form: { id_token: undefined, error: 'login_required', error_description: 'The user is not logged in' } }),
        'LTI_PLATFORM_ERROR',
        400,
      );
      expect(res.body).toContain('login_required');
      expect(res.body).not.toContain('The user is not logged in'); // free text goes to the log only
    });
    it('does not echo an unknown error code or its description (spoofed error pages)', async () => {
      const res = await expectRefused(
        () => h.launch({ form: { id_token: undefined, error: 'account_locked', error_description: 'Call +1 555 0100 to unlock your account' } }),
        'LTI_PLATFORM_ERROR',
        400,
      );
      expect(res.body).toContain('unknown_error');
      expect(res.body).not.toContain('account_locked');
      expect(res.body).not.toContain('555');
    });
    it('refuses an oversized launch body with 413', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/lti/launch',
        payload: `id_token=${'a'.repeat(300 * 1024)}&state=x`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      });
      expect(res.statusCode).toBe(413);
      expect(errorCode(res.body)).toBe('PAYLOAD_TOO_LARGE');
    });
    it('escapes hostile text on error pages', async () => {
      const res = await h.app.inject({
        method: 'GET',
        url: '/lti/login',
        query: { iss: '<script>alert(1)</script>', login_hint: 'x', target_link_uri: `${TOOL_BASE_URL}/lti/launch` },
      });
      expect(errorCode(res.body)).toBe('LTI_UNKNOWN_PLATFORM');
      expect(res.body).not.toContain('<script>alert(1)</script>');
      expect(res.body).toContain('&lt;script');
    });
  });

  describe('login initiation', () => {
    const login = (query: Record<string, string>) => h.app.inject({ method: 'GET', url: '/lti/login', query });
    const base = () => ({ iss: h.platform.issuer, login_hint: 'learner-1', target_link_uri: `${TOOL_BASE_URL}/lti/launch`, client_id: h.platform.clientId });

    it('refuses a login without iss, login_hint or target_link_uri', async () => {
      const { iss: _iss, ...rest } = base();
      await expectRefused(() => login(rest), 'LTI_LOGIN_INVALID_REQUEST', 400);
      const { login_hint: _lh, ...rest2 } = base();
      await expectRefused(() => login(rest2), 'LTI_LOGIN_INVALID_REQUEST', 400);
    });
    it('refuses an unknown issuer or client id', async () => {
      await expectRefused(() => login({ ...base(), iss: 'https://unknown-lms.example' }), 'LTI_UNKNOWN_PLATFORM', 400);
      await expectRefused(() => login({ ...base(), client_id: 'unknown-client' }), 'LTI_UNKNOWN_PLATFORM', 400);
    });
    it('refuses a deployment id the registration does not have', async () => {
      await expectRefused(() => login({ ...base(), lti_deployment_id: 'nope' }), 'LTI_UNKNOWN_DEPLOYMENT', 403);
    });
    it('refuses a target_link_uri outside this tool', async () => {
      await expectRefused(() => login({ ...base(), target_link_uri: 'https://evil.example/phish' }), 'LTI_INVALID_TARGET_LINK_URI', 400);
    });
    it('finds the only registration of an issuer without client_id, and refuses when it is ambiguous', async () => {
      const { client_id: _c, ...noClient } = base();
      expect((await login(noClient)).statusCode).toBe(302);
      const second = await h.app.services.platforms.register({
        issuer: h.platform.issuer,
        clientId: 'second-client',
        authUrl: `${h.platform.authUrl}?tenant=7`,
        tokenUrl: h.platform.tokenUrl,
        jwksUrl: h.platform.jwksUrl,
        deployments: ['d-2'],
      });
      await expectRefused(() => login(noClient), 'LTI_AMBIGUOUS_PLATFORM', 400);
      // Canvas: one issuer, several client ids; the auth URL keeps its own query.
      const res = await login({ ...base(), client_id: 'second-client' });
      expect(res.statusCode).toBe(302);
      const loc = new URL(String(res.headers.location));
      expect(loc.searchParams.get('tenant')).toBe('7');
      expect(loc.searchParams.get('client_id')).toBe('second-client');
      await h.app.services.platforms.setStatus(second.platform.id, 'disabled');
      await expectRefused(() => login({ ...base(), client_id: 'second-client' }), 'LTI_PLATFORM_DISABLED', 403);
    });
    it('refuses a launch from a platform disabled between login and launch', async () => {
      const l = await h.login();
      await h.app.services.platforms.setStatus(h.platformId, 'disabled');
      try {
        await expectRefused(() => h.launch({ login: l }), 'LTI_PLATFORM_DISABLED', 403);
      } finally {
        await h.app.services.platforms.setStatus(h.platformId, 'active');
      }
    });
  });
});

describe('login rate limit', () => {
  it('answers 429 with RATE_LIMITED once an address exceeds its logins per minute', async () => {
    const h = await createHarness('sqlite', { COURSEPORT_LOGIN_RATE_LIMIT: '3' });
    try {
      for (let i = 0; i < 3; i++) await h.login();
      const res = await h.app.inject({
        method: 'GET',
        url: '/lti/login',
        query: { iss: h.platform.issuer, login_hint: 'x', target_link_uri: `${TOOL_BASE_URL}/lti/launch` },
      });
      expect(res.statusCode).toBe(429);
      expect(errorCode(res.body)).toBe('RATE_LIMITED');
    } finally {
      await h.close();
    }
  });
});

describe('logs', () => {
  it('never write the bearer tokens in player, content, progress and picker paths', async () => {
    const h = await createHarness('sqlite');
    try {
      const token = 'abc.def.ghi';
      for (const url of [
        `/play/${token}/sco/item_1/commit?session=2`,
        `/play/${token}`,
        `/content/${token}/shared/launchpage.html`,
        `/progress/${token}`,
        `/lti/deep-link/${token}?q=golf`,
        '/lti/home?lt=secret&x=1',
      ]) {
        const res = url.includes('/commit') ? await h.app.inject({ method: 'POST', url, payload: {} }) : await h.app.inject({ method: 'GET', url });
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }
      const logged = h.logs.map((l) => JSON.stringify(l)).join('\n');
      expect(logged).not.toContain(token);
      expect(logged).not.toContain('lt=secret');
      expect(logged).toContain('/play/REDACTED/sco/item_1/commit?session=2');
      expect(logged).toContain('/content/REDACTED/shared/launchpage.html');
      expect(logged).toContain('/lti/deep-link/REDACTED?q=golf');
      expect(logged).toContain('/lti/home?lt=REDACTED&x=1');
    } finally {
      await h.close();
    }
  });

  it('never write a token carried in the query of a dynamic registration openid_configuration URL', async () => {
    const { redactUrl } = await import('../../src/http/plugins/request-log.js');
    const config = 'https://lms.example/api/lti/registration/openid-configuration?registration_token=tok-123&x=1';
    const logged = redactUrl(`/lti/register?openid_configuration=${encodeURIComponent(config)}&registration_token=tok-456`);
    expect(logged).not.toContain('tok-123');
    expect(logged).not.toContain('tok-456');
    // The LMS's address stays readable for support.
    expect(new URLSearchParams(logged.split('?')[1]).get('openid_configuration')).toBe(
      'https://lms.example/api/lti/registration/openid-configuration?REDACTED',
    );
    // Without a query nothing is hidden.
    expect(redactUrl('/lti/register?openid_configuration=https%3A%2F%2Flms.example%2Foidc')).toBe(
      '/lti/register?openid_configuration=https%3A%2F%2Flms.example%2Foidc',
    );
  });

  it('never write launch tokens, login hints or id_tokens', async () => {
    const h = await createHarness('sqlite');
    try {
      const res = await h.launch();
      const token = /data-launch-token="([^"]+)"/.exec(res.body)?.[1] ?? '';
      expect(token).not.toBe('');
      await h.app.inject({ method: 'GET', url: `/lti/home?lt=${encodeURIComponent(token)}` });
      const text = JSON.stringify(h.logs);
      expect(text).not.toContain(token);
      expect(text).not.toContain(res.idToken);
      expect(text).not.toContain('msg-hint-1');
      expect(text).not.toContain(res.login.state);
      expect(text).toContain('lt=REDACTED');
    } finally {
      await h.close();
    }
  });
});

describe.each(DIALECTS)('platform keys (%s)', (dialect) => {
  it('keeps refetches inside the cooldown: repeated unknown kids do not hammer the LMS', async () => {
    const h = await createHarness(dialect, { COURSEPORT_JWKS_COOLDOWN_SECONDS: '30' });
    try {
      expect((await h.launch()).statusCode).toBe(200);
      const hits = h.platform.jwksHits;
      // The first unknown kid refetches (it may be a rotation); the next ones wait for the cooldown.
      for (let i = 0; i < 3; i++) expect(errorCode((await h.launch({ key: await SimulatedPlatform.generateKey() })).body)).toBe('LTI_UNKNOWN_KID');
      expect(h.platform.jwksHits - hits).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('verifies launches with a static public key and never fetches a JWKS', async () => {
    const h = await createHarness(dialect);
    try {
      const lms = await SimulatedPlatform.start({ clientId: 'static-client', issuer: 'https://static-lms.example' });
      try {
        const { platform } = await h.app.services.platforms.register({
          issuer: lms.issuer,
          clientId: lms.clientId,
          authUrl: lms.authUrl,
          tokenUrl: lms.tokenUrl,
          publicKey: JSON.stringify(lms.signingKey.publicJwk),
          deployments: [lms.deploymentId],
        });
        lms.nowSec = h.platform.nowSec;
        const res = await h.app.inject({
          method: 'GET',
          url: '/lti/login',
          query: { iss: lms.issuer, login_hint: 'x', target_link_uri: `${TOOL_BASE_URL}/lti/launch`, client_id: lms.clientId },
        });
        expect(res.statusCode).toBe(302);
        const loc = new URL(String(res.headers.location));
        const cookie = String(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).split(';')[0]!;
        const token = await lms.mint(lms.resourceLinkClaims(loc.searchParams.get('nonce')!, `${TOOL_BASE_URL}/lti/launch`));
        const launch = await h.app.inject({
          method: 'POST',
          url: '/lti/launch',
          payload: new URLSearchParams({ id_token: token, state: loc.searchParams.get('state')! }).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        });
        expect(launch.statusCode, launch.body.slice(0, 300)).toBe(200);
        expect(lms.jwksHits).toBe(0);
        expect(platform.jwks_url).toBeNull();
      } finally {
        await lms.close();
      }
    } finally {
      await h.close();
    }
  });
});
