import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblems, PASSWORD_MIN_LENGTH, verifyPassword } from '../../src/admin/passwords.js';

describe('administrator passwords (scrypt)', () => {
  it('stores the parameters and a random salt with the hash, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
    expect(await verifyPassword('Correct horse battery staple', b)).toBe(false);
  });

  it('verifies with the parameters stored in the hash (a cost raised later keeps old hashes valid)', async () => {
    const cheap = await hashPassword('another long password', { N: 1024, r: 8, p: 1 });
    expect(cheap.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('another long password', cheap)).toBe(true);
  });

  it('refuses malformed or tampered hashes instead of throwing or burning memory', async () => {
    const good = await hashPassword('correct horse battery staple', { N: 1024, r: 8, p: 1 });
    const parts = good.split('$');
    const variants = [
      '',
      'plain-text-password',
      good.replace('scrypt$', 'bcrypt$'),
      [parts[0], String(2 ** 24), ...parts.slice(2)].join('$'), // N far too large
      [parts[0], '1000', ...parts.slice(2)].join('$'), // N not a power of two
      [...parts.slice(0, 4), '', parts[5]].join('$'), // no salt
      [...parts.slice(0, 5), 'AAAA'].join('$'), // truncated hash
    ];
    for (const v of variants) expect(await verifyPassword('correct horse battery staple', v)).toBe(false);
  });

  it('requires at least 12 characters and matching confirmation', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(12);
    expect(passwordProblems('short')).toEqual(['the password must be at least 12 characters']);
    expect(passwordProblems('long enough password', 'long enough passwort')).toEqual(['the two passwords differ']);
    expect(passwordProblems('            ')).toEqual(['the password must not be only spaces']);
    expect(passwordProblems('long enough password', 'long enough password')).toEqual([]);
  });
});
