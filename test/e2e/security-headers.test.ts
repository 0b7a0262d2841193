import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/app.js';
import { DIALECTS, openTestStore } from '../helpers/dialects.js';
import { createHarness, errorCode, testConfig, type Harness } from '../helpers/harness.js';
import { multipartBody } from '../helpers/multipart.js';

const csp = (res: { headers: Record<string, unknown> }) => String(res.headers['content-security-policy'] ?? '');
const frameAncestors = (res: { headers: Record<string, unknown> }) => /frame-ancestors ([^;]*)/.exec(csp(res))?.[1]?.split(' ') ?? [];

/** Headers per page type, Secure cookies, proxies, rate and body limits. */
describe.each(DIALECTS)('security headers (%s)', (dialect) => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await createHarness(dialect, { COURSEPORT_FRAME_ANCESTORS: 'https://*.instructure.com' });
    token = (await h.app.services.adminTokens.create('headers')).token;
  });
  afterAll(async () => {
    await h.close();
  });
  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });

  it('lets the registered platforms (and configured extras) frame LMS pages, nobody else', async () => {
    const launch = await h.launch();
    expect(launch.statusCode).toBe(200);
    expect(frameAncestors(launch)).toEqual(["'self'", h.platform.origin, 'https://*.instructure.com']);
    expect(csp(launch)).toContain("default-src 'self'");
    expect(csp(launch)).toContain("object-src 'none'");
    expect(launch.headers['x-frame-options']).toBeUndefined();
    // Error pages of LMS routes are framed too (the LMS shows them).
    for (const url of ['/lti/home?lt=bad', '/play/bad-token', '/progress/bad-token', '/lti/deep-link/bad-token']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(frameAncestors(res), url).toEqual(["'self'", h.platform.origin, 'https://*.instructure.com']);
    }
  });

  it("refuses every frame for the admin console, the API and its documentation ('none' and X-Frame-Options)", async () => {
    for (const url of ['/admin', '/admin/login', '/api/v1/platforms', '/api/docs', '/.well-known/jwks.json', '/healthz', '/']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      if (url !== '/api/docs') expect(frameAncestors(res), url).toEqual(["'none'"]);
    }
  });

  it('lets any LMS frame dynamic registration (the platform is not registered yet)', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/lti/register?openid_configuration=x' });
    expect(frameAncestors(res)).toEqual(['*']);
  });

  it('lets the sandbox LMS frame its own pages only (its authorization page runs in the tool frame)', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/sandbox/auth?scope=openid' });
    expect(frameAncestors(res)).toEqual(["'self'"]);
    expect(res.headers['x-frame-options']).toBeUndefined();
  });

  it('restricts no framing of package files (player → LMS ancestors, dispatch), and no script of theirs', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/content/not-a-token/index.html' });
    expect(res.statusCode).toBe(403);
    // The error page gets the page policy without frame-ancestors; real package files get none (scorm-package.test.ts).
    expect(csp(res)).toContain("default-src 'self'");
    expect(csp(res)).not.toContain('frame-ancestors');
    const asset = await h.app.inject({ method: 'GET', url: '/static/player.js' });
    expect(frameAncestors(asset)).toEqual(["'self'"]);
  });

  it('sends X-Content-Type-Options, Referrer-Policy and, over https, HSTS on every response', async () => {
    for (const url of ['/lti/home?lt=bad', '/api/v1/platforms', '/.well-known/jwks.json', '/content/x/y']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['strict-transport-security'], url).toBe('max-age=31536000; includeSubDomains');
    }
  });

  it('follows registrations: a new platform may frame at once, a disabled one no longer', async () => {
    const created = await api('POST', '/api/v1/platforms', {
      issuer: 'https://moodle.example.edu',
      clientId: 'abc',
      authUrl: 'https://moodle.example.edu/mod/lti/auth.php',
      tokenUrl: 'https://moodle.example.edu/mod/lti/token.php',
      jwksUrl: 'https://moodle.example.edu/mod/lti/certs.php',
      deployments: ['1'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    expect(frameAncestors(await h.app.inject({ method: 'GET', url: '/lti/home?lt=x' }))).toContain('https://moodle.example.edu');
    expect((await api('POST', `/api/v1/platforms/${id}/disable`)).statusCode).toBe(200);
    expect(frameAncestors(await h.app.inject({ method: 'GET', url: '/lti/home?lt=x' }))).not.toContain('https://moodle.example.edu');
  });

  it('sees platforms registered by another process within the refresh interval', async () => {
    // Written straight to the database, as another Courseport process would.
    await h.store.db
      .insertInto('platforms')
      .values({
        id: 'plt_other_process',
        name: 'Other',
        issuer: 'https://canvas.example.com',
        client_id: '1000',
        auth_url: 'https://sso.canvas.example.com/api/lti/authorize_redirect',
        token_url: 'https://canvas.example.com/login/oauth2/token',
        token_audience: null,
        jwks_url: 'https://canvas.example.com/api/lti/security/jwks',
        public_jwk: null,
        status: 'active',
        grade_policy: 'overwrite',
        created_at: h.clock.now(),
        updated_at: h.clock.now(),
      })
      .execute();
    expect(frameAncestors(await h.app.inject({ method: 'GET', url: '/lti/home?lt=x' }))).not.toContain('https://canvas.example.com');
    h.clock.advance(30_000);
    const later = frameAncestors(await h.app.inject({ method: 'GET', url: '/lti/home?lt=x' }));
    expect(later).toContain('https://canvas.example.com');
    expect(later).toContain('https://sso.canvas.example.com');
  });

  it("lets a launch's response be framed by the LMS page named in its signed claims (customer domains)", async () => {
    const res = await h.launch({
      claims: {
        'https://purl.imsglobal.org/spec/lti/claim/launch_presentation': { return_url: 'https://school.example.edu/course/1?x=y', document_target: 'iframe' },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(frameAncestors(res)).toContain('https://school.example.edu');
    // Only that response: the list other pages get is the registrations'.
    expect(frameAncestors(await h.app.inject({ method: 'GET', url: '/lti/home?lt=x' }))).not.toContain('https://school.example.edu');
  });

  it('allows every customer site of multi-tenant LMSs whose issuer is not where courses live (Canvas, Blackboard)', async () => {
    const created = await api('POST', '/api/v1/platforms', {
      issuer: 'https://canvas.instructure.com',
      clientId: '10000000000001',
      authUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
      tokenUrl: 'https://sso.canvaslms.com/login/oauth2/token',
      jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks',
    });
    expect(created.statusCode, created.body).toBe(201);
    const sources = frameAncestors(await h.app.inject({ method: 'GET', url: '/lti/home?lt=x' }));
    expect(sources).toContain('https://*.instructure.com');
    expect(sources).toContain('https://sso.canvaslms.com');
  });

  it('marks the state cookie Secure, SameSite=None, Partitioned over https', async () => {
    const login = await h.login();
    expect(login.setCookie).toMatch(/; Secure/);
    expect(login.setCookie).toMatch(/SameSite=None/);
    expect(login.setCookie).toMatch(/Partitioned/);
  });
});

describe.each(DIALECTS)('transport rules (%s)', (dialect) => {
  async function app(env: Record<string, string>, extra?: (a: Awaited<ReturnType<typeof build>>) => void) {
    const config = testConfig(env);
    const store = await openTestStore(dialect);
    const a = await build({ config, store, logStream: { write: () => undefined } });
    extra?.(a);
    return {
      app: a,
      close: async () => {
        await a.close();
        await store.dispose();
        rmSync(config.dataDir, { recursive: true, force: true });
      },
    };
  }

  it('marks every cookie Secure over https, whoever sets it', async () => {
    const t = await app({}, (a) => a.get('/lti/test-cookie', async (_req, reply) => reply.setCookie('plain', 'v', { path: '/' }).send('ok')));
    try {
      const res = await t.app.inject({ method: 'GET', url: '/lti/test-cookie' });
      expect(res.headers['set-cookie']).toEqual(['plain=v; Path=/; SameSite=Lax; Secure']);
    } finally {
      await t.close();
    }
  });

  it('behind a trusted proxy, sends clients that came over http to https, and keeps health checks', async () => {
    const t = await app({ COURSEPORT_TRUST_PROXY: 'true' });
    try {
      const viaHttp = await t.app.inject({
        method: 'GET',
        url: '/lti/login?iss=x',
        headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'courseport.test' },
      });
      expect(viaHttp.statusCode).toBe(308);
      expect(viaHttp.headers.location).toBe('https://courseport.test/lti/login?iss=x');
      const viaHttps = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'x-forwarded-proto': 'https' } });
      expect(viaHttps.statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'http' } })).statusCode).toBe(200);
      // A proxy that sends no X-Forwarded-Proto causes no redirect (and no loop).
      expect((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'x-forwarded-proto': 'http, https' } })).statusCode).toBe(308);
    } finally {
      await t.close();
    }
    // Without COURSEPORT_TRUST_PROXY the header is ignored (anyone could send it).
    const untrusted = await app({});
    try {
      expect((await untrusted.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'x-forwarded-proto': 'http' } })).statusCode).toBe(200);
    } finally {
      await untrusted.close();
    }
  });

  it('rate-limits launches and the API per client address, with RATE_LIMITED', async () => {
    const t = await app({ COURSEPORT_LAUNCH_RATE_LIMIT: '3', COURSEPORT_API_RATE_LIMIT: '2' });
    try {
      const launch = () =>
        t.app.inject({ method: 'POST', url: '/lti/launch', payload: 'state=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      for (let i = 0; i < 3; i++) expect((await launch()).statusCode).not.toBe(429);
      const limited = await launch();
      expect(limited.statusCode).toBe(429);
      expect(errorCode(limited.body)).toBe('RATE_LIMITED');
      for (let i = 0; i < 2; i++) expect((await t.app.inject({ method: 'GET', url: '/api/v1/platforms' })).statusCode).toBe(401);
      const api = await t.app.inject({ method: 'GET', url: '/api/v1/platforms' });
      expect(api.statusCode).toBe(429);
      expect(api.json()).toMatchObject({ error: 'RATE_LIMITED' });
    } finally {
      await t.close();
    }
  });

  it('limits request bodies per route', async () => {
    const t = await app({});
    try {
      const token = (await t.app.services.adminTokens.create('limits')).token;
      const big = await t.app.inject({
        method: 'POST',
        url: '/api/v1/platforms',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ issuer: 'x'.repeat(600 * 1024) }),
      });
      expect(big.statusCode).toBe(413);
      expect(big.json()).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
      const form = (bytes: number) => `state=s&id_token=${'a'.repeat(bytes)}`;
      const login = await t.app.inject({
        method: 'POST',
        url: '/lti/login',
        payload: form(100 * 1024),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(login.statusCode).toBe(413);
      // A launch's id_token may be large (many claims): 200 KiB reaches validation.
      const launch = await t.app.inject({
        method: 'POST',
        url: '/lti/launch',
        payload: form(200 * 1024),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(launch.statusCode).not.toBe(413);
      expect(errorCode(launch.body)).toMatch(/^LTI_/);
      const huge = await t.app.inject({
        method: 'POST',
        url: '/lti/launch',
        payload: form(300 * 1024),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(huge.statusCode).toBe(413);
      // Uploads are not held to the API's JSON limit: a 2 MiB file streams through to the importer.
      const upload = multipartBody({}, { name: 'file', filename: 'big.zip', content: Buffer.alloc(2 * 1024 * 1024, 1) });
      const up = await t.app.inject({
        method: 'POST',
        url: '/api/v1/packages',
        payload: upload.payload,
        headers: { ...upload.headers, authorization: `Bearer ${token}` },
      });
      expect(up.statusCode, up.body).toBe(400);
      expect(up.json()).toMatchObject({ error: 'PACKAGE_NOT_ZIP' });
    } finally {
      await t.close();
    }
  });
});
