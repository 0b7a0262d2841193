import { describe, expect, it } from 'vitest';
import { DEFAULT_GRADE_WORKER, retryDelayMs } from '../../src/grades/grade-worker.js';
import { retryAfter } from '../../src/lti/ags.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('grade delivery backoff', () => {
  it('doubles from the base delay up to the maximum, in whole milliseconds (the column is a bigint)', () => {
    const delays = [1, 2, 3, 4, 20, 60].map((tries) => retryDelayMs(tries, DEFAULT_GRADE_WORKER, 0.5));
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, DEFAULT_GRADE_WORKER.maxDelayMs, DEFAULT_GRADE_WORKER.maxDelayMs]);
  });

  it('spreads retries by ±50 % jitter and always returns an integer', () => {
    for (const random of [0, 0.123456789, 0.37, 0.5, 0.987654321, 0.999999]) {
      for (const tries of [1, 2, 7, 13]) {
        const d = retryDelayMs(tries, { baseDelayMs: 5_000, maxDelayMs: 1_800_000 }, random);
        const exponential = Math.min(1_800_000, 5_000 * 2 ** (tries - 1));
        expect(Number.isInteger(d), `${tries} tries, random ${random}: ${d}`).toBe(true);
        expect(d).toBeGreaterThanOrEqual(exponential * 0.5);
        expect(d).toBeLessThanOrEqual(exponential * 1.5);
      }
    }
    expect(retryDelayMs(1, { baseDelayMs: 5_000, maxDelayMs: 1_800_000 }, 0)).toBe(2_500);
    expect(retryDelayMs(1, { baseDelayMs: 5_000, maxDelayMs: 1_800_000 }, 0.999)).toBe(7_495);
    expect(retryDelayMs(3, { baseDelayMs: 333, maxDelayMs: 1_800_000 }, 0.3)).toBe(1_066);
  });

  it('never retries sooner than Retry-After, which wins over a shorter backoff and is capped at a day', () => {
    expect(retryDelayMs(1, DEFAULT_GRADE_WORKER, 0.5, 120_000)).toBe(120_000);
    expect(retryDelayMs(1, DEFAULT_GRADE_WORKER, 0.5, 1_000)).toBe(5_000);
    expect(retryDelayMs(1, DEFAULT_GRADE_WORKER, 0.5, 1_500.4)).toBe(5_000);
    expect(retryDelayMs(1, { baseDelayMs: 100, maxDelayMs: 1_000 }, 0.5, 1_500.4)).toBe(1_501);
    expect(retryDelayMs(1, DEFAULT_GRADE_WORKER, 0.5, 90 * 24 * 3600_000)).toBe(24 * 3600_000);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    expect(retryAfter('120', NOW)).toBe(120_000);
    expect(retryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP-date (IMF-fixdate and the obsolete RFC 850 form) as the time left until it', () => {
    expect(retryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
    expect(retryAfter('Thursday, 26-Nov-26 12:05:00 GMT', NOW)).toBe(300_000);
    // A date already past means "now".
    expect(retryAfter(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0);
  });

  it('ignores what is neither', () => {
    for (const v of [null, '', '-5', '1.5', 'soon', '12abc']) expect(retryAfter(v, NOW), String(v)).toBeUndefined();
  });
});
