import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { AppError, type ErrorCode } from '../errors/app-error.js';
import type { RuntimeService } from '../scorm/runtime-service.js';
import { scoEntries } from '../scorm/player-view.js';
import type { PackageService } from '../scorm/package-service.js';
import { DISPATCH_PLATFORM_ID } from '../store/platform.repository.js';
import type { Database, Dispatch, DispatchDestination, DispatchEvent, DispatchRegistration } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';
import { checkTitle, fitTitle } from '../packages/titles.js';

/*
 * Content dispatch: destinations (customers), dispatches (one package for one destination)
 * with their licence, and the launch admission that checks the licence and counts in one
 * transaction. A dispatch owns an internal deployment and resource link under one internal,
 * disabled platform row, and each LMS learner is an internal user: attempts, SCO runtime,
 * rollup and resume are exactly those of LTI launches (RuntimeService), nothing duplicated.
 */

export type DispatchScormVersion = '1.2' | '2004';

export interface LicenceInput {
  readonly enabled?: boolean | undefined;
  readonly allowNewRegistrations?: boolean | undefined;
  /** 0 = unlimited. */
  readonly registrationCap?: number | undefined;
  /** Epoch ms; null removes the expiry. */
  readonly expiresAt?: number | null | undefined;
  /** null (or 0) removes the cap. */
  readonly launchCap?: number | null | undefined;
}

export interface DispatchInput extends LicenceInput {
  readonly destinationId: string;
  readonly packageId: string;
  readonly title?: string | undefined;
  readonly scormVersion?: DispatchScormVersion | undefined;
  readonly hashLearnerIds?: boolean | undefined;
}

export interface LaunchInput {
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

export interface ReportRow {
  readonly registrationId: string;
  readonly learnerId: string;
  readonly learnerName: string | null;
  readonly hashed: boolean;
  readonly attempt: number | null;
  readonly completion: string;
  readonly success: string;
  readonly status: string;
  readonly scorePercent: number | null;
  readonly timeMs: number;
  readonly launches: number;
  readonly firstLaunchAt: number;
  readonly lastLaunchAt: number;
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
  hashed: () => new Refusal('DISPATCH_LAUNCH_INVALID', 'This course package sends learner ids in a form the dispatch does not accept (it requires hashed learner ids).'),
};

const REFUSAL_HINT = 'Ask your LMS administrator or the course provider; the reason has been recorded for them.';

export class DispatchService {
  private readonly secretKey: Buffer;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly runtime: RuntimeService,
    private readonly packages: PackageService,
    private readonly clock: Clock,
    /** Key derived from COURSEPORT_SECRET that dispatch secrets are HMACs under. */
    secretKey: Buffer,
  ) {
    this.secretKey = secretKey;
  }

  // --- destinations ------------------------------------------------------------------------

  async createDestination(input: { name: string; notes?: string | undefined; enabled?: boolean | undefined }): Promise<DispatchDestination> {
    const name = requireName(input.name);
    const now = this.clock.now();
    const row: DispatchDestination = { id: newId('dst'), name, notes: cleanNotes(input.notes), enabled: input.enabled === false ? 0 : 1, created_at: now, updated_at: now };
    await this.db.insertInto('dispatch_destinations').values(row).execute();
    return row;
  }

