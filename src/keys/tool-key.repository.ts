import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../store/database.js';
import type { Database, ToolKey, ToolKeyTable } from '../store/tables.js';

/** A PostgreSQL advisory lock ("cp-k", 1): one rotation decision at a time across processes. */
const ROTATION_LOCK = [0x63702d6b, 1] as const;

/**
 * First statement of a rotation decision's transaction: on PostgreSQL the advisory lock above,
 * on SQLite a no-op write that takes the database write lock, so that two processes never
 * both publish or promote.
 */
export async function takeRotationLock(trx: Kysely<Database>, dialect: Dialect | undefined): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${ROTATION_LOCK[0]}, ${ROTATION_LOCK[1]})`.execute(trx);
  else await sql`update tool_keys set state = state where 1 = 0`.execute(trx);
}

export async function listToolKeys(db: Kysely<Database>): Promise<ToolKey[]> {
  return db.selectFrom('tool_keys').selectAll().orderBy('created_at', 'desc').execute();
}

export async function findToolKeysByState(db: Kysely<Database>, state: ToolKeyTable['state']): Promise<ToolKey[]> {
  // kid breaks ties so that every process agrees on the order of keys created in the same millisecond.
  return db.selectFrom('tool_keys').selectAll().where('state', '=', state).orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
}

/** Keys platforms may see: next, current, and retired ones still inside the overlap window. */
export async function findPublishedToolKeys(db: Kysely<Database>, retiredSince: number): Promise<ToolKey[]> {
  return db
    .selectFrom('tool_keys')
    .selectAll()
    .where((eb) => eb.or([eb('state', 'in', ['next', 'current']), eb.and([eb('state', '=', 'retired'), eb('retired_at', '>=', retiredSince)])]))
    .orderBy('created_at', 'desc')
    .execute();
}

export async function insertToolKey(db: Kysely<Database>, key: ToolKey): Promise<void> {
  await db.insertInto('tool_keys').values(key).execute();
}

export async function setToolKeyState(db: Kysely<Database>, kid: string, state: ToolKeyTable['state'], at: number): Promise<void> {
  await db
    .updateTable('tool_keys')
    .set(state === 'current' ? { state, activated_at: at } : state === 'retired' ? { state, retired_at: at } : { state })
    .where('kid', '=', kid)
    .execute();
}

/** A private key re-encrypted under a new COURSEPORT_SECRET. */
export async function updateToolKeyCiphertext(db: Kysely<Database>, kid: string, privateJwkEnc: string): Promise<void> {
  await db.updateTable('tool_keys').set({ private_jwk_enc: privateJwkEnc }).where('kid', '=', kid).execute();
}
