import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/errors/app-error.js';
import { deriveKey } from '../../src/keys/secret-box.js';
import { SignedTokens } from '../../src/util/signed-tokens.js';
import { fixedClock } from '../../src/util/clock.js';

const KEY = deriveKey('launch-token-test-secret-0123456789abcdef', 'launch-token');
const OTHER_KEY = deriveKey('another-secret-entirely-0123456789abcdef', 'launch-token');
const TTL_MS = 4 * 3600 * 1000;
// A whole second, so the expiry (kept in seconds) is exactly start + TTL.
const START = Date.UTC(2026, 2, 1, 9, 0, 0);
const LAUNCH_ID = 'lch_AbCdEfGhIjKlMnOp';

function errorCodeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).code;
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

/** Replaces one of the three dot-separated parts of a token. */
function withPart(token: string, index: 0 | 1 | 2, value: string): string {
  const parts = token.split('.');
  parts[index] = value;
  return parts.join('.');
}

/** Changes one character of a base64url string to another valid one. */
function flipChar(s: string, at: number): string {
  const c = s[at] === 'A' ? 'B' : 'A';
  return `${s.slice(0, at)}${c}${s.slice(at + 1)}`;
}

describe('SignedTokens', () => {
  const tokens = new SignedTokens(KEY, TTL_MS);

  it('round-trips a launch id', () => {
    const clock = fixedClock(START);
    const token = tokens.issue(LAUNCH_ID, clock.now());
    expect(token.split('.')).toHaveLength(3);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(tokens.verify(token, clock.now())).toBe(LAUNCH_ID);
  });

  it('round-trips non-ASCII and dotted launch ids', () => {
    for (const id of ['élève-1', 'a.b.c', '🙂']) {
      expect(tokens.verify(tokens.issue(id, START), START)).toBe(id);
    }
  });

  it('is deterministic for the same id, time and key, and differs with the key', () => {
    expect(tokens.issue(LAUNCH_ID, START)).toBe(tokens.issue(LAUNCH_ID, START));
    expect(new SignedTokens(OTHER_KEY, TTL_MS).issue(LAUNCH_ID, START)).not.toBe(tokens.issue(LAUNCH_ID, START));
  });

  it('stays valid until just before the TTL, and expires exactly at it', () => {
    const clock = fixedClock(START);
    const token = tokens.issue(LAUNCH_ID, clock.now());
    clock.advance(TTL_MS - 1);
    expect(tokens.verify(token, clock.now())).toBe(LAUNCH_ID);
    clock.advance(1);
    expect(errorCodeOf(() => tokens.verify(token, clock.now()))).toBe('LAUNCH_TOKEN_EXPIRED');
    clock.advance(3600_000);
    expect(errorCodeOf(() => tokens.verify(token, clock.now()))).toBe('LAUNCH_TOKEN_EXPIRED');
  });

  it('never lives longer than the TTL when issued mid-second', () => {
    const issuedAt = START + 999;
    const token = tokens.issue(LAUNCH_ID, issuedAt);
    expect(errorCodeOf(() => tokens.verify(token, issuedAt + TTL_MS))).toBe('LAUNCH_TOKEN_EXPIRED');
  });

  it('refuses a token with a tampered mac', () => {
    const token = tokens.issue(LAUNCH_ID, START);
    const [, , mac] = token.split('.');
    expect(errorCodeOf(() => tokens.verify(withPart(token, 2, flipChar(mac ?? '', 0)), START))).toBe('LAUNCH_TOKEN_INVALID');
    expect(errorCodeOf(() => tokens.verify(withPart(token, 2, `${mac}A`), START))).toBe('LAUNCH_TOKEN_INVALID');
    expect(errorCodeOf(() => tokens.verify(withPart(token, 2, (mac ?? '').slice(1)), START))).toBe('LAUNCH_TOKEN_INVALID');
  });

  it('refuses a token whose launch id was swapped for another', () => {
    const token = tokens.issue(LAUNCH_ID, START);
    const otherId = Buffer.from('lch_someoneElsesLaunch', 'utf8').toString('base64url');
    expect(errorCodeOf(() => tokens.verify(withPart(token, 0, otherId), START))).toBe('LAUNCH_TOKEN_INVALID');
  });

  it('refuses a token whose expiry was extended', () => {
    const token = tokens.issue(LAUNCH_ID, START);
    const later = (Math.floor((START + TTL_MS) / 1000) + 86400).toString(36);
    expect(errorCodeOf(() => tokens.verify(withPart(token, 1, later), START))).toBe('LAUNCH_TOKEN_INVALID');
    // Even once the original has expired, a forged expiry does not revive it.
    expect(errorCodeOf(() => tokens.verify(withPart(token, 1, later), START + TTL_MS + 1000))).toBe('LAUNCH_TOKEN_INVALID');
  });

  it('refuses a token made with another key', () => {
    const foreign = new SignedTokens(OTHER_KEY, TTL_MS).issue(LAUNCH_ID, START);
    expect(errorCodeOf(() => tokens.verify(foreign, START))).toBe('LAUNCH_TOKEN_INVALID');
  });

  it('reports a forged token as invalid, not expired, even when its time is past', () => {
    const foreign = new SignedTokens(OTHER_KEY, TTL_MS).issue(LAUNCH_ID, START);
    expect(errorCodeOf(() => tokens.verify(foreign, START + 10 * TTL_MS))).toBe('LAUNCH_TOKEN_INVALID');
  });

  it('refuses garbage', () => {
    const inputs: (string | undefined)[] = [
      undefined,
      '',
      '.',
      '..',
      'a.b',
      'a.b.c',
      'a.b.c.d',
      `${tokens.issue(LAUNCH_ID, START)}.extra`,
      '...'.repeat(10),
      'x'.repeat(100_000),
      `${'x'.repeat(300)}.${'y'.repeat(300)}.${'z'.repeat(22)}`,
    ];
    for (const input of inputs) {
      expect(
        errorCodeOf(() => tokens.verify(input, START)),
        JSON.stringify(input?.slice(0, 40)),
      ).toBe('LAUNCH_TOKEN_INVALID');
    }
  });

  it('gives the user a way out in the error hint', () => {
    try {
      tokens.verify('nope', START);
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).status).toBe(401);
      expect((err as AppError).hint).toMatch(/LMS/);
    }
  });
});
