import { constants, createPublicKey, KeyObject, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LtiError } from '../errors/app-error.js';
import type { SafeFetch } from '../util/safe-fetch.js';
import { ALLOWED_ID_TOKEN_ALGS } from './claims.js';
import type { CryptoKey } from 'jose';
import { systemClock, type Clock } from '../util/clock.js';

export interface PlatformKeySource {
  readonly id: string;
  readonly jwksUrl: string | null;
  /** A static public JWK (JSON text) registered instead of a JWKS URL. */
  readonly publicJwk: string | null;
  /** The registration's explicit exception: accept tokens that name no `kid` (default: refused, LTI_MISSING_KID). */
  readonly allowMissingKid?: boolean;
}

export interface PlatformKeyOptions {
  readonly fetch: SafeFetch;
  readonly timeoutMs: number;
  readonly cacheMaxAgeMs: number;
  /** Minimum time between two refetches triggered by an unknown `kid` (other fetches do not count). */
  readonly cooldownMs: number;
  /** Ceiling on fetches of one platform's JWKS per rolling minute, whatever starts them (default 6). */
  readonly maxFetchesPerMinute?: number;
  /** How long the last good key set is used while the JWKS endpoint fails (0: never). */
  readonly staleLimitMs?: number;
  readonly clock?: Clock;
  /** Where fetch outcomes are recorded for administrators (platform_key_status). */
  readonly statusSink?: (platformId: string, status: KeySetStatus) => Promise<void>;
}

/** What a platform's JWKS endpoint last answered, as this process saw it. */
export interface KeySetStatus {
  /** Last successful fetch (null: never). */
  readonly fetchedAt: number | null;
  readonly kids: readonly string[];
  readonly error: string | null;
  readonly errorAt: number | null;
  /** Set while launches verify with a key set the endpoint no longer confirms. */
  readonly staleSince: number | null;
}

type Log = { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };

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

interface Entry {
  readonly signature: string;
  readonly getKey: JWTVerifyGetKey;
  readonly remote?: RemoteKeySet;
}

interface ParsedKey {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly use: string | undefined;
  readonly kty: string | undefined;
  readonly jwk: JWK;
  key?: KeyObject;
}

const KTY_OF_ALG: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC' };

/** Fetches of one platform's JWKS allowed per rolling minute, whatever starts them. */
export const DEFAULT_MAX_FETCHES_PER_MINUTE = 6;
const FETCH_WINDOW_MS = 60_000;

/**
 * One platform's remote key set: fetched through the safe fetch helper, cached for
 * `cacheMaxAgeMs`, with at most one fetch in flight (concurrent launches share it), and — when
 * the endpoint fails — the last good key set kept for `staleLimitMs`, with a warning logged and
 * recorded for the admin console.
 *
 * A `kid` not in the set makes one refetch: the platform may have rotated its key, and the
 * launch that first carries the new key must work. Two limits keep forged kids from turning
 * Courseport against the LMS: the cooldown is counted between refetches that an unknown kid
 * started (a regular fetch moments before does not delay a rotation), and every fetch, whatever
 * starts it, counts against `maxFetchesPerMinute`, which also holds when the cooldown is 0 or the
 * endpoint keeps failing before any key set was fetched.
 */
class RemoteKeySet {
  private keys: ParsedKey[] | undefined;
  private fetchedAt: number | null = null;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  /** When an unknown kid last started a fetch (joining a fetch in flight does not count). */
  private lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  /** Start times of the fetches of the last minute (the cap). */
  private recentFetches: number[] = [];
  private error: string | null = null;
  private errorAt: number | null = null;
  private staleSince: number | null = null;
  private pending: Promise<void> | undefined;
  /** Fetches started (tests and diagnostics). */
  fetches = 0;

  constructor(
    private readonly platformId: string,
    private readonly url: string,
    private readonly options: PlatformKeyOptions,
    private readonly clock: Clock,
    private readonly log: () => Log | undefined,
    private readonly onOutcome: (outcome: JwksFetchOutcome) => void = () => undefined,
  ) {}

  status(): KeySetStatus {
    return {
      fetchedAt: this.fetchedAt,
      kids: (this.keys ?? []).flatMap((k) => (k.kid ? [k.kid] : [])),
      error: this.error,
      errorAt: this.errorAt,
      staleSince: this.staleSince,
    };
  }

