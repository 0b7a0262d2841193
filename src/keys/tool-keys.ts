import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { isUniqueViolation } from '../store/database.js';
import type { Database, ToolKey } from '../store/tables.js';
import {
  findPublishedToolKeys,
  findToolKeysByState,
  insertToolKey,
  listToolKeys,
  setToolKeyState,
} from '../store/tool-key.repository.js';
import type { Clock } from '../util/clock.js';
import { deriveKey, open, seal } from './secret-box.js';

export const TOOL_KEY_ALG = 'RS256';

export interface ToolKeyPolicy {
  /** How long a retired key stays published (longest token lifetime + platform cache time). */
  readonly retiredOverlapMs: number;
  /** How long a `next` key must have been published before `rotate` (without --now) promotes it. */
  readonly publishBeforeUseMs: number;
}

export const DEFAULT_KEY_POLICY: ToolKeyPolicy = {
  retiredOverlapMs: 2 * 24 * 3600 * 1000,
  publishBeforeUseMs: 7 * 24 * 3600 * 1000,
};

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: CryptoKey;
}

export interface RotateResult {
  readonly action: 'published-next' | 'promoted' | 'waiting';
  readonly kid: string;
  /** When the waiting next key may be promoted (action 'waiting'). */
  readonly promotableAt?: number;
}

export interface JwksDocument {
  keys: JWK[];
}

/**
 * The tool's own RSA keys: generated on first start, private halves encrypted at rest
 * (AES-256-GCM under a key derived from COURSEPORT_SECRET), lifecycle next → current → retired.
 * The decrypted signing key is kept in memory so that no request decrypts a key.
 */
export class ToolKeyService {
  private readonly encKey: Buffer;
  private signing: { key: SigningKey; loadedAt: number } | undefined;
  private static readonly SIGNING_KEY_RECHECK_MS = 60_000;

  constructor(
    private readonly db: Kysely<Database>,
    secret: string,
    private readonly clock: Clock,
    private readonly policy: ToolKeyPolicy = DEFAULT_KEY_POLICY,
  ) {
    this.encKey = deriveKey(secret, 'tool-key-encryption');
  }

  /** Makes sure a current key exists (first start). Safe to call from several processes. */
  async ensureCurrentKey(): Promise<void> {
    const current = await findToolKeysByState(this.db, 'current');
    if (current.length > 0) return;
    try {
      await this.createKey('current');
    } catch (err) {
      // Another process created it first; the unique index on the current state decided.
      if (!isUniqueViolation(err)) throw err;
    }
  }

  async list(): Promise<ToolKey[]> {
    return listToolKeys(this.db);
  }

  /**
   * Rotation that never surprises a platform: a new key is first published as `next`;
   * a later rotate (after the publication window, or at once with `now`) makes it current
   * and retires the old current key, which stays published for the overlap window.
   */
  async rotate(options: { now?: boolean } = {}): Promise<RotateResult> {
    const t = this.clock.now();
    let [next] = await findToolKeysByState(this.db, 'next');
    if (!next) {
      const kid = await this.createKey('next');
      if (!options.now) return { action: 'published-next', kid, promotableAt: t + this.policy.publishBeforeUseMs };
      [next] = await findToolKeysByState(this.db, 'next');
    }
    if (!next) throw new AppError('KEY_NOT_FOUND', 'the next key disappeared during rotation');
    const promotableAt = next.created_at + this.policy.publishBeforeUseMs;
    if (!options.now && t < promotableAt) return { action: 'waiting', kid: next.kid, promotableAt };
    await this.db.transaction().execute(async (trx) => {
      for (const cur of await findToolKeysByState(trx, 'current')) await setToolKeyState(trx, cur.kid, 'retired', t);
      await setToolKeyState(trx, next.kid, 'current', t);
    });
    this.signing = undefined;
    return { action: 'promoted', kid: next.kid };
  }

  async jwks(): Promise<JwksDocument> {
    const keys = await findPublishedToolKeys(this.db, this.clock.now() - this.policy.retiredOverlapMs);
    return { keys: keys.map((k) => JSON.parse(k.public_jwk) as JWK) };
  }

  /** The current signing key, decrypted once and re-checked against the database every minute. */
  async signingKey(): Promise<SigningKey> {
    const t = this.clock.now();
    if (this.signing && t - this.signing.loadedAt < ToolKeyService.SIGNING_KEY_RECHECK_MS) return this.signing.key;
    const [current] = await findToolKeysByState(this.db, 'current');
    if (!current) throw new AppError('KEY_NOT_FOUND', 'no current tool key: run `courseport keys rotate --now` or restart to generate one');
    if (this.signing?.key.kid === current.kid) {
      this.signing = { key: this.signing.key, loadedAt: t };
      return this.signing.key;
    }
    let jwk: JWK;
    try {
      jwk = JSON.parse(open(this.encKey, current.private_jwk_enc, current.kid)) as JWK;
    } catch (cause) {
      throw new AppError('KEY_DECRYPTION_FAILED', 'the tool private key cannot be decrypted: COURSEPORT_SECRET differs from the one it was encrypted with', { cause });
    }
    const key = (await importJWK(jwk, current.alg)) as CryptoKey;
    this.signing = { key: { kid: current.kid, alg: current.alg, key }, loadedAt: t };
    return this.signing.key;
  }

  private async createKey(state: 'next' | 'current'): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(TOOL_KEY_ALG, { modulusLength: 2048, extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    const t = this.clock.now();
    await insertToolKey(this.db, {
      kid,
      state,
      alg: TOOL_KEY_ALG,
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg: TOOL_KEY_ALG, use: 'sig' }),
      private_jwk_enc: seal(this.encKey, JSON.stringify({ ...privateJwk, kid, alg: TOOL_KEY_ALG }), kid),
      created_at: t,
      activated_at: state === 'current' ? t : null,
      retired_at: null,
    });
    return kid;
  }
}
