import { randomBytes } from 'node:crypto';

/** A random identifier with a readable prefix, e.g. `plt_5X2c…`. 96 bits of entropy. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** An unguessable one-time value (state, nonce, jti): 256 bits from the CSPRNG. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
