import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { scoEntries } from '../attempts/player-view.js';
import type { RuntimeService } from '../attempts/runtime.service.js';
import { AppError, type ErrorCode } from '../errors/app-error.js';
import type { PackageService } from '../packages/package.service.js';
import type { Database, Dispatch, DispatchRegistration } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import {
  countLaunch,
  countNewRegistration,
  deleteLearnerUser,
  findDispatch,
  findDispatchOfLearner,
  findRegistration,
  insertLearnerUser,
  insertRefusal,
  insertRegistration,
  isDestinationEnabled,
  renameLearnerUser,
  setAttemptStartSco,
  touchRegistration,
  uncountRegistration,
} from './dispatch.repository.js';

/*
 * Launch admission: one launch from a dispatch package is checked against the dispatch's secret
 * and licence and counted (with, for a new learner, the registration) in one transaction of
 * conditional updates, then plays as an ordinary attempt (RuntimeService) of the dispatch's
 * internal resource link.
 */

export interface DispatchLaunchInput {
  readonly dispatchId: string;
  readonly secret: string;
  readonly learnerId: string;
  readonly learnerName?: string | undefined;
  /** The launcher hashed the learner id in the browser (SHA-256 with the dispatch's salt). */
  readonly hashed: boolean;
  /** The LMS's bookmark (cmi.core.lesson_location / cmi.location) as the launcher read it. */
  readonly bookmark?: string | undefined;
  readonly ip?: string | undefined;
}

export interface Admission {
  readonly dispatch: Dispatch;
  readonly registration: DispatchRegistration;
  readonly attemptId: string;
  readonly newRegistration: boolean;
  /** Total time of the attempt before this launch: the relay reports the difference as session time. */
  readonly baseTimeMs: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const MAX_LEARNER_ID = 255;

/** What refused a launch: recorded (counted, listed) before the learner sees it. */
class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
  ) {}
}

const REFUSALS = {
  secret: () => new Refusal('DISPATCH_SECRET_INVALID', 'This course package is no longer valid: it was replaced or revoked by the content provider.'),
  disabled: () => new Refusal('DISPATCH_DISABLED', 'This course is not available at the moment.'),
  expired: () => new Refusal('DISPATCH_EXPIRED', 'The licence for this course has expired.'),
  closed: () => new Refusal('DISPATCH_REGISTRATIONS_CLOSED', 'This course does not accept new learners any more.'),
  cap: () => new Refusal('DISPATCH_REGISTRATION_CAP', 'This course has reached the number of learners its licence allows.'),
  launchCap: () => new Refusal('DISPATCH_LAUNCH_CAP', 'This course has reached the number of launches its licence allows.'),
  hashed: () =>
    new Refusal('DISPATCH_LAUNCH_INVALID', 'This course package sends learner ids in a form the dispatch does not accept (it requires hashed learner ids).'),
};

const REFUSAL_HINT = 'Ask your LMS administrator or the course provider; the reason has been recorded for them.';

/** The secret the dispatch's packages carry: derived from the dispatch key, never stored. */
export function dispatchSecret(secretKey: Buffer, d: Pick<Dispatch, 'id' | 'secret_seed'>): string {
  return createHmac('sha256', secretKey).update(`${d.id}.${d.secret_seed}`).digest('base64url');
}

