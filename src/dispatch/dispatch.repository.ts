import type { ExpressionBuilder, Kysely, Updateable } from 'kysely';
import { DISPATCH_PLATFORM_ID, ensureInternalPlatform } from '../platforms/platform.repository.js';
import type {
  Attempt,
  Database,
  Dispatch,
  DispatchDestination,
  DispatchDestinationTable,
  DispatchEvent,
  DispatchRegistration,
  DispatchTable,
} from '../store/tables.js';

// --- destinations ----------------------------------------------------------------------------

export async function insertDestination(db: Kysely<Database>, row: DispatchDestination): Promise<void> {
  await db.insertInto('dispatch_destinations').values(row).execute();
}

export async function listDestinations(db: Kysely<Database>): Promise<DispatchDestination[]> {
  return db.selectFrom('dispatch_destinations').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function findDestination(db: Kysely<Database>, id: string): Promise<DispatchDestination | undefined> {
  return db.selectFrom('dispatch_destinations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateDestination(db: Kysely<Database>, id: string, changes: Updateable<DispatchDestinationTable>): Promise<void> {
  await db.updateTable('dispatch_destinations').set(changes).where('id', '=', id).execute();
}

export async function deleteDestination(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('dispatch_destinations').where('id', '=', id).execute();
}

/** Whether a destination exists and is enabled (a missing one is not). */
export async function isDestinationEnabled(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db.selectFrom('dispatch_destinations').select('enabled').where('id', '=', id).executeTakeFirst();
  return Boolean(row?.enabled);
}

// --- dispatches ------------------------------------------------------------------------------

export async function listDispatchIdsOfDestination(db: Kysely<Database>, destinationId: string): Promise<string[]> {
  return (await db.selectFrom('dispatches').select('id').where('destination_id', '=', destinationId).execute()).map((r) => r.id);
}

/**
 * A new dispatch with the internal deployment and resource link that own its learners'
 * attempts, under the internal platform row (created on first use: disabled, keyless, never
 * an LMS). Several statements: run it in the caller's transaction.
 */
export async function insertDispatch(trx: Kysely<Database>, row: Dispatch): Promise<void> {
  const now = row.created_at;
  await ensureInternalPlatform(trx, { id: DISPATCH_PLATFORM_ID, name: 'Courseport content dispatch (internal)', kind: 'dispatch' }, now);
  await trx
    .insertInto('deployments')
    .values({ id: row.deployment_ref, platform_id: DISPATCH_PLATFORM_ID, deployment_id: row.id, name: `dispatch ${row.id}`, created_at: now })
    .execute();
  await trx
    .insertInto('resource_links')
    .values({
      id: row.resource_link_ref,
      platform_id: DISPATCH_PLATFORM_ID,
      deployment_id: row.deployment_ref,
      context_id: null,
      resource_link_id: row.id,
      title: row.title,
      description: null,
      package_id: row.package_id,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await trx.insertInto('dispatches').values(row).execute();
}

export async function listDispatches(db: Kysely<Database>, filter: { destinationId?: string | undefined } = {}): Promise<Dispatch[]> {
  let q = db.selectFrom('dispatches').selectAll();
  if (filter.destinationId) q = q.where('destination_id', '=', filter.destinationId);
  return q.orderBy('created_at').orderBy('id').execute();
}

export async function findDispatch(db: Kysely<Database>, id: string): Promise<Dispatch | undefined> {
  return db.selectFrom('dispatches').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateDispatch(db: Kysely<Database>, id: string, changes: Updateable<DispatchTable>): Promise<void> {
  await db.updateTable('dispatches').set(changes).where('id', '=', id).execute();
}

/**
 * Deletes a dispatch with its learners: the deployment cascades to the internal resource link,
 * its attempts and their SCO data; the internal users go by id. Run it in the caller's transaction.
 */
export async function deleteDispatch(trx: Kysely<Database>, d: Pick<Dispatch, 'id' | 'deployment_ref'>): Promise<void> {
  const users = (await trx.selectFrom('dispatch_registrations').select('user_id').where('dispatch_id', '=', d.id).execute()).map((r) => r.user_id);
  await trx.deleteFrom('dispatches').where('id', '=', d.id).execute();
  await trx.deleteFrom('deployments').where('id', '=', d.deployment_ref).execute();
  for (let i = 0; i < users.length; i += 500)
    await trx
      .deleteFrom('users')
      .where('id', 'in', users.slice(i, i + 500))
      .execute();
}

// --- launch admission --------------------------------------------------------------------------
// Counting is done by conditional updates that re-check the licence in their WHERE clause: the
// row lock (PostgreSQL) or the single writer (SQLite) serialises concurrent launches on it.

/** The licence rules every counted launch re-checks inside its UPDATE: enabled, not expired, under the launch cap. */
function stillValid(now: number) {
  return (eb: ExpressionBuilder<Database, 'dispatches'>) =>
    eb.and([
      eb('enabled', '=', 1),
      eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
      eb.or([eb('launch_cap', 'is', null), eb('launch_count', '<', eb.ref('launch_cap'))]),
    ]);
}

/** Counts a new learner and their launch if the licence admits them; false when it does not. */
export async function countNewRegistration(trx: Kysely<Database>, dispatchId: string, now: number): Promise<boolean> {
  const counted = await trx
    .updateTable('dispatches')
    .set((eb) => ({ registration_count: eb('registration_count', '+', 1), launch_count: eb('launch_count', '+', 1) }))
    .where('id', '=', dispatchId)
    .where('allow_new_registrations', '=', 1)
    .where((eb) => eb.or([eb('registration_cap', '=', 0), eb('registration_count', '<', eb.ref('registration_cap'))]))
    .where(stillValid(now))
    .executeTakeFirst();
  return Number(counted.numUpdatedRows) === 1;
}

/** Takes back a registration counted by countNewRegistration (the learner turned out to exist). */
export async function uncountRegistration(trx: Kysely<Database>, dispatchId: string): Promise<void> {
  await trx
    .updateTable('dispatches')
    .set((eb) => ({ registration_count: eb('registration_count', '-', 1) }))
    .where('id', '=', dispatchId)
    .execute();
}

/** Counts a registered learner's launch if the licence admits it; false when it does not. */
export async function countLaunch(trx: Kysely<Database>, dispatchId: string, now: number): Promise<boolean> {
  const r = await trx
    .updateTable('dispatches')
    .set((eb) => ({ launch_count: eb('launch_count', '+', 1) }))
    .where('id', '=', dispatchId)
    .where(stillValid(now))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function findRegistration(db: Kysely<Database>, dispatchId: string, learnerId: string): Promise<DispatchRegistration | undefined> {
  return db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', dispatchId).where('learner_id', '=', learnerId).executeTakeFirst();
}

/** The internal user a dispatch learner plays as (under the internal platform; `sub` is the registration id). */
export async function insertLearnerUser(trx: Kysely<Database>, user: { id: string; sub: string; name: string | null; now: number }): Promise<void> {
  await trx
    .insertInto('users')
    .values({
      id: user.id,
      platform_id: DISPATCH_PLATFORM_ID,
      sub: user.sub,
      name: user.name,
      given_name: null,
      family_name: null,
      email: null,
      picture: null,
      created_at: user.now,
      updated_at: user.now,
    })
    .execute();
}

export async function deleteLearnerUser(trx: Kysely<Database>, userId: string): Promise<void> {
  await trx.deleteFrom('users').where('id', '=', userId).execute();
}

export async function renameLearnerUser(trx: Kysely<Database>, userId: string, name: string, now: number): Promise<void> {
  await trx.updateTable('users').set({ name, updated_at: now }).where('id', '=', userId).execute();
}

/** Inserts the registration unless the learner already has one (unique on dispatch and learner id): true when inserted. */
export async function insertRegistration(trx: Kysely<Database>, row: DispatchRegistration): Promise<boolean> {
  const inserted = await trx
    .insertInto('dispatch_registrations')
    .values(row)
    .onConflict((oc) => oc.columns(['dispatch_id', 'learner_id']).doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** One more launch of a registered learner (and their latest name, when given). */
export async function touchRegistration(trx: Kysely<Database>, id: string, name: string | null, now: number): Promise<void> {
  await trx
    .updateTable('dispatch_registrations')
    .set((eb) => ({ launch_count: eb('launch_count', '+', 1), last_launch_at: now, ...(name ? { learner_name: name } : {}) }))
    .where('id', '=', id)
    .execute();
}

/** Where a new attempt starts: only while Courseport has no position of its own for it. */
export async function setAttemptStartSco(trx: Kysely<Database>, attemptId: string, scoId: string): Promise<void> {
  await trx.updateTable('attempts').set({ current_sco: scoId }).where('id', '=', attemptId).where('current_sco', 'is', null).execute();
}

/** The licence state of the dispatch a learner (internal user) belongs to. */
export async function findDispatchOfLearner(
  db: Kysely<Database>,
  userId: string,
): Promise<Pick<Dispatch, 'enabled' | 'destination_id' | 'expires_at'> | undefined> {
  return db
    .selectFrom('dispatch_registrations as r')
    .innerJoin('dispatches as d', 'd.id', 'r.dispatch_id')
    .select(['d.enabled', 'd.destination_id', 'd.expires_at'])
    .where('r.user_id', '=', userId)
    .executeTakeFirst();
}

/** A refused launch: counted on the dispatch and listed as an event. Two statements: run it in a transaction. */
export async function insertRefusal(trx: Kysely<Database>, event: DispatchEvent): Promise<void> {
  await trx
    .updateTable('dispatches')
    .set((eb) => ({ refused_count: eb('refused_count', '+', 1) }))
    .where('id', '=', event.dispatch_id)
    .execute();
  await trx.insertInto('dispatch_events').values(event).execute();
}

// --- reports ---------------------------------------------------------------------------------

export async function listEvents(db: Kysely<Database>, dispatchId: string, limit: number): Promise<DispatchEvent[]> {
  return db.selectFrom('dispatch_events').selectAll().where('dispatch_id', '=', dispatchId).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function listRegistrations(db: Kysely<Database>, dispatchId: string): Promise<DispatchRegistration[]> {
  return db.selectFrom('dispatch_registrations').selectAll().where('dispatch_id', '=', dispatchId).orderBy('first_launch_at').orderBy('id').execute();
}

export type DispatchAttemptRow = Pick<Attempt, 'user_id' | 'number' | 'completion' | 'success' | 'score_scaled' | 'score_raw' | 'total_time_ms'>;

/** Every attempt on the dispatch's internal resource link. */
export async function listAttemptsOfLink(db: Kysely<Database>, resourceLinkId: string): Promise<DispatchAttemptRow[]> {
  return db
    .selectFrom('attempts')
    .select(['user_id', 'number', 'completion', 'success', 'score_scaled', 'score_raw', 'total_time_ms'])
    .where('resource_link_id', '=', resourceLinkId)
    .execute();
}

export async function deleteEventsBefore(db: Kysely<Database>, before: number): Promise<number> {
  return Number((await db.deleteFrom('dispatch_events').where('at', '<', before).executeTakeFirst()).numDeletedRows);
}
