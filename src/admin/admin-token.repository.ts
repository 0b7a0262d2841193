import type { Kysely } from 'kysely';
import type { AdminToken, Database } from '../store/tables.js';

export async function insertAdminToken(db: Kysely<Database>, token: AdminToken): Promise<void> {
  await db.insertInto('admin_tokens').values(token).execute();
}

export async function findActiveAdminTokenByHash(db: Kysely<Database>, hash: string): Promise<AdminToken | undefined> {
  return db.selectFrom('admin_tokens').selectAll().where('token_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function listAdminTokens(db: Kysely<Database>): Promise<AdminToken[]> {
  return db.selectFrom('admin_tokens').selectAll().orderBy('created_at').execute();
}

export async function touchAdminToken(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('admin_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function revokeAdminToken(db: Kysely<Database>, id: string, at: number): Promise<boolean> {
  const r = await db.updateTable('admin_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
