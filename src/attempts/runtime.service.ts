import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import {
  bindResourceLinkPackage,
  findAttempt,
  findLatestAttempt,
  findResourceLinkPackageId,
  findScoRuntime,
  insertAttempt,
  insertScoRuntime,
  listScoCommitState,
  listScoStatus,
  lockAttempt,
  updateAttempt,
  type ScoStatusRow,
  updateScoRuntime,
  updateScoRuntimeIfNewer,
  newAttemptRow,
} from './attempt.repository.js';
import { findPackage, findPackageVersion } from '../packages/package.repository.js';
import type { Attempt, Database, PackageVersion } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { enqueueScore, recordAgsEndpoint } from '../grades/grade-outbox.js';
import { evaluateSco, type ScoState } from '../scorm/cmi/evaluate.js';
import type { ScormFamily } from '../scorm/cmi/model.js';
import { validateCmi } from '../scorm/cmi/validate.js';
import { formatIso8601Duration, formatScorm12Timespan } from '../scorm/duration.js';
import type { Manifest, ManifestItem } from '../scorm/manifest/types.js';
import type { PackageService } from '../packages/package.service.js';
import { addSessionTime, rollupAttempt } from '../scorm/rollup.js';

export interface RuntimeOptions {
  /** Whether a learner may start a new attempt once the previous one is completed. */
  readonly newAttemptAfterCompletion: boolean;
}

export interface Learner {
  readonly id: string;
  readonly sub: string;
  readonly name: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
}

export interface ScoLoad {
  readonly session: number;
  /** Flat CMI to initialise the runtime with: stored learner data plus what the LMS provides. */
  readonly cmi: Record<string, string>;
}

export interface CommitInput {
  readonly session: number;
  readonly seq: number;
  readonly terminate: boolean;
  readonly values: unknown;
}

export interface AttemptView {
  readonly id: string;
  readonly number: number;
  readonly completion: Attempt['completion'];
  readonly success: Attempt['success'];
  readonly scoreScaled: number | null;
  readonly scoreRaw: number | null;
  readonly scoreMin: number | null;
  readonly scoreMax: number | null;
  readonly totalTimeMs: number;
  readonly scos: Record<string, { completion: string; success: string; scoreScaled: number | null }>;
}

export const familyOf = (manifest: Manifest): ScormFamily => (manifest.version === '1.2' ? '1.2' : '2004');

/** Attempts whose package version a process remembers for its commits. */
const VERSION_CACHE_SIZE = 10_000;

/**
 * Attempts and SCO runtime data: which attempt a launch plays, what a SCO starts with,
 * and every commit, validated and evaluated on the server (the browser is not trusted
 * with status rules), with the attempt rolled up in the same transaction.
 */
