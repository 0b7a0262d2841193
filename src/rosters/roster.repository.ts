import type { Kysely, Selectable } from 'kysely';
import type { Database, MembershipTable, RosterTable } from '../store/tables.js';

/** What a service call to the LMS needs of its platform (client credentials). */
export interface RosterPlatform {
  readonly id: string;
  readonly clientId: string;
  readonly tokenUrl: string;
  readonly tokenAudience: string | null;
}

// --- rosters ---------------------------------------------------------------------------------

/** Where the course's roster can be read (the NRPS claim of its latest launch). */
export async function upsertRosterEndpoint(db: Kysely<Database>, input: { contextId: string; platformId: string; url: string; now: number }): Promise<void> {
  await db
    .insertInto('rosters')
    .values({
      context_id: input.contextId,
      platform_id: input.platformId,
      memberships_url: input.url,
      differences_url: null,
      synced_at: null,
      sync_started_at: null,
      last_error: null,
      updated_at: input.now,
    })
    .onConflict((oc) => oc.column('context_id').doUpdateSet({ memberships_url: input.url, updated_at: input.now }))
    .execute();
}

export async function findRoster(db: Kysely<Database>, contextId: string): Promise<Selectable<RosterTable> | undefined> {
  return db.selectFrom('rosters').selectAll().where('context_id', '=', contextId).executeTakeFirst();
}

/** The courses with a roster service (or only the given one). */
export async function listRosterContexts(db: Kysely<Database>, contextId?: string): Promise<string[]> {
  let q = db.selectFrom('rosters').select('context_id').where('memberships_url', 'is not', null);
  if (contextId) q = q.where('context_id', '=', contextId);
  return (await q.execute()).map((r) => r.context_id);
}

export async function findRosterPlatform(db: Kysely<Database>, platformId: string): Promise<RosterPlatform> {
  return db
    .selectFrom('platforms')
    .select(['id', 'client_id as clientId', 'token_url as tokenUrl', 'token_audience as tokenAudience'])
    .where('id', '=', platformId)
    .executeTakeFirstOrThrow();
}

export async function markSyncStarted(db: Kysely<Database>, contextId: string, at: number): Promise<void> {
  await db.updateTable('rosters').set({ sync_started_at: at }).where('context_id', '=', contextId).execute();
}

export async function markSynced(db: Kysely<Database>, contextId: string, differencesUrl: string | null, now: number): Promise<void> {
  await db
    .updateTable('rosters')
    .set({ synced_at: now, sync_started_at: null, last_error: null, differences_url: differencesUrl, updated_at: now })
    .where('context_id', '=', contextId)
    .execute();
}

export async function markSyncFailed(db: Kysely<Database>, contextId: string, error: string, now: number): Promise<void> {
  await db.updateTable('rosters').set({ sync_started_at: null, last_error: error, updated_at: now }).where('context_id', '=', contextId).execute();
}

// --- memberships -----------------------------------------------------------------------------

export type MembershipRow = Selectable<MembershipTable>;

