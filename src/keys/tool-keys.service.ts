import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import type { AuditEvent } from '../audit/audit-log.service.js';
import { isUniqueViolation, type Dialect } from '../store/database.js';
import type { Database, ToolKey } from '../store/tables.js';
import {
  findPublishedToolKeys,
  findToolKeysByState,
  insertToolKey,
  listToolKeys,
  setToolKeyState,
  takeRotationLock,
  updateToolKeyCiphertext,
} from './tool-key.repository.js';
import type { Clock } from '../util/clock.js';
import { deriveKey, open, seal } from './secret-box.js';

export const TOOL_KEY_ALG = 'RS256';

export interface ToolKeyPolicy {
  /** How long a retired key stays published (longest token lifetime + platform cache time). */
  readonly retiredOverlapMs: number;
  /** How long a `next` key must have been published before `rotate` (without --now) promotes it. */
  readonly publishBeforeUseMs: number;
  /** How long a key signs before the schedule replaces it; 0 turns the schedule off (manual rotation only). */
  readonly rotateEveryMs?: number;
}

export const DEFAULT_KEY_POLICY: ToolKeyPolicy = {
  retiredOverlapMs: 2 * 24 * 3600 * 1000,
  publishBeforeUseMs: 7 * 24 * 3600 * 1000,
  rotateEveryMs: 90 * 24 * 3600 * 1000,
};

/** Where the audit entries of rotations go (the AuditLog), written in the rotation's transaction. */
export interface KeyAudit {
  record(event: AuditEvent, trx?: Kysely<Database>): Promise<void>;
}

export interface ToolKeyServiceOptions {
  /** PostgreSQL serialises rotations across processes with an advisory lock. */
  readonly dialect?: Dialect;
  readonly audit?: KeyAudit;
}

