import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Administrator passwords, hashed with scrypt (memory-hard, in node:crypto). The stored
 * string carries its own parameters and salt — `scrypt$N$r$p$<salt>$<hash>` (base64url) — so
 * the cost can be raised later without invalidating existing hashes.
 */

export const PASSWORD_MIN_LENGTH = 12;
/** Longer inputs are refused before hashing: scrypt's cost does not depend on it, but memory does. */
export const PASSWORD_MAX_LENGTH = 1024;

/** N = 2^15, r = 8, p = 3: one of OWASP's equivalent scrypt minimums (32 MiB of memory, the work of N = 2^17 with p = 1). */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 3 } as const;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;
/** Parameters read back from the database are bounded, so a tampered row cannot exhaust memory. */
const MAX_N = 2 ** 20;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function maxmem(N: number, r: number, p: number): number {
  return 128 * N * r * p + 1024 * 1024 * 8;
}

/** Problems with a new password (empty when acceptable). */
export function passwordProblems(password: string, confirm?: string): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) problems.push(`the password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) problems.push(`the password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  if (password.trim().length === 0 && password.length > 0) problems.push('the password must not be only spaces');
  if (confirm !== undefined && confirm !== password) problems.push('the two passwords differ');
  return problems;
}

export async function hashPassword(password: string, params: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...params, maxmem: maxmem(params.N, params.r, params.p) });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a password against a stored hash; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > MAX_N || (N & (N - 1)) !== 0 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || expected.length < 16 || password.length > PASSWORD_MAX_LENGTH) return false;
  const actual = await scrypt(password, salt, expected.length, { N, r, p, maxmem: maxmem(N, r, p) });
  return timingSafeEqual(actual, expected);
}

/** A hash of a random password: verified against when the email is unknown, so timing does not reveal accounts. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}
