import type { TokenPlatform } from '../../src/lti/service-access.js';
import { ROLE } from '../../src/lti/roles.js';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRotationJob } from '../../src/keys/key-rotation.job.js';
import { CLAIM } from '../../src/lti/claims.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { SimulatedServices } from '../platform/simulated-services.js';

const DAY = 24 * 3600_000;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * An LMS that caches the tool's JWKS exactly as long as Cache-Control allows and never refetches
 * on an unknown kid (the strictest behaviour a platform may have): what it verifies shows that a
 * rotation never signs with a key a platform could not have seen.
 */
class CachingLms {
  fetches = 0;
  private cache: { keys: JSONWebKeySet; until: number } | undefined;
  constructor(private readonly h: Harness) {}

  async jwks(): Promise<JSONWebKeySet> {
    const now = this.h.clock.now();
    if (!this.cache || now >= this.cache.until) {
      const res = await this.h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      const maxAge = Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1] ?? '0');
      this.cache = { keys: res.json<JSONWebKeySet>(), until: now + maxAge * 1000 };
      this.fetches++;
    }
    return this.cache.keys;
  }

  async verifyDeepLinkingResponse(jwt: string): Promise<string | undefined> {
    await jwtVerify(jwt, createLocalJWKSet(await this.jwks()), {
      issuer: this.h.platform.clientId,
      audience: this.h.platform.issuer,
      algorithms: ['RS256'],
      currentDate: new Date(this.h.clock.now()),
    });
    return decodeProtectedHeader(jwt).kid;
  }
}

function pickerToken(res: LightMyRequestResponse): string {
  const action = /<form method="post" action="\/lti\/deep-link\/([^"]+)"/.exec(res.body)?.[1];
  if (!action) throw new Error(`no picker in: ${res.body.slice(0, 300)}`);
  return decodeURIComponent(action);
}

function returnJwt(res: LightMyRequestResponse): string {
  const jwt = /name="JWT" value="([^"]+)"/.exec(res.body)?.[1];
  if (!jwt) throw new Error(`no return form in: ${res.body.slice(0, 300)}`);
  return jwt;
}

describe.each(DIALECTS)('tool key rotation end to end (%s)', (dialect) => {
  let h: Harness;
  let lms: CachingLms;
  let services: SimulatedServices;
  let tokenPlatform: TokenPlatform;
  let packageId: string;
  let job: KeyRotationJob;

  beforeAll(async () => {
    h = await createHarness(dialect);
    lms = new CachingLms(h);
    // The LMS's token endpoint verifies client assertions against the same cached key set.
    services = await SimulatedServices.start({ clientId: h.platform.clientId, getToolJwks: () => lms.jwks(), now: () => h.clock.now() });
    tokenPlatform = { id: h.platformId, clientId: h.platform.clientId, tokenUrl: services.tokenUrl, tokenAudience: null };
    packageId = (await h.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care Basics' })).package.id;
    job = new KeyRotationJob(h.app.services.toolKeys, silent, 60_000);
  });
  afterAll(async () => {
    await services.close();
    await h.close();
  });

  const deepLinkingLaunch = async () => {
    const res = await h.launch({ claims: { ...h.platform.deepLinkingClaims(), [CLAIM.ROLES]: [ROLE.CONTEXT_INSTRUCTOR] } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return pickerToken(res);
  };
  const answer = async (picker: string) => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/lti/deep-link/${encodeURIComponent(picker)}`,
      payload: `package=${packageId}&action=add`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return returnJwt(res);
  };
  const serviceTokenKid = async () => {
    await h.app.services.serviceTokens.token(tokenPlatform, [`https://purl.imsglobal.org/spec/lti-ags/scope/score#${h.clock.now()}`]);
    return services.issued.at(-1)?.kid;
  };

  it('launches, deep-linking responses and service tokens verify at a caching LMS through a scheduled rotation', async () => {
    const start = h.clock.now();
    const k1 = (await h.app.services.toolKeys.signingKey()).kid;
    expect(await lms.verifyDeepLinkingResponse(await answer(await deepLinkingLaunch()))).toBe(k1);
    expect(await serviceTokenKid()).toBe(k1);

    // Day 83: the schedule publishes the next key; K1 still signs.
    h.clock.set(start + 83 * DAY);
    await job.runOnce();
    const { next } = await h.app.services.toolKeys.schedule();
    const k2 = next?.kid;
    expect(k2).toBeDefined();
    expect(await lms.verifyDeepLinkingResponse(await answer(await deepLinkingLaunch()))).toBe(k1);

    // Just before the rotation the LMS refreshes its cache (which now holds K2 as well), and an
    // instructor opens the content picker.
    h.clock.set(start + 90 * DAY - 60_000);
    const picker = await deepLinkingLaunch();
    await lms.jwks();
    const fetchesBeforeRotation = lms.fetches;

    // Day 90: the schedule promotes K2. The picker opened before the rotation answers after it,
    // signed with K2, and the LMS verifies it from its cache without refetching.
    h.clock.set(start + 90 * DAY);
    await job.runOnce();
    expect((await h.app.services.toolKeys.signingKey()).kid).toBe(k2);
    expect(await lms.verifyDeepLinkingResponse(await answer(picker))).toBe(k2);
    expect(await serviceTokenKid()).toBe(k2);
    expect(lms.fetches).toBe(fetchesBeforeRotation);
    expect(services.refusals).toEqual([]);

    // K1 stays published while tokens signed just before the rotation may still be in flight.
    h.clock.advance(2 * 3600_000);
    expect((await lms.jwks()).keys.map((k) => k.kid)).toContain(k1);
    h.clock.set(start + 90 * DAY + 48 * 3600_000 + 1);
    expect((await lms.jwks()).keys.map((k) => k.kid)).toEqual([k2]);

    // The audit log holds both scheduled steps.
    const audit = await h.app.services.audit.list({ action: 'key.rotate' });
    expect(audit.map((e) => [e.actor, e.details?.result]).reverse()).toEqual([
      ['system', 'published-next'],
      ['system', 'promoted'],
    ]);
  });

  it('serves the JWKS with cache headers shorter than the publication window, and an ETag', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });
});
