import { afterEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';

/**
 * Issue 8: the LMS's keys change under running launches. The simulated LMS serves its JWKS over
 * real HTTP on loopback and counts the fetches; Courseport verifies every id_token for real.
 */
describe.each(DIALECTS)('platform key rotation and JWKS outages (%s)', (dialect) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const jwksStatus = async (harness: Harness) => {
    const { token } = await harness.app.services.adminTokens.create(`status-${Math.random()}`);
    const res = await harness.app.inject({ method: 'GET', url: `/api/v1/platforms/${harness.platformId}/keys`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ state: string; kids: string[]; error: string | null; staleSince: string | null; warning: string | null }>();
  };

  it('keeps launching when the LMS switches keys mid-run, with one refetch for the new kid', async () => {
    h = await createHarness(dialect);
    expect((await h.launch()).statusCode).toBe(200);
    expect(h.platform.jwksHits).toBe(1);
    for (let i = 0; i < 3; i++) expect((await h.launch()).statusCode).toBe(200);
    expect(h.platform.jwksHits).toBe(1);

    // The LMS rotates and stops publishing the old key at once (as Brightspace can).
    const oldKey = h.platform.signingKey;
    const newKey = await h.platform.rotateKey({ dropOld: true });
    const res = await h.launch();
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(h.platform.jwksHits).toBe(2);
    for (let i = 0; i < 3; i++) expect((await h.launch()).statusCode).toBe(200);
    expect(h.platform.jwksHits).toBe(2);
    await vi.waitFor(async () => expect((await jwksStatus(h as Harness)).kids).toEqual([newKey.kid]));

    // A token still signed with the dropped key is refused: it is no longer published.
    const stale = await h.launch({ key: oldKey });
    expect(stale.statusCode).toBe(401);
    expect(errorCode(stale.body)).toBe('LTI_UNKNOWN_KID');
  });

  it('a thundering herd of launches with an unknown kid causes one JWKS fetch', async () => {
    h = await createHarness(dialect, { COURSEPORT_JWKS_COOLDOWN_SECONDS: '30' });
    expect((await h.launch()).statusCode).toBe(200);
    expect(h.platform.jwksHits).toBe(1);
    h.clock.advance(31_000);
    await h.platform.rotateKey({ dropOld: true });
    const logins = [];
    for (let i = 0; i < 40; i++) logins.push(await h.login());
    const harness = h;
    const results = await Promise.all(logins.map((login) => harness.launch({ login })));
    expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
    expect(h.platform.jwksHits).toBe(2);

    // Forged kids within the cooldown do not reach the LMS at all.
    const forged = await h.launch({ header: { kid: 'no-such-kid' } });
    expect(forged.statusCode).toBe(401);
    expect(errorCode(forged.body)).toBe('LTI_UNKNOWN_KID');
    expect(h.platform.jwksHits).toBe(2);
  });

  it('uses the last good key set while the LMS JWKS endpoint is down, warns, and refuses past the staleness limit', async () => {
    h = await createHarness(dialect, { COURSEPORT_JWKS_CACHE_SECONDS: '60', COURSEPORT_JWKS_STALE_LIMIT_SECONDS: '3600' });
    expect((await h.launch()).statusCode).toBe(200);
    expect((await jwksStatus(h)).state).toBe('ok');

    h.platform.jwksUp = false;
    h.clock.advance(61_000);
    const during = await h.launch();
    expect(during.statusCode, during.body.slice(0, 300)).toBe(200);
    expect(h.platform.jwksHits).toBe(2);
    expect(h.logs.some((l) => l.level === 40 && l.msg.includes('last good key set'))).toBe(true);
    const harness = h;
    await vi.waitFor(async () => expect((await jwksStatus(harness)).state).toBe('stale'));
    const stale = await jwksStatus(h);
    expect(stale.error).toContain('503');
    expect(stale.warning).toContain('launches use the key set fetched at');

    // Past the limit (counted from the last good fetch), launches are refused with a clear code.
    h.clock.advance(3600_000);
    const after = await h.launch();
    expect(after.statusCode).toBe(424);
    expect(errorCode(after.body)).toBe('LTI_JWKS_UNAVAILABLE');
    await vi.waitFor(async () => expect((await jwksStatus(harness)).state).toBe('failing'));

    // The LMS is back: the next launch refetches and works, and the warning clears.
    h.platform.jwksUp = true;
    expect((await h.launch()).statusCode).toBe(200);
    await vi.waitFor(async () => expect((await jwksStatus(harness)).state).toBe('ok'));
    expect((await jwksStatus(h)).warning).toBeNull();
  });
});
