import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { deriveKey, open, seal } from '../keys/secret-box.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { findSigningKey, insertKey, listPublicJwks, listSealedKeys, updateKeyCiphertext } from './sandbox.repository.js';

const KEY_PURPOSE = 'sandbox-key-encryption';

/** The sandbox's own RSA key, which signs its id_tokens: generated once, private half sealed under COURSEPORT_SECRET. */
export class SandboxKeys {
  private readonly encKey: Buffer;
  private signing: { kid: string; key: CryptoKey } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    secret: string,
  ) {
    this.encKey = deriveKey(secret, KEY_PURPOSE);
  }

  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    if (this.signing) return this.signing;
    let row = await findSigningKey(this.db);
    if (!row) {
      const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      // Another process may store its key at the same moment: both then sign with the oldest.
      await insertKey(this.db, {
        kid,
        public_jwk: JSON.stringify({ ...publicJwk, kid, alg: 'RS256', use: 'sig' }),
        private_jwk_enc: seal(this.encKey, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }), kid),
        created_at: this.clock.now(),
      });
      row = await findSigningKey(this.db);
      if (!row) throw new AppError('INTERNAL', 'The sandbox signing key could not be stored.');
    }
    let jwk: JWK;
    try {
      jwk = JSON.parse(open(this.encKey, row.private_jwk_enc, row.kid)) as JWK;
    } catch (cause) {
      throw new AppError('KEY_DECRYPTION_FAILED', 'the sandbox private key cannot be decrypted: COURSEPORT_SECRET differs from the one it was encrypted with', {
        cause,
      });
    }
    this.signing = { kid: row.kid, key: (await importJWK(jwk, 'RS256')) as CryptoKey };
    return this.signing;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    await this.signingKey();
    return { keys: (await listPublicJwks(this.db)).map((j) => JSON.parse(j) as JWK) };
  }

  /**
   * After a change of COURSEPORT_SECRET (`courseport keys reencrypt`): re-seals the sandbox's
   * private keys, read with the old secret, under the current one. Keys already under the
   * current secret are left alone; a key that opens with neither throws KEY_DECRYPTION_FAILED
   * (inside the caller's transaction `db`, so nothing changes). The sandbox is on by default in
   * development: a key it cannot open would stop `courseport serve` from starting.
   */
  async reencrypt(oldSecret: string, db: Kysely<Database> = this.db): Promise<{ reencrypted: string[]; unchanged: string[] }> {
    const oldKey = deriveKey(oldSecret, KEY_PURPOSE);
    const reencrypted: string[] = [];
    const unchanged: string[] = [];
    for (const row of await listSealedKeys(db)) {
      if (opens(this.encKey, row.private_jwk_enc, row.kid)) {
        unchanged.push(row.kid);
        continue;
      }
      let plain: string;
      try {
        plain = open(oldKey, row.private_jwk_enc, row.kid);
      } catch (cause) {
        throw new AppError('KEY_DECRYPTION_FAILED', `sandbox key ${row.kid} opens with neither the old nor the current secret; nothing was changed`, { cause });
      }
      await updateKeyCiphertext(db, row.kid, seal(this.encKey, plain, row.kid));
      reencrypted.push(row.kid);
    }
    this.signing = undefined;
    return { reencrypted, unchanged };
  }
}

function opens(key: Buffer, sealed: string, aad: string): boolean {
  try {
    open(key, sealed, aad);
    return true;
  } catch {
    return false;
  }
}
