import type { Kysely } from 'kysely';
import { PreparedQuery } from '../store/prepared.js';
import type { ContextTable, Database, Launch, ResourceLinkTable, UserTable } from '../store/tables.js';

type UserFields = Omit<UserTable, 'id' | 'created_at' | 'updated_at'>;
type ContextFields = Omit<ContextTable, 'id' | 'created_at' | 'updated_at'>;
type ResourceLinkFields = Omit<ResourceLinkTable, 'id' | 'created_at' | 'updated_at' | 'package_id'>;

// Every launch runs these four: compiled once (prepared.ts).
const upsertUserQuery = new PreparedQuery('upsertUser', (db, a: UserTable) =>
  db
    .insertInto('users')
    .values({
      id: a.id,
      platform_id: a.platform_id,
      sub: a.sub,
      name: a.name,
      given_name: a.given_name,
      family_name: a.family_name,
      email: a.email,
      picture: a.picture,
      created_at: a.created_at,
      updated_at: a.updated_at,
    })
    .onConflict((oc) =>
      oc
        .columns(['platform_id', 'sub'])
        .doUpdateSet({ name: a.name, given_name: a.given_name, family_name: a.family_name, email: a.email, picture: a.picture, updated_at: a.updated_at }),
    )
    .returning('id'),
);
const upsertContextQuery = new PreparedQuery('upsertContext', (db, a: ContextTable) =>
  db
    .insertInto('contexts')
    .values({
      id: a.id,
      platform_id: a.platform_id,
      deployment_id: a.deployment_id,
      context_id: a.context_id,
      label: a.label,
      title: a.title,
      types: a.types,
      created_at: a.created_at,
      updated_at: a.updated_at,
    })
    .onConflict((oc) =>
      oc.columns(['platform_id', 'deployment_id', 'context_id']).doUpdateSet({ label: a.label, title: a.title, types: a.types, updated_at: a.updated_at }),
    )
    .returning('id'),
);
const upsertResourceLinkQuery = new PreparedQuery('upsertResourceLink', (db, a: Omit<ResourceLinkTable, 'package_id'>) =>
  db
    .insertInto('resource_links')
    .values({
      id: a.id,
      platform_id: a.platform_id,
      deployment_id: a.deployment_id,
      context_id: a.context_id,
      resource_link_id: a.resource_link_id,
      title: a.title,
      description: a.description,
      created_at: a.created_at,
      updated_at: a.updated_at,
    })
    .onConflict((oc) =>
      oc
        .columns(['platform_id', 'deployment_id', 'resource_link_id'])
        .doUpdateSet({ context_id: a.context_id, title: a.title, description: a.description, updated_at: a.updated_at }),
    )
    .returning('id'),
);
const insertLaunchQuery = new PreparedQuery('insertLaunch', (db, a: Launch) =>
  db.insertInto('launches').values({
    id: a.id,
    platform_id: a.platform_id,
    deployment_id: a.deployment_id,
    user_id: a.user_id,
    context_id: a.context_id,
    resource_link_id: a.resource_link_id,
    message_type: a.message_type,
    roles: a.roles,
    claims: a.claims,
    created_at: a.created_at,
    expires_at: a.expires_at,
    responded_at: a.responded_at,
  }),
);

function returnedId(rows: readonly { id: string }[], table: string): string {
  const id = rows[0]?.id;
  if (id === undefined) throw new Error(`the upsert into ${table} returned no row`);
  return id;
}

/** Insert or refresh a user by (platform, sub); returns its id. Personal fields follow the newest launch. */
export async function upsertUser(db: Kysely<Database>, id: string, f: UserFields, now: number): Promise<string> {
  const { rows } = await upsertUserQuery.run(db, { ...f, id, created_at: now, updated_at: now });
  return returnedId(rows, 'users');
}

export async function upsertContext(db: Kysely<Database>, id: string, f: ContextFields, now: number): Promise<string> {
  const { rows } = await upsertContextQuery.run(db, { ...f, id, created_at: now, updated_at: now });
  return returnedId(rows, 'contexts');
}

export async function upsertResourceLink(db: Kysely<Database>, id: string, f: ResourceLinkFields, now: number): Promise<string> {
  const { rows } = await upsertResourceLinkQuery.run(db, { ...f, id, created_at: now, updated_at: now });
  return returnedId(rows, 'resource_links');
}

export async function insertLaunch(db: Kysely<Database>, l: Launch): Promise<void> {
  await insertLaunchQuery.run(db, l);
}

export interface LaunchView {
  readonly launch: Launch;
  readonly platformName: string;
  readonly userName: string | null;
  readonly userEmail: string | null;
  readonly userSub: string;
  readonly contextTitle: string | null;
  readonly contextLabel: string | null;
  readonly resourceLinkTitle: string | null;
  readonly resourceLinkExternalId: string | null;
}

export async function findLaunchView(db: Kysely<Database>, id: string): Promise<LaunchView | undefined> {
  const row = await db
    .selectFrom('launches as l')
    .innerJoin('platforms as p', 'p.id', 'l.platform_id')
    .innerJoin('users as u', 'u.id', 'l.user_id')
    .leftJoin('contexts as c', 'c.id', 'l.context_id')
    .leftJoin('resource_links as r', 'r.id', 'l.resource_link_id')
    .selectAll('l')
    .select([
      'p.name as platform_name',
      'u.name as user_name',
      'u.email as user_email',
      'u.sub as user_sub',
      'c.title as context_title',
      'c.label as context_label',
      'r.title as resource_link_title',
      'r.resource_link_id as resource_link_external_id',
    ])
    .where('l.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const { platform_name, user_name, user_email, user_sub, context_title, context_label, resource_link_title, resource_link_external_id, ...launch } = row;
  return {
    launch,
    platformName: platform_name,
    userName: user_name,
    userEmail: user_email,
    userSub: user_sub,
    contextTitle: context_title,
    contextLabel: context_label,
    resourceLinkTitle: resource_link_title,
    resourceLinkExternalId: resource_link_external_id,
  };
}

export async function deleteExpiredLaunches(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom('launches').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A deep linking launch with what its answer needs: the registration it came through and the course. */
export async function findDeepLinkingLaunch(db: Kysely<Database>, id: string) {
  return db
    .selectFrom('launches as l')
    .innerJoin('platforms as p', 'p.id', 'l.platform_id')
    .innerJoin('deployments as d', 'd.id', 'l.deployment_id')
    .leftJoin('contexts as c', 'c.id', 'l.context_id')
    .select([
      'l.claims as claims',
      'p.client_id as clientId',
      'p.issuer as issuer',
      'p.status as status',
      'd.deployment_id as deploymentId',
      'c.title as courseTitle',
    ])
    .where('l.id', '=', id)
    .executeTakeFirst();
}

/** Marks a deep linking launch answered; false when it had been answered already (a double submit). */
export async function markLaunchAnswered(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('launches').set({ responded_at: now }).where('id', '=', id).where('responded_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
