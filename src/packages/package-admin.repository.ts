import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../store/database.js';
import { PREVIEW_PLATFORM_ID, ensureInternalPlatform } from '../platforms/platform.repository.js';
import type { Attempt, Database, Package } from '../store/tables.js';

const PREVIEW_DEPLOYMENT_ID = 'dep_courseport_preview';

/**
 * Locks a package row until the transaction ends, so that no launch or dispatch can bind it
 * between the checks of a deletion and the deletion (binding takes a key-share lock on it on
 * PostgreSQL; SQLite serialises writers from the first write). False when there is no such package.
 */
export async function lockPackage(trx: Kysely<Database>, dialect: Dialect, id: string): Promise<boolean> {
  if (dialect === 'postgres') return (await trx.selectFrom('packages').select('id').where('id', '=', id).forUpdate().executeTakeFirst()) !== undefined;
  const r = await trx.updateTable('packages').set({ updated_at: sql<number>`updated_at` }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface PackageUse {
  /** LMS resource links (and dispatch links) bound to the package; previews do not count. */
  readonly links: number;
  readonly dispatches: number;
  /** Learner attempts on any of its versions (a link may have been bound to another package since). */
  readonly attempts: number;
}

export async function packageUse(trx: Kysely<Database>, id: string): Promise<PackageUse> {
  const count = (n: { n: number | string | bigint } | undefined) => Number(n?.n ?? 0);
  const links = await trx
    .selectFrom('resource_links')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('package_id', '=', id)
    .where('platform_id', '!=', PREVIEW_PLATFORM_ID)
    .executeTakeFirst();
  const dispatches = await trx
    .selectFrom('dispatches')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('package_id', '=', id)
    .executeTakeFirst();
  const attempts = await trx
    .selectFrom('attempts as a')
    .innerJoin('package_versions as v', 'v.id', 'a.package_version_id')
    .innerJoin('resource_links as r', 'r.id', 'a.resource_link_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('v.package_id', '=', id)
    .where('r.platform_id', '!=', PREVIEW_PLATFORM_ID)
    .executeTakeFirst();
  return { links: count(links), dispatches: count(dispatches), attempts: count(attempts) };
}

/** The storage keys of a package's versions (their files are removed after the rows). */
export async function versionStorageKeys(trx: Kysely<Database>, id: string): Promise<string[]> {
  return (await trx.selectFrom('package_versions').select('storage_key').where('package_id', '=', id).execute()).map((r) => r.storage_key);
}

/** Deletes the package with its versions and its previews (their links cascade to the attempts). */
export async function deletePackageRows(trx: Kysely<Database>, id: string): Promise<void> {
  await trx.deleteFrom('resource_links').where('platform_id', '=', PREVIEW_PLATFORM_ID).where('package_id', '=', id).execute();
  await trx.deleteFrom('packages').where('id', '=', id).execute();
}

export async function renamePackage(db: Kysely<Database>, id: string, title: string, now: number): Promise<boolean> {
  const r = await db.updateTable('packages').set({ title, updated_at: now }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The preview platform and its one deployment (created once, by whichever process comes first). */
export async function ensurePreviewPlatform(trx: Kysely<Database>, now: number): Promise<void> {
  await ensureInternalPlatform(trx, { id: PREVIEW_PLATFORM_ID, name: 'Courseport console preview (internal)', kind: 'preview' }, now);
  await trx
    .insertInto('deployments')
    .values({ id: PREVIEW_DEPLOYMENT_ID, platform_id: PREVIEW_PLATFORM_ID, deployment_id: 'preview', name: 'console preview', created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The preview link of a package (one per package), bound to it. */
export async function ensurePreviewLink(trx: Kysely<Database>, pkg: Pick<Package, 'id' | 'title'>, newLinkId: string, now: number): Promise<string> {
  const linkId = `preview:${pkg.id}`;
  await trx
    .insertInto('resource_links')
    .values({
      id: newLinkId,
      platform_id: PREVIEW_PLATFORM_ID,
      deployment_id: PREVIEW_DEPLOYMENT_ID,
      context_id: null,
      resource_link_id: linkId,
      title: pkg.title,
      description: null,
      package_id: pkg.id,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['platform_id', 'deployment_id', 'resource_link_id']).doNothing())
    .execute();
  const row = await trx
    .selectFrom('resource_links')
    .select('id')
    .where('platform_id', '=', PREVIEW_PLATFORM_ID)
    .where('deployment_id', '=', PREVIEW_DEPLOYMENT_ID)
    .where('resource_link_id', '=', linkId)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The preview user of an administrator (`admin:<email>`). */
export async function ensurePreviewUser(trx: Kysely<Database>, sub: string, newUserId: string, now: number): Promise<string> {
  await trx
    .insertInto('users')
    .values({
      id: newUserId,
      platform_id: PREVIEW_PLATFORM_ID,
      sub,
      name: sub.replace(/^admin:/, ''),
      given_name: null,
      family_name: null,
      email: null,
      picture: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['platform_id', 'sub']).doNothing())
    .execute();
  return (await trx.selectFrom('users').select('id').where('platform_id', '=', PREVIEW_PLATFORM_ID).where('sub', '=', sub).executeTakeFirstOrThrow()).id;
}

/** A preview starts from the beginning: the administrator's earlier preview attempts of the link go. */
export async function replacePreviewAttempt(trx: Kysely<Database>, attempt: Attempt): Promise<void> {
  await trx.deleteFrom('attempts').where('resource_link_id', '=', attempt.resource_link_id).where('user_id', '=', attempt.user_id).execute();
  await trx.insertInto('attempts').values(attempt).execute();
}