/** A member as the LMS lists them now: inserted, or their row updated in place. */
export async function upsertMembership(db: Kysely<Database>, row: MembershipRow): Promise<void> {
  await db
    .insertInto('memberships')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['context_id', 'user_sub']).doUpdateSet({
        name: row.name,
        email: row.email,
        picture: row.picture,
        roles: row.roles,
        role_kind: row.role_kind,
        status: row.status,
        raw: row.raw,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

export async function listMemberSubs(db: Kysely<Database>, contextId: string): Promise<string[]> {
  return (await db.selectFrom('memberships').select('user_sub').where('context_id', '=', contextId).execute()).map((k) => k.user_sub);
}

export async function markMembersDeleted(db: Kysely<Database>, contextId: string, subs: readonly string[], now: number): Promise<void> {
  await db.updateTable('memberships').set({ status: 'Deleted', updated_at: now }).where('context_id', '=', contextId).where('user_sub', 'in', subs).execute();
}

/** The course's learners the roster still lists (active or inactive). */
export async function listLearnerMembers(db: Kysely<Database>, contextId: string): Promise<Pick<MembershipRow, 'user_sub' | 'name' | 'email' | 'status'>[]> {
  return db
    .selectFrom('memberships')
    .select(['user_sub', 'name', 'email', 'status'])
    .where('context_id', '=', contextId)
    .where('role_kind', '=', 'learner')
    .where('status', '!=', 'Deleted')
    .execute();
}

/** Everyone the roster lists with a role other than learner. */
export async function listStaffSubs(db: Kysely<Database>, contextId: string): Promise<string[]> {
  return (await db.selectFrom('memberships').select('user_sub').where('context_id', '=', contextId).where('role_kind', '!=', 'learner').execute()).map(
    (m) => m.user_sub,
  );
}

// --- link-scoped rosters (NRPS rlid) ---------------------------------------------------------

/** What reading the members of one resource link needs: its LMS id, the course's memberships URL and the platform. */
export async function findLinkRosterSource(
  db: Kysely<Database>,
  resourceLinkId: string,
): Promise<(RosterPlatform & { rlid: string; url: string | null }) | undefined> {
  return db
    .selectFrom('resource_links as r')
    .innerJoin('rosters as ro', 'ro.context_id', 'r.context_id')
    .innerJoin('platforms as p', 'p.id', 'ro.platform_id')
    .select([
      'r.resource_link_id as rlid',
      'ro.memberships_url as url',
      'p.id as id',
      'p.client_id as clientId',
      'p.token_url as tokenUrl',
      'p.token_audience as tokenAudience',
    ])
    .where('r.id', '=', resourceLinkId)
    .executeTakeFirst();
}

/** Replaces the stored members of one resource link. Two statements and more: run it in a transaction. */
export async function replaceLinkMembers(trx: Kysely<Database>, resourceLinkId: string, subs: readonly string[], now: number): Promise<void> {
  await trx.deleteFrom('link_members').where('resource_link_id', '=', resourceLinkId).execute();
  for (const sub of subs) {
    await trx
      .insertInto('link_members')
      .values({ resource_link_id: resourceLinkId, user_sub: sub, synced_at: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export async function listLinkMemberSubs(db: Kysely<Database>, resourceLinkId: string): Promise<string[]> {
  return (await db.selectFrom('link_members').select('user_sub').where('resource_link_id', '=', resourceLinkId).execute()).map((r) => r.user_sub);
}

// --- progress of one resource link -----------------------------------------------------------

export async function findLinkContextId(db: Kysely<Database>, resourceLinkId: string): Promise<string | null> {
  return (await db.selectFrom('resource_links').select(['context_id']).where('id', '=', resourceLinkId).executeTakeFirstOrThrow()).context_id;
}

/** Every attempt on the link with its user, newest attempt number first. */
export async function listLinkAttempts(db: Kysely<Database>, resourceLinkId: string) {
  return db
    .selectFrom('attempts as a')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .select([
      'u.id as userId',
      'u.sub',
      'u.name',
      'u.email',
      'a.number',
      'a.completion',
      'a.success',
      'a.score_scaled',
      'a.total_time_ms',
      'a.last_access_at',
      'a.role_kind',
    ])
    .where('a.resource_link_id', '=', resourceLinkId)
    .orderBy('a.number', 'desc')
    .execute();
}

/** The grade deliveries of the link that still count (not superseded), newest first. */
export async function listLinkGradeStates(db: Kysely<Database>, resourceLinkId: string) {
  return db
    .selectFrom('grade_outbox')
    .select(['user_id', 'state', 'last_error'])
    .where('resource_link_id', '=', resourceLinkId)
    .where('state', '!=', 'superseded')
    .orderBy('updated_at', 'desc')
    .execute();
}

/** The roles of each launch of the link (launch rows expire after a few hours), newest first. */
export async function listLinkLaunchRoles(db: Kysely<Database>, resourceLinkId: string): Promise<{ sub: string; roles: string }[]> {
  return db
    .selectFrom('launches as l')
    .innerJoin('users as u', 'u.id', 'l.user_id')
    .select(['u.sub', 'l.roles'])
    .where('l.resource_link_id', '=', resourceLinkId)
    .orderBy('l.created_at', 'desc')
    .execute();
}

/** The resource link and roles of the launch a progress link stands for. */
export async function findProgressLaunch(db: Kysely<Database>, launchId: string) {
  return db
    .selectFrom('launches as l')
    .innerJoin('resource_links as r', 'r.id', 'l.resource_link_id')
    .select(['l.roles', 'r.id as resourceLinkId', 'r.context_id as contextId', 'r.title as title'])
    .where('l.id', '=', launchId)
    .executeTakeFirst();
}