export class DispatchAdmission {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly runtime: RuntimeService,
    private readonly packages: PackageService,
    private readonly clock: Clock,
    /** Key derived from COURSEPORT_SECRET that dispatch secrets are HMACs under. */
    private readonly secretKey: Buffer,
  ) {}

  /**
   * One launch from a dispatch package. The licence is checked and the launch (and, for a
   * new learner, the registration) counted in one transaction with conditional updates, so
   * concurrent launches at the cap cannot over-admit. A refusal is recorded and thrown.
   */
  async admit(input: DispatchLaunchInput): Promise<Admission> {
    const learnerId = input.learnerId.trim();
    if (!input.dispatchId || !input.secret || !learnerId || learnerId.length > MAX_LEARNER_ID || input.secret.length > 128) {
      throw new AppError('DISPATCH_LAUNCH_INVALID', 'This course launch is incomplete: the package did not send the dispatch, its secret or the learner.', {
        hint: 'Check that the course was uploaded to the LMS unchanged, and that the LMS provides a learner id.',
      });
    }
    const d = await findDispatch(this.db, input.dispatchId);
    if (!d) {
      throw new AppError('DISPATCH_NOT_FOUND', 'This course package is no longer valid: the content provider removed it.', { hint: REFUSAL_HINT });
    }
    const now = this.clock.now();
    const early = await this.precheck(d, input, learnerId, now);
    const outcome = early ?? (await this.db.transaction().execute((trx) => this.admitIn(trx, d, input, learnerId, now)));
    if (outcome instanceof Refusal) {
      await this.recordRefusal(d.id, outcome.code, learnerId, input.ip, now);
      throw new AppError(outcome.code, outcome.message, { hint: REFUSAL_HINT, details: { dispatch: d.id } });
    }
    return outcome;
  }

  /**
   * An open player renews its tokens (POST /play/<token>/renew): a dispatch learner's only while
   * the dispatch may still be played, so that disabling or expiry ends open sessions too.
   */
  async assertStillPlayable(userId: string, now: number): Promise<void> {
    const d = await findDispatchOfLearner(this.db, userId);
    const refusal = d ? await this.endedRefusal(d, now) : undefined;
    if (refusal) throw new AppError(refusal.code, refusal.message, { hint: REFUSAL_HINT });
  }

  private secretMatches(d: Dispatch, presented: string): boolean {
    const expected = Buffer.from(dispatchSecret(this.secretKey, d));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async precheck(d: Dispatch, input: DispatchLaunchInput, learnerId: string, now: number): Promise<Refusal | undefined> {
    if (!this.secretMatches(d, input.secret)) return REFUSALS.secret();
    const ended = await this.endedRefusal(d, now);
    if (ended) return ended;
    if (d.hash_learner_ids && (!input.hashed || !SHA256_HEX.test(learnerId))) return REFUSALS.hashed();
    return undefined;
  }

  private async admitIn(trx: Kysely<Database>, d: Dispatch, input: DispatchLaunchInput, learnerId: string, now: number): Promise<Admission | Refusal> {
    const name = input.hashed ? null : (input.learnerName?.trim().slice(0, 255) ?? null) || null;
    let registration = await findRegistration(trx, d.id, learnerId);
    let fresh = false;
    let launchCounted = false;
    if (!registration) {
      // A new learner: the registration and the launch are counted by one conditional update,
      // which (row lock on PostgreSQL, one writer on SQLite) admits at most `cap` learners.
      if (!(await countNewRegistration(trx, d.id, now))) {
        // The same learner may have registered concurrently: then they are an existing learner.
        registration = await findRegistration(trx, d.id, learnerId);
        if (!registration) return this.whyRefused(trx, d.id, now);
      } else {
        launchCounted = true;
        const userId = newId('usr');
        const regId = newId('dreg');
        await insertLearnerUser(trx, { id: userId, sub: regId, name, now });
        const inserted = await insertRegistration(trx, {
          id: regId,
          dispatch_id: d.id,
          learner_id: learnerId,
          learner_name: name,
          hashed: input.hashed ? 1 : 0,
          user_id: userId,
          launch_count: 1,
          first_launch_at: now,
          last_launch_at: now,
        });
        if (inserted) {
          fresh = true;
        } else {
          // Lost a race with the same learner's other launch: one learner, not two.
          await deleteLearnerUser(trx, userId);
          await uncountRegistration(trx, d.id);
        }
        registration = await findRegistration(trx, d.id, learnerId);
        if (!registration) throw new AppError('INTERNAL', 'The dispatch registration could not be created.');
      }
    }
    if (!launchCounted && !(await countLaunch(trx, d.id, now))) return this.whyRefused(trx, d.id, now);
    if (!fresh) {
      await touchRegistration(trx, registration.id, registration.hashed ? null : name, now);
      if (name && !registration.hashed) await renameLearnerUser(trx, registration.user_id, name, now);
    }
    const attempt = await this.runtime.openAttempt(trx, { resourceLinkId: d.resource_link_ref, userId: registration.user_id, customPackageId: undefined });
    if (!attempt) throw new AppError('PACKAGE_NOT_FOUND', 'This dispatch plays no package.');
    // The LMS's own bookmark starts the learner where the LMS says, when Courseport has none.
    const bookmark = input.bookmark?.trim();
    if (bookmark && attempt.current_sco === null) {
      const { manifest } = await this.packages.version(attempt.package_version_id);
      if (scoEntries(manifest).some((e) => e.item.identifier === bookmark)) await setAttemptStartSco(trx, attempt.id, bookmark);
    }
    const after = (await findRegistration(trx, d.id, learnerId)) ?? registration;
    const dispatch = (await findDispatch(trx, d.id)) ?? d;
    return { dispatch, registration: after, attemptId: attempt.id, newRegistration: fresh, baseTimeMs: attempt.total_time_ms };
  }

  /** Disabled (the dispatch or its destination) or expired: no launch, and no renewal of an open player. */
  private async endedRefusal(d: Pick<Dispatch, 'enabled' | 'destination_id' | 'expires_at'>, now: number): Promise<Refusal | undefined> {
    const destinationEnabled = await isDestinationEnabled(this.db, d.destination_id);
    if (!d.enabled || !destinationEnabled) return REFUSALS.disabled();
    if (d.expires_at !== null && now >= d.expires_at) return REFUSALS.expired();
    return undefined;
  }

  /** After a conditional update admitted nothing: which licence rule refused (read under the same transaction). */
  private async whyRefused(trx: Kysely<Database>, id: string, now: number): Promise<Refusal> {
    const d = await findDispatch(trx, id);
    if (!d?.enabled) return REFUSALS.disabled();
    if (d.expires_at !== null && now >= d.expires_at) return REFUSALS.expired();
    if (d.launch_cap !== null && d.launch_count >= d.launch_cap) return REFUSALS.launchCap();
    if (!d.allow_new_registrations) return REFUSALS.closed();
    return REFUSALS.cap();
  }

  private async recordRefusal(dispatchId: string, code: ErrorCode, learnerId: string, ip: string | undefined, now: number): Promise<void> {
    const event = {
      id: newId('dev'),
      dispatch_id: dispatchId,
      at: now,
      code,
      learner_id: learnerId ? learnerId.slice(0, MAX_LEARNER_ID) : null,
      ip: ip?.slice(0, 64) ?? null,
    };
    await this.db.transaction().execute((trx) => insertRefusal(trx, event));
  }
}
