import type { TokenPlatform } from '../../src/lti/service-access.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesFor } from '../helpers/services.js';

const AGS = ['https://purl.imsglobal.org/spec/lti-ags/scope/score', 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem'];
const NRPS = ['https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly'];

describe('service tokens (OAuth 2 client credentials with a signed assertion)', () => {
  let h: Harness;
  let lms: SimulatedServices;
  let platform: TokenPlatform;

  beforeAll(async () => {
    h = await createHarness('sqlite');
    lms = await SimulatedServices.start(servicesFor(h));
    platform = { id: h.platformId, clientId: h.platform.clientId, tokenUrl: lms.tokenUrl, tokenAudience: null };
  });
  afterAll(async () => {
    await lms.close();
    await h.close();
  });

  it('obtains a token with an assertion the LMS verifies against our JWKS', async () => {
    const token = await h.app.services.serviceTokens.token(platform, AGS);
    expect(lms.refusals).toEqual([]);
    const issued = lms.issued.at(-1)!;
    expect(token.accessToken).toBe(issued.accessToken);
    expect(issued.scope).toBe([...AGS].sort().join(' '));
    expect(issued.kid).toBe((await h.app.services.toolKeys.signingKey()).kid);
    expect(issued.assertion).toMatchObject({ iss: h.platform.clientId, sub: h.platform.clientId, aud: lms.tokenUrl });
    expect(issued.assertion.exp! - issued.assertion.iat!).toBeLessThanOrEqual(300);
  });

  it('shares one request among concurrent callers and caches the token until shortly before it expires', async () => {
    const scopes = [...NRPS];
    const before = lms.issued.length;
    const tokens = await Promise.all(Array.from({ length: 10 }, () => h.app.services.serviceTokens.token(platform, scopes)));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(lms.issued.length - before).toBe(1);
    await h.app.services.serviceTokens.token(platform, [...scopes].reverse());
    expect(lms.issued.length - before).toBe(1);
    h.clock.advance(3600_000 - 30_000);
    try {
      const renewed = await h.app.services.serviceTokens.token(platform, scopes);
      expect(renewed.accessToken).not.toBe(tokens[0]!.accessToken);
      expect(lms.issued.length - before).toBe(2);
    } finally {
      h.clock.advance(-(3600_000 - 30_000));
    }
  });

  it('keeps separate tokens per scope set, each with a fresh jti', async () => {
    const a = await h.app.services.serviceTokens.token(platform, ['scope-a']);
    const b = await h.app.services.serviceTokens.token(platform, ['scope-b']);
    expect(a.accessToken).not.toBe(b.accessToken);
    const jtis = lms.issued.map((t) => t.assertion.jti);
    expect(new Set(jtis).size).toBe(jtis.length);
  });

  it('drops a token the service refuses with 401 and retries once with a new one', async () => {
    const seen: string[] = [];
    const res = await h.app.services.serviceTokens.withToken(platform, ['scope-retry'], async (accessToken) => {
      seen.push(accessToken);
      return { status: seen.length === 1 ? 401 : 200 };
    });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('reports a refused token request with SERVICE_TOKEN_FAILED and what the LMS said', async () => {
    lms.failNext = { status: 400, error: 'invalid_client', count: 1 };
    const err = await h.app.services.serviceTokens.token(platform, ['scope-fail']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('SERVICE_TOKEN_FAILED');
    expect((err as AppError).details).toMatchObject({ status: 400, error: 'invalid_client' });
    // Nothing bad was cached: the next call asks again and succeeds.
    expect((await h.app.services.serviceTokens.token(platform, ['scope-fail'])).accessToken).toMatch(/^at-/);
  });

  it('uses the registration token audience when the LMS wants one (Brightspace)', async () => {
    const brightspace = await SimulatedServices.start({ ...servicesFor(h), audience: 'https://api.brightspace.com/auth/token' });
    try {
      const p = { ...platform, id: 'plt_bs', tokenUrl: brightspace.tokenUrl, tokenAudience: 'https://api.brightspace.com/auth/token' };
      await h.app.services.serviceTokens.token(p, AGS);
      expect(brightspace.refusals).toEqual([]);
      expect(brightspace.issued[0]?.assertion.aud).toBe('https://api.brightspace.com/auth/token');
    } finally {
      await brightspace.close();
    }
  });
});
