import type { Kysely } from 'kysely';
import type { RuntimeService } from '../attempts/runtime.service.js';
import { AppError } from '../errors/app-error.js';
import type { PackageService } from '../packages/package.service.js';
import type { Database, Dispatch, DispatchDestination, DispatchEvent } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';
import { checkTitle, fitTitle } from '../packages/titles.js';
import { DispatchAdmission, dispatchSecret, type Admission, type DispatchLaunchInput } from './dispatch-admission.js';
import { dispatchReport, type ReportRow } from './dispatch-reports.js';
import * as repo from './dispatch.repository.js';

// The HTTP adapters import the JSON views from this module.

/*
 * Content dispatch: destinations (customers) and dispatches (one package for one destination)
 * with their licence. A dispatch owns an internal deployment and resource link under one
 * internal, disabled platform row, and each LMS learner is an internal user: attempts, SCO
 * runtime, rollup and resume are exactly those of LTI launches (RuntimeService), nothing
 * duplicated. Launch admission is in dispatch-admission.ts, reports in dispatch-reports.ts.
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

export class DispatchService {
  private readonly admission: DispatchAdmission;

  constructor(
    private readonly db: Kysely<Database>,
    runtime: RuntimeService,
    private readonly packages: PackageService,
    private readonly clock: Clock,
    /** Key derived from COURSEPORT_SECRET that dispatch secrets are HMACs under. */
    private readonly secretKey: Buffer,
  ) {
    this.admission = new DispatchAdmission(db, runtime, packages, clock, secretKey);
  }

  // --- destinations ------------------------------------------------------------------------

  async createDestination(input: { name: string; notes?: string | undefined; enabled?: boolean | undefined }): Promise<DispatchDestination> {
    const name = requireName(input.name);
    const now = this.clock.now();
    const row: DispatchDestination = {
      id: newId('dst'),
      name,
      notes: cleanNotes(input.notes),
      enabled: input.enabled === false ? 0 : 1,
      created_at: now,
      updated_at: now,
    };
    await repo.insertDestination(this.db, row);
    return row;
  }

  async listDestinations(): Promise<DispatchDestination[]> {
    return repo.listDestinations(this.db);
  }

  async getDestination(id: string): Promise<DispatchDestination> {
    const row = await repo.findDestination(this.db, id);
    if (!row) throw new AppError('DESTINATION_NOT_FOUND', `No destination with id ${id}.`);
    return row;
  }

  async updateDestination(
    id: string,
    changes: { name?: string | undefined; notes?: string | null | undefined; enabled?: boolean | undefined },
  ): Promise<DispatchDestination> {
    await this.getDestination(id);
    const set: Partial<DispatchDestination> = { updated_at: this.clock.now() };
    if (changes.name !== undefined) set.name = requireName(changes.name);
    if (changes.notes !== undefined) set.notes = cleanNotes(changes.notes ?? undefined);
    if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
    await repo.updateDestination(this.db, id, set);
    return this.getDestination(id);
  }

  /** Deletes the destination and every dispatch of it (their packages stop working). */
  async deleteDestination(id: string): Promise<{ dispatches: number }> {
    await this.getDestination(id);
    const ids = await repo.listDispatchIdsOfDestination(this.db, id);
    for (const d of ids) await this.deleteDispatch(d);
    await repo.deleteDestination(this.db, id);
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
    await this.db.transaction().execute((trx) => repo.insertDispatch(trx, row));
    return row;
  }

  async listDispatches(filter: { destinationId?: string | undefined } = {}): Promise<Dispatch[]> {
    return repo.listDispatches(this.db, filter);
  }

  async getDispatch(id: string): Promise<Dispatch> {
    const row = await repo.findDispatch(this.db, id);
    if (!row) throw new AppError('DISPATCH_NOT_FOUND', `No dispatch with id ${id}.`);
    return row;
  }

  /** Changes the licence (and title / hashing). Returns the dispatch after the change. */
  async updateDispatch(
    id: string,
    changes: LicenceInput & { title?: string | undefined; hashLearnerIds?: boolean | undefined; scormVersion?: DispatchScormVersion | undefined },
  ): Promise<Dispatch> {
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
    await repo.updateDispatch(this.db, id, set);
    return this.getDispatch(id);
  }

  /** A new secret: every package exported before stops working at its next launch. */
  async rotateSecret(id: string): Promise<Dispatch> {
    await this.getDispatch(id);
    await repo.updateDispatch(this.db, id, { secret_seed: randomToken(24), updated_at: this.clock.now() });
    return this.getDispatch(id);
  }

  /** Deletes the dispatch with its learners' records; every copy of its package stops working. */
  async deleteDispatch(id: string): Promise<void> {
    const d = await this.getDispatch(id);
    await this.db.transaction().execute((trx) => repo.deleteDispatch(trx, d));
  }

  /** The secret the dispatch's packages carry: derived, never stored. */
  secretOf(d: Pick<Dispatch, 'id' | 'secret_seed'>): string {
    return dispatchSecret(this.secretKey, d);
  }

  // --- launch (dispatch-admission.ts) ---------------------------------------------------------

  admit(input: DispatchLaunchInput): Promise<Admission> {
    return this.admission.admit(input);
  }

  assertStillPlayable(userId: string, now: number): Promise<void> {
    return this.admission.assertStillPlayable(userId, now);
  }

  // --- reports (dispatch-reports.ts) ----------------------------------------------------------

  async events(dispatchId: string, limit = 100): Promise<DispatchEvent[]> {
    await this.getDispatch(dispatchId);
    return repo.listEvents(this.db, dispatchId, limit);
  }

  async report(dispatchId: string): Promise<ReportRow[]> {
    return dispatchReport(this.db, await this.getDispatch(dispatchId));
  }
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

