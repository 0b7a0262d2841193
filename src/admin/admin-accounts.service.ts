import { createHash, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { isUniqueViolation, type Dialect } from '../store/database.js';
import type { Admin, AdminSession, Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';
import * as repo from './admin.repository.js';
import { decoyHash, hashPassword, passwordProblems, verifyPassword } from './passwords.js';

export interface AdminPolicy {
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  readonly loginMaxFailures: number;
  readonly loginMaxFailuresPerIp: number;
  readonly loginWindowMs: number;
}

/** A signed-in administrator as the console sees it (never the password hash). */
export interface AdminIdentity {
  readonly id: string;
  readonly email: string;
}

export interface ConsoleSession {
  readonly admin: AdminIdentity;
  readonly idHash: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface NewSession {
  /** The value for the cookie: shown once, stored only hashed. */
  readonly sessionId: string;
  readonly session: ConsoleSession;
}

export type LoginOutcome =
  | { readonly ok: true; readonly admin: AdminIdentity }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number }
  | { readonly ok: false; readonly reason: 'failed' };

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
/** Sessions are touched (idle timer) at most this often: not every page view is a write. */
const TOUCH_EVERY_MS = 60_000;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Console administrators, their sessions and the sign-in throttle. Everything lives in the
 * database (several processes share it): sessions are looked up by the SHA-256 of the random
 * id in the cookie, expire when idle and absolutely, and are deleted at sign-out.
 */
export class AdminAccounts {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    readonly policy: AdminPolicy,
  ) {}

  async count(): Promise<number> {
    return repo.countAdmins(this.db);
  }

  async list(): Promise<Admin[]> {
    return repo.listAdmins(this.db);
  }

  /**
   * Creates an administrator. `onlyIfNone` is the first-administrator form: refused with
   * ADMIN_SETUP_DONE when any administrator exists, decided inside one transaction.
   */
  async create(emailInput: string, password: string, options: { confirm?: string; onlyIfNone?: boolean } = {}): Promise<AdminIdentity> {
    const email = normaliseEmail(emailInput);
    const problems: string[] = [];
    if (!EMAIL.test(email) || email.length > 320) problems.push('the email address is not valid');
    problems.push(...passwordProblems(password, options.confirm));
    if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '), { details: { problems } });
    const passwordHash = await hashPassword(password);
    const now = this.clock.now();
    const admin: Admin = { id: newId('adm'), email, password_hash: passwordHash, created_at: now, updated_at: now, last_login_at: null };
    try {
      await this.db.transaction().execute(async (trx) => {
        if (options.onlyIfNone) {
          // Two first-administrator forms at once: the table lock makes the second see the first.
          await repo.lockAdmins(trx, this.dialect);
          if (await repo.anyAdminExists(trx))
            throw new AppError('ADMIN_SETUP_DONE', 'An administrator already exists: sign in instead.', {
              hint: 'More administrators are created with `courseport admin create --email …`.',
            });
        }
        await repo.insertAdmin(trx, admin);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('ADMIN_EXISTS', `An administrator with email ${email} already exists.`);
      throw err;
    }
    return { id: admin.id, email };
  }

  /**
   * Checks a sign-in. Refused without checking the password while the account or the
   * address is over its failure limit; every failure counts against both (counted before the
   * password check, so that concurrent attempts cannot exceed the limit).
   */
  async login(emailInput: string, password: string, ip: string): Promise<LoginOutcome> {
    const email = normaliseEmail(emailInput).slice(0, 320);
    const now = this.clock.now();
    const keys = [`account:${email}`, `ip:${ip}`];
    const rows = await repo.findThrottles(this.db, keys);
    const windowStart = now - this.policy.loginWindowMs;
    for (const row of rows) {
      if (row.window_start <= windowStart) continue;
      const max = row.key.startsWith('account:') ? this.policy.loginMaxFailures : this.policy.loginMaxFailuresPerIp;
      if (row.failures >= max) return { ok: false, reason: 'throttled', retryAfterMs: row.window_start + this.policy.loginWindowMs - now };
    }
    // The attempt counts as a failure before the (slow) password check, atomically: attempts that
    // arrive at once cannot all pass the check above. A success takes its count back below.
    for (const key of keys) {
      const counted = await this.countFailure(key, now);
      const max = key.startsWith('account:') ? this.policy.loginMaxFailures : this.policy.loginMaxFailuresPerIp;
      if (counted.failures > max) return { ok: false, reason: 'throttled', retryAfterMs: counted.windowStart + this.policy.loginWindowMs - now };
    }
    const admin = email ? await repo.findAdminByEmail(this.db, email) : undefined;
    // An unknown email costs the same scrypt work as a known one.
    const ok = await verifyPassword(password, admin?.password_hash ?? (await decoyHash()));
    if (!admin || !ok) return { ok: false, reason: 'failed' };
    await repo.deleteThrottle(this.db, keys[0]!);
    await repo.uncountFailure(this.db, keys[1]!);
    await this.recordSignIn(admin.id, now);
    return { ok: true, admin: { id: admin.id, email: admin.email } };
  }

  /** "Last sign-in" of the account: a password sign-in, and the first administrator's sign-in at setup. */
  async recordSignIn(adminId: string, at: number = this.clock.now()): Promise<void> {
    await repo.setLastLogin(this.db, adminId, at);
  }

  /** One more failure for a key; a window that has passed starts again at 1 (one atomic upsert). Answers the new count. */
  private countFailure(key: string, now: number): Promise<{ failures: number; windowStart: number }> {
    return repo.countFailure(this.db, key, now, now - this.policy.loginWindowMs);
  }

  async createSession(admin: AdminIdentity, meta: { ip: string; userAgent: string | undefined }): Promise<NewSession> {
    const sessionId = randomToken(32);
    const now = this.clock.now();
    const row: AdminSession = {
      id_hash: sha256(sessionId),
      admin_id: admin.id,
      csrf_token: randomToken(32),
      created_at: now,
      last_seen_at: now,
      expires_at: now + this.policy.sessionMaxMs,
      ip: meta.ip.slice(0, 64),
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
    };
    await repo.insertSession(this.db, row);
    return { sessionId, session: { admin, idHash: row.id_hash, csrfToken: row.csrf_token, createdAt: now, expiresAt: row.expires_at } };
  }

  /** The live session for a cookie value; an expired one (idle or absolute) is deleted and undefined. */
  async findSession(sessionId: string | undefined): Promise<ConsoleSession | undefined> {
    if (!sessionId || sessionId.length > 128) return undefined;
    const idHash = sha256(sessionId);
    const row = await repo.findSession(this.db, idHash);
    if (!row) return undefined;
    const now = this.clock.now();
    if (row.expires_at <= now || row.last_seen_at + this.policy.sessionIdleMs <= now) {
      await repo.deleteSession(this.db, idHash);
      return undefined;
    }
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
      await repo.touchSession(this.db, idHash, now);
    }
    return { admin: { id: row.adminId, email: row.email }, idHash, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async revokeSession(idHash: string): Promise<void> {
    await repo.deleteSession(this.db, idHash);
  }

  /**
   * Changes an administrator's password after checking the current one; every other session
   * of that administrator ends (a stolen session does not survive the change).
   */
  async changePassword(adminId: string, current: string, next: string, confirm: string, keepSession: string): Promise<void> {
    const admin = await repo.findAdminById(this.db, adminId);
    if (!admin) throw new AppError('ADMIN_LOGIN_REQUIRED', 'This administrator no longer exists.');
    // Guessing the current password from a stolen session counts like failed sign-ins.
    const key = `account:${admin.email}`;
    const now = this.clock.now();
    const row = await repo.findThrottle(this.db, key);
    if (row && row.window_start > now - this.policy.loginWindowMs && row.failures >= this.policy.loginMaxFailures) {
      throw new AppError('ADMIN_LOGIN_THROTTLED', 'Too many wrong passwords for this account; try again later.');
    }
    // Counted before the check (atomically), like sign-ins: parallel guesses cannot exceed the limit.
    if ((await this.countFailure(key, now)).failures > this.policy.loginMaxFailures) {
      throw new AppError('ADMIN_LOGIN_THROTTLED', 'Too many wrong passwords for this account; try again later.');
    }
    const problems: string[] = [];
    if (!(await verifyPassword(current, admin.password_hash))) {
      problems.push('the current password is wrong');
    } else {
      await repo.uncountFailure(this.db, key);
    }
    problems.push(...passwordProblems(next, confirm));
    if (!problems.length && next === current) problems.push('the new password must differ from the current one');
    if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '), { details: { problems } });
    const hash = await hashPassword(next);
    await this.db.transaction().execute(async (trx) => {
      await repo.setPasswordHash(trx, adminId, hash, this.clock.now());
      await repo.deleteOtherSessions(trx, adminId, keepSession);
    });
  }

  /** Live sessions per administrator id (the account page). */
  async sessionCounts(): Promise<Map<string, number>> {
    const now = this.clock.now();
    return repo.countLiveSessions(this.db, now, now - this.policy.sessionIdleMs);
  }

  /** Expired sessions and finished throttle windows (the cleanup job). */
  async cleanup(): Promise<number> {
    const now = this.clock.now();
    const sessions = await repo.deleteExpiredSessions(this.db, now, now - this.policy.sessionIdleMs);
    const throttles = await repo.deleteFinishedThrottles(this.db, now - this.policy.loginWindowMs);
    return sessions + throttles;
  }
}

/** Constant-time comparison of a submitted anti-forgery token with the session's. */
export function csrfMatches(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0 || submitted.length > 256) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
