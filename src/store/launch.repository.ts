import type { Kysely } from 'kysely';
import type { ContextTable, Database, Launch, ResourceLinkTable, UserTable } from './tables.js';

type UserFields = Omit<UserTable, 'id' | 'created_at' | 'updated_at'>;
type ContextFields = Omit<ContextTable, 'id' | 'created_at' | 'updated_at'>;
type ResourceLinkFields = Omit<ResourceLinkTable, 'id' | 'created_at' | 'updated_at' | 'package_id'>;

/** Insert or refresh a user by (platform, sub); returns its id. Personal fields follow the newest launch. */
export async function upsertUser(db: Kysely<Database>, id: string, fields: UserFields, now: number): Promise<string> {
  const row = await db
    .insertInto('users')
    .values({ id, ...fields, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['platform_id', 'sub']).doUpdateSet({
        name: fields.name,
        given_name: fields.given_name,
        family_name: fields.family_name,
        email: fields.email,
        picture: fields.picture,
        updated_at: now,
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function upsertContext(db: Kysely<Database>, id: string, fields: ContextFields, now: number): Promise<string> {
  const row = await db
    .insertInto('contexts')
    .values({ id, ...fields, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['platform_id', 'deployment_id', 'context_id']).doUpdateSet({
        label: fields.label,
        title: fields.title,
        types: fields.types,
        updated_at: now,
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function upsertResourceLink(db: Kysely<Database>, id: string, fields: ResourceLinkFields, now: number): Promise<string> {
  const row = await db
    .insertInto('resource_links')
    .values({ id, ...fields, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['platform_id', 'deployment_id', 'resource_link_id']).doUpdateSet({
        context_id: fields.context_id,
        title: fields.title,
        description: fields.description,
        updated_at: now,
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function insertLaunch(db: Kysely<Database>, launch: Launch): Promise<void> {
  await db.insertInto('launches').values(launch).execute();
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
