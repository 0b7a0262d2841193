import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Keys derived from COURSEPORT_SECRET, one per purpose (HKDF-SHA256), so that no two
 * features ever share key material.
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `courseport:${purpose}`, 32));
}

const VERSION = 'v1';
const TAG_LENGTH = 16;

/** AES-256-GCM with a random 96-bit IV; `aad` binds the ciphertext to its row (e.g. the kid). */
export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
}

export function open(key: Buffer, sealed: string, aad: string): string {
  const [version, payload] = sealed.split('.', 2);
  if (version !== VERSION || !payload) throw new Error('unknown ciphertext format');
  const raw = Buffer.from(payload, 'base64url');
  if (raw.length < 12 + TAG_LENGTH) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12), { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 12 + TAG_LENGTH));
  return Buffer.concat([decipher.update(raw.subarray(12 + TAG_LENGTH)), decipher.final()]).toString('utf8');
}
