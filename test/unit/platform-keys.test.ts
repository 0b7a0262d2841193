import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { LtiError } from '../../src/errors/app-error.js';
import { PlatformKeys } from '../../src/lti/platform-keys.js';
import type { SafeFetch } from '../../src/util/safe-fetch.js';

const noFetch: SafeFetch = async () => {
  throw new Error('no network in this test');
};
const keys = () => new PlatformKeys({ fetch: noFetch, timeoutMs: 1000, cacheMaxAgeMs: 60_000, cooldownMs: 0 });

async function keyPair(alg: string, options: { modulusLength?: number } = {}): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: `kid-${alg}`, alg } };
}

const sign = (privateKey: CryptoKey, header: Record<string, unknown>) =>
  new SignJWT({ sub: 'u', nonce: 'n' }).setProtectedHeader(header as { alg: string }).sign(privateKey);

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof LtiError ? err.code : `not an LtiError: ${String(err)}`;
  }
}

describe('PlatformKeys.verify', () => {
  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'])('verifies %s and returns the payload', async (alg) => {
    const { privateKey, jwk } = await keyPair(alg);
    const jwt = await sign(privateKey, { alg, kid: jwk.kid });
    const payload = await keys().verify(jwt, { id: `p-${alg}`, jwksUrl: null, publicJwk: JSON.stringify(jwk) });
    expect(payload.sub).toBe('u');
  });

  it('refuses a token whose signature was made by another key', async () => {
    const good = await keyPair('RS256');
    const evil = await keyPair('RS256');
    const jwt = await sign(evil.privateKey, { alg: 'RS256', kid: good.jwk.kid });
    expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(good.jwk) }))).toBe('LTI_INVALID_SIGNATURE');
  });

  it('refuses a token signed with a different algorithm than its key (alg confusion)', async () => {
    const rsa = await keyPair('RS256');
    const ec = await keyPair('ES256');
    const jwt = await sign(ec.privateKey, { alg: 'ES256', kid: rsa.jwk.kid });
    const { alg: _alg, ...rsaWithoutAlg } = rsa.jwk;
    expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(rsaWithoutAlg) }))).toMatch(
      /LTI_UNKNOWN_KID|LTI_INVALID_SIGNATURE/,
    );
  });

  it('refuses RSA keys shorter than 2048 bits', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'short', alg: 'RS256' } as JWK;
    const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'short' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u' })).toString('base64url')}`;
    const jwt = `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk) }))).toMatch(/LTI_INVALID_SIGNATURE|LTI_UNSUPPORTED_ALG/);
  });

  it('refuses JWS extensions (crit, b64=false)', async () => {
    const { privateKey, jwk } = await keyPair('RS256');
    const crit = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, crit: ['exp'] } as { alg: string })
      .sign(privateKey)
      .catch(() => undefined);
    if (crit) expect(await code(keys().verify(crit, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk) }))).toBe('LTI_MALFORMED_JWT');
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: jwk.kid, b64: false })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'u' })).toString('base64url');
    expect(await code(keys().verify(`${header}.${payload}.sig`, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk) }))).toBe('LTI_MALFORMED_JWT');
  });

  it('refuses none and HMAC before looking for a key', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'u' })).toString('base64url');
    const { jwk } = await keyPair('RS256');
    expect(await code(keys().verify(`${header}.${payload}.sig`, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk) }))).toBe('LTI_UNSUPPORTED_ALG');
  });

  it('refuses a token that names no kid (or an empty or non-string one) before fetching any key', async () => {
    const { privateKey, jwk } = await keyPair('RS256');
    const input = (kid: unknown) =>
      `${Buffer.from(JSON.stringify({ alg: 'RS256', ...(kid === undefined ? {} : { kid }) })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u' })).toString('base64url')}`;
    const signed = async (kid: unknown) =>
      `${input(kid)}.${Buffer.from(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey, Buffer.from(input(kid)))).toString('base64url')}`;
    for (const kid of [undefined, '', 42]) {
      const jwt = await signed(kid);
      // A JWKS registration: refused without a fetch (noFetch would answer LTI_JWKS_UNAVAILABLE).
      expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: 'https://lms.example/jwks', publicJwk: null })), String(kid)).toBe('LTI_MISSING_KID');
      // A static key has nothing to choose, but the token must still name its key.
      expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk) })), String(kid)).toBe('LTI_MISSING_KID');
    }
  });

  it('accepts a token without kid only for a registration that allows it, when one key fits', async () => {
    const { privateKey, jwk } = await keyPair('RS256');
    const jwt = await sign(privateKey, { alg: 'RS256' });
    expect((await keys().verify(jwt, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk), allowMissingKid: true })).sub).toBe('u');
    expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: null, publicJwk: JSON.stringify(jwk), allowMissingKid: false }))).toBe('LTI_MISSING_KID');

    // From a JWKS: the one key that fits the algorithm; with two candidates there is no choosing.
    const other = await keyPair('RS256');
    const ec = await keyPair('ES256');
    const jwksOf =
      (list: JWK[]): SafeFetch =>
      async () =>
        new Response(JSON.stringify({ keys: list }), { status: 200 });
    const withJwks = (list: JWK[]) => new PlatformKeys({ fetch: jwksOf(list), timeoutMs: 1000, cacheMaxAgeMs: 60_000, cooldownMs: 0 });
    const source = { id: 'p', jwksUrl: 'https://lms.example/jwks', publicJwk: null, allowMissingKid: true };
    expect((await withJwks([jwk, ec.jwk]).verify(jwt, source)).sub).toBe('u');
    expect(await code(withJwks([jwk, other.jwk]).verify(jwt, source))).toBe('LTI_INVALID_SIGNATURE');
  });

  it('reports an unreachable JWKS as LTI_JWKS_UNAVAILABLE', async () => {
    const { privateKey, jwk } = await keyPair('RS256');
    const jwt = await sign(privateKey, { alg: 'RS256', kid: jwk.kid });
    expect(await code(keys().verify(jwt, { id: 'p', jwksUrl: 'https://lms.example/jwks', publicJwk: null }))).toBe('LTI_JWKS_UNAVAILABLE');
  });
});
