import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/app-error.js';

/** The errors a kind of token answers with when it is invalid or has expired. */
export interface TokenErrors {
  readonly invalid: () => AppError;
  readonly expired: () => AppError;
}

const LAUNCH_ERRORS: TokenErrors = {
  invalid: () =>
    new AppError('LAUNCH_TOKEN_INVALID', 'This link is not a valid Courseport launch link.', { hint: 'Open the activity again from your course in the LMS.' }),
  expired: () =>
    new AppError('LAUNCH_TOKEN_EXPIRED', 'This page has been open too long and its launch has expired.', {
      hint: 'Open the activity again from your course in the LMS.',
    }),
};

/**
 * Opaque, short-lived tokens that stand for one id (a launch, an attempt, a package version)
 * in URLs and forms instead of a cookie, since third-party cookies are often blocked in the
 * LMS frame. Format: base64url(subject) "." expiry (base36 seconds) "." HMAC-SHA256 truncated to
 * 128 bits. Each kind of token (launch, play, content, picker) is its own instance with its own
 * derived key, lifetime and errors, so a token of one kind is never accepted as another.
 */
export class SignedTokens {
  constructor(
    private readonly key: Buffer,
    /** How long an issued token stays valid. */
    readonly ttlMs: number,
    private readonly errors: TokenErrors = LAUNCH_ERRORS,
  ) {}

  issue(subject: string, now: number): string {
    const body = `${Buffer.from(subject, 'utf8').toString('base64url')}.${Math.floor((now + this.ttlMs) / 1000).toString(36)}`;
    return `${body}.${this.mac(body)}`;
  }

  /** Tokens already verified, with their subject and expiry: a page's many requests pay for one HMAC. */
  private readonly verified = new Map<string, { subject: string; expiresAt: number }>();

  /** Returns the subject, or throws the invalid / expired error. */
  verify(token: string | undefined, now: number): string {
    const known = token === undefined ? undefined : this.verified.get(token);
    if (known) {
      if (known.expiresAt <= now) throw this.errors.expired();
      return known.subject;
    }
    const subject = this.verifyUncached(token, now);
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.set(token as string, { subject, expiresAt: parseInt((token as string).split('.')[1] ?? '0', 36) * 1000 });
    return subject;
  }

  private verifyUncached(token: string | undefined, now: number): string {
    const parts = typeof token === 'string' && token.length < 512 ? token.split('.') : [];
    const [id, exp, mac] = parts;
    if (parts.length !== 3 || !id || !exp || !mac) throw this.errors.invalid();
    const expected = Buffer.from(this.mac(`${id}.${exp}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw this.errors.invalid();
    if (parseInt(exp, 36) * 1000 <= now) throw this.errors.expired();
    return Buffer.from(id, 'base64url').toString('utf8');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, 16).toString('base64url');
  }
}
