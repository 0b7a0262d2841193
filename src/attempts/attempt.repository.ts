import type { Kysely } from 'kysely';
import type { Attempt, Database, ScoRuntime } from '../store/tables.js';
import { PreparedQuery } from '../store/prepared.js';

/** Read by every launch of a resource link (compiled once, prepared.ts). */
const packageOfLink = new PreparedQuery('findResourceLinkPackageId', (db, a: { resourceLinkId: string }) =>
  db.selectFrom('resource_links').select('package_id').where('id', '=', a.resourceLinkId),
);

export async function findLatestAttempt(db: Kysely<Database>, resourceLinkId: string, userId: string): Promise<Attempt | undefined> {
  return db
    .selectFrom('attempts')
    .selectAll()
    .where('resource_link_id', '=', resourceLinkId)
    .where('user_id', '=', userId)
    .orderBy('number', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function findAttempt(db: Kysely<Database>, id: string): Promise<Attempt | undefined> {
  return db.selectFrom('attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts unless (link, user, number) exists already; false when another insert got there first. */
export async function insertAttempt(db: Kysely<Database>, attempt: Attempt): Promise<boolean> {
  const r = await db
    .insertInto('attempts')
    .values(attempt)
    .onConflict((oc) => oc.columns(['resource_link_id', 'user_id', 'number']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function updateAttempt(db: Kysely<Database>, id: string, changes: Partial<Omit<Attempt, 'id'>>): Promise<void> {
  await db.updateTable('attempts').set(changes).where('id', '=', id).execute();
}

/**
 * Locks the attempt for the rest of the transaction and reads it, as it is now. Every change
 * of an attempt's SCO data and of its rollup takes this lock first, so two commits of one
 * attempt (of one SCO, or of two SCOs finishing at once) run one after the other and each
 * reads what the other wrote. UPDATE … RETURNING takes PostgreSQL's row lock (as SELECT … FOR
 * UPDATE would) on both engines' syntax; on SQLite the transaction holds the write lock anyway
 * (BEGIN IMMEDIATE, see database.ts).
 */
export async function lockAttempt(db: Kysely<Database>, id: string, now: number): Promise<Attempt | undefined> {
  return db.updateTable('attempts').set({ last_access_at: now }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function findScoRuntime(db: Kysely<Database>, attemptId: string, scoId: string): Promise<ScoRuntime | undefined> {
  return db.selectFrom('sco_runtime').selectAll().where('attempt_id', '=', attemptId).where('sco_id', '=', scoId).executeTakeFirst();
}

export async function listScoRuntime(db: Kysely<Database>, attemptId: string): Promise<ScoRuntime[]> {
  return db.selectFrom('sco_runtime').selectAll().where('attempt_id', '=', attemptId).execute();
}

export type ScoStatusRow = Pick<
  ScoRuntime,
  'sco_id' | 'completion' | 'success' | 'score_scaled' | 'score_raw' | 'score_min' | 'score_max' | 'total_time_ms' | 'suspended'
>;

/** The per-SCO status columns of an attempt (not the CMI data), for the rollup. */
export async function listScoStatus(db: Kysely<Database>, attemptId: string): Promise<ScoStatusRow[]> {
  return db
    .selectFrom('sco_runtime')
    .select(['sco_id', 'completion', 'success', 'score_scaled', 'score_raw', 'score_min', 'score_max', 'total_time_ms', 'suspended'])
    .where('attempt_id', '=', attemptId)
    .execute();
}

export type ScoCommitRow = ScoStatusRow & Pick<ScoRuntime, 'session_no' | 'commit_session' | 'commit_seq' | 'timed_session'>;

/**
 * Every SCO of an attempt as a commit needs it — the status columns for the rollup and the
 * session and sequence of the committed one — in one statement, without the CMI data (a
 * commit replaces it whole).
 */
export async function listScoCommitState(db: Kysely<Database>, attemptId: string): Promise<ScoCommitRow[]> {
  return db
    .selectFrom('sco_runtime')
    .select([
      'sco_id',
      'completion',
      'success',
      'score_scaled',
      'score_raw',
      'score_min',
      'score_max',
      'total_time_ms',
      'suspended',
      'session_no',
      'commit_session',
      'commit_seq',
      'timed_session',
    ])
    .where('attempt_id', '=', attemptId)
    .execute();
}

export async function insertScoRuntime(db: Kysely<Database>, row: ScoRuntime): Promise<void> {
  await db.insertInto('sco_runtime').values(row).execute();
}

export async function updateScoRuntime(
  db: Kysely<Database>,
  attemptId: string,
  scoId: string,
  changes: Partial<Omit<ScoRuntime, 'attempt_id' | 'sco_id'>>,
): Promise<void> {
  await db.updateTable('sco_runtime').set(changes).where('attempt_id', '=', attemptId).where('sco_id', '=', scoId).execute();
}

/**
 * Stores a commit unless it is stale: the SCO's latest session, and newer than the stored
 * (session, sequence). The condition is part of the UPDATE, so no read taken earlier can let an
 * older commit overwrite a newer one. False when nothing was written.
 */
export async function updateScoRuntimeIfNewer(
  db: Kysely<Database>,
  attemptId: string,
  scoId: string,
  commit: { readonly session: number; readonly seq: number },
  changes: Partial<Omit<ScoRuntime, 'attempt_id' | 'sco_id' | 'commit_session' | 'commit_seq'>>,
): Promise<boolean> {
  const r = await db
    .updateTable('sco_runtime')
    .set({ ...changes, commit_session: commit.session, commit_seq: commit.seq })
    .where('attempt_id', '=', attemptId)
    .where('sco_id', '=', scoId)
    .where('session_no', '=', commit.session)
    .where((eb) => eb.or([eb('commit_session', '<', commit.session), eb.and([eb('commit_session', '=', commit.session), eb('commit_seq', '<', commit.seq)])]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function bindResourceLinkPackage(db: Kysely<Database>, resourceLinkId: string, packageId: string, now: number): Promise<void> {
  await db.updateTable('resource_links').set({ package_id: packageId, updated_at: now }).where('id', '=', resourceLinkId).execute();
}

export async function findResourceLinkPackageId(db: Kysely<Database>, resourceLinkId: string): Promise<string | null> {
  const row = await packageOfLink.first(db, { resourceLinkId });
  return row?.package_id ?? null;
}

/** The learner's display name for the player header. */
export async function findAttemptUser(db: Kysely<Database>, userId: string): Promise<{ name: string | null; sub: string; platform_id: string }> {
  return db.selectFrom('users').select(['name', 'sub', 'platform_id']).where('id', '=', userId).executeTakeFirstOrThrow();
}

/**
 * Who the SCO is told the learner is. A content-dispatch learner is the LMS's learner id (or its
 * hash), not Courseport's internal user.
 */
export async function findAttemptLearner(
  db: Kysely<Database>,
  attemptId: string,
): Promise<{ id: string; sub: string; name: string | null; givenName: string | null; familyName: string | null; dispatchLearner: string | null } | undefined> {
  return db
    .selectFrom('attempts as a')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .leftJoin('dispatch_registrations as dr', 'dr.user_id', 'u.id')
    .select(['u.id as id', 'u.sub as sub', 'u.name as name', 'u.given_name as givenName', 'u.family_name as familyName', 'dr.learner_id as dispatchLearner'])
    .where('a.id', '=', attemptId)
    .executeTakeFirst();
}

/** A new attempt's row: nothing played yet. */
export function newAttemptRow(a: Pick<Attempt, 'id' | 'user_id' | 'resource_link_id' | 'package_version_id' | 'number' | 'role_kind'>, now: number): Attempt {
  return {
    ...a,
    completion: 'not attempted',
    success: 'unknown',
    score_scaled: null,
    score_raw: null,
    score_min: null,
    score_max: null,
    total_time_ms: 0,
    current_sco: null,
    started_at: now,
    last_access_at: now,
    completed_at: null,
  };
}