export class RuntimeService {
  /** Attempt → package version, for commits (a version of an attempt never changes). */
  private readonly versions = new Map<string, string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly packages: PackageService,
    private readonly clock: Clock,
    private readonly options: RuntimeOptions,
  ) {}

  /**
   * Inside the launch transaction: binds the resource link to the package named by the
   * custom parameter (the LMS is the source of truth, so a copied course follows it),
   * and finds or starts the learner's attempt. Undefined when the link plays no package.
   */
  async openAttempt(
    trx: Kysely<Database>,
    input: { resourceLinkId: string; userId: string; customPackageId: string | undefined; platformId?: string; agsClaim?: unknown; roleKind?: string },
  ): Promise<Attempt | undefined> {
    const now = this.clock.now();
    // Where this link's grades go (AGS endpoint claim), refreshed on every launch.
    if (input.platformId && input.agsClaim !== undefined) {
      await recordAgsEndpoint(trx, { resourceLinkId: input.resourceLinkId, platformId: input.platformId, claim: input.agsClaim, now });
    }
    let packageId = await findResourceLinkPackageId(trx, input.resourceLinkId);
    if (input.customPackageId !== undefined && input.customPackageId !== packageId) {
      const pkg = await findPackage(trx, input.customPackageId);
      if (!pkg) {
        throw new AppError('PACKAGE_NOT_FOUND', `This activity points at package ${input.customPackageId}, which Courseport does not have.`, {
          hint: 'Ask your instructor to check the activity settings (custom parameter package_id) or to choose the content again.',
        });
      }
      // An archived package keeps playing where it is already bound, but no new link may take it.
      if (pkg.status === 'archived') {
        throw new AppError('PACKAGE_ARCHIVED', `This activity points at “${pkg.title}”, which has been archived in Courseport.`, {
          details: { packageId: pkg.id },
          hint: 'Ask your instructor to choose current content for this activity, or ask the Courseport administrator to unarchive the package.',
        });
      }
      await bindResourceLinkPackage(trx, input.resourceLinkId, input.customPackageId, now);
      packageId = input.customPackageId;
    }
    if (!packageId) return undefined;
    const latest = await findLatestAttempt(trx, input.resourceLinkId, input.userId);
    if (latest) {
      // The link now plays another package (content chosen again, custom parameter edited):
      // the learner starts a new attempt on it; the old attempt keeps its data.
      const version = await findPackageVersion(trx, latest.package_version_id);
      if (version && version.package_id !== packageId)
        return this.createAttempt(trx, input.resourceLinkId, input.userId, packageId, latest.number + 1, input.roleKind);
      // The same statement that records the access keeps the launch's role (no extra write).
      const changes = { last_access_at: now, ...(input.roleKind ? { role_kind: input.roleKind } : {}) };
      await updateAttempt(trx, latest.id, changes);
      return { ...latest, ...changes };
    }
    return this.createAttempt(trx, input.resourceLinkId, input.userId, packageId, 1, input.roleKind);
  }

  /** Starts the next attempt on the package's latest version, when the policy allows it. */
  async startNewAttempt(attemptId: string): Promise<Attempt> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.requireAttempt(trx, attemptId);
      const latest = await findLatestAttempt(trx, current.resource_link_id, current.user_id);
      if (!latest || latest.id !== current.id) throw new AppError('CMI_STALE_COMMIT', 'A newer attempt already exists.');
      if (!this.options.newAttemptAfterCompletion || current.completion !== 'completed') {
        throw new AppError('VALIDATION_FAILED', 'A new attempt can start only after this one is completed, when the administrator allows it.');
      }
      // The next attempt plays what the link is bound to now.
      const packageId = await findResourceLinkPackageId(trx, current.resource_link_id);
      if (!packageId) throw new AppError('PACKAGE_NOT_FOUND', 'This activity no longer plays a package.');
      return this.createAttempt(trx, current.resource_link_id, current.user_id, packageId, current.number + 1, current.role_kind ?? undefined);
    });
  }

  canStartNewAttempt(attempt: Attempt): boolean {
    return this.options.newAttemptAfterCompletion && attempt.completion === 'completed';
  }

  async attemptWithVersion(attemptId: string): Promise<{ attempt: Attempt; version: PackageVersion; manifest: Manifest }> {
    const attempt = await this.requireAttempt(this.db, attemptId);
    return { attempt, ...(await this.packages.version(attempt.package_version_id)) };
  }

  /** A SCO is about to be delivered: opens a new session and returns its starting data. */
  async loadSco(attemptId: string, scoId: string, learner: Learner): Promise<ScoLoad> {
    const { manifest } = await this.attemptWithVersion(attemptId);
    const item = findSco(manifest, scoId);
    const family = familyOf(manifest);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      // The attempt first, as every writer of its SCOs does (commit): one lock order, no deadlock,
      // and two loads of a new SCO at once cannot both insert it.
      await updateAttempt(trx, attemptId, { current_sco: scoId, last_access_at: now });
      const row = await findScoRuntime(trx, attemptId, scoId);
      let session: number;
      let stored: Record<string, string> = {};
      let entry: string;
      let totalMs = 0;
      if (!row) {
        session = 1;
        entry = 'ab-initio';
        await insertScoRuntime(trx, {
          attempt_id: attemptId,
          sco_id: scoId,
          cmi: '{}',
          session_no: 1,
          commit_session: 0,
          commit_seq: 0,
          timed_session: 0,
          total_time_ms: 0,
          completion: 'not attempted',
          success: 'unknown',
          score_scaled: null,
          score_raw: null,
          score_min: null,
          score_max: null,
          suspended: 0,
          updated_at: now,
        });
      } else {
        session = row.session_no + 1;
        stored = JSON.parse(row.cmi) as Record<string, string>;
        entry = row.suspended ? 'resume' : '';
        totalMs = row.total_time_ms;
        await updateScoRuntime(trx, attemptId, scoId, { session_no: session, updated_at: now });
      }
      return { session, cmi: initialCmi(family, stored, item, learner, { entry, totalMs, credit: true }) };
    });
  }

  /** One commit from the runtime (LMSCommit/Commit, LMSFinish/Terminate, or the pagehide beacon). */
  async commit(attemptId: string, scoId: string, input: CommitInput): Promise<AttemptView> {
    // The package version of an attempt never changes: known once per process, read outside the transaction, for the rules.
    const { manifest } = await this.packages.version(await this.versionOf(attemptId));
    const item = findSco(manifest, scoId);
    const family = familyOf(manifest);
    const values = validateCmi(family, stripContainers(input.values));
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      // Everything below decides from what it reads: under the attempt's lock, which every commit
      // and load of the attempt takes first (a periodic commit racing the page-hide beacon, SCOs
      // finishing at once), so the newest commit wins and the rollup sees every SCO's last state.
      const attempt = await lockAttempt(trx, attemptId, now);
      if (!attempt)
        throw new AppError('LAUNCH_TOKEN_INVALID', 'This attempt no longer exists.', { hint: 'Open the activity again from your course in the LMS.' });
      const scos = await listScoCommitState(trx, attemptId);
      const row = scos.find((r) => r.sco_id === scoId);
      if (!row || input.session < 1) {
        throw new AppError('CMI_STALE_COMMIT', 'This commit belongs to no session Courseport started for this SCO.');
      }
      // Only the newest session writes: once a SCO is delivered again, it started from the stored
      // data, and a late commit of an older session must not change it underneath.
      if (input.session !== row.session_no || (input.session === row.commit_session && input.seq <= row.commit_seq)) {
        throw new AppError('CMI_STALE_COMMIT', 'A newer commit or session has already been stored for this SCO.', {
          details: { stored: { session: row.commit_session, seq: row.commit_seq }, latestSession: row.session_no },
        });
      }
      const { cmi, state } = evaluateSco(family, values, rulesOf(item), { terminated: input.terminate, credit: true });
      const sessionTime = family === '1.2' ? cmi['cmi.core.session_time'] : cmi['cmi.session_time'];
      const countTime = input.terminate && row.timed_session < input.session;
      const total = countTime ? addSessionTime(row.total_time_ms, sessionTime, family) : row.total_time_ms;
      const status: ScoStatusRow = {
        sco_id: scoId,
        completion: state.completion,
        success: state.success,
        score_scaled: state.scoreScaled ?? null,
        score_raw: state.scoreRaw ?? null,
        score_min: state.scoreMin ?? null,
        score_max: state.scoreMax ?? null,
        total_time_ms: total,
        suspended: state.suspended ? 1 : 0,
      };
      const stored = await updateScoRuntimeIfNewer(
        trx,
        attemptId,
        scoId,
        { session: input.session, seq: input.seq },
        { ...status, cmi: JSON.stringify(cmi), timed_session: countTime ? input.session : row.timed_session, updated_at: now },
      );
      if (!stored) throw new AppError('CMI_STALE_COMMIT', 'A newer commit or session has already been stored for this SCO.');
      const rows = scos.map((r): ScoStatusRow => (r.sco_id === scoId ? status : r));
      return this.rollup(trx, attempt, manifest, rows, now);
    });
  }

  private async rollup(trx: Kysely<Database>, attempt: Attempt, manifest: Manifest, rows: ScoStatusRow[], now: number): Promise<AttemptView> {
    const byId = new Map(rows.map((r) => [r.sco_id, r]));
    const rolled = rollupAttempt(
      manifest.scos.map((sco) => {
        const r = byId.get(sco.identifier);
        return {
          state: r ? scoStateOf(r) : undefined,
          scored: sco.masteryScore !== undefined || sco.scaledPassingScore !== undefined || r?.score_scaled != null,
        };
      }),
    );
    const totalTimeMs = rows.reduce((sum, r) => sum + r.total_time_ms, 0);
    const changes = {
      completion: rolled.completion,
      success: rolled.success,
      score_scaled: rolled.scoreScaled ?? null,
      score_raw: rolled.scoreRaw ?? null,
      score_min: rolled.scoreMin ?? null,
      score_max: rolled.scoreMax ?? null,
      total_time_ms: totalTimeMs,
      last_access_at: now,
      completed_at: attempt.completed_at ?? (rolled.completion === 'completed' ? now : null),
    };
    await updateAttempt(trx, attempt.id, changes);
    // The score for the gradebook is a row of the same transaction: it cannot be lost.
    await enqueueScore(trx, attempt, { ...attempt, ...changes }, now);
    return attemptView({ ...attempt, ...changes }, rows);
  }

  async view(attemptId: string): Promise<AttemptView> {
    const attempt = await this.requireAttempt(this.db, attemptId);
    return attemptView(attempt, await listScoStatus(this.db, attemptId));
  }

  private async createAttempt(
    trx: Kysely<Database>,
    resourceLinkId: string,
    userId: string,
    packageId: string,
    number: number,
    roleKind?: string,
  ): Promise<Attempt> {
    const pkg = await findPackage(trx, packageId);
    if (!pkg?.latest_version_id) throw new AppError('PACKAGE_NOT_FOUND', `Package ${packageId} has no version to play.`);
    const now = this.clock.now();
    const attempt = newAttemptRow(
      { id: newId('att'), user_id: userId, resource_link_id: resourceLinkId, package_version_id: pkg.latest_version_id, number, role_kind: roleKind ?? null },
      now,
    );
    // Two first launches at once: the unique (link, user, number) decides, the loser reads the winner's.
    if (!(await insertAttempt(trx, attempt))) {
      const existing = await findLatestAttempt(trx, resourceLinkId, userId);
      if (!existing) throw new AppError('INTERNAL', 'The attempt could not be created.');
      return existing;
    }
    return attempt;
  }

  /** The attempt's package version (immutable: remembered, in a bounded map). */
  private async versionOf(attemptId: string): Promise<string> {
    const known = this.versions.get(attemptId);
    if (known) return known;
    const { package_version_id: versionId } = await this.requireAttempt(this.db, attemptId);
    if (this.versions.size >= VERSION_CACHE_SIZE) this.versions.delete(this.versions.keys().next().value as string);
    this.versions.set(attemptId, versionId);
    return versionId;
  }

  private async requireAttempt(db: Kysely<Database>, id: string): Promise<Attempt> {
    const a = await findAttempt(db, id);
    if (!a) throw new AppError('LAUNCH_TOKEN_INVALID', 'This attempt no longer exists.', { hint: 'Open the activity again from your course in the LMS.' });
    return a;
  }
}

