import type { Kysely } from 'kysely';
import type { Database, PlatformKeyStatusTable } from '../store/tables.js';

/** What a platform's JWKS endpoint last answered; one row per platform, last writer wins. */
export async function upsertPlatformKeyStatus(db: Kysely<Database>, row: PlatformKeyStatusTable): Promise<void> {
  const { platform_id: _id, ...changes } = row;
  await db
    .insertInto('platform_key_status')
    .values(row)
    .onConflict((oc) => oc.column('platform_id').doUpdateSet(changes))
    .execute();
}

export async function findPlatformKeyStatus(db: Kysely<Database>, platformId: string): Promise<PlatformKeyStatusTable | undefined> {
  return db.selectFrom('platform_key_status').selectAll().where('platform_id', '=', platformId).executeTakeFirst();
}

export async function listPlatformKeyStatus(db: Kysely<Database>): Promise<PlatformKeyStatusTable[]> {
  return db.selectFrom('platform_key_status').selectAll().execute();
}
