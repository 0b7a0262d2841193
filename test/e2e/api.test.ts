import { rmSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { build } from '../../src/app.js';
import { DIALECTS, openTestStore } from '../helpers/dialects.js';
import { createHarness, errorCode, testConfig, type Harness } from '../helpers/harness.js';

interface DeploymentJson {
  id: string;
  deploymentId: string;
  name: string | null;
  createdAt: string;
}
interface PlatformJson {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  authUrl: string;
  tokenUrl: string;
  tokenAudience: string | null;
  jwksUrl: string | null;
  hasStaticKey: boolean;
  gradePolicy: string;
  allowMissingKid: boolean;
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
  deployments: DeploymentJson[];
}
interface KeyJson {
  kid: string;
  state: 'next' | 'current' | 'retired';
  alg: string;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
}
interface RotateJson {
  action: 'published-next' | 'promoted' | 'waiting';
  kid: string;
  promotableAt?: string;
}
interface ErrorJson {
  error: string;
  message: string;
  details?: { problems?: string[] };
  requestId: string;
}

type Method = 'GET' | 'POST' | 'PUT';

interface CallOptions {
  readonly token?: string;
  readonly payload?: unknown;
  readonly headers?: Record<string, string>;
}

/** One admin API call over inject; `payload` objects are sent as JSON. */
function call(h: Harness, method: Method, url: string, options: CallOptions = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  const payload = options.payload;
  if (payload === undefined) return h.app.inject({ method, url, headers });
  if (typeof payload === 'string') return h.app.inject({ method, url, headers, payload });
  return h.app.inject({ method, url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
}

let seq = 0;
/** A valid registration for a platform nobody else in this file uses. */
function platformBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  const issuer = `https://lms-${seq}.example.edu`;
  return {
    issuer,
    clientId: `client-${seq}`,
    authUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    ...overrides,
  };
}

async function platformCount(h: Harness): Promise<number> {
  const rows = await h.store.db.selectFrom('platforms').select('id').execute();
  return rows.length;
}

function expectError(res: LightMyRequestResponse, status: number, code: string): ErrorJson {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toContain('application/json');
  const body = res.json<ErrorJson>();
  expect(body.error).toBe(code);
  expect(body.message).toEqual(expect.any(String));
  return body;
}

describe.each(DIALECTS)('admin REST API /api/v1 (%s)', (dialect) => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await createHarness(dialect);
    token = (await h.app.services.adminTokens.create('test')).token;
  });
  afterAll(async () => {
    await h.close();
  });

  describe('authentication', () => {
    /** Every route, each with a body that would succeed if the caller were authenticated. */
    const routes = (): [Method, string, unknown][] => [
      ['GET', '/api/v1/platforms', undefined],
      ['POST', '/api/v1/platforms', platformBody()],
      ['GET', `/api/v1/platforms/${h.platformId}`, undefined],
      ['PUT', `/api/v1/platforms/${h.platformId}`, platformBody()],
      ['POST', `/api/v1/platforms/${h.platformId}/disable`, undefined],
      ['POST', `/api/v1/platforms/${h.platformId}/enable`, undefined],
      ['GET', `/api/v1/platforms/${h.platformId}/deployments`, undefined],
      ['POST', `/api/v1/platforms/${h.platformId}/deployments`, { deploymentId: 'sneaky' }],
      ['GET', '/api/v1/keys', undefined],
      ['POST', '/api/v1/keys/rotate', { now: true }],
    ];

    async function expectAllRefused(headers: Record<string, string>): Promise<void> {
      const before = { platforms: await platformCount(h), keys: (await h.app.services.toolKeys.list()).length };
      for (const [method, url, payload] of routes()) {
        // Browsers ask for HTML; the API still answers JSON.
        const res = await call(h, method, url, { payload, headers: { accept: 'text/html', ...headers } });
        const body = expectError(res, 401, 'UNAUTHORIZED');
        expect(res.headers['www-authenticate'], `${method} ${url}`).toMatch(/^Bearer realm=/);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(body.message).toContain('admin token create');
      }
      // Nothing behind the refusals ran.
      expect(await platformCount(h)).toBe(before.platforms);
      expect((await h.app.services.toolKeys.list()).length).toBe(before.keys);
      expect((await h.app.services.platforms.get(h.platformId)).platform.status).toBe('active');
      expect((await h.app.services.platforms.listDeployments(h.platformId)).map((d) => d.deployment_id)).not.toContain('sneaky');
    }

    it('refuses every route without an Authorization header', async () => {
      await expectAllRefused({});
    });

    it.each([
      ['a Basic credential', () => `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`],
      ['a bare token without the Bearer scheme', () => token],
      ['the Bearer scheme without a token', () => 'Bearer'],
      ['two tokens', () => `Bearer ${token} ${token}`],
    ])('refuses every route with a malformed header: %s', async (_label, header) => {
      await expectAllRefused({ authorization: header() });
    });

    it.each([
      ['an unknown token with the right prefix', () => `cpat_${'A'.repeat(43)}`],
      ['a valid token with one character changed', () => `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`],
      ['an oversized token', () => `cpat_${'A'.repeat(300)}`],
    ])('refuses every route with a wrong token: %s', async (_label, wrong) => {
      await expectAllRefused({ authorization: `Bearer ${wrong()}` });
    });

    it('refuses every route with a revoked token that worked before', async () => {
      const t = await h.app.services.adminTokens.create('to-revoke');
      expect((await call(h, 'GET', '/api/v1/platforms', { token: t.token })).statusCode).toBe(200);
      expect(await h.app.services.adminTokens.revoke(t.id)).toBe(true);
      await expectAllRefused({ authorization: `Bearer ${t.token}` });
    });

    it('accepts the scheme name in any case', async () => {
      const res = await call(h, 'GET', '/api/v1/platforms', { headers: { authorization: `bearer ${token}` } });
      expect(res.statusCode).toBe(200);
    });

    it("records the token's last use, and only on successful authentication", async () => {
      const t = await h.app.services.adminTokens.create('usage');
      const row = async () => (await h.app.services.adminTokens.list()).find((x) => x.id === t.id);
      expect((await row())?.last_used_at).toBeNull();
      await call(h, 'GET', '/api/v1/platforms', { token: `${t.token}x` });
      expect((await row())?.last_used_at).toBeNull();

      h.clock.advance(5_000);
      expect((await call(h, 'GET', '/api/v1/keys', { token: t.token })).statusCode).toBe(200);
      expect((await row())?.last_used_at).toBe(h.clock.now());
      h.clock.advance(60_000);
      await call(h, 'GET', '/api/v1/platforms', { token: t.token });
      expect((await row())?.last_used_at).toBe(h.clock.now());
    });

    it('logs which token called, never the token itself', async () => {
      const t = await h.app.services.adminTokens.create('logged');
      await call(h, 'GET', '/api/v1/platforms', { token: t.token });
      expect(h.logs.some((l) => l.msg === 'admin API call' && l.adminToken === t.id)).toBe(true);
      expect(JSON.stringify(h.logs)).not.toContain(t.token);
    });
  });

  describe('platforms', () => {
    it('POST creates a platform: 201, Location, the registration and its deployments', async () => {
      const body = platformBody({ name: 'Moodle (test)', deployments: ['d1', 'd2', 'd1'], tokenAudience: 'https://aud.example.edu' });
      const res = await call(h, 'POST', '/api/v1/platforms', { token, payload: body });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.headers['cache-control']).toBe('no-store');
      const p = res.json<PlatformJson>();
      expect(p.id).toMatch(/^plt_[A-Za-z0-9_-]{16}$/);
      expect(res.headers.location).toBe(`/api/v1/platforms/${p.id}`);
      const at = new Date(h.clock.now()).toISOString();
      expect(p).toEqual({
        id: p.id,
        name: 'Moodle (test)',
        issuer: body.issuer,
        clientId: body.clientId,
        authUrl: body.authUrl,
        tokenUrl: body.tokenUrl,
        tokenAudience: 'https://aud.example.edu',
        jwksUrl: body.jwksUrl,
        hasStaticKey: false,
        status: 'active',
        gradePolicy: 'overwrite',
        allowMissingKid: false,
        createdAt: at,
        updatedAt: at,
        deployments: expect.any(Array),
      });
      // Repeated deployment ids are registered once.
      expect(p.deployments.map((d) => d.deploymentId).sort()).toEqual(['d1', 'd2']);
      for (const d of p.deployments) expect(d).toEqual({ id: expect.stringMatching(/^dep_/), deploymentId: d.deploymentId, name: null, createdAt: at });

      // The Location answers with the same registration.
      const again = await call(h, 'GET', String(res.headers.location), { token });
      expect(again.statusCode).toBe(200);
      expect(sortDeployments(again.json<PlatformJson>())).toEqual(sortDeployments(p));
    });

    it('POST trims values and names the platform after the issuer host when no name is given', async () => {
      const body = platformBody();
      const res = await call(h, 'POST', '/api/v1/platforms', {
        token,
        payload: { ...body, issuer: `  ${String(body.issuer)}  `, clientId: ` ${String(body.clientId)} ` },
      });
      expect(res.statusCode, res.body).toBe(201);
      const p = res.json<PlatformJson>();
      expect(p.issuer).toBe(body.issuer);
      expect(p.clientId).toBe(body.clientId);
      expect(p.name).toBe(new URL(String(body.issuer)).host);
      expect(p.deployments).toEqual([]);
    });

    it.each<[string, Record<string, unknown>, string, string | undefined]>([
      ['a missing clientId', { clientId: undefined }, 'BAD_REQUEST', undefined],
      ['an empty issuer', { issuer: '' }, 'BAD_REQUEST', undefined],
      ['a client id over 255 characters', { clientId: 'c'.repeat(256) }, 'BAD_REQUEST', undefined],
      ['a deployment list that is not strings', { deployments: [{ id: 'd1' }] }, 'BAD_REQUEST', undefined],
      ['a whitespace-only issuer', { issuer: '   ' }, 'VALIDATION_FAILED', 'issuer is required'],
      ['an auth URL that is not a URL', { authUrl: 'not a url' }, 'VALIDATION_FAILED', 'auth URL is not a URL'],
      ['a token URL that is not http(s)', { tokenUrl: 'ftp://lms.example.edu/token' }, 'VALIDATION_FAILED', 'token URL must be an http(s) URL'],
      ['a JWKS URL with credentials', { jwksUrl: 'https://user:pw@lms.example.edu/jwks' }, 'VALIDATION_FAILED', 'JWKS URL must not carry credentials'],
      ['neither a JWKS URL nor a static key', { jwksUrl: undefined }, 'VALIDATION_FAILED', 'a JWKS URL (or a static public key) is required'],
      ['both a JWKS URL and a static key', { publicKey: '{"kty":"RSA","n":"x","e":"AQAB"}' }, 'VALIDATION_FAILED', 'not both'],
      [
        'a static key with private material',
        { jwksUrl: undefined, publicKey: '{"kty":"RSA","n":"x","e":"AQAB","d":"secret"}' },
        'VALIDATION_FAILED',
        'private or symmetric key material',
      ],
      ['a static key that is neither JWK nor PEM', { jwksUrl: undefined, publicKey: 'ssh-rsa AAAA' }, 'VALIDATION_FAILED', 'public JWK (JSON) or a PEM'],
      ['a blank deployment id', { deployments: ['d1', '  '] }, 'VALIDATION_FAILED', 'deployment id'],
    ])('POST refuses %s with 400 and stores nothing', async (_label, overrides, code, problem) => {
      const before = await call(h, 'GET', '/api/v1/platforms', { token });
      const body = Object.fromEntries(Object.entries(platformBody(overrides)).filter(([, v]) => v !== undefined));
      const res = await call(h, 'POST', '/api/v1/platforms', { token, payload: body });
      const err = expectError(res, 400, code);
      if (problem) {
        expect(err.message).toContain(problem);
        expect(err.details?.problems?.some((p) => p.includes(problem))).toBe(true);
      }
      const after = await call(h, 'GET', '/api/v1/platforms', { token });
      expect(after.json()).toEqual(before.json());
    });

    it('POST reports every problem of a registration at once', async () => {
      const res = await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody({ authUrl: 'nope', tokenUrl: 'nope', jwksUrl: 'nope' }) });
      const err = expectError(res, 400, 'VALIDATION_FAILED');
      expect(err.details?.problems).toHaveLength(3);
    });

    it('POST refuses a body that is not JSON, or not an object', async () => {
      const before = await platformCount(h);
      expectError(
        await call(h, 'POST', '/api/v1/platforms', { token, payload: '{"issuer":', headers: { 'content-type': 'application/json' } }),
        400,
        'BAD_REQUEST',
      );
      expectError(await call(h, 'POST', '/api/v1/platforms', { token, payload: '[]', headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
      expectError(await call(h, 'POST', '/api/v1/platforms', { token }), 400, 'BAD_REQUEST');
      expect(await platformCount(h)).toBe(before);
    });

    it('POST refuses an unknown property instead of silently dropping it', async () => {
      // A typo ("deployment" for "deployments") must not register a platform without its deployment.
      const before = await platformCount(h);
      const res = await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody({ deployment: ['d1'] }) });
      expectError(res, 400, 'BAD_REQUEST');
      expect(await platformCount(h)).toBe(before);
    });

    it('POST answers 409 PLATFORM_EXISTS for the same issuer and client id, and 201 for a second client id of the issuer', async () => {
      const body = platformBody({ deployments: ['d1'] });
      const first = await call(h, 'POST', '/api/v1/platforms', { token, payload: body });
      expect(first.statusCode).toBe(201);
      const count = await platformCount(h);

      const dup = await call(h, 'POST', '/api/v1/platforms', {
        token,
        payload: { ...body, name: 'other', issuer: ` ${String(body.issuer)}`, deployments: ['d2'] },
      });
      const err = expectError(dup, 409, 'PLATFORM_EXISTS');
      expect(err.message).toContain(String(body.issuer));
      expect(await platformCount(h)).toBe(count);
      const unchanged = await call(h, 'GET', `/api/v1/platforms/${first.json<PlatformJson>().id}`, { token });
      expect(unchanged.json<PlatformJson>().deployments.map((d) => d.deploymentId)).toEqual(['d1']);

      // Canvas: one issuer, many client ids.
      const second = await call(h, 'POST', '/api/v1/platforms', { token, payload: { ...body, clientId: `${String(body.clientId)}-2` } });
      expect(second.statusCode, second.body).toBe(201);
      expect(second.json<PlatformJson>().id).not.toBe(first.json<PlatformJson>().id);
      expect(await platformCount(h)).toBe(count + 1);
    });

    it('concurrent duplicate registrations answer one 201 and 409s, never a 500', async () => {
      const body = platformBody();
      const results = await Promise.all([1, 2, 3, 4].map(() => call(h, 'POST', '/api/v1/platforms', { token, payload: body })));
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409]);
      for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json<ErrorJson>().error).toBe('PLATFORM_EXISTS');
      const rows = await h.store.db.selectFrom('platforms').select('id').where('issuer', '=', String(body.issuer)).execute();
      expect(rows).toHaveLength(1);
    });

    it('GET lists every registration with its deployments; GET by id returns one', async () => {
      const created = (await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody({ deployments: ['x1'] }) })).json<PlatformJson>();
      const list = await call(h, 'GET', '/api/v1/platforms', { token });
      expect(list.statusCode).toBe(200);
      expect(list.headers['cache-control']).toBe('no-store');
      const { platforms } = list.json<{ platforms: PlatformJson[] }>();
      expect(platforms.length).toBe(await platformCount(h));
      expect(new Set(platforms.map((p) => p.id)).size).toBe(platforms.length);
      expect(platforms.find((p) => p.id === created.id)).toEqual(created);
      const simulated = platforms.find((p) => p.id === h.platformId);
      expect(simulated).toMatchObject({ name: 'Simulated LMS', issuer: h.platform.issuer, clientId: h.platform.clientId, status: 'active' });
      expect(simulated?.deployments.map((d) => d.deploymentId)).toContain(h.platform.deploymentId);

      const one = await call(h, 'GET', `/api/v1/platforms/${created.id}`, { token });
      expect(one.statusCode).toBe(200);
      expect(one.json()).toEqual(created);
    });

    it.each<[Method, string, unknown]>([
      ['GET', '', undefined],
      ['POST', '/disable', undefined],
      ['POST', '/enable', undefined],
      ['GET', '/deployments', undefined],
      ['POST', '/deployments', { deploymentId: 'd1' }],
    ])('%s /platforms/<unknown id>%s answers 404 PLATFORM_NOT_FOUND', async (method, suffix, payload) => {
      const res = await call(h, method, `/api/v1/platforms/plt_doesnotexist${suffix}`, { token, payload });
      expect(expectError(res, 404, 'PLATFORM_NOT_FOUND').message).toContain('plt_doesnotexist');
    });
  });

  describe('disable and enable', () => {
    const loginQuery = (): Record<string, string> => ({
      iss: h.platform.issuer,
      login_hint: 'learner-1',
      target_link_uri: 'https://courseport.test/lti/launch',
      client_id: h.platform.clientId,
      lti_deployment_id: h.platform.deploymentId,
    });

    afterEach(async () => {
      await h.app.services.platforms.setStatus(h.platformId, 'active');
    });

    it('a disabled platform cannot start a login (403 LTI_PLATFORM_DISABLED); enabling restores it', async () => {
      const disabled = await call(h, 'POST', `/api/v1/platforms/${h.platformId}/disable`, { token });
      expect(disabled.statusCode, disabled.body).toBe(200);
      expect(disabled.json<PlatformJson>()).toMatchObject({ id: h.platformId, status: 'disabled' });
      expect((await call(h, 'GET', `/api/v1/platforms/${h.platformId}`, { token })).json<PlatformJson>().status).toBe('disabled');
      // Disabling twice is harmless.
      expect((await call(h, 'POST', `/api/v1/platforms/${h.platformId}/disable`, { token })).json<PlatformJson>().status).toBe('disabled');

      const refused = await h.app.inject({ method: 'GET', url: '/lti/login', query: loginQuery() });
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['content-type']).toContain('text/html');
      expect(errorCode(refused.body)).toBe('LTI_PLATFORM_DISABLED');
      expect(refused.headers['set-cookie']).toBeUndefined();

      h.clock.advance(1_000);
      const enabled = await call(h, 'POST', `/api/v1/platforms/${h.platformId}/enable`, { token });
      expect(enabled.statusCode).toBe(200);
      const p = enabled.json<PlatformJson>();
      expect(p.status).toBe('active');
      expect(Date.parse(p.updatedAt)).toBe(h.clock.now());
      const login = await h.login();
      expect(login.response.statusCode).toBe(302);
    });

    it('a login started before the platform was disabled cannot complete the launch', async () => {
      const login = await h.login();
      expect((await call(h, 'POST', `/api/v1/platforms/${h.platformId}/disable`, { token })).statusCode).toBe(200);
      const res = await h.launch({ login });
      expect(res.statusCode).toBe(403);
      expect(errorCode(res.body)).toBe('LTI_PLATFORM_DISABLED');
    });
  });

  describe('deployments', () => {
    it('adds a deployment (201), lists it, refuses a duplicate (409), and a login with it then succeeds', async () => {
      const url = `/api/v1/platforms/${h.platformId}/deployments`;
      const depId = `dep-${++seq}`;
      const before = await h.app.inject({
        method: 'GET',
        url: '/lti/login',
        query: {
          iss: h.platform.issuer,
          login_hint: 'u',
          target_link_uri: 'https://courseport.test/lti/launch',
          client_id: h.platform.clientId,
          lti_deployment_id: depId,
        },
      });
      expect(errorCode(before.body)).toBe('LTI_UNKNOWN_DEPLOYMENT');

      const added = await call(h, 'POST', url, { token, payload: { deploymentId: ` ${depId} `, name: 'Course tool' } });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.json<DeploymentJson>()).toEqual({
        id: expect.stringMatching(/^dep_/),
        deploymentId: depId,
        name: 'Course tool',
        createdAt: new Date(h.clock.now()).toISOString(),
      });

      const list = await call(h, 'GET', url, { token });
      expect(list.statusCode).toBe(200);
      const ids = list.json<{ deployments: DeploymentJson[] }>().deployments.map((d) => d.deploymentId);
      expect(ids).toContain(depId);
      expect(ids).toContain(h.platform.deploymentId);

      const dup = await call(h, 'POST', url, { token, payload: { deploymentId: depId } });
      expect(expectError(dup, 409, 'DEPLOYMENT_EXISTS').message).toContain(depId);
      const again = await call(h, 'GET', url, { token });
      expect(again.json<{ deployments: DeploymentJson[] }>().deployments.filter((d) => d.deploymentId === depId)).toHaveLength(1);

      const login = await h.login({ lti_deployment_id: depId });
      expect(login.response.statusCode).toBe(302);
    });

    it("PUT replaces a registration's fields with the same validation, keeps its deployments and status, and is audited", async () => {
      const body = platformBody({ deployments: ['dep-put'] });
      const created = (await call(h, 'POST', '/api/v1/platforms', { token, payload: body })).json<PlatformJson>();
      const { deployments: _deployments, ...rest } = body;
      const changed = { ...rest, name: 'Renamed LMS', jwksUrl: `${String(body.issuer)}/new-jwks`, gradePolicy: 'preserve', allowMissingKid: true };
      const res = await call(h, 'PUT', `/api/v1/platforms/${created.id}`, { token, payload: changed });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<PlatformJson>()).toMatchObject({
        id: created.id,
        name: 'Renamed LMS',
        jwksUrl: changed.jwksUrl,
        gradePolicy: 'preserve',
        allowMissingKid: true,
        status: 'active',
      });
      expect(res.json<PlatformJson>().deployments.map((d) => d.deploymentId)).toEqual(['dep-put']);
      expect((await h.app.services.platforms.get(created.id)).platform.allow_missing_kid).toBe(1);
      const [entry] = await h.app.services.audit.list({ limit: 1 });
      expect(entry).toMatchObject({ action: 'platform.update', target: created.id, actor: 'api-token:test', details: { allowMissingKid: true } });
      const notBoolean = await call(h, 'PUT', `/api/v1/platforms/${created.id}`, { token, payload: { ...changed, allowMissingKid: 'yes' } });
      expect(notBoolean.statusCode).toBe(400);
      expect((await h.app.services.platforms.get(created.id)).platform.allow_missing_kid).toBe(1);

      // Invalid input changes nothing.
      const bad = await call(h, 'PUT', `/api/v1/platforms/${created.id}`, { token, payload: { ...changed, authUrl: 'not a url' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<ErrorJson>().error).toBe('VALIDATION_FAILED');
      expect((await h.app.services.platforms.get(created.id)).platform.auth_url).toBe(body.authUrl);
      // Deployments have their own route; an unknown field is refused, not ignored.
      expectError(await call(h, 'PUT', `/api/v1/platforms/${created.id}`, { token, payload: { ...changed, deployments: ['x'] } }), 400, 'BAD_REQUEST');
      expectError(await call(h, 'PUT', '/api/v1/platforms/plt_nope', { token, payload: changed }), 404, 'PLATFORM_NOT_FOUND');
      // Taking another registration's issuer and client id is refused.
      const other = (await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody() })).json<PlatformJson>();
      expectError(
        await call(h, 'PUT', `/api/v1/platforms/${created.id}`, { token, payload: { ...changed, issuer: other.issuer, clientId: other.clientId } }),
        409,
        'PLATFORM_EXISTS',
      );
    });

    it('the same deployment id may be registered for two platforms', async () => {
      const other = (await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody() })).json<PlatformJson>();
      const res = await call(h, 'POST', `/api/v1/platforms/${other.id}/deployments`, { token, payload: { deploymentId: h.platform.deploymentId } });
      expect(res.statusCode, res.body).toBe(201);
    });

    it('refuses invalid deployment bodies with 400', async () => {
      const url = `/api/v1/platforms/${h.platformId}/deployments`;
      const before = (await h.app.services.platforms.listDeployments(h.platformId)).length;
      expectError(await call(h, 'POST', url, { token, payload: {} }), 400, 'BAD_REQUEST');
      expectError(await call(h, 'POST', url, { token, payload: { deploymentId: '' } }), 400, 'BAD_REQUEST');
      expectError(await call(h, 'POST', url, { token, payload: { deploymentId: 'd'.repeat(256) } }), 400, 'BAD_REQUEST');
      expectError(await call(h, 'POST', url, { token, payload: { deploymentId: '   ' } }), 400, 'VALIDATION_FAILED');
      expect((await h.app.services.platforms.listDeployments(h.platformId)).length).toBe(before);
    });

    it('concurrent duplicate deployments answer one 201 and 409s, never a 500', async () => {
      const url = `/api/v1/platforms/${h.platformId}/deployments`;
      const depId = `race-${++seq}`;
      const results = await Promise.all([1, 2, 3, 4].map(() => call(h, 'POST', url, { token, payload: { deploymentId: depId } })));
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409]);
      const rows = (await h.app.services.platforms.listDeployments(h.platformId)).filter((d) => d.deployment_id === depId);
      expect(rows).toHaveLength(1);
    });
  });

  describe('request limits', () => {
    it('refuses a JSON body over 1 MiB with 413 PAYLOAD_TOO_LARGE and stores nothing', async () => {
      const before = await platformCount(h);
      const res = await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody({ name: 'x'.repeat(1024 * 1024 + 1) }) });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(await platformCount(h)).toBe(before);
    });

    it('accepts a large body under the limit as far as the schema allows', async () => {
      // 1000 deployment ids of 255 characters is about 260 KB: the schema's maximum.
      const deployments = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'d'.repeat(251)}`);
      const res = await call(h, 'POST', '/api/v1/platforms', { token, payload: platformBody({ deployments }) });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
      expect(res.json<PlatformJson>().deployments).toHaveLength(1000);
    });
  });

  describe('health', () => {
    it('GET /healthz and /readyz answer 200 without a token, naming the database', async () => {
      const health = await h.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok' });
      const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', database: dialect });
    });

    it("answers the browsers' /favicon.ico with an empty, cacheable 204 (not a logged 404)", async () => {
      const icon = await h.app.inject({ method: 'GET', url: '/favicon.ico' });
      expect(icon.statusCode).toBe(204);
      expect(icon.body).toBe('');
      expect(icon.headers['cache-control']).toBe('public, max-age=86400');
    });
  });
});

describe.each(DIALECTS)('admin REST API keys (%s)', (dialect) => {
  let h: Harness;
  let token: string;
  // Rotation changes the whole key set: each test starts from a fresh harness.
  beforeEach(async () => {
    h = await createHarness(dialect);
    token = (await h.app.services.adminTokens.create('test')).token;
  });
  afterEach(async () => {
    await h.close();
  });

  const keys = async () => {
    const res = await call(h, 'GET', '/api/v1/keys', { token });
    expect(res.statusCode).toBe(200);
    return { res, keys: res.json<{ keys: KeyJson[] }>().keys };
  };
  const jwksKids = async () => {
    const res = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    return res
      .json<{ keys: { kid: string }[] }>()
      .keys.map((k) => k.kid)
      .sort();
  };

  it('GET /keys lists the current key and nothing of its private half', async () => {
    const { res, keys: list } = await keys();
    expect(list).toHaveLength(1);
    const [k] = list;
    expect(k).toEqual({
      kid: expect.any(String),
      state: 'current',
      alg: 'RS256',
      createdAt: new Date(h.clock.now()).toISOString(),
      activatedAt: new Date(h.clock.now()).toISOString(),
      retiredAt: null,
    });
    expect(res.body).not.toMatch(/private|public_jwk|"d"|"p"|"q"|"dp"|"dq"|"qi"/);
    expect(await jwksKids()).toEqual([k!.kid]);
    expect((await h.app.services.toolKeys.signingKey()).kid).toBe(k!.kid);
  });

  it('POST /keys/rotate publishes a next key, then {now:true} promotes it; the JWKS carries both kids', async () => {
    const [old] = (await keys()).keys;

    const published = await call(h, 'POST', '/api/v1/keys/rotate', { token, payload: {} });
    expect(published.statusCode, published.body).toBe(200);
    const p = published.json<RotateJson>();
    expect(p.action).toBe('published-next');
    expect(p.kid).not.toBe(old!.kid);
    expect(Date.parse(p.promotableAt ?? '')).toBeGreaterThan(h.clock.now());
    expect(Object.fromEntries((await keys()).keys.map((k) => [k.kid, k.state]))).toEqual({ [old!.kid]: 'current', [p.kid]: 'next' });
    expect(await jwksKids()).toEqual([old!.kid, p.kid].sort());
    // A next key signs nothing yet.
    expect((await h.app.services.toolKeys.signingKey()).kid).toBe(old!.kid);

    // Too early without `now`: the next key waits for its publication window.
    const waiting = await call(h, 'POST', '/api/v1/keys/rotate', { token, payload: {} });
    expect(waiting.json<RotateJson>()).toEqual({ action: 'waiting', kid: p.kid, promotableAt: p.promotableAt });

    const promoted = await call(h, 'POST', '/api/v1/keys/rotate', { token, payload: { now: true } });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json<RotateJson>()).toEqual({ action: 'promoted', kid: p.kid });
    const after = (await keys()).keys;
    expect(Object.fromEntries(after.map((k) => [k.kid, k.state]))).toEqual({ [old!.kid]: 'retired', [p.kid]: 'current' });
    expect(after.find((k) => k.kid === old!.kid)?.retiredAt).toBe(new Date(h.clock.now()).toISOString());
    // The retired key stays published so tokens it signed still verify.
    expect(await jwksKids()).toEqual([old!.kid, p.kid].sort());
    expect((await h.app.services.toolKeys.signingKey()).kid).toBe(p.kid);
    expect(h.logs.some((l) => l.msg === 'tool key rotation' && l.action === 'promoted')).toBe(true);
  });

  it('POST /keys/rotate works without a body', async () => {
    const res = await call(h, 'POST', '/api/v1/keys/rotate', { token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<RotateJson>().action).toBe('published-next');
  });

  it('POST /keys/rotate refuses an option of the wrong type and changes nothing', async () => {
    const before = (await keys()).keys;
    expectError(await call(h, 'POST', '/api/v1/keys/rotate', { token, payload: { now: 'yes please' } }), 400, 'BAD_REQUEST');
    expect((await keys()).keys).toEqual(before);
  });

  it('POST /keys/rotate refuses an unknown option instead of ignoring it', async () => {
    // A misspelt {"nwo": true} must not quietly publish a key the caller meant to promote.
    const before = (await keys()).keys;
    expectError(await call(h, 'POST', '/api/v1/keys/rotate', { token, payload: { nwo: true } }), 400, 'BAD_REQUEST');
    expect((await keys()).keys).toEqual(before);
  });

  it('records every change in the audit log with the token that made it, and GET /audit lists it newest first', async () => {
    const auditToken = (await h.app.services.adminTokens.create('audit-bot')).token;
    const body = platformBody();
    const created = await call(h, 'POST', '/api/v1/platforms', { token: auditToken, payload: body });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<PlatformJson>().id;
    expect((await call(h, 'POST', `/api/v1/platforms/${id}/disable`, { token: auditToken })).statusCode).toBe(200);
    expect((await call(h, 'POST', '/api/v1/keys/rotate', { token: auditToken, payload: {} })).statusCode).toBe(200);
    // A refused change leaves no entry.
    expectError(await call(h, 'POST', '/api/v1/platforms', { token: auditToken, payload: { issuer: 'nope' } }), 400, 'BAD_REQUEST');

    const res = await call(h, 'GET', '/api/v1/audit?limit=3', { token });
    expect(res.statusCode, res.body).toBe(200);
    const entries = res.json<{ entries: { actor: string; action: string; target?: string; details: Record<string, unknown> | null; at: string }[] }>().entries;
    expect(entries.map((e) => e.action)).toEqual(['key.rotate', 'platform.disable', 'platform.register']);
    expect(entries.every((e) => e.actor === 'api-token:audit-bot')).toBe(true);
    expect(entries[2]).toMatchObject({ target: id, details: { issuer: body.issuer, clientId: body.clientId } });
    const onlyRegistrations = await call(h, 'GET', '/api/v1/audit?action=platform.register', { token });
    expect(onlyRegistrations.json<{ entries: { action: string }[] }>().entries.every((e) => e.action === 'platform.register')).toBe(true);
    expectError(await call(h, 'GET', '/api/v1/audit?limit=0', { token }), 400, 'BAD_REQUEST');
    expectError(await call(h, 'GET', '/api/v1/audit'), 401, 'UNAUTHORIZED');
  });
});

describe.each(DIALECTS)('readiness before migrations (%s)', (dialect) => {
  it('GET /readyz answers 503 on a database that has not been migrated', async () => {
    const store = await openTestStore(dialect, { migrate: false });
    const config = testConfig({ COURSEPORT_LOG_LEVEL: 'silent' });
    const app = await build({ config, store });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'not-ready', database: dialect });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await store.dispose();
      rmSync(config.dataDir, { recursive: true, force: true });
    }
  });
});

function sortDeployments(p: PlatformJson): PlatformJson {
  return { ...p, deployments: [...p.deployments].sort((a, b) => a.deploymentId.localeCompare(b.deploymentId)) };
}
