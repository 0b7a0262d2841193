import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { LtiError } from '../../src/errors/app-error.js';
import { DEFAULT_MAX_FETCHES_PER_MINUTE, PlatformKeys, type KeySetStatus } from '../../src/lti/platform-keys.js';
import { fixedClock } from '../../src/util/clock.js';
import type { SafeFetch } from '../../src/util/safe-fetch.js';

const URL_ = 'https://lms.example/jwks';
const platform = { id: 'plt_1', jwksUrl: URL_, publicJwk: null };

async function key(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}
const sign = (k: { privateKey: CryptoKey; jwk: JWK }) =>
  new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256', kid: k.jwk.kid ?? '' }).sign(k.privateKey);

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
    // The first fetch is held at the gate: every other launch of the herd must join it.
    await vi.waitFor(() => expect(ep.state.calls).toBe(1));
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
    await vi.waitFor(() => expect(ep.state.calls).toBe(2));
    open();
    ep.state.gate = undefined;
    expect((await Promise.all(herd2)).length).toBe(50);
    expect(ep.state.calls).toBe(2);
  });

  it('refetches for the first unknown kid at once, even just after a regular fetch, then once per cooldown of such refetches', async () => {
    const { ep, keys, clock } = setup({ cooldownMs: 30_000 });
    const k1 = await key('k1');
    ep.state.keys = [k1.jwk];
    await keys.verify(await sign(k1), platform);
    expect(ep.state.calls).toBe(1);
    const forged = await sign(await key('forged'));
    // The regular fetch does not start the cooldown: the first unknown kid refetches.
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(2);
    // Within the cooldown of that refetch: no other.
    clock.advance(29_999);
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(await code(keys.verify(await sign(await key('another')), platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(2);
    clock.advance(1);
    expect(await code(keys.verify(forged, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(3);
  });

  it('accepts a rotation on the first launch that carries the new key, and refuses the retired key from then on', async () => {
    const { ep, keys, clock } = setup({ cooldownMs: 30_000 });
    const k1 = await key('k1');
    ep.state.keys = [k1.jwk];
    const old = await sign(k1);
    await keys.verify(old, platform);
    // One second after the regular fetch, the platform publishes k2 and drops k1.
    clock.advance(1_000);
    const k2 = await key('k2');
    ep.state.keys = [k2.jwk];
    expect(await code(keys.verify(old, platform))).toBeUndefined(); // nothing tells us yet that k1 is gone
    expect((await keys.verify(await sign(k2), platform)).sub).toBe('u');
    expect(ep.state.calls).toBe(2);
    expect(keys.keySetStatus(platform.id)?.kids).toEqual(['k2']);
    // The refetch showed k1 gone: tokens signed with it are refused (within the cooldown, without another fetch).
    expect(await code(keys.verify(old, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(2);
    // After the cooldown the retired kid may refetch once more, and is still refused.
    clock.advance(30_000);
    expect(await code(keys.verify(old, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(3);
  });

  it('does not refetch for an unknown kid right after the fetch the same launch waited for', async () => {
    const { ep, keys } = setup({ cooldownMs: 0 });
    ep.state.keys = [(await key('k1')).jwk];
    expect(await code(keys.verify(await sign(await key('forged')), platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(1);
  });

  it('caps fetches per platform and minute under a flood of random kids, even without a cooldown', async () => {
    const { ep, keys, clock } = setup({ cooldownMs: 0 });
    const k1 = await key('k1');
    ep.state.keys = [k1.jwk];
    const good = await sign(k1);
    await keys.verify(good, platform);
    const attacker = await key('attacker');
    const forged = await Promise.all(
      Array.from({ length: 100 }, (_, i) => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256', kid: `random-${i}` }).sign(attacker.privateKey)),
    );
    for (const jwt of forged) {
      expect(await code(keys.verify(jwt, platform))).toBe('LTI_UNKNOWN_KID');
      clock.advance(100); // 100 launches in 10 s
    }
    expect(ep.state.calls).toBe(DEFAULT_MAX_FETCHES_PER_MINUTE);
    // Genuine launches go on with the cached set meanwhile.
    expect((await keys.verify(good, platform)).sub).toBe('u');
    // The window rolls: a minute after the first fetch, one more is allowed.
    clock.set(Date.UTC(2026, 10, 1) + 60_000);
    expect(await code(keys.verify(forged[0] as string, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(DEFAULT_MAX_FETCHES_PER_MINUTE + 1);
    // A platform's own cap does not hold back another platform.
    const other = { id: 'plt_2', jwksUrl: URL_, publicJwk: null };
    expect((await keys.verify(good, other)).sub).toBe('u');
    expect(ep.state.calls).toBe(DEFAULT_MAX_FETCHES_PER_MINUTE + 2);
  });

  it('caps the fetches of an endpoint that fails before any key set was fetched', async () => {
    const { ep, keys, clock } = setup({ cooldownMs: 0 });
    ep.state.up = false;
    const jwt = await sign(await key('k1'));
    for (let i = 0; i < 20; i++) expect(await code(keys.verify(jwt, platform))).toBe('LTI_JWKS_UNAVAILABLE');
    expect(ep.state.calls).toBe(DEFAULT_MAX_FETCHES_PER_MINUTE);
    clock.advance(60_000);
    ep.state.up = true;
    ep.state.keys = [];
    expect(await code(keys.verify(jwt, platform))).toBe('LTI_UNKNOWN_KID');
    expect(ep.state.calls).toBe(DEFAULT_MAX_FETCHES_PER_MINUTE + 1);
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
