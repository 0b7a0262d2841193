import { afterEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

/**
 * The LMS's keys change under running launches. The simulated LMS serves its JWKS over
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

  /** Key selection as the LTI certification guide requires: by kid, following rotations, dropping retired keys. */
  describe('key selection with the production cooldown (30 s)', () => {
    const COOLDOWN = { COURSEPORT_JWKS_COOLDOWN_SECONDS: '30' };
    const setKidPolicy = async (harness: Harness, allowMissingKid: boolean | undefined) => {
      const { token } = await harness.app.services.adminTokens.create(`kid-${Math.random()}`);
      const { deployments: _deployments, ...fields } = harness.platform.registration();
      const res = await harness.app.inject({
        method: 'PUT',
        url: `/api/v1/platforms/${harness.platformId}`,
        headers: { authorization: `Bearer ${token}` },
        payload: { ...fields, ...(allowMissingKid === undefined ? {} : { allowMissingKid }) },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ allowMissingKid: boolean }>();
    };

    it('refuses an id_token without kid from an LMS publishing a single key (LTI_MISSING_KID), unless the registration allows it', async () => {
      h = await createHarness(dialect, COOLDOWN);
      expect(h.platform.published).toHaveLength(1);
      const refused = await h.launch({ header: { kid: undefined } });
      expect(refused.statusCode).toBe(401);
      expect(errorCode(refused.body)).toBe('LTI_MISSING_KID');
      expect(h.platform.jwksHits).toBe(0); // refused before any key is fetched
      expect((await h.app.services.platforms.get(h.platformId)).platform.last_error).toMatch(/^LTI_MISSING_KID: /);

      // The explicit exception for an LMS known to omit kid: the one key that fits verifies.
      expect((await setKidPolicy(h, true)).allowMissingKid).toBe(true);
      const allowed = await h.launch({ header: { kid: undefined } });
      expect(allowed.statusCode, allowed.body.slice(0, 300)).toBe(200);
      // The signature still decides.
      const impostor = await SimulatedPlatform.generateKey();
      const forged = await h.launch({ key: impostor, header: { kid: undefined } });
      expect(errorCode(forged.body)).toBe('LTI_INVALID_SIGNATURE');
      // With two published keys nothing says which one: refused.
      await h.platform.rotateKey();
      h.clock.advance(h.config.jwks.cacheMaxAgeMs);
      expect(errorCode((await h.launch({ header: { kid: undefined } })).body)).toBe('LTI_INVALID_SIGNATURE');
      expect((await h.launch()).statusCode).toBe(200);

      // Off again (the default when the field is omitted): refused again.
      expect((await setKidPolicy(h, undefined)).allowMissingKid).toBe(false);
      expect(errorCode((await h.launch({ header: { kid: undefined } })).body)).toBe('LTI_MISSING_KID');
    });

    it('accepts a key rotation on its first launch, moments after a regular fetch, and refuses the retired key at once', async () => {
      h = await createHarness(dialect, COOLDOWN);
      expect((await h.launch()).statusCode).toBe(200);
      expect(h.platform.jwksHits).toBe(1);
      const oldKey = h.platform.signingKey;
      h.clock.advance(1_000);
      await h.platform.rotateKey({ dropOld: true });
      const rotated = await h.launch();
      expect(rotated.statusCode, rotated.body.slice(0, 300)).toBe(200);
      expect(h.platform.jwksHits).toBe(2);
      // That refetch showed the old key gone: refused, without asking the LMS again within the cooldown.
      const retired = await h.launch({ key: oldKey });
      expect(retired.statusCode).toBe(401);
      expect(errorCode(retired.body)).toBe('LTI_UNKNOWN_KID');
      expect(h.platform.jwksHits).toBe(2);
    });

    it('refuses a retired key once a refetch shows the LMS no longer publishes it', async () => {
      h = await createHarness(dialect, COOLDOWN);
      expect((await h.launch()).statusCode).toBe(200);
      const oldKey = h.platform.signingKey;
      // The LMS publishes a new key beside the old one and signs with the new one.
      const newKey = await h.platform.rotateKey();
      expect((await h.launch()).statusCode).toBe(200);
      expect((await h.launch({ key: oldKey })).statusCode).toBe(200); // still published
      expect(h.platform.jwksHits).toBe(2);

      // Later the LMS retires the old key. The next regular refetch (cache expired) sees it gone.
      h.platform.published = [newKey];
      h.clock.advance(h.config.jwks.cacheMaxAgeMs);
      expect((await h.launch()).statusCode).toBe(200);
      expect(h.platform.jwksHits).toBe(3);
      const retired = await h.launch({ key: oldKey });
      expect(retired.statusCode).toBe(401);
      expect(errorCode(retired.body)).toBe('LTI_UNKNOWN_KID');
      await vi.waitFor(async () => expect((await jwksStatus(h as Harness)).kids).toEqual([newKey.kid]));
    });

    it('a flood of launches with random kids causes a bounded number of JWKS fetches; a rotation during it waits at most the cooldown', async () => {
      h = await createHarness(dialect, COOLDOWN);
      expect((await h.launch()).statusCode).toBe(200);
      const attacker = await SimulatedPlatform.generateKey();
      // 120 forged launches, one a second for two minutes, each with a kid never seen before.
      for (let i = 0; i < 120; i++) {
        const res = await h.launch({ key: attacker, header: { kid: `random-${i}` } });
        expect(errorCode(res.body)).toBe('LTI_UNKNOWN_KID');
        h.clock.advance(1_000);
      }
      // The first fetch, then one refetch per 30 s of flood (at 0, 30, 60 and 90 s).
      expect(h.platform.jwksHits).toBe(5);

      // The flood's last refetch was at 90 s; at 120 s the LMS rotates, and a refetch is allowed
      // again: the new key is accepted on its first launch.
      await h.platform.rotateKey({ dropOld: true });
      expect((await h.launch()).statusCode).toBe(200);
      expect(h.platform.jwksHits).toBe(6);

      // The worst case: a forged kid refetches at 150 s, the LMS rotates at 155 s. The new key is
      // refused until that refetch's cooldown ends (180 s), then accepted with one refetch.
      h.clock.advance(30_000);
      expect(errorCode((await h.launch({ key: attacker, header: { kid: 'random-late' } })).body)).toBe('LTI_UNKNOWN_KID');
      expect(h.platform.jwksHits).toBe(7);
      h.clock.advance(5_000);
      await h.platform.rotateKey({ dropOld: true });
      const early = await h.launch();
      expect(errorCode(early.body)).toBe('LTI_UNKNOWN_KID');
      expect(h.platform.jwksHits).toBe(7);
      h.clock.advance(25_000);
      expect((await h.launch()).statusCode).toBe(200);
      expect(h.platform.jwksHits).toBe(8);
    });

    it('without a cooldown (development), a flood of random kids still stays under the per-minute cap', async () => {
      h = await createHarness(dialect, { COURSEPORT_JWKS_COOLDOWN_SECONDS: '0' });
      expect((await h.launch()).statusCode).toBe(200);
      const attacker = await SimulatedPlatform.generateKey();
      for (let i = 0; i < 60; i++) {
        expect(errorCode((await h.launch({ key: attacker, header: { kid: `random-${i}` } })).body)).toBe('LTI_UNKNOWN_KID');
        h.clock.advance(500);
      }
      expect(h.platform.jwksHits).toBe(6);
      // Genuine launches go on with the cached key set meanwhile.
      expect((await h.launch()).statusCode).toBe(200);
      expect(h.platform.jwksHits).toBe(6);
    });
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