  readonly getKey: JWTVerifyGetKey = async (header) => {
    const now = this.clock.now();
    /** This launch waited for a fetch: refetching again for its kid would learn nothing new. */
    let fresh = false;
    if (!this.keys) {
      if (!this.mayFetch(now)) throw this.overCap();
      await this.refresh(false);
      fresh = true;
    } else if (this.staleSince !== null) {
      // The endpoint is failing: launches go on with the last good set (within the limit) and do
      // not wait for the endpoint; it is retried in the background once per cooldown. Past the
      // limit there is nothing to go on with, so the launch waits for that retry.
      if (this.pending !== undefined || (now - this.lastAttemptAt >= this.options.cooldownMs && this.mayFetch(now))) {
        const retry = this.refresh(false).catch(() => undefined);
        if (this.fetchedAt !== null && now - this.fetchedAt > (this.options.staleLimitMs ?? 0)) {
          await retry;
          fresh = true;
        }
      }
    } else if (this.fetchedAt !== null && now - this.fetchedAt >= this.options.cacheMaxAgeMs && this.mayFetch(now)) {
      // Over the cap the cached set is used a little longer rather than refused.
      await this.refresh(false);
      fresh = true;
    }
    this.checkStaleness();
    let found = this.match(header.kid, header.alg);
    // A kid we do not know: the platform may have rotated. A fetch already in flight (another
    // launch of the herd started it) is joined; otherwise one refetch, within both limits.
    if (found.length === 0 && !fresh && this.mayRefetchForUnknownKid(this.clock.now())) {
      await this.refresh(true);
      this.checkStaleness();
      found = this.match(header.kid, header.alg);
    }
    const [first, ...more] = found;
    if (!first) {
      throw new LtiError(
        'LTI_UNKNOWN_KID',
        `The id_token is signed with a key the platform does not publish (kid ${JSON.stringify(header.kid ?? null)}), even after refreshing its key set.`,
        {
          details: { kid: header.kid ?? null },
        },
      );
    }
    if (more.length > 0)
      throw new LtiError('LTI_INVALID_SIGNATURE', 'The platform publishes several keys matching this id_token; it names no kid to choose one.');
    first.key ??= createPublicKey({ key: first.jwk as JsonWebKey, format: 'jwk' });
    return first.key;
  };

  /** A fetch in flight can always be joined; a new one must fit under the per-minute cap. */
  private mayFetch(now: number): boolean {
    if (this.pending !== undefined) return true;
    this.recentFetches = this.recentFetches.filter((t) => now - t < FETCH_WINDOW_MS);
    return this.recentFetches.length < (this.options.maxFetchesPerMinute ?? DEFAULT_MAX_FETCHES_PER_MINUTE);
  }

  private mayRefetchForUnknownKid(now: number): boolean {
    if (this.pending !== undefined) return true;
    return now - this.lastUnknownKidFetchAt >= this.options.cooldownMs && this.mayFetch(now);
  }

  private overCap(): LtiError {
    return new LtiError(
      'LTI_JWKS_UNAVAILABLE',
      `The platform's public keys could not be fetched (${this.error ?? 'no key set yet'}), and they were already requested ${this.recentFetches.length} times in the last minute; Courseport tries again shortly.`,
      {
        hint: 'Check the JWKS URL of this platform registration and that the LMS is reachable from Courseport.',
      },
    );
  }

  private checkStaleness(): void {
    if (this.staleSince === null || this.fetchedAt === null) return;
    const limit = this.options.staleLimitMs ?? 0;
    if (this.clock.now() - this.fetchedAt > limit) {
      throw new LtiError(
        'LTI_JWKS_UNAVAILABLE',
        `The platform's public keys could not be fetched (${this.error ?? 'unknown error'}), and the last good key set is older than the staleness limit.`,
        {
          hint: 'Check that the LMS is up and its JWKS URL reachable from Courseport; COURSEPORT_JWKS_STALE_LIMIT_SECONDS sets how long the last good keys are trusted.',
        },
      );
    }
  }

  private match(kid: string | undefined, alg: string): ParsedKey[] {
    const kty = KTY_OF_ALG[alg.slice(0, 2)];
    return (this.keys ?? []).filter(
      (k) =>
        (kid === undefined || k.kid === kid) &&
        (k.alg === undefined || k.alg === alg) &&
        (k.use === undefined || k.use === 'sig') &&
        (kty === undefined || k.kty === kty),
    );
  }

