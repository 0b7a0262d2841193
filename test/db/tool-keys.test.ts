import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { deriveKey, open } from '../../src/keys/secret-box.js';
import { DEFAULT_KEY_POLICY, TOOL_KEY_ALG, ToolKeyService, type ToolKeyPolicy } from '../../src/keys/tool-keys.service.js';
import type { ToolKey } from '../../src/store/tables.js';
import { fixedClock } from '../../src/util/clock.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

const SECRET = 'tool-keys-test-secret-0123456789abcdefghij';
const OTHER_SECRET = 'a-different-secret-0123456789abcdefghijkl';
const START = Date.UTC(2026, 5, 1, 8, 0, 0);
const POLICY: ToolKeyPolicy = DEFAULT_KEY_POLICY;
/** ToolKeyService re-reads the current key from the database at most once a minute. */
const SIGNING_KEY_RECHECK_MS = 60_000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).code;
  }
  throw new Error('expected an AppError');
}

describe.each(DIALECTS)('ToolKeyService (%s)', (dialect) => {
  let store: TestStore;
  let clock: ReturnType<typeof fixedClock>;
  let service: ToolKeyService;

  beforeAll(async () => {
    store = await openTestStore(dialect);
  });
  afterAll(async () => {
    await store.dispose();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('tool_keys').execute();
    clock = fixedClock(START);
    service = new ToolKeyService(store.db, SECRET, clock, POLICY);
  });

  async function rows(): Promise<ToolKey[]> {
    return store.db.selectFrom('tool_keys').selectAll().orderBy('created_at').execute();
  }

  async function jwksKids(): Promise<string[]> {
    return (await service.jwks()).keys.map((k) => k.kid ?? '').sort();
  }

  it('has no signing key before one is created', async () => {
    expect(await codeOf(service.signingKey())).toBe('KEY_NOT_FOUND');
    expect(await service.jwks()).toEqual({ keys: [] });
  });

  it('ensureCurrentKey creates exactly one current key, and is idempotent', async () => {
    await service.ensureCurrentKey();
    const [first, ...others] = await rows();
    expect(others).toEqual([]);
    expect(first).toMatchObject({ state: 'current', alg: TOOL_KEY_ALG, created_at: START, activated_at: START, retired_at: null });

    clock.advance(1000);
    await service.ensureCurrentKey();
    await new ToolKeyService(store.db, SECRET, clock, POLICY).ensureCurrentKey();
    expect(await rows()).toEqual([first]);
  });

  it('publishes a public JWK: kid is its thumbprint, RS256, use sig, no private members', async () => {
    await service.ensureCurrentKey();
    const { keys } = await service.jwks();
    expect(keys).toHaveLength(1);
    const jwk = keys[0] as JWK;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(typeof jwk.n).toBe('string');
    // 2048-bit modulus: 256 bytes in base64url.
    expect(Buffer.from(jwk.n ?? '', 'base64url')).toHaveLength(256);
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n ?? '', e: jwk.e ?? '' }));
    for (const m of PRIVATE_MEMBERS) expect(jwk, m).not.toHaveProperty(m);
    const row = (await rows())[0];
    for (const m of PRIVATE_MEMBERS) expect(JSON.parse(row?.public_jwk ?? '{}'), m).not.toHaveProperty(m);
  });

  it('encrypts the private key at rest, bound to its kid', async () => {
    await service.ensureCurrentKey();
    const row = (await rows())[0];
    if (!row) throw new Error('no key row');
    const encKey = deriveKey(SECRET, 'tool-key-encryption');
    const privateJwk = JSON.parse(open(encKey, row.private_jwk_enc, row.kid)) as JWK;
    expect(typeof privateJwk.d).toBe('string');
    expect(privateJwk.kid).toBe(row.kid);
    for (const m of PRIVATE_MEMBERS) {
      const value = privateJwk[m];
      expect(typeof value, m).toBe('string');
      expect(row.private_jwk_enc).not.toContain(value);
    }
    expect(row.private_jwk_enc).not.toContain('"d"');
    expect(row.private_jwk_enc).toMatch(/^v1\./);
    // The ciphertext is bound to its kid: moved to another row, it does not open.
    expect(() => open(encKey, row.private_jwk_enc, 'another-kid')).toThrow();
  });

  it('signs with a key that verifies against the published JWKS', async () => {
    await service.ensureCurrentKey();
    const key = await service.signingKey();
    expect(key.alg).toBe('RS256');
    const nowSec = Math.floor(clock.now() / 1000);
    const jwt = await new SignJWT({ scope: 'test' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer('https://courseport.test')
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + 300)
      .sign(key.key);
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await service.jwks()), {
      issuer: 'https://courseport.test',
      currentDate: new Date(clock.now()),
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toBe(key.kid);
    expect(payload.scope).toBe('test');
  });

  it('returns the same signing key object while cached', async () => {
    await service.ensureCurrentKey();
    const a = await service.signingKey();
    clock.advance(SIGNING_KEY_RECHECK_MS * 3);
    const b = await service.signingKey();
    expect(b).toBe(a);
  });

  it('rotates next → current → retired without surprising platforms', async () => {
    await service.ensureCurrentKey();
    const oldKid = (await service.signingKey()).kid;

    // 1. A next key is published but not used.
    const published = await service.rotate();
    expect(published.action).toBe('published-next');
    expect(published.promotableAt).toBe(START + POLICY.publishBeforeUseMs);
    const newKid = published.kid;
    expect(newKid).not.toBe(oldKid);
    expect(await jwksKids()).toEqual([oldKid, newKid].sort());
    expect((await service.signingKey()).kid).toBe(oldKid);
    expect((await new ToolKeyService(store.db, SECRET, clock, POLICY).signingKey()).kid).toBe(oldKid);

    // 2. Rotating again inside the publication window waits.
    clock.advance(POLICY.publishBeforeUseMs - 1);
    expect(await service.rotate()).toEqual({ action: 'waiting', kid: newKid, promotableAt: START + POLICY.publishBeforeUseMs });
    expect((await rows()).map((r) => r.state).sort()).toEqual(['current', 'next']);

    // A second process that has the old key cached keeps it for up to a minute after promotion.
    const otherProcess = new ToolKeyService(store.db, SECRET, clock, POLICY);
    expect((await otherProcess.signingKey()).kid).toBe(oldKid);

    // 3. Once the window has passed, the next key is promoted and the old one retired.
    clock.advance(1);
    const promotedAt = clock.now();
    expect(await service.rotate()).toEqual({ action: 'promoted', kid: newKid });
    expect((await service.signingKey()).kid).toBe(newKid);
    expect((await new ToolKeyService(store.db, SECRET, clock, POLICY).signingKey()).kid).toBe(newKid);
    expect((await otherProcess.signingKey()).kid).toBe(oldKid);
    clock.advance(SIGNING_KEY_RECHECK_MS);
    expect((await otherProcess.signingKey()).kid).toBe(newKid);

    const byKid = new Map((await rows()).map((r) => [r.kid, r]));
    expect(byKid.get(oldKid)).toMatchObject({ state: 'retired', retired_at: promotedAt, activated_at: START });
    expect(byKid.get(newKid)).toMatchObject({ state: 'current', activated_at: promotedAt, retired_at: null });

    // 4. The retired key stays published for the overlap window, then disappears.
    clock.set(promotedAt + POLICY.retiredOverlapMs);
    expect(await jwksKids()).toEqual([oldKid, newKid].sort());
    clock.advance(1);
    expect(await jwksKids()).toEqual([newKid]);
    // It is still listed for the administrator.
    expect((await service.list()).map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
  });

  it('keeps verifying tokens signed with the retired key during the overlap', async () => {
    await service.ensureCurrentKey();
    const old = await service.signingKey();
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: old.alg, kid: old.kid }).sign(old.key);
    await service.rotate({ now: true });
    expect((await service.signingKey()).kid).not.toBe(old.kid);
    const { protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await service.jwks()));
    expect(protectedHeader.kid).toBe(old.kid);
    clock.advance(POLICY.retiredOverlapMs + 1);
    await expect(jwtVerify(jwt, createLocalJWKSet(await service.jwks()))).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('rotate({ now: true }) without a next key creates and promotes one at once', async () => {
    await service.ensureCurrentKey();
    const oldKid = (await service.signingKey()).kid;
    const result = await service.rotate({ now: true });
    expect(result.action).toBe('promoted');
    expect(result.kid).not.toBe(oldKid);
    expect((await service.signingKey()).kid).toBe(result.kid);
    const states = new Map((await rows()).map((r) => [r.kid, r.state]));
    expect(states).toEqual(
      new Map([
        [oldKid, 'retired'],
        [result.kid, 'current'],
      ]),
    );
    expect(await jwksKids()).toEqual([oldKid, result.kid].sort());
  });

  it('rotate({ now: true }) promotes a waiting next key instead of making another', async () => {
    await service.ensureCurrentKey();
    const next = await service.rotate();
    expect(next.action).toBe('published-next');
    const result = await service.rotate({ now: true });
    expect(result).toEqual({ action: 'promoted', kid: next.kid });
    expect(await rows()).toHaveLength(2);
  });

  it('retires the key of an earlier rotation when rotating again', async () => {
    await service.ensureCurrentKey();
    const k1 = (await service.signingKey()).kid;
    const k2 = (await service.rotate({ now: true })).kid;
    clock.advance(1000);
    const k3 = (await service.rotate({ now: true })).kid;
    const states = new Map((await rows()).map((r) => [r.kid, r.state]));
    expect(states).toEqual(
      new Map([
        [k1, 'retired'],
        [k2, 'retired'],
        [k3, 'current'],
      ]),
    );
    expect((await rows()).filter((r) => r.state === 'current')).toHaveLength(1);
  });

  it('refuses to decrypt the key with another secret, with KEY_DECRYPTION_FAILED', async () => {
    await service.ensureCurrentKey();
    const wrong = new ToolKeyService(store.db, OTHER_SECRET, clock, POLICY);
    try {
      await wrong.signingKey();
      expect.unreachable('signingKey should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('KEY_DECRYPTION_FAILED');
      expect((err as AppError).status).toBe(500);
      expect((err as AppError).expose).toBe(false);
    }
    // Publishing public keys needs no secret.
    expect((await wrong.jwks()).keys).toHaveLength(1);
  });

  // Two processes starting on an empty database together must end with one current key. With
  // the frozen clock both keys get the same created_at: "the oldest wins" has no tie-breaker, and
  // the process that checks before the other inserts keeps its key too.
  it('ends with one current key when two processes start together (same millisecond)', async () => {
    const a = new ToolKeyService(store.db, SECRET, clock, POLICY);
    const b = new ToolKeyService(store.db, SECRET, clock, POLICY);
    await Promise.all([a.ensureCurrentKey(), b.ensureCurrentKey()]);
    const current = (await rows()).filter((r) => r.state === 'current');
    expect(current).toHaveLength(1);
    expect((await a.signingKey()).kid).toBe((await b.signingKey()).kid);
  });
});