/** What the schedule will do next, for the keys page, the API and `courseport keys schedule`. */
export interface KeySchedule {
  readonly automatic: boolean;
  readonly policy: { readonly rotateEveryMs: number; readonly publishBeforeUseMs: number; readonly retiredOverlapMs: number };
  readonly current: { readonly kid: string; readonly activatedAt: number } | null;
  readonly next: { readonly kid: string; readonly publishedAt: number; readonly promotableAt: number } | null;
  /** The schedule's next step and when it is due (null: nothing scheduled, rotation is manual). */
  readonly upcoming: { readonly action: 'publish-next' | 'promote'; readonly at: number } | null;
  /** Retired keys still in the JWKS, and when each leaves it. */
  readonly retiredPublished: readonly { readonly kid: string; readonly retiredAt: number; readonly unpublishAt: number }[];
}

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
  /** How soon a promotion made by another process is picked up (the signing key is re-checked this often). */
  static readonly SIGNING_KEY_RECHECK_MS = 60_000;

  constructor(
    private readonly db: Kysely<Database>,
    secret: string,
    private readonly clock: Clock,
    private readonly policy: ToolKeyPolicy = DEFAULT_KEY_POLICY,
    private readonly options: ToolKeyServiceOptions = {},
  ) {
    this.encKey = deriveKey(secret, 'tool-key-encryption');
  }

  /**
   * Runs a rotation decision in one transaction that holds the rotation lock: on PostgreSQL an
   * advisory lock, on SQLite the database write lock (taken by the first statement), so two
   * processes never both publish or promote. The unique indexes on `next` and `current` back it up.
   */
  private withRotationLock<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await takeRotationLock(trx, this.options.dialect);
      return fn(trx);
    });
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
   * With an actor, the rotation is written to the audit log in the same transaction.
   */
  async rotate(options: { now?: boolean; actor?: AuditEvent['actor']; ip?: string } = {}): Promise<RotateResult> {
    const pregenerated = (await findToolKeysByState(this.db, 'next')).length === 0 ? generateKey() : undefined;
    pregenerated?.catch(() => undefined);
    const result = await this.withRotationLock(async (trx) => {
      const t = this.clock.now();
      let [next] = await findToolKeysByState(trx, 'next');
      let r: RotateResult | undefined;
      if (!next) {
        const kid = await this.createKey('next', trx, pregenerated);
        if (!options.now) r = { action: 'published-next', kid, promotableAt: t + this.policy.publishBeforeUseMs };
        else [next] = await findToolKeysByState(trx, 'next');
      }
      if (!r) {
        if (!next) throw new AppError('KEY_NOT_FOUND', 'the next key disappeared during rotation');
        const promotableAt = next.created_at + this.policy.publishBeforeUseMs;
        if (!options.now && t < promotableAt) r = { action: 'waiting', kid: next.kid, promotableAt };
        else r = await this.promote(trx, next.kid, t);
      }
      if (options.actor) {
        await this.options.audit?.record(
          {
            actor: options.actor,
            action: 'key.rotate',
            target: r.kid,
            details: { result: r.action, now: options.now === true },
            ...(options.ip ? { ip: options.ip } : {}),
          },
          trx,
        );
      }
      return r;
    });
    if (result.action === 'promoted') this.signing = undefined;
    return result;
  }

  /**
   * One step of the automatic schedule (the background worker calls it every
   * COURSEPORT_KEY_CHECK_SECONDS, in every process): publishes the next key `publishBeforeUseMs` before the current key is
   * `rotateEveryMs` old, and promotes it once both are due. Decided under the rotation lock,
   * so N processes on one PostgreSQL act once. Returns what it did (undefined: nothing due).
   */
  async runSchedule(): Promise<RotateResult | undefined> {
    const every = this.policy.rotateEveryMs ?? 0;
    if (every <= 0) return undefined;
    // A cheap look first: nothing due (the usual case) takes no lock; a due publication gets its key pair made outside the lock.
    const [seenCurrent] = await findToolKeysByState(this.db, 'current');
    const [seenNext] = await findToolKeysByState(this.db, 'next');
    const seen = seenCurrent ? this.dueSteps(seenCurrent, seenNext ?? null) : undefined;
    const now = this.clock.now();
    if (seen && (seenNext ? seen.promoteAt === null || seen.promoteAt > now : seen.publishAt > now)) return undefined;
    const pregenerated = !seenCurrent || !seenNext ? generateKey() : undefined;
    pregenerated?.catch(() => undefined);
    const result = await this.withRotationLock(async (trx) => {
      const t = this.clock.now();
      const [current] = await findToolKeysByState(trx, 'current');
      const [next] = await findToolKeysByState(trx, 'next');
      let r: RotateResult | undefined;
      if (!current) {
        // No signing key at all (first start races are handled by ensureCurrentKey): make one now.
        r = { action: 'promoted', kid: await this.createKey('current', trx, pregenerated) };
      } else {
        const due = this.dueSteps(current, next ?? null);
        if (!next && due.publishAt <= t) {
          const kid = await this.createKey('next', trx, pregenerated);
          r = {
            action: 'published-next',
            kid,
            promotableAt: Math.max(t + this.policy.publishBeforeUseMs, (current.activated_at ?? current.created_at) + every),
          };
        } else if (next && due.promoteAt !== null && due.promoteAt <= t) {
          r = await this.promote(trx, next.kid, t);
        }
      }
      if (r) {
        await this.options.audit?.record(
          {
            actor: 'system',
            action: 'key.rotate',
            target: r.kid,
            details: { result: r.action, scheduled: true, ...(r.promotableAt ? { promotableAt: new Date(r.promotableAt).toISOString() } : {}) },
          },
          trx,
        );
      }
      return r;
    });
    if (result?.action === 'promoted') this.signing = undefined;
    return result;
  }

  /** When the schedule publishes a next key, and when it promotes the waiting one. */
  private dueSteps(current: ToolKey, next: ToolKey | null): { publishAt: number; promoteAt: number | null } {
    const every = this.policy.rotateEveryMs ?? 0;
    const rotateAt = (current.activated_at ?? current.created_at) + every;
    return {
      publishAt: rotateAt - this.policy.publishBeforeUseMs,
      promoteAt: next ? Math.max(rotateAt, next.created_at + this.policy.publishBeforeUseMs) : null,
    };
  }

  /** The schedule as it stands: current and next keys, the next automatic step, retired keys still published. */
  async schedule(): Promise<KeySchedule> {
    const t = this.clock.now();
    const all = await listToolKeys(this.db);
    const current = all.find((k) => k.state === 'current') ?? null;
    const next = all.find((k) => k.state === 'next') ?? null;
    const every = this.policy.rotateEveryMs ?? 0;
    let upcoming: KeySchedule['upcoming'] = null;
    if (current && every > 0) {
      const due = this.dueSteps(current, next);
      upcoming = next && due.promoteAt !== null ? { action: 'promote', at: due.promoteAt } : { action: 'publish-next', at: due.publishAt };
    }
    return {
      automatic: every > 0,
      policy: { rotateEveryMs: every, publishBeforeUseMs: this.policy.publishBeforeUseMs, retiredOverlapMs: this.policy.retiredOverlapMs },
      current: current ? { kid: current.kid, activatedAt: current.activated_at ?? current.created_at } : null,
      next: next ? { kid: next.kid, publishedAt: next.created_at, promotableAt: next.created_at + this.policy.publishBeforeUseMs } : null,
      upcoming,
      retiredPublished: all
        .filter((k) => k.state === 'retired' && k.retired_at !== null && k.retired_at + this.policy.retiredOverlapMs >= t)
        .map((k) => ({ kid: k.kid, retiredAt: k.retired_at as number, unpublishAt: (k.retired_at as number) + this.policy.retiredOverlapMs })),
    };
  }

  /**
   * Re-encrypts every private key under the current COURSEPORT_SECRET, reading it with the old
   * secret. All or nothing (one transaction); keys already under the current secret are left as
   * they are, so running it twice is harmless. A key that neither secret opens aborts it.
   */
  async reencrypt(
    oldSecret: string,
    options: {
      actor?: AuditEvent['actor'];
      /** Other keys sealed under the secret (the sandbox's), re-encrypted in the same transaction. */
      also?: (trx: Kysely<Database>) => Promise<{ reencrypted: string[]; unchanged: string[] }>;
    } = {},
  ): Promise<{ reencrypted: string[]; unchanged: string[] }> {
    const oldKey = deriveKey(oldSecret, 'tool-key-encryption');
    const result = await this.withRotationLock(async (trx) => {
      const reencrypted: string[] = [];
      const unchanged: string[] = [];
      for (const k of await listToolKeys(trx)) {
        if (canOpen(this.encKey, k)) {
          unchanged.push(k.kid);
          continue;
        }
        let plain: string;
        try {
          plain = open(oldKey, k.private_jwk_enc, k.kid);
        } catch (cause) {
          throw new AppError('KEY_DECRYPTION_FAILED', `tool key ${k.kid} opens with neither the old nor the current secret; nothing was changed`, { cause });
        }
        await updateToolKeyCiphertext(trx, k.kid, seal(this.encKey, plain, k.kid));
        reencrypted.push(k.kid);
      }
      if (options.also) {
        const more = await options.also(trx);
        reencrypted.push(...more.reencrypted);
        unchanged.push(...more.unchanged);
      }
      if (options.actor) await this.options.audit?.record({ actor: options.actor, action: 'key.reencrypt', details: { reencrypted, unchanged } }, trx);
      return { reencrypted, unchanged };
    });
    this.signing = undefined;
    return result;
  }

  private async promote(trx: Kysely<Database>, kid: string, t: number): Promise<RotateResult> {
    for (const cur of await findToolKeysByState(trx, 'current')) await setToolKeyState(trx, cur.kid, 'retired', t);
    await setToolKeyState(trx, kid, 'current', t);
    return { action: 'promoted', kid };
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
      throw new AppError('KEY_DECRYPTION_FAILED', 'the tool private key cannot be decrypted: COURSEPORT_SECRET differs from the one it was encrypted with', {
        cause,
      });
    }
    const key = (await importJWK(jwk, current.alg)) as CryptoKey;
    this.signing = { key: { kid: current.kid, alg: current.alg, key }, loadedAt: t };
    return this.signing.key;
  }

  /**
   * Inserts a new key. The key pair is generated (slow: RSA) before the rotation lock is taken
   * when the caller could tell one would be needed (`pregenerated`), so the lock, which on SQLite
   * holds up every writer, is held only for a few statements.
   */
  private async createKey(state: 'next' | 'current', db: Kysely<Database> = this.db, pregenerated?: Promise<GeneratedKey>): Promise<string> {
    const { kid, publicJwk, privateJwk } = await (pregenerated ?? generateKey());
    const t = this.clock.now();
    await insertToolKey(db, {
      kid,
      state,
      alg: TOOL_KEY_ALG,
      public_jwk: publicJwk,
      private_jwk_enc: seal(this.encKey, privateJwk, kid),
      created_at: t,
      activated_at: state === 'current' ? t : null,
      retired_at: null,
    });
    return kid;
  }
}

interface GeneratedKey {
  readonly kid: string;
  readonly publicJwk: string;
  readonly privateJwk: string;
}

async function generateKey(): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(TOOL_KEY_ALG, { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: TOOL_KEY_ALG, use: 'sig' }),
    privateJwk: JSON.stringify({ ...privateJwk, kid, alg: TOOL_KEY_ALG }),
  };
}

function canOpen(encKey: Buffer, k: ToolKey): boolean {
  try {
    open(encKey, k.private_jwk_enc, k.kid);
    return true;
  } catch {
    return false;
  }
}