function attemptView(attempt: Attempt, rows: readonly ScoStatusRow[]): AttemptView {
  return {
    id: attempt.id,
    number: attempt.number,
    completion: attempt.completion,
    success: attempt.success,
    scoreScaled: attempt.score_scaled,
    scoreRaw: attempt.score_raw,
    scoreMin: attempt.score_min,
    scoreMax: attempt.score_max,
    totalTimeMs: attempt.total_time_ms,
    scos: Object.fromEntries(rows.map((r) => [r.sco_id, { completion: r.completion, success: r.success, scoreScaled: r.score_scaled }])),
  };
}

export function findSco(manifest: Manifest, scoId: string): ManifestItem {
  const item = manifest.scos.find((s) => s.identifier === scoId);
  if (!item) throw new AppError('NOT_FOUND', `This package has no SCO ${scoId}.`);
  return item;
}

function rulesOf(item: ManifestItem) {
  return {
    ...(item.masteryScore !== undefined ? { masteryScore: item.masteryScore } : {}),
    ...(item.scaledPassingScore !== undefined ? { scaledPassingScore: item.scaledPassingScore } : {}),
    ...(item.completionThreshold !== undefined ? { completionThreshold: item.completionThreshold.minProgressMeasure } : {}),
  };
}

function scoStateOf(r: ScoStatusRow): ScoState {
  return {
    completion: r.completion as ScoState['completion'],
    success: r.success as ScoState['success'],
    ...(r.score_raw !== null ? { scoreRaw: r.score_raw } : {}),
    ...(r.score_min !== null ? { scoreMin: r.score_min } : {}),
    ...(r.score_max !== null ? { scoreMax: r.score_max } : {}),
    ...(r.score_scaled !== null ? { scoreScaled: r.score_scaled } : {}),
    suspended: r.suspended === 1,
  };
}