  /** Single flight: a fetch already in progress is shared by every caller (and counts once). */
  private refresh(forUnknownKid: boolean): Promise<void> {
    if (this.pending === undefined) {
      const started = this.clock.now();
      this.fetches++;
      this.lastAttemptAt = started;
      this.recentFetches.push(started);
      if (forUnknownKid) this.lastUnknownKidFetchAt = started;
      this.pending = this.fetchKeys(started).finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async fetchKeys(started: number): Promise<void> {
    let keys: ParsedKey[];
    try {
      const res = await this.options.fetch(this.url, { headers: { accept: 'application/json, application/jwk-set+json' } });
      if (res.status !== 200) throw new Error(`the JWKS endpoint answered HTTP ${res.status}`);
      const doc = (await res.json()) as { keys?: unknown };
      if (!Array.isArray(doc.keys)) throw new Error('the JWKS document has no "keys" array');
      keys = doc.keys
        .filter((k): k is JWK => typeof k === 'object' && k !== null && typeof (k as JWK).kty === 'string')
        .map((jwk) => ({ jwk, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: jwk.alg, use: jwk.use, kty: jwk.kty }));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.error = reason;
      this.errorAt = started;
      if (!this.keys || (this.options.staleLimitMs ?? 0) <= 0) {
        this.record();
        throw new LtiError('LTI_JWKS_UNAVAILABLE', `The platform's public keys could not be fetched: ${reason}`, {
          cause: err,
          hint: 'Check the JWKS URL of this platform registration and that the LMS is reachable from Courseport.',
        });
      }
      this.staleSince ??= started;
      this.log()?.warn(
        {
          platform: this.platformId,
          jwksUrl: this.url,
          error: reason,
          keySetAgeMs: this.fetchedAt === null ? null : started - this.fetchedAt,
          staleSince: new Date(this.staleSince).toISOString(),
        },
        'platform JWKS endpoint failed; launches use the last good key set until the staleness limit',
      );
      this.record();
      return;
    }
    const recovered = this.staleSince !== null;
    this.keys = keys;
    this.fetchedAt = this.clock.now();
    this.error = null;
    this.errorAt = null;
    this.staleSince = null;
    if (recovered) this.log()?.info({ platform: this.platformId, kids: this.status().kids }, 'platform JWKS endpoint answers again');
    this.record();
  }

  private record(): void {
    this.onOutcome({ at: this.clock.now(), ok: this.error === null, detail: this.error ?? 'HTTP 200' });
    const sink = this.options.statusSink;
    if (!sink) return;
    sink(this.platformId, this.status()).catch((err: unknown) =>
      this.log()?.warn({ err, platform: this.platformId }, 'could not record the platform key status'),
    );
  }
}

/**
 * Platform signing keys. One cached key set per platform (RemoteKeySet above, or the
 * registration's static key): a launch never fetches unless the cache is stale or the token
 * names a kid we have not seen (one refetch, limited by the cooldown and the per-minute cap).
 */
export class PlatformKeys {
  private readonly sets = new Map<string, Entry>();
  private readonly fetchOutcomes = new Map<string, JwksFetchOutcome>();
  private readonly clock: Clock;
  private log: Log | undefined;

  constructor(private readonly options: PlatformKeyOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Where warnings go (the app's logger, set once it exists). */
  useLogger(log: Log): void {
    this.log = log;
  }

  /** What this process last saw of a platform's JWKS endpoint (undefined: not fetched here yet). */
  keySetStatus(platformId: string): (KeySetStatus & { fetches: number }) | undefined {
    const remote = this.sets.get(platformId)?.remote;
    return remote ? { ...remote.status(), fetches: remote.fetches } : undefined;
  }

  private keySet(platform: PlatformKeySource): JWTVerifyGetKey {
    const signature = `${platform.jwksUrl ?? ''}|${platform.publicJwk ?? ''}`;
    const cached = this.sets.get(platform.id);
    if (cached && cached.signature === signature) return cached.getKey;
    let getKey: JWTVerifyGetKey;
    let remote: RemoteKeySet | undefined;
    if (platform.publicJwk) {
      // A static key is the platform's one key: used whatever kid the token names (a pasted
      // PEM has none to compare with), but only with its own alg. A token must still name a
      // kid (checked in verify) unless the registration makes the exception.
      const jwk = JSON.parse(platform.publicJwk) as JWK;
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      getKey = async (header) => {
        if (jwk.alg !== undefined && header.alg !== jwk.alg) {
          throw new LtiError(
            'LTI_INVALID_SIGNATURE',
            `The platform's registered key is for ${jwk.alg}, but the id_token is signed with ${String(header.alg)}.`,
          );
        }
        return key;
      };
    } else if (platform.jwksUrl) {
      remote = new RemoteKeySet(
        platform.id,
        platform.jwksUrl,
        this.options,
        this.clock,
        () => this.log,
        (outcome) => this.fetchOutcomes.set(platform.id, outcome),
      );
      getKey = remote.getKey;
    } else {
      throw new LtiError('LTI_JWKS_UNAVAILABLE', 'This platform registration has neither a JWKS URL nor a public key.');
    }
    this.sets.set(platform.id, { signature, getKey, ...(remote ? { remote } : {}) });
    return getKey;
  }

  /** Drops a platform's cached keys (its registration changed). */
  forget(platformId: string): void {
    this.sets.delete(platformId);
    this.fetchOutcomes.delete(platformId);
  }

  /** What this process knows about a registration's keys (cache, last fetch); nothing is fetched. */
  status(platform: PlatformKeySource): PlatformKeyStatus {
    const source = platform.publicJwk ? 'static' : platform.jwksUrl ? 'jwks-url' : 'none';
    const cached = this.sets.get(platform.id);
    return {
      source,
      cached: cached !== undefined && cached.signature === `${platform.jwksUrl ?? ''}|${platform.publicJwk ?? ''}`,
      lastFetch: this.fetchOutcomes.get(platform.id),
    };
  }

  /** Fetches a registration's JWKS now (through the safe fetch helper) and reports its key ids or the problem. */
  async check(platform: PlatformKeySource): Promise<JwksCheck> {
    if (!platform.jwksUrl)
      return {
        ok: platform.publicJwk !== null,
        kids: [],
        message: platform.publicJwk ? 'A static public key is registered: nothing to fetch.' : 'No JWKS URL or key is registered.',
      };
    let outcome: JwksCheck;
    try {
      const res = await this.options.fetch(platform.jwksUrl, { headers: { accept: 'application/json' } });
      if (!res.ok) {
        outcome = { ok: false, kids: [], message: `The JWKS URL answered HTTP ${res.status}.` };
      } else {
        const body = (await res.json()) as { keys?: unknown };
        const keys = Array.isArray(body.keys) ? body.keys.filter((k): k is JWK => typeof k === 'object' && k !== null) : undefined;
        outcome = keys
          ? {
              ok: keys.length > 0,
              kids: keys.map((k) => k.kid ?? '(no kid)'),
              message: keys.length ? `${keys.length} key(s) published.` : 'The key set is empty.',
            }
          : { ok: false, kids: [], message: 'The answer is not a JWK set (no "keys" array).' };
      }
    } catch (err) {
      outcome = { ok: false, kids: [], message: `The JWKS URL could not be fetched: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.fetchOutcomes.set(platform.id, { at: this.clock.now(), ok: outcome.ok, detail: outcome.message });
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
    const kid = checkKeyId(header.kid, platform.allowMissingKid === true);
    let key: KeyObject;
    try {
      key = toKeyObject(await getKey({ ...header, alg, ...(kid !== undefined ? { kid } : {}) }, { payload: encodedPayload, signature: encodedSignature }));
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
      {
        key,
        ...(params.padding !== undefined ? { padding: params.padding, saltLength: params.saltLength } : {}),
        ...(params.curve ? { dsaEncoding: 'ieee-p1363' as const } : {}),
      },
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

/**
 * Key selection is by `kid` (1EdTech Security Framework §6; the certification suite sends a
 * token without one as a bad payload). Checked before any key is fetched. A registration may
 * accept tokens without kid; the key is then the one that fits the algorithm, if only one does.
 */
export function checkKeyId(kid: unknown, allowMissing: boolean): string | undefined {
  if (typeof kid === 'string' && kid.length > 0) return kid;
  if (allowMissing) return undefined;
  throw new LtiError('LTI_MISSING_KID', 'The id_token header names no signing key (kid), so the platform key that should verify it cannot be chosen.', {
    details: { header: 'kid' },
    hint: 'The LMS must send the kid of its signing key. If this LMS is known to omit it, an administrator can accept such launches for this registration only (admin console → Platforms → the registration → "Accept launches whose id_token names no signing key").',
  });
}

export function checkAlgorithm(alg: string): void {
  if (!(ALLOWED_ID_TOKEN_ALGS as readonly string[]).includes(alg)) {
    throw new LtiError(
      'LTI_UNSUPPORTED_ALG',
      `The id_token is signed with ${JSON.stringify(alg)}; only asymmetric algorithms (${ALLOWED_ID_TOKEN_ALGS.join(', ')}) are accepted.`,
      {
        details: { alg },
      },
    );
  }
}

function translateJoseError(err: unknown): LtiError {
  if (err instanceof LtiError) return err;
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return new LtiError(
      'LTI_UNKNOWN_KID',
      'The id_token is signed with a key the platform does not publish (unknown kid), even after refreshing its key set.',
      { cause: err },
    );
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new LtiError('LTI_INVALID_SIGNATURE', "The id_token signature does not verify with the platform's keys.", { cause: err });
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
