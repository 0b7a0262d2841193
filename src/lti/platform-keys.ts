import { constants, createPublicKey, KeyObject, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { LtiError } from '../errors/app-error.js';
import type { SafeFetch } from '../util/safe-fetch.js';
import { ALLOWED_ID_TOKEN_ALGS } from './claims.js';
import type { CryptoKey } from 'jose';

export interface PlatformKeySource {
  readonly id: string;
  readonly jwksUrl: string | null;
  /** A static public JWK (JSON text) registered instead of a JWKS URL. */
  readonly publicJwk: string | null;
}

export interface PlatformKeyOptions {
  readonly fetch: SafeFetch;
  readonly timeoutMs: number;
  readonly cacheMaxAgeMs: number;
  readonly cooldownMs: number;
}

interface Entry {
  readonly signature: string;
  readonly getKey: JWTVerifyGetKey;
}

/** The outcome of this process's latest fetch of a platform's JWKS (admin console). */
export interface JwksFetchOutcome {
  readonly at: number;
  readonly ok: boolean;
  /** HTTP status, or the reason the request failed. */
  readonly detail: string;
}

/** What this process knows about a platform's keys, for the admin console. */
export interface PlatformKeyStatus {
  readonly source: 'static' | 'jwks-url' | 'none';
  /** A key set for this registration is held in this process's cache. */
  readonly cached: boolean;
  readonly lastFetch: JwksFetchOutcome | undefined;
}

/** An explicit check of a registration's JWKS URL (admin console "Check now"). */
export interface JwksCheck {
  readonly ok: boolean;
  readonly kids: readonly string[];
  readonly message: string;
}

/**
 * Platform signing keys. One cached key set per platform, fetched through the safe fetch
 * helper with jose's remote key set (timeout, cache, cooldown): a launch never fetches
 * unless the cache is stale or the token names a kid we have not seen (one refetch,
 * limited by the cooldown).
 */
export class PlatformKeys {
  private readonly sets = new Map<string, Entry>();
  private readonly fetches = new Map<string, JwksFetchOutcome>();

  constructor(private readonly options: PlatformKeyOptions) {}

  private keySet(platform: PlatformKeySource): JWTVerifyGetKey {
    const signature = `${platform.jwksUrl ?? ''}|${platform.publicJwk ?? ''}`;
    const cached = this.sets.get(platform.id);
    if (cached && cached.signature === signature) return cached.getKey;
    let getKey: JWTVerifyGetKey;
    if (platform.publicJwk) {
      // A static key is the platform's one key: used whatever kid the token names
      // (LMSs always send one, and a pasted PEM has none), but only with its own alg.
      const jwk = JSON.parse(platform.publicJwk) as JWK;
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      getKey = async (header) => {
        if (jwk.alg !== undefined && header.alg !== jwk.alg) {
          throw new LtiError('LTI_INVALID_SIGNATURE', `The platform's registered key is for ${jwk.alg}, but the id_token is signed with ${String(header.alg)}.`);
        }
        return key;
      };
    } else if (platform.jwksUrl) {
      const fetchImpl = this.options.fetch;
      getKey = createRemoteJWKSet(new URL(platform.jwksUrl), {
        timeoutDuration: this.options.timeoutMs,
        cacheMaxAge: this.options.cacheMaxAgeMs,
        cooldownDuration: this.options.cooldownMs,
        [customFetch]: (url: string, init: { headers: Headers; signal: AbortSignal }) =>
          fetchImpl(url, { headers: Object.fromEntries(init.headers.entries()), signal: init.signal }).then(
            (res) => {
              this.fetches.set(platform.id, { at: Date.now(), ok: res.ok, detail: `HTTP ${res.status}` });
              return res;
            },
            (err: unknown) => {
              this.fetches.set(platform.id, { at: Date.now(), ok: false, detail: err instanceof Error ? err.message : String(err) });
              throw err;
            },
          ),
      });
    } else {
      throw new LtiError('LTI_JWKS_UNAVAILABLE', 'This platform registration has neither a JWKS URL nor a public key.');
    }
    this.sets.set(platform.id, { signature, getKey });
    return getKey;
  }

  /** Drops a platform's cached keys (its registration changed). */
  forget(platformId: string): void {
    this.sets.delete(platformId);
    this.fetches.delete(platformId);
  }

  /** What this process knows about a registration's keys (cache, last fetch); nothing is fetched. */
  status(platform: PlatformKeySource): PlatformKeyStatus {
    const source = platform.publicJwk ? 'static' : platform.jwksUrl ? 'jwks-url' : 'none';
    const cached = this.sets.get(platform.id);
    return { source, cached: cached !== undefined && cached.signature === `${platform.jwksUrl ?? ''}|${platform.publicJwk ?? ''}`, lastFetch: this.fetches.get(platform.id) };
  }

  /** Fetches a registration's JWKS now (through the safe fetch helper) and reports its key ids or the problem. */
  async check(platform: PlatformKeySource): Promise<JwksCheck> {
    if (!platform.jwksUrl) return { ok: platform.publicJwk !== null, kids: [], message: platform.publicJwk ? 'A static public key is registered: nothing to fetch.' : 'No JWKS URL or key is registered.' };
    let outcome: JwksCheck;
    try {
      const res = await this.options.fetch(platform.jwksUrl, { headers: { accept: 'application/json' } });
      if (!res.ok) {
        outcome = { ok: false, kids: [], message: `The JWKS URL answered HTTP ${res.status}.` };
      } else {
        const body = (await res.json()) as { keys?: unknown };
        const keys = Array.isArray(body.keys) ? body.keys.filter((k): k is JWK => typeof k === 'object' && k !== null) : undefined;
        outcome = keys
          ? { ok: keys.length > 0, kids: keys.map((k) => k.kid ?? '(no kid)'), message: keys.length ? `${keys.length} key(s) published.` : 'The key set is empty.' }
          : { ok: false, kids: [], message: 'The answer is not a JWK set (no "keys" array).' };
      }
    } catch (err) {
      outcome = { ok: false, kids: [], message: `The JWKS URL could not be fetched: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.fetches.set(platform.id, { at: Date.now(), ok: outcome.ok, detail: outcome.message });
    return outcome;
  }

  /**
   * Verifies the signature of a compact JWS with the platform's keys; claims are checked
   * elsewhere. jose selects the key (kid, kty, alg; refetch on unknown kid); the signature
   * itself is checked with node:crypto, which is several times faster than WebCrypto on
   * the launch hot path.
   */
  async verify(jwt: string, platform: PlatformKeySource): Promise<JWTPayload> {
    const getKey = this.keySet(platform);
    const parts = jwt.split('.');
    const [encodedHeader, encodedPayload, encodedSignature] = parts;
    if (parts.length !== 3 || !encodedHeader || !encodedPayload || encodedSignature === undefined) {
      throw new LtiError('LTI_MALFORMED_JWT', 'The id_token is not a compact JWT (three base64url parts).');
    }
    const header = decodeProtectedHeader(jwt);
    const alg = typeof header.alg === 'string' ? header.alg : '';
    checkAlgorithm(alg);
    if (header.crit !== undefined || header.b64 === false) {
      throw new LtiError('LTI_MALFORMED_JWT', 'The id_token uses JWS extensions (crit/b64) that LTI does not allow.');
    }
    let key: KeyObject;
    try {
      key = toKeyObject(await getKey({ ...header, alg }, { payload: encodedPayload, signature: encodedSignature }));
    } catch (err) {
      throw translateJoseError(err);
    }
    const params = SIGNATURE_PARAMS[alg as AllowedAlg];
    if (!keyFits(key, params)) {
      throw new LtiError('LTI_INVALID_SIGNATURE', `The platform key for this id_token cannot be used with ${alg}.`);
    }
    const ok = cryptoVerify(
      params.hash,
      Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'),
      { key, ...(params.padding !== undefined ? { padding: params.padding, saltLength: params.saltLength } : {}), ...(params.curve ? { dsaEncoding: 'ieee-p1363' as const } : {}) },
      Buffer.from(encodedSignature, 'base64url'),
    );
    if (!ok) throw new LtiError('LTI_INVALID_SIGNATURE', "The id_token signature does not verify with the platform's keys.");
    return decodeJwt(jwt);
  }
}

type AllowedAlg = (typeof ALLOWED_ID_TOKEN_ALGS)[number];

interface SignatureParams {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly padding?: number;
  readonly saltLength?: number;
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
}

const PSS = constants.RSA_PKCS1_PSS_PADDING;
const SIGNATURE_PARAMS: Record<AllowedAlg, SignatureParams> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', padding: PSS, saltLength: 32 },
  PS384: { hash: 'sha384', padding: PSS, saltLength: 48 },
  PS512: { hash: 'sha512', padding: PSS, saltLength: 64 },
  ES256: { hash: 'sha256', curve: 'prime256v1' },
  ES384: { hash: 'sha384', curve: 'secp384r1' },
  ES512: { hash: 'sha512', curve: 'secp521r1' },
};

const keyObjects = new WeakMap<object, KeyObject>();

/** jose hands back a CryptoKey (remote and local key sets); a KeyObject or JWK is accepted too. */
function toKeyObject(key: unknown): KeyObject {
  if (key instanceof KeyObject) return key;
  if (typeof key !== 'object' || key === null || key instanceof Uint8Array) {
    throw new LtiError('LTI_UNSUPPORTED_ALG', 'Only asymmetric public keys are accepted for id_tokens.');
  }
  let ko = keyObjects.get(key);
  if (!ko) {
    ko = 'kty' in key ? createPublicKey({ key: key as JsonWebKey, format: 'jwk' }) : KeyObject.from(key as CryptoKey);
    keyObjects.set(key, ko);
  }
  return ko;
}

/** The key type must match the algorithm family; RSA keys must be at least 2048 bits. */
function keyFits(key: KeyObject, params: SignatureParams): boolean {
  if (key.type !== 'public') return false;
  const details = key.asymmetricKeyDetails;
  if (params.curve) return key.asymmetricKeyType === 'ec' && details?.namedCurve === params.curve;
  return (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && (details?.modulusLength ?? 0) >= 2048;
}

/** Reads the header and payload without trusting them: only to reject malformed input early. */
export function decodeUntrusted(jwt: string): { alg: string; kid: string | undefined; payload: JWTPayload } {
  if (typeof jwt !== 'string' || jwt.length > 64 * 1024 || jwt.split('.').length !== 3) {
    throw new LtiError('LTI_MALFORMED_JWT', 'The id_token is not a compact JWT (three base64url parts).');
  }
  try {
    const header = decodeProtectedHeader(jwt);
    const payload = decodeJwt(jwt);
    if (typeof header.alg !== 'string') throw new Error('no alg');
    return { alg: header.alg, kid: typeof header.kid === 'string' ? header.kid : undefined, payload };
  } catch (cause) {
    throw new LtiError('LTI_MALFORMED_JWT', 'The id_token cannot be decoded (its header or payload is not base64url JSON).', { cause });
  }
}

export function checkAlgorithm(alg: string): void {
  if (!(ALLOWED_ID_TOKEN_ALGS as readonly string[]).includes(alg)) {
    throw new LtiError('LTI_UNSUPPORTED_ALG', `The id_token is signed with ${JSON.stringify(alg)}; only asymmetric algorithms (${ALLOWED_ID_TOKEN_ALGS.join(', ')}) are accepted.`, {
      details: { alg },
    });
  }
}

function translateJoseError(err: unknown): LtiError {
  if (err instanceof LtiError) return err;
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return new LtiError('LTI_UNKNOWN_KID', 'The id_token is signed with a key the platform does not publish (unknown kid), even after refreshing its key set.', { cause: err });
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new LtiError('LTI_INVALID_SIGNATURE', 'The id_token signature does not verify with the platform\'s keys.', { cause: err });
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return new LtiError('LTI_UNSUPPORTED_ALG', 'The id_token is signed with an algorithm that is not allowed.', { cause: err });
  }
  if (err instanceof joseErrors.JWSInvalid) {
    return new LtiError('LTI_MALFORMED_JWT', 'The id_token is not a valid JWS.', { cause: err });
  }
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new LtiError('LTI_INVALID_SIGNATURE', 'The platform publishes several keys matching this id_token and none verifies it.', { cause: err });
  }
  if (err instanceof joseErrors.JOSENotSupported) {
    return new LtiError('LTI_UNSUPPORTED_ALG', 'The platform key or algorithm is not supported.', { cause: err });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new LtiError('LTI_JWKS_UNAVAILABLE', `The platform's public keys could not be fetched: ${reason}`, {
    cause: err,
    hint: 'Check the JWKS URL of this platform registration and that the LMS is reachable from Courseport.',
  });
}
