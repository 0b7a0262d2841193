import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { LtiError } from '../../src/errors/app-error.js';
import { PlatformKeys, type KeySetStatus } from '../../src/lti/platform-keys.js';
import { fixedClock } from '../../src/util/clock.js';
import type { SafeFetch } from '../../src/util/safe-fetch.js';

const URL_ = 'https://lms.example/jwks';
const platform = { id: 'plt_1', jwksUrl: URL_, publicJwk: null };

async function key(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}
const sign = (k: { privateKey: CryptoKey; jwk: JWK }) => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256', kid: k.jwk.kid ?? '' }).sign(k.privateKey);

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof LtiError ? err.code : `not an LtiError: ${String(err)}`;
  }
}

/** A JWKS endpoint under the test's control: what it publishes, whether it is up, and a gate to hold answers. */
function endpoint() {
  const state = {
    keys: [] as JWK[],
    up: true,
    calls: 0,
    gate: undefined as Promise<void> | undefined,
  };
  const fetch: SafeFetch = async () => {
    state.calls++;
    if (state.gate) await state.gate;
    if (!state.up) return new Response('down', { status: 503 });
    return new Response(JSON.stringify({ keys: state.keys }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { state, fetch };
}

function setup(options: { cooldownMs?: number; staleLimitMs?: number; cacheMaxAgeMs?: number } = {}) {
  const ep = endpoint();
  const clock = fixedClock(Date.UTC(2026, 10, 1));
  const recorded: KeySetStatus[] = [];
  const warnings: string[] = [];
  const keys = new PlatformKeys({
    fetch: ep.fetch,
    timeoutMs: 1000,
    cacheMaxAgeMs: options.cacheMaxAgeMs ?? 600_000,
    cooldownMs: options.cooldownMs ?? 30_000,
    staleLimitMs: options.staleLimitMs ?? 3600_000,
    clock,
    statusSink: async (_id, s) => void recorded.push(s),
  });
  keys.useLogger({ warn: (_o, msg) => void warnings.push(msg), info: () => undefined });
  return { ep, clock, keys, recorded, warnings };
}

describe('platform key sets', () => {
  it('shares one fetch among concurrent launches (single flight), also for an unknown kid', async () => {
    const { ep, keys, clock } = setup({ cooldownMs: 30_000 });
    const k1 = await key('k1');
    ep.state.keys = [k1.jwk];
    let open!: () => void;
    ep.state.gate = new Promise((r) => (open = r));
    const jwt = await sign(k1);
    const herd = Array.from({ length: 50 }, () => keys.verify(jwt, platform));
    await new Promise((r) => setTimeout(r, 10));
    open();
    ep.state.gate = undefined;
    expect((await Promise.all(herd)).every((p) => p.sub === 'u')).toBe(true);
    expect(ep.state.calls).toBe(1);

    // The platform rotates (after the cooldown since our fetch): a herd of launches with the new kid causes one refetch.
    clock.advance(30_000);
    const k2 = await key('k2');
    ep.state.keys = [k2.jwk];
    ep.state.gate = new Promise((r) => (open = r));
    const rotated = await sign(k2);
    const herd2 = Array.from({ length: 50 }, () => keys.verify(rotated, platform));
    await new Promise((r) => setTimeout(r, 10));
    open();
    ep.state.gate = undefined;
    expect((await Promise.all(herd2)).length).toBe(50);
    expect(ep.state.calls).toBe(2);
  });

  it('refetches on an unknown kid at most once per cooldown', async () => {
    const { ep, keys, clock } = setup({ cooldownMs: 30_000 });
    const k1 = await key('k1');
    ep.state.keys = [k1.jwk];
    await keys.verify(await sign(k1), platform);
    const forged = await sign(await key('forged'));
    // Within the cooldown of the first fetch: no refetch.
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(1);
    clock.advance(30_000);
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(2);
    clock.advance(29_999);
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(2);
    clock.advance(1);
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(3);
  });

  it('uses the last good key set while the endpoint is down, until the staleness limit, with a warning and a recorded status', async () => {
    const { ep, keys, clock, recorded, warnings } = setup({ cacheMaxAgeMs: 600_000, staleLimitMs: 3600_000, cooldownMs: 30_000 });
    const k1 = await key('k1');
    ep.state.keys = [k1.jwk];
    const jwt = await sign(k1);
    await keys.verify(jwt, platform);
    const fetchedAt = clock.now();
    expect(keys.keySetStatus(platform.id)).toMatchObject({ fetchedAt, kids: ['k1'], error: null, staleSince: null });

    ep.state.up = false;
    clock.advance(600_000);
    expect((await keys.verify(jwt, platform)).sub).toBe('u');
    expect(keys.keySetStatus(platform.id)).toMatchObject({ fetchedAt, error: 'the JWKS endpoint answered HTTP 503', staleSince: fetchedAt + 600_000 });
    expect(warnings.some((w) => w.includes('last good key set'))).toBe(true);
    expect(recorded.at(-1)).toMatchObject({ error: 'the JWKS endpoint answered HTTP 503', staleSince: fetchedAt + 600_000 });

    // Still down: launches keep working without waiting for the endpoint; it is retried once per cooldown.
    const calls = ep.state.calls;
    clock.advance(10_000);
    await keys.verify(jwt, platform);
    expect(ep.state.calls).toBe(calls);
    clock.advance(20_000);
    await keys.verify(jwt, platform);
    expect(ep.state.calls).toBe(calls + 1);

    // Past the staleness limit (counted from the last good fetch) the launch is refused.
    clock.set(fetchedAt + 3600_000 + 1);
    expect(await code(keys.verify(jwt, platform))).toBe('LTI_JWKS_UNAVAILABLE');

    // The endpoint answers again: everything is back to normal.
    ep.state.up = true;
    clock.advance(30_000);
    expect((await keys.verify(jwt, platform)).sub).toBe('u');
    expect(keys.keySetStatus(platform.id)).toMatchObject({ error: null, staleSince: null, kids: ['k1'] });
    expect(recorded.at(-1)).toMatchObject({ error: null, staleSince: null });
  });

  it('refuses at once when the first fetch fails, or when no staleness is allowed', async () => {
    const { ep, keys } = setup();
    ep.state.up = false;
    const k1 = await key('k1');
    expect(await code(keys.verify(await sign(k1), platform))).toBe('LTI_JWKS_UNAVAILABLE');

    const strict = setup({ staleLimitMs: 0, cacheMaxAgeMs: 1000 });
    strict.ep.state.keys = [k1.jwk];
    await strict.keys.verify(await sign(k1), platform);
    strict.ep.state.up = false;
    strict.clock.advance(1000);
    expect(await code(strict.keys.verify(await sign(k1), platform))).toBe('LTI_JWKS_UNAVAILABLE');
  });
});