/** A new dispatch's expiry must lie ahead: one created already expired would refuse every launch. */
function refusePastExpiry(expiresAt: number | null | undefined, now: number): void {
  if (expiresAt === undefined || expiresAt === null || expiresAt > now) return;
  const problem = `the expiry ${new Date(expiresAt).toISOString().slice(0, 10)} is in the past (today is ${new Date(now).toISOString().slice(0, 10)}): the new dispatch would refuse every launch. Choose a later date, or none`;
  throw new AppError('VALIDATION_FAILED', `Invalid licence: ${problem}.`, { details: { problems: [problem] } });
}

function checkLicence(l: LicenceInput): LicenceInput {
  const problems: string[] = [];
  if (l.registrationCap !== undefined && (!Number.isInteger(l.registrationCap) || l.registrationCap < 0 || l.registrationCap > 1e9))
    problems.push('the registration cap must be a whole number ≥ 0 (0 = unlimited)');
  if (l.launchCap !== undefined && l.launchCap !== null && (!Number.isInteger(l.launchCap) || l.launchCap < 0 || l.launchCap > 1e12))
    problems.push('the launch cap must be a whole number ≥ 0 (0 = no cap)');
  if (l.expiresAt !== undefined && l.expiresAt !== null && !Number.isFinite(l.expiresAt)) problems.push('the expiry must be a date');
  if (problems.length) throw new AppError('VALIDATION_FAILED', `Invalid licence: ${problems.join('; ')}.`, { details: { problems } });
  return { ...l, ...(l.launchCap === 0 ? { launchCap: null } : {}) };
}

/** A date for the licence: ISO 8601 (a bare date means the end of that day, UTC), `never` / empty = none. */
export function parseExpiry(value: string): number | null {
  const v = value.trim();
  if (v === '' || v === 'never' || v === 'none') return null;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T23:59:59.999Z`) : Date.parse(v);
  if (!Number.isFinite(t)) throw new AppError('VALIDATION_FAILED', `Invalid expiry date ${JSON.stringify(value)}: use YYYY-MM-DD or an ISO 8601 date-time.`);
  return t;
}