/** scorm-again's flattened commits carry empty objects for empty arrays and a few meta fields. */
function stripContainers(values: unknown): Record<string, unknown> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new AppError('CMI_INVALID', 'The commit must be a JSON object of CMI elements.');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

/** SCORM 2004 RTE 4.2.17: objectives the manifest declares exist for the SCO from its first launch on. */
function addDeclaredObjectives(cmi: Record<string, string>, ids: readonly string[]): void {
  const known = new Set<string>();
  let count = 0;
  while (cmi[`cmi.objectives.${count}.id`] !== undefined) known.add(cmi[`cmi.objectives.${count++}.id`]!);
  for (const id of ids) if (!known.has(id)) cmi[`cmi.objectives.${count++}.id`] = id;
}

/** What the LMS hands a SCO at start: the learner's saved data and the LMS-provided elements. */
export function initialCmi(
  family: ScormFamily,
  stored: Record<string, string>,
  item: ManifestItem,
  learner: Learner,
  ctx: { entry: string; totalMs: number; credit: boolean },
): Record<string, string> {
  const cmi: Record<string, string> = { ...stored };
  const display = learner.familyName && learner.givenName ? `${learner.familyName}, ${learner.givenName}` : (learner.name ?? learner.sub);
  if (family === '1.2') {
    delete cmi['cmi.core.session_time'];
    delete cmi['cmi.core.exit'];
    cmi['cmi.core.student_id'] = learner.sub;
    cmi['cmi.core.student_name'] = display;
    cmi['cmi.core.credit'] = ctx.credit ? 'credit' : 'no-credit';
    cmi['cmi.core.entry'] = ctx.entry;
    cmi['cmi.core.lesson_mode'] = 'normal';
    cmi['cmi.core.total_time'] = formatScorm12Timespan(ctx.totalMs);
    cmi['cmi.core.lesson_status'] ??= 'not attempted';
    if (item.dataFromLMS !== undefined) cmi['cmi.launch_data'] = item.dataFromLMS;
    if (item.masteryScore !== undefined) cmi['cmi.student_data.mastery_score'] = String(item.masteryScore);
    if (item.maxTimeAllowed !== undefined) cmi['cmi.student_data.max_time_allowed'] = item.maxTimeAllowed;
    if (item.timeLimitAction !== undefined) cmi['cmi.student_data.time_limit_action'] = item.timeLimitAction;
  } else {
    delete cmi['cmi.session_time'];
    delete cmi['cmi.exit'];
    delete cmi['adl.nav.request'];
    cmi['cmi.learner_id'] = learner.sub;
    cmi['cmi.learner_name'] = learner.name ?? display;
    cmi['cmi.credit'] = ctx.credit ? 'credit' : 'no-credit';
    cmi['cmi.entry'] = ctx.entry;
    cmi['cmi.mode'] = 'normal';
    cmi['cmi.total_time'] = formatIso8601Duration(ctx.totalMs);
    if (item.dataFromLMS !== undefined) cmi['cmi.launch_data'] = item.dataFromLMS;
    if (item.scaledPassingScore !== undefined) cmi['cmi.scaled_passing_score'] = String(item.scaledPassingScore);
    if (item.completionThreshold !== undefined) cmi['cmi.completion_threshold'] = String(item.completionThreshold.minProgressMeasure);
    if (item.maxTimeAllowed !== undefined) cmi['cmi.max_time_allowed'] = item.maxTimeAllowed;
    if (item.timeLimitAction !== undefined) cmi['cmi.time_limit_action'] = item.timeLimitAction;
    addDeclaredObjectives(cmi, item.objectiveIds ?? []);
  }
  return cmi;
}