  async listDestinations(): Promise<DispatchDestination[]> {
    return this.db.selectFrom('dispatch_destinations').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async getDestination(id: string): Promise<DispatchDestination> {
    const row = await this.db.selectFrom('dispatch_destinations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('DESTINATION_NOT_FOUND', `No destination with id ${id}.`);
    return row;
  }

  async updateDestination(id: string, changes: { name?: string | undefined; notes?: string | null | undefined; enabled?: boolean | undefined }): Promise<DispatchDestination> {
    await this.getDestination(id);
    const set: Partial<DispatchDestination> = { updated_at: this.clock.now() };
    if (changes.name !== undefined) set.name = requireName(changes.name);
    if (changes.notes !== undefined) set.notes = cleanNotes(changes.notes ?? undefined);
    if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
    await this.db.updateTable('dispatch_destinations').set(set).where('id', '=', id).execute();
    return this.getDestination(id);
  }

  /** Deletes the destination and every dispatch of it (their packages stop working). */
  async deleteDestination(id: string): Promise<{ dispatches: number }> {
    await this.getDestination(id);
    const ids = (await this.db.selectFrom('dispatches').select('id').where('destination_id', '=', id).execute()).map((r) => r.id);
    for (const d of ids) await this.deleteDispatch(d);
    await this.db.deleteFrom('dispatch_destinations').where('id', '=', id).execute();
    return { dispatches: ids.length };
  }

  // --- dispatches ---------------------------------------------------------------------------

  async createDispatch(input: DispatchInput): Promise<Dispatch> {
    const destination = await this.getDestination(input.destinationId);
    const { package: pkg } = await this.packages.get(input.packageId);
    if (!pkg.latest_version_id) throw new AppError('PACKAGE_NOT_FOUND', `Package ${pkg.id} has no version to play.`);
    // Like new LTI links, a new dispatch may not play an archived package (existing dispatches keep playing it).
    if (pkg.status === 'archived') throw new AppError('PACKAGE_ARCHIVED', `Package “${pkg.title}” is archived: unarchive it to dispatch it.`);
    const now = this.clock.now();
    const licence = checkLicence(input);
    refusePastExpiry(licence.expiresAt, now);
    const id = newId('dsp');
    const deploymentRef = newId('dep');
    const linkRef = newId('rl');
    const title = input.title?.trim() ? checkTitle(input.title, 'The course title') : fitTitle(pkg.title);
    const row: Dispatch = {
      id,
      destination_id: destination.id,
      package_id: pkg.id,
      resource_link_ref: linkRef,
      deployment_ref: deploymentRef,
      title,
      enabled: licence.enabled === false ? 0 : 1,
      allow_new_registrations: licence.allowNewRegistrations === false ? 0 : 1,
      registration_cap: licence.registrationCap ?? 0,
      expires_at: licence.expiresAt ?? null,
      launch_cap: licence.launchCap ?? null,
      hash_learner_ids: input.hashLearnerIds ? 1 : 0,
      scorm_version: input.scormVersion ?? '1.2',
      secret_seed: randomToken(24),
      learner_salt: randomToken(16),
      registration_count: 0,
      launch_count: 0,
      refused_count: 0,
      created_at: now,
      updated_at: now,
    };
    await this.db.transaction().execute(async (trx) => {
      await this.ensureInternalPlatform(trx, now);
      await trx.insertInto('deployments').values({ id: deploymentRef, platform_id: DISPATCH_PLATFORM_ID, deployment_id: id, name: `dispatch ${id}`, created_at: now }).execute();
      await trx
        .insertInto('resource_links')
        .values({ id: linkRef, platform_id: DISPATCH_PLATFORM_ID, deployment_id: deploymentRef, context_id: null, resource_link_id: id, title, description: null, package_id: pkg.id, created_at: now, updated_at: now })
        .execute();
      await trx.insertInto('dispatches').values(row).execute();
    });
    return row;
  }

  /** The internal platform row that owns dispatch learners: disabled, keyless, never an LMS. */
  private async ensureInternalPlatform(trx: Kysely<Database>, now: number): Promise<void> {
    await trx
      .insertInto('platforms')
      .values({
        id: DISPATCH_PLATFORM_ID,
        name: 'Courseport content dispatch (internal)',
        issuer: 'urn:courseport:dispatch',
        client_id: 'courseport-dispatch',
        auth_url: 'urn:courseport:dispatch',
        token_url: 'urn:courseport:dispatch',
        token_audience: null,
        jwks_url: null,
        public_jwk: null,
        status: 'disabled',
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async listDispatches(filter: { destinationId?: string | undefined } = {}): Promise<Dispatch[]> {
    let q = this.db.selectFrom('dispatches').selectAll();
    if (filter.destinationId) q = q.where('destination_id', '=', filter.destinationId);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  async getDispatch(id: string): Promise<Dispatch> {
    const row = await this.db.selectFrom('dispatches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('DISPATCH_NOT_FOUND', `No dispatch with id ${id}.`);
    return row;
  }

  /** Changes the licence (and title / hashing). Returns the dispatch after the change. */
  async updateDispatch(id: string, changes: LicenceInput & { title?: string | undefined; hashLearnerIds?: boolean | undefined; scormVersion?: DispatchScormVersion | undefined }): Promise<Dispatch> {
    await this.getDispatch(id);
    // A past date is allowed here: it ends a running licence at once (a new dispatch refuses one, see createDispatch).
    const licence = checkLicence(changes);
    const set: Partial<Dispatch> = { updated_at: this.clock.now() };
    if (licence.enabled !== undefined) set.enabled = licence.enabled ? 1 : 0;
    if (licence.allowNewRegistrations !== undefined) set.allow_new_registrations = licence.allowNewRegistrations ? 1 : 0;
    if (licence.registrationCap !== undefined) set.registration_cap = licence.registrationCap;
    if (licence.expiresAt !== undefined) set.expires_at = licence.expiresAt;
    if (licence.launchCap !== undefined) set.launch_cap = licence.launchCap;
    if (changes.hashLearnerIds !== undefined) set.hash_learner_ids = changes.hashLearnerIds ? 1 : 0;
    if (changes.scormVersion !== undefined) set.scorm_version = changes.scormVersion;
    if (changes.title !== undefined) set.title = checkTitle(changes.title, 'The course title');
    await this.db.updateTable('dispatches').set(set).where('id', '=', id).execute();
    return this.getDispatch(id);
  }

  /** A new secret: every package exported before stops working at its next launch. */
  async rotateSecret(id: string): Promise<Dispatch> {
    await this.getDispatch(id);
    await this.db.updateTable('dispatches').set({ secret_seed: randomToken(24), updated_at: this.clock.now() }).where('id', '=', id).execute();
    return this.getDispatch(id);
  }

  /** Deletes the dispatch with its learners' records; every copy of its package stops working. */
  async deleteDispatch(id: string): Promise<void> {
    const d = await this.getDispatch(id);
    await this.db.transaction().execute(async (trx) => {
      const users = (await trx.selectFrom('dispatch_registrations').select('user_id').where('dispatch_id', '=', id).execute()).map((r) => r.user_id);
      await trx.deleteFrom('dispatches').where('id', '=', id).execute();
      // The deployment cascades to the internal resource link, its attempts and their SCO data.
      await trx.deleteFrom('deployments').where('id', '=', d.deployment_ref).execute();
      for (let i = 0; i < users.length; i += 500) await trx.deleteFrom('users').where('id', 'in', users.slice(i, i + 500)).execute();
    });
  }

  /** The secret the dispatch's packages carry: derived, never stored. */
  secretOf(d: Pick<Dispatch, 'id' | 'secret_seed'>): string {
    return createHmac('sha256', this.secretKey).update(`${d.id}.${d.secret_seed}`).digest('base64url');
  }

  private secretMatches(d: Dispatch, presented: string): boolean {
    const expected = Buffer.from(this.secretOf(d));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  // --- launch -------------------------------------------------------------------------------

  /**
   * One launch from a dispatch package. The licence is checked and the launch (and, for a
   * new learner, the registration) counted in one transaction with conditional updates, so
   * concurrent launches at the cap cannot over-admit. A refusal is recorded and thrown.
   */
  async admit(input: LaunchInput): Promise<Admission> {
    const learnerId = input.learnerId.trim();
    if (!input.dispatchId || !input.secret || !learnerId || learnerId.length > MAX_LEARNER_ID || input.secret.length > 128) {
      throw new AppError('DISPATCH_LAUNCH_INVALID', 'This course launch is incomplete: the package did not send the dispatch, its secret or the learner.', {
        hint: 'Check that the course was uploaded to the LMS unchanged, and that the LMS provides a learner id.',
      });
    }
    const d = await this.db.selectFrom('dispatches').selectAll().where('id', '=', input.dispatchId).executeTakeFirst();
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

  private async precheck(d: Dispatch, input: LaunchInput, learnerId: string, now: number): Promise<Refusal | undefined> {
    if (!this.secretMatches(d, input.secret)) return REFUSALS.secret();
    const ended = await this.endedRefusal(d, now);
    if (ended) return ended;
    if (d.hash_learner_ids && (!input.hashed || !SHA256_HEX.test(learnerId))) return REFUSALS.hashed();
    return undefined;
  }

  private async admitIn(trx: Kysely<Database>, d: Dispatch, input: LaunchInput, learnerId: string, now: number): Promise<Admission | Refusal> {
    const name = input.hashed ? null : (input.learnerName?.trim().slice(0, 255) ?? null) || null;
    // Rules every counted launch re-checks inside its UPDATE: enabled, not expired, launch cap.
    const stillValid = (eb: ExpressionBuilder<Database, 'dispatches'>) =>
      eb.and([eb('enabled', '=', 1), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]), eb.or([eb('launch_cap', 'is', null), eb('launch_count', '<', eb.ref('launch_cap'))])]);

    let registration = await findRegistration(trx, d.id, learnerId);
    let fresh = false;
    let launchCounted = false;
    if (!registration) {
      // A new learner: the registration and the launch are counted by one conditional update,
      // which (row lock on PostgreSQL, one writer on SQLite) admits at most `cap` learners.
      const counted = await trx
        .updateTable('dispatches')
        .set((eb) => ({ registration_count: eb('registration_count', '+', 1), launch_count: eb('launch_count', '+', 1) }))
        .where('id', '=', d.id)
        .where('allow_new_registrations', '=', 1)
        .where((eb) => eb.or([eb('registration_cap', '=', 0), eb('registration_count', '<', eb.ref('registration_cap'))]))
        .where(stillValid)
        .executeTakeFirst();
      if (Number(counted.numUpdatedRows) === 0) {
        // The same learner may have registered concurrently: then they are an existing learner.
        registration = await findRegistration(trx, d.id, learnerId);
        if (!registration) return this.whyRefused(trx, d.id, now);
      } else {
        launchCounted = true;
        const userId = newId('usr');
        const regId = newId('dreg');
        await trx
          .insertInto('users')
          .values({ id: userId, platform_id: DISPATCH_PLATFORM_ID, sub: regId, name, given_name: null, family_name: null, email: null, picture: null, created_at: now, updated_at: now })
          .execute();
        const inserted = await trx
          .insertInto('dispatch_registrations')
          .values({ id: regId, dispatch_id: d.id, learner_id: learnerId, learner_name: name, hashed: input.hashed ? 1 : 0, user_id: userId, launch_count: 1, first_launch_at: now, last_launch_at: now })
          .onConflict((oc) => oc.columns(['dispatch_id', 'learner_id']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
          fresh = true;
        } else {
          // Lost a race with the same learner's other launch: one learner, not two.
          await trx.deleteFrom('users').where('id', '=', userId).execute();
          await trx.updateTable('dispatches').set((eb) => ({ registration_count: eb('registration_count', '-', 1) })).where('id', '=', d.id).execute();
        }
        registration = await findRegistration(trx, d.id, learnerId);
        if (!registration) throw new AppError('INTERNAL', 'The dispatch registration could not be created.');
      }
    }
    if (!launchCounted) {
      const r = await trx.updateTable('dispatches').set((eb) => ({ launch_count: eb('launch_count', '+', 1) })).where('id', '=', d.id).where(stillValid).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return this.whyRefused(trx, d.id, now);
    }
    if (!fresh) {
      await touchRegistration(trx, registration.id, registration.hashed ? null : name, now);
      if (name && !registration.hashed) await trx.updateTable('users').set({ name, updated_at: now }).where('id', '=', registration.user_id).execute();
    }
    const attempt = await this.runtime.openAttempt(trx, { resourceLinkId: d.resource_link_ref, userId: registration.user_id, customPackageId: undefined });
    if (!attempt) throw new AppError('PACKAGE_NOT_FOUND', 'This dispatch plays no package.');
    // The LMS's own bookmark starts the learner where the LMS says, when Courseport has none.
    const bookmark = input.bookmark?.trim();
    if (bookmark && attempt.current_sco === null) {
      const { manifest } = await this.packages.version(attempt.package_version_id);
      if (scoEntries(manifest).some((e) => e.item.identifier === bookmark)) {
        await trx.updateTable('attempts').set({ current_sco: bookmark }).where('id', '=', attempt.id).where('current_sco', 'is', null).execute();
      }
    }
    const after = (await findRegistration(trx, d.id, learnerId)) ?? registration;
    const dispatch = (await trx.selectFrom('dispatches').selectAll().where('id', '=', d.id).executeTakeFirst()) ?? d;
    return { dispatch, registration: after, attemptId: attempt.id, newRegistration: fresh, baseTimeMs: attempt.total_time_ms };
  }

  /** Disabled (the dispatch or its destination) or expired: no launch, and no renewal of an open player. */
  private async endedRefusal(d: Pick<Dispatch, 'enabled' | 'destination_id' | 'expires_at'>, now: number): Promise<Refusal | undefined> {
    const dest = await this.db.selectFrom('dispatch_destinations').select('enabled').where('id', '=', d.destination_id).executeTakeFirst();
    if (!d.enabled || !dest?.enabled) return REFUSALS.disabled();
    if (d.expires_at !== null && now >= d.expires_at) return REFUSALS.expired();
    return undefined;
  }

  /**
   * An open player renews its tokens (POST /play/<token>/renew): a dispatch learner's only while
   * the dispatch may still be played, so that disabling or expiry ends open sessions too.
   */
  async assertStillPlayable(userId: string, now: number): Promise<void> {
    const d = await this.db
      .selectFrom('dispatch_registrations as r')
      .innerJoin('dispatches as d', 'd.id', 'r.dispatch_id')
      .select(['d.enabled', 'd.destination_id', 'd.expires_at'])
      .where('r.user_id', '=', userId)
      .executeTakeFirst();
    const refusal = d ? await this.endedRefusal(d, now) : undefined;
    if (refusal) throw new AppError(refusal.code, refusal.message, { hint: REFUSAL_HINT });
  }

  /** After a conditional update admitted nothing: which licence rule refused (read under the same transaction). */
  private async whyRefused(trx: Kysely<Database>, id: string, now: number): Promise<Refusal> {
    const d = await trx.selectFrom('dispatches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!d || !d.enabled) return REFUSALS.disabled();
    if (d.expires_at !== null && now >= d.expires_at) return REFUSALS.expired();
    if (d.launch_cap !== null && d.launch_count >= d.launch_cap) return REFUSALS.launchCap();
    if (!d.allow_new_registrations) return REFUSALS.closed();
    return REFUSALS.cap();
  }

  private async recordRefusal(dispatchId: string, code: ErrorCode, learnerId: string, ip: string | undefined, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('dispatches').set((eb) => ({ refused_count: eb('refused_count', '+', 1) })).where('id', '=', dispatchId).execute();
      await trx
        .insertInto('dispatch_events')
        .values({ id: newId('dev'), dispatch_id: dispatchId, at: now, code, learner_id: learnerId ? learnerId.slice(0, MAX_LEARNER_ID) : null, ip: ip?.slice(0, 64) ?? null })
        .execute();
    });
  }

  // --- reports ------------------------------------------------------------------------------

  async events(dispatchId: string, limit = 100): Promise<DispatchEvent[]> {
    await this.getDispatch(dispatchId);
    return this.db.selectFrom('dispatch_events').selectAll().where('dispatch_id', '=', dispatchId).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Per registration: the learner (or hash), the latest attempt's status and score, first and last launch. */
  async report(dispatchId: string): Promise<ReportRow[]> {
    const d = await this.getDispatch(dispatchId);
    const regs = await this.db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', dispatchId).orderBy('first_launch_at').orderBy('id').execute();
    const attempts = await this.db
      .selectFrom('attempts')
      .select(['user_id', 'number', 'completion', 'success', 'score_scaled', 'score_raw', 'total_time_ms'])
      .where('resource_link_id', '=', d.resource_link_ref)
      .execute();
    const latest = new Map<string, (typeof attempts)[number]>();
    for (const a of attempts) if ((latest.get(a.user_id)?.number ?? 0) < a.number) latest.set(a.user_id, a);
    return regs.map((r) => {
      const a = latest.get(r.user_id);
      const completion = a?.completion ?? 'not attempted';
      const success = a?.success ?? 'unknown';
      const scaled = a?.score_scaled ?? null;
      return {
        registrationId: r.id,
        learnerId: r.learner_id,
        learnerName: r.learner_name,
        hashed: r.hashed === 1,
        attempt: a?.number ?? null,
        completion,
        success,
        status: success !== 'unknown' ? success : completion,
        scorePercent: scaled === null ? null : Math.round(scaled * 10000) / 100,
        timeMs: a?.total_time_ms ?? 0,
        launches: r.launch_count,
        firstLaunchAt: r.first_launch_at,
        lastLaunchAt: r.last_launch_at,
      };
    });
  }
}

async function findRegistration(db: Kysely<Database>, dispatchId: string, learnerId: string): Promise<DispatchRegistration | undefined> {
  return db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', dispatchId).where('learner_id', '=', learnerId).executeTakeFirst();
}

async function touchRegistration(db: Kysely<Database>, id: string, name: string | null, now: number): Promise<void> {
  await db
    .updateTable('dispatch_registrations')
    .set((eb) => ({ launch_count: eb('launch_count', '+', 1), last_launch_at: now, ...(name ? { learner_name: name } : {}) }))
    .where('id', '=', id)
    .execute();
}

function requireName(value: string, max = 255): string {
  const v = value.trim();
  if (!v || v.length > max) throw new AppError('VALIDATION_FAILED', `The name must be 1 to ${max} characters.`);
  return v;
}

function cleanNotes(notes: string | undefined): string | null {
  const v = notes?.trim();
  if (v && v.length > 10_000) throw new AppError('VALIDATION_FAILED', 'Notes are limited to 10000 characters.');
  return v || null;
}

function checkLicence(l: LicenceInput): LicenceInput {
  const problems: string[] = [];
  if (l.registrationCap !== undefined && (!Number.isInteger(l.registrationCap) || l.registrationCap < 0 || l.registrationCap > 1e9)) problems.push('the registration cap must be a whole number ≥ 0 (0 = unlimited)');
  if (l.launchCap !== undefined && l.launchCap !== null && (!Number.isInteger(l.launchCap) || l.launchCap < 0 || l.launchCap > 1e12)) problems.push('the launch cap must be a whole number ≥ 0 (0 = no cap)');
  if (l.expiresAt !== undefined && l.expiresAt !== null && !Number.isFinite(l.expiresAt)) problems.push('the expiry must be a date');
  if (problems.length) throw new AppError('VALIDATION_FAILED', `Invalid licence: ${problems.join('; ')}.`, { details: { problems } });
  return { ...l, ...(l.launchCap === 0 ? { launchCap: null } : {}) };
}

/** A new dispatch's expiry must lie ahead: one created already expired would refuse every launch. */
function refusePastExpiry(expiresAt: number | null | undefined, now: number): void {
  if (expiresAt === undefined || expiresAt === null || expiresAt > now) return;
  const problem = `the expiry ${new Date(expiresAt).toISOString().slice(0, 10)} is in the past (today is ${new Date(now).toISOString().slice(0, 10)}): the new dispatch would refuse every launch. Choose a later date, or none`;
  throw new AppError('VALIDATION_FAILED', `Invalid licence: ${problem}.`, { details: { problems: [problem] } });
}

/** A date for the licence: ISO 8601 (a bare date means the end of that day, UTC), `never` / empty = none. */
export function parseExpiry(value: string): number | null {
  const v = value.trim();
  if (v === '' || v === 'never' || v === 'none') return null;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T23:59:59.999Z`) : Date.parse(v);
  if (!Number.isFinite(t)) throw new AppError('VALIDATION_FAILED', `Invalid expiry date ${JSON.stringify(value)}: use YYYY-MM-DD or an ISO 8601 date-time.`);
  return t;
}

/** The JSON of a dispatch for the API and the CLI (never the secret or its seed). */
export function dispatchJson(d: Dispatch) {
  return {
    id: d.id,
    destinationId: d.destination_id,
    packageId: d.package_id,
    title: d.title,
    scormVersion: d.scorm_version,
    hashLearnerIds: d.hash_learner_ids === 1,
    licence: {
      enabled: d.enabled === 1,
      allowNewRegistrations: d.allow_new_registrations === 1,
      registrationCap: d.registration_cap,
      expiresAt: d.expires_at === null ? null : new Date(d.expires_at).toISOString(),
      launchCap: d.launch_cap,
    },
    counts: { registrations: d.registration_count, launches: d.launch_count, refused: d.refused_count },
    createdAt: new Date(d.created_at).toISOString(),
    updatedAt: new Date(d.updated_at).toISOString(),
  };
}

export function destinationJson(d: DispatchDestination) {
  return { id: d.id, name: d.name, notes: d.notes, enabled: d.enabled === 1, createdAt: new Date(d.created_at).toISOString(), updatedAt: new Date(d.updated_at).toISOString() };
}

export function eventJson(e: DispatchEvent) {
  return { at: new Date(e.at).toISOString(), code: e.code, learnerId: e.learner_id };
}

export function reportJson(r: ReportRow) {
  return {
    ...r,
    firstLaunchAt: new Date(r.firstLaunchAt).toISOString(),
    lastLaunchAt: new Date(r.lastLaunchAt).toISOString(),
  };
}
