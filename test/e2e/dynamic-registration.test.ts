import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { NRPS_SCOPE } from '../../src/lti/nrps.js';
import { findPlatform, listDeployments } from '../../src/platforms/platform.repository.js';
import type { Dialect } from '../../src/store/database.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';

const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';

function sessionOf(html: string): string {
  const m = /name="session" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no registration session on the page: ${html.slice(0, 300)}`);
  return m[1]!;
}

describe.each(DIALECTS)('LTI Dynamic Registration against the simulated LMS (%s)', (dialect: Dialect) => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });

  async function harness(env: Record<string, string> = {}, product: 'moodle' | 'canvas' = 'moodle'): Promise<Harness> {
    const h = await createHarness(dialect, env, { registerPlatform: false });
    harnesses.push(h);
    h.platform.product = product;
    if (product === 'canvas') h.platform.requireTokenForConfiguration = true;
    else h.platform.registrationDeploymentId = h.platform.deploymentId;
    return h;
  }

  async function open(h: Harness, query: Record<string, string> = h.platform.startRegistration()): Promise<LightMyRequestResponse> {
    return h.app.inject({ method: 'GET', url: '/lti/register', query, headers: { accept: 'text/html' } });
  }

  async function confirm(h: Harness, session: string, action = 'register'): Promise<LightMyRequestResponse> {
    return h.app.inject({
      method: 'POST',
      url: '/lti/register',
      payload: new URLSearchParams({ session, action }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
  }

  async function register(h: Harness): Promise<LightMyRequestResponse> {
    const page = await open(h);
    expect(page.statusCode, page.body.slice(0, 500)).toBe(200);
    return confirm(h, sessionOf(page.body));
  }

  async function loginStatus(h: Harness): Promise<{ status: number; code: string | undefined }> {
    const res = await h.app.inject({
      method: 'GET',
      url: '/lti/login',
      query: {
        iss: h.platform.issuer,
        login_hint: 'learner-1',
        target_link_uri: `${TOOL_BASE_URL}/lti/launch`,
        client_id: h.platform.clientId,
        lti_deployment_id: h.platform.deploymentId,
      },
      headers: { accept: 'text/html' },
    });
    return { status: res.statusCode, code: errorCode(res.body) };
  }

  it('Moodle dialect: shows what will be registered, registers, stores the platform pending; launches wait for activation', async () => {
    const h = await harness();
    const start = h.platform.startRegistration();
    const page = await open(h, start);
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('data-field="product">moodle 4.3<');
    expect(page.body).toContain(`data-field="issuer">${h.platform.issuer}<`);
    expect([...page.body.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1])).toEqual([
      AGS_SCOPE.LINEITEM,
      AGS_SCOPE.RESULT_READONLY,
      AGS_SCOPE.SCORE,
      NRPS_SCOPE,
    ]);
    expect(page.body).toContain(`${TOOL_BASE_URL}/lti/login`);
    expect(page.body).toContain('/static/registration.js');
    // Nothing is registered before the administrator confirms.
    expect(h.platform.registrations).toEqual([]);
    expect(await findPlatform(h.store.db, h.platform.issuer, h.platform.clientId)).toBeUndefined();

    const done = await confirm(h, sessionOf(page.body));
    expect(done.statusCode, done.body.slice(0, 800)).toBe(200);
    expect(done.body).toContain('data-lti-close="1"');
    expect(done.body).toContain('data-status="pending"');
    expect(done.body).toContain('/static/registration.js');

    // What the LMS received (checked by it like Moodle does, and here field by field).
    expect(h.platform.registrationRefusals).toEqual([]);
    const [sent] = h.platform.registrations;
    expect(sent!.body).toMatchObject({
      application_type: 'web',
      grant_types: ['implicit', 'client_credentials'],
      response_types: ['id_token'],
      initiate_login_uri: `${TOOL_BASE_URL}/lti/login`,
      redirect_uris: [`${TOOL_BASE_URL}/lti/launch`],
      jwks_uri: `${TOOL_BASE_URL}/.well-known/jwks.json`,
      token_endpoint_auth_method: 'private_key_jwt',
      client_name: 'Courseport',
    });
    expect(String(sent!.body.scope).split(' ')).toEqual([AGS_SCOPE.LINEITEM, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE, NRPS_SCOPE]);
    const toolConfig = sent!.body[TOOL_CONFIG] as Record<string, unknown>;
    expect(toolConfig).toMatchObject({ domain: 'courseport.test', target_link_uri: `${TOOL_BASE_URL}/lti/launch` });
    expect(toolConfig.claims).toEqual(expect.arrayContaining(['iss', 'sub', 'name', 'given_name', 'family_name', 'email']));
    const messages = toolConfig.messages as { type: string; placements?: string[]; label: string; target_link_uri: string }[];
    expect(messages.map((m) => m.type).sort()).toEqual(['LtiDeepLinkingRequest', 'LtiResourceLinkRequest']);
    expect(messages.find((m) => m.type === 'LtiDeepLinkingRequest')).toMatchObject({
      placements: ['ContentArea'],
      target_link_uri: `${TOOL_BASE_URL}/lti/launch`,
    });
    expect(toolConfig['https://canvas.instructure.com/lti/privacy_level']).toBeUndefined();

    // What Courseport stored: the platform as the LMS described it, pending, with the deployment it created.
    const stored = await findPlatform(h.store.db, h.platform.issuer, h.platform.clientId);
    expect(stored).toMatchObject({
      status: 'pending',
      auth_url: h.platform.authUrl,
      token_url: h.platform.tokenUrl,
      jwks_url: h.platform.jwksUrl,
      name: `moodle (${new URL(h.platform.issuer).host})`,
    });
    expect((await listDeployments(h.store.db, stored!.id)).map((d) => d.deployment_id)).toEqual([h.platform.deploymentId]);
    const audit = await h.app.services.audit.list({ action: 'platform.register' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: `platform:${stored!.id}`,
      target: stored!.id,
      details: { method: 'dynamic-registration', status: 'pending', clientId: h.platform.clientId },
    });

    // The registration token never reaches the log (the query is redacted; the form carries a session id only).
    const log = JSON.stringify(h.logs);
    expect(log).not.toContain(start.registration_token);
    expect(log).toContain('registration_token=REDACTED');

    // Pending: launches are refused with their own code until an administrator activates the platform.
    expect(await loginStatus(h)).toEqual({ status: 403, code: 'LTI_PLATFORM_PENDING' });
    await h.app.services.platforms.setStatus(stored!.id, 'active');
    const launch = await h.launch();
    expect(launch.statusCode, launch.body.slice(0, 500)).toBe(200);
    expect(launch.body).toContain('data-field="user"');
  });

  it('refuses a launch already past login when the platform is set back to pending', async () => {
    const h = await harness();
    await register(h);
    const stored = (await findPlatform(h.store.db, h.platform.issuer, h.platform.clientId))!;
    await h.app.services.platforms.setStatus(stored.id, 'active');
    const login = await h.login();
    await h.app.services.platforms.setStatus(stored.id, 'pending');
    const res = await h.launch({ login });
    expect(res.statusCode).toBe(403);
    expect(errorCode(res.body)).toBe('LTI_PLATFORM_PENDING');
  });

  it('Canvas dialect: token on the configuration request, Canvas placements and privacy level, no deployment yet', async () => {
    const h = await harness({}, 'canvas');
    const page = await open(h);
    expect(page.statusCode, page.body.slice(0, 500)).toBe(200);
    expect(page.body).toContain('data-field="product">canvas OpenSource<');
    expect([...page.body.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1])).toEqual([
      AGS_SCOPE.LINEITEM,
      AGS_SCOPE.LINEITEM_READONLY,
      AGS_SCOPE.RESULT_READONLY,
      AGS_SCOPE.SCORE,
      NRPS_SCOPE,
    ]);
    const done = await confirm(h, sessionOf(page.body));
    expect(done.statusCode, done.body.slice(0, 500)).toBe(200);
    const toolConfig = h.platform.registrations[0]!.body[TOOL_CONFIG] as Record<string, unknown>;
    expect(toolConfig['https://canvas.instructure.com/lti/privacy_level']).toBe('public');
    const dl = (toolConfig.messages as { type: string; placements?: string[] }[]).find((m) => m.type === 'LtiDeepLinkingRequest');
    expect(dl?.placements).toEqual(['link_selection', 'assignment_selection']);
    const stored = await findPlatform(h.store.db, h.platform.issuer, h.platform.clientId);
    expect(stored?.status).toBe('pending');
    expect(await listDeployments(h.store.db, stored!.id)).toEqual([]);
    expect(done.body).toContain('data-field="deployments">none yet<');
  });

  it('activates at once when COURSEPORT_REGISTRATION_AUTO_ACTIVATE is on', async () => {
    const h = await harness({ COURSEPORT_REGISTRATION_AUTO_ACTIVATE: 'true' });
    const page = await open(h);
    expect(page.body).toContain('COURSEPORT_REGISTRATION_AUTO_ACTIVATE');
    const done = await confirm(h, sessionOf(page.body));
    expect(done.body).toContain('data-status="active"');
    expect((await findPlatform(h.store.db, h.platform.issuer, h.platform.clientId))?.status).toBe('active');
    expect((await h.launch()).statusCode).toBe(200);
  });

  it('refuses a configuration whose issuer is on another host than the configuration URL', async () => {
    const h = await harness();
    h.platform.openidOverrides = { issuer: h.platform.issuer.replace('127.0.0.1', 'localhost') };
    const res = await open(h);
    expect(res.statusCode).toBe(400);
    expect(errorCode(res.body)).toBe('REGISTRATION_ISSUER_MISMATCH');
    expect(await h.store.db.selectFrom('registration_sessions').selectAll().execute()).toEqual([]);
    expect(h.logs.some((l) => l.code === 'REGISTRATION_ISSUER_MISMATCH')).toBe(true);
  });

  it('refuses configurations that lack what Courseport needs, naming each problem', async () => {
    const h = await harness();
    h.platform.openidOverrides = {
      registration_endpoint: undefined,
      id_token_signing_alg_values_supported: ['ES256'],
      'https://purl.imsglobal.org/spec/lti-platform-configuration': undefined,
    };
    const res = await open(h);
    expect(res.statusCode).toBe(424);
    expect(errorCode(res.body)).toBe('REGISTRATION_CONFIG_INVALID');
    expect(res.body).toContain('registration_endpoint is missing');
    expect(res.body).toContain('does not include RS256');
    expect(res.body).toContain('lti-platform-configuration claim is missing');

    h.platform.openidOverrides = {};
    h.platform.rawConfiguration = '<html>not json</html>';
    const notJson = await open(h);
    expect(notJson.statusCode).toBe(424);
    expect(errorCode(notJson.body)).toBe('REGISTRATION_CONFIG_INVALID');
    // A public page that fetches a URL its caller names must not echo what came back (a read
    // proxy): the answer goes to the log only.
    expect(notJson.body).toContain('configuration is not JSON (what it answered is in Courseport&#39;s log)');
    expect(notJson.body).not.toContain('not json');
    expect(h.logs.some((l) => l.code === 'REGISTRATION_CONFIG_INVALID' && JSON.stringify(l.details).includes('<html>not json</html>'))).toBe(true);
  });

  it('refuses a request without an openid_configuration URL', async () => {
    const h = await harness();
    const res = await h.app.inject({ method: 'GET', url: '/lti/register', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(400);
    expect(errorCode(res.body)).toBe('REGISTRATION_INVALID_REQUEST');
  });

  it('shows the LMS’s own error text (escaped) when it refuses the registration, and stores nothing', async () => {
    const h = await harness();
    h.platform.failRegistration = {
      status: 400,
      body: JSON.stringify({ error: 'invalid_redirect_uri', error_description: '<b>Redirect</b> URI not allowed here' }),
    };
    const res = await register(h);
    expect(res.statusCode).toBe(424);
    expect(errorCode(res.body)).toBe('REGISTRATION_REJECTED');
    expect(res.body).toContain('HTTP 400');
    expect(res.body).toContain('invalid_redirect_uri');
    expect(res.body).toContain('invalid_redirect_uri — &lt;b>Redirect&lt;/b> URI not allowed here');
    expect(res.body).not.toContain('<b>Redirect</b>');
    expect(await h.store.db.selectFrom('platforms').selectAll().execute()).toEqual([]);
    const logged = h.logs.find((l) => l.code === 'REGISTRATION_REJECTED');
    expect(JSON.stringify(logged)).toContain('invalid_redirect_uri');
  });

  it('a bad registration token: refused by the LMS at registration (Moodle) or at configuration (Canvas)', async () => {
    const moodle = await harness();
    expect((await register(moodle)).statusCode).toBe(200); // control: a good token registers
    const start = moodle.platform.startRegistration();
    const page = await open(moodle, { ...start, registration_token: 'forged-token' });
    expect(page.statusCode).toBe(200);
    const refused = await confirm(moodle, sessionOf(page.body));
    expect(refused.statusCode).toBe(424);
    expect(errorCode(refused.body)).toBe('REGISTRATION_REJECTED');
    expect(refused.body).toContain('invalid_registration_token');
    expect(moodle.platform.registrationRefusals).toEqual(['invalid_registration_token']);

    const canvas = await harness({}, 'canvas');
    const start2 = canvas.platform.startRegistration();
    const denied = await open(canvas, { ...start2, registration_token: 'forged-token' });
    expect(denied.statusCode).toBe(424);
    expect(errorCode(denied.body)).toBe('REGISTRATION_CONFIG_UNAVAILABLE');
    expect(denied.body).toContain('HTTP 401');
  });

  it('refuses a replayed or unknown confirmation, and an expired one', async () => {
    const h = await harness();
    const page = await open(h);
    const session = sessionOf(page.body);
    expect((await confirm(h, session)).statusCode).toBe(200);
    const replay = await confirm(h, session);
    expect(replay.statusCode).toBe(409);
    expect(errorCode(replay.body)).toBe('REGISTRATION_SESSION_USED');
    expect(h.platform.registrations).toHaveLength(1);

    const unknown = await confirm(h, 'x'.repeat(43));
    expect(unknown.statusCode).toBe(400);
    expect(errorCode(unknown.body)).toBe('REGISTRATION_SESSION_INVALID');

    const late = await open(h);
    h.clock.advance(31 * 60 * 1000);
    const expired = await confirm(h, sessionOf(late.body));
    expect(expired.statusCode).toBe(400);
    expect(errorCode(expired.body)).toBe('REGISTRATION_SESSION_INVALID');
    expect(h.platform.registrations).toHaveLength(1);
  });

  it('cancel sends nothing to the LMS and closes the dialog', async () => {
    const h = await harness();
    const page = await open(h);
    const res = await confirm(h, sessionOf(page.body), 'cancel');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-status="cancelled"');
    expect(res.body).toContain('data-lti-close="1"');
    expect(h.platform.registrations).toEqual([]);
    expect((await confirm(h, sessionOf(page.body))).statusCode).toBe(409);
  });

  it('registering the same issuer and client id again creates no duplicate; other URLs are refused', async () => {
    const h = await harness();
    expect((await register(h)).statusCode).toBe(200);
    const again = await register(h);
    expect(again.statusCode, again.body.slice(0, 500)).toBe(200);
    expect(again.body).toContain('already registered in Courseport; nothing was duplicated');
    const rows = await h.store.db.selectFrom('platforms').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(await listDeployments(h.store.db, rows[0]!.id)).toHaveLength(1);
    expect(await h.app.services.audit.list({ action: 'platform.reregister' })).toHaveLength(1);

    // The LMS hands out the same client id with a new deployment: it is added, still no duplicate.
    h.platform.registrationDeploymentId = 'deployment-2';
    expect((await register(h)).statusCode).toBe(200);
    expect((await listDeployments(h.store.db, rows[0]!.id)).map((d) => d.deployment_id).sort()).toEqual(['deployment-1', 'deployment-2']);

    // The same client id with other URLs would rewrite the registration: refused.
    h.platform.openidOverrides = { token_endpoint: `${h.platform.origin}/other-token` };
    const changed = await register(h);
    expect(changed.statusCode).toBe(409);
    expect(errorCode(changed.body)).toBe('PLATFORM_EXISTS');
    expect((await findPlatform(h.store.db, h.platform.issuer, h.platform.clientId))?.token_url).toBe(h.platform.tokenUrl);
  });
});

describe('LTI Dynamic Registration in production', () => {
  it('refuses a plain-http configuration URL before fetching anything', async () => {
    const h = await createHarness(
      'sqlite',
      { NODE_ENV: 'production', COURSEPORT_JWKS_COOLDOWN_SECONDS: '5', COURSEPORT_JWKS_CACHE_SECONDS: '60' },
      { registerPlatform: false },
    );
    try {
      const res = await h.app.inject({ method: 'GET', url: '/lti/register', query: h.platform.startRegistration(), headers: { accept: 'text/html' } });
      expect(res.statusCode).toBe(400);
      expect(errorCode(res.body)).toBe('REGISTRATION_INVALID_REQUEST');
      expect(res.body).toContain('must use https');
      expect(h.platform.configurationHits).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('LTI Dynamic Registration rate limit', () => {
  it('answers RATE_LIMITED past 30 registrations a minute from one address', async () => {
    const h = await createHarness('sqlite', {}, { registerPlatform: false });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 31; i++) codes.push((await h.app.inject({ method: 'GET', url: '/lti/register', headers: { accept: 'text/html' } })).statusCode);
      expect(codes.slice(0, 30).every((c) => c === 400)).toBe(true);
      expect(codes[30]).toBe(429);
    } finally {
      await h.close();
    }
  });
});

describe('Canvas JSON configuration', () => {
  it('describes Courseport as a Canvas LTI 1.3 developer key', async () => {
    const h = await createHarness('sqlite', {}, { registerPlatform: false });
    try {
      const res = await h.app.inject({ method: 'GET', url: '/lti/config/canvas.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const c = res.json() as Record<string, unknown>;
      expect(c).toMatchObject({
        title: 'Courseport',
        oidc_initiation_url: `${TOOL_BASE_URL}/lti/login`,
        target_link_uri: `${TOOL_BASE_URL}/lti/launch`,
        public_jwk_url: `${TOOL_BASE_URL}/.well-known/jwks.json`,
      });
      expect(typeof c.description).toBe('string');
      expect(c.scopes).toEqual([AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE, NRPS_SCOPE]);
      const [ext] = c.extensions as Record<string, unknown>[];
      expect(ext).toMatchObject({ platform: 'canvas.instructure.com', privacy_level: 'public', domain: 'courseport.test' });
      const placements = (ext!.settings as { placements: Record<string, unknown>[] }).placements;
      expect(placements.map((p) => p.placement)).toEqual(['link_selection', 'assignment_selection']);
      for (const p of placements)
        expect(p).toMatchObject({ message_type: 'LtiDeepLinkingRequest', target_link_uri: `${TOOL_BASE_URL}/lti/launch`, enabled: true });
    } finally {
      await h.close();
    }
  });
});
