import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveKey, open, seal } from '../../src/keys/secret-box.js';

const SECRET = 'secret-box-test-secret-0123456789abcdef';
const KEY = deriveKey(SECRET, 'tool-key-encryption');

/** Decodes the payload part of a sealed value. */
function payloadOf(sealed: string): Buffer {
  const [, payload] = sealed.split('.');
  return Buffer.from(payload ?? '', 'base64url');
}

function withPayload(raw: Buffer): string {
  return `v1.${raw.toString('base64url')}`;
}

describe('deriveKey', () => {
  it('derives a 32-byte key, stable for the same secret and purpose', () => {
    expect(KEY).toHaveLength(32);
    expect(deriveKey(SECRET, 'tool-key-encryption').equals(KEY)).toBe(true);
  });

  it('derives different keys for different purposes and different secrets', () => {
    const a = deriveKey(SECRET, 'tool-key-encryption');
    const b = deriveKey(SECRET, 'launch-token');
    const c = deriveKey(`${SECRET}x`, 'tool-key-encryption');
    expect(a.equals(b)).toBe(false);
    expect(a.equals(c)).toBe(false);
    expect(b.equals(c)).toBe(false);
  });

  it('keeps features apart: a value sealed under one purpose does not open under another', () => {
    const sealed = seal(deriveKey(SECRET, 'purpose-a'), 'hello', 'row-1');
    expect(() => open(deriveKey(SECRET, 'purpose-b'), sealed, 'row-1')).toThrow();
    expect(open(deriveKey(SECRET, 'purpose-a'), sealed, 'row-1')).toBe('hello');
  });
});

describe('seal / open', () => {
  it('round-trips text, including empty and non-ASCII', () => {
    for (const text of ['{"kty":"RSA","d":"secret"}', '', 'clé privée 🔑', 'x'.repeat(10_000)]) {
      expect(open(KEY, seal(KEY, text, 'kid-1'), 'kid-1')).toBe(text);
    }
  });

  it('produces a versioned, opaque value that does not contain the plaintext', () => {
    const sealed = seal(KEY, 'plaintext-marker', 'kid-1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('plaintext-marker');
    expect(payloadOf(sealed).toString('latin1')).not.toContain('plaintext-marker');
    // 12-byte IV + 16-byte tag + ciphertext of the same length as the plaintext.
    expect(payloadOf(sealed)).toHaveLength(12 + 16 + 'plaintext-marker'.length);
  });

  it('uses a fresh random IV: sealing the same text twice gives different values', () => {
    const a = seal(KEY, 'same', 'kid-1');
    const b = seal(KEY, 'same', 'kid-1');
    expect(a).not.toBe(b);
    expect(payloadOf(a).subarray(0, 12).equals(payloadOf(b).subarray(0, 12))).toBe(false);
    expect(open(KEY, a, 'kid-1')).toBe('same');
    expect(open(KEY, b, 'kid-1')).toBe('same');
  });

  it('binds the value to its aad: another aad does not open it', () => {
    const sealed = seal(KEY, 'private key of kid-1', 'kid-1');
    expect(() => open(KEY, sealed, 'kid-2')).toThrow();
    expect(() => open(KEY, sealed, '')).toThrow();
  });

  it('does not open with another key', () => {
    const sealed = seal(KEY, 'data', 'kid-1');
    expect(() => open(deriveKey('another-secret-0123456789abcdef-xyz', 'tool-key-encryption'), sealed, 'kid-1')).toThrow();
  });

  it('detects tampering with the IV, the tag or the ciphertext', () => {
    const sealed = seal(KEY, 'some private key material', 'kid-1');
    const raw = payloadOf(sealed);
    for (const at of [0, 11, 12, 27, 28, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[at] = (t[at] ?? 0) ^ 0x01;
      expect(() => open(KEY, withPayload(t), 'kid-1'), `byte ${at}`).toThrow();
    }
  });

  it('detects truncation and extension of the ciphertext', () => {
    const sealed = seal(KEY, 'some private key material', 'kid-1');
    const raw = payloadOf(sealed);
    expect(() => open(KEY, withPayload(raw.subarray(0, raw.length - 1)), 'kid-1')).toThrow();
    expect(() => open(KEY, withPayload(Buffer.concat([raw, Buffer.from([0])])), 'kid-1')).toThrow();
    expect(() => open(KEY, withPayload(raw.subarray(0, 28)), 'kid-1')).toThrow();
    expect(() => open(KEY, withPayload(raw.subarray(0, 10)), 'kid-1')).toThrow();
  });

  it('refuses unknown versions and malformed values', () => {
    const sealed = seal(KEY, 'data', 'kid-1');
    const payload = sealed.slice(3);
    expect(() => open(KEY, `v2.${payload}`, 'kid-1')).toThrow('unknown ciphertext format');
    expect(() => open(KEY, `V1.${payload}`, 'kid-1')).toThrow('unknown ciphertext format');
    expect(() => open(KEY, payload, 'kid-1')).toThrow('unknown ciphertext format');
    expect(() => open(KEY, 'v1.', 'kid-1')).toThrow('unknown ciphertext format');
    expect(() => open(KEY, '', 'kid-1')).toThrow('unknown ciphertext format');
  });

  // GCM tags shorter than 16 bytes are only 4..15 bytes of authentication: Node's decipher
  // accepts them unless `authTagLength: 16` is given (deprecated since Node 23, DEP0182).
  // A value built around a 4-byte tag must not open, or forging it is a 2^32 search.
  it('refuses a value with a truncated authentication tag', () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', KEY, iv, { authTagLength: 4 });
    cipher.setAAD(Buffer.from('kid-1', 'utf8'));
    const ct = Buffer.concat([cipher.update('', 'utf8'), cipher.final()]);
    const forged = withPayload(Buffer.concat([iv, cipher.getAuthTag(), ct]));
    expect(() => open(KEY, forged, 'kid-1')).toThrow();
  });
});
