import type { Kysely } from 'kysely';
import type { Database, ToolKey, ToolKeyTable } from '../store/tables.js';

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

export async function setToolKeyState(
  db: Kysely<Database>,
  kid: string,
  state: ToolKeyTable['state'],
  at: number,
): Promise<void> {
  await db
    .updateTable('tool_keys')
    .set(state === 'current' ? { state, activated_at: at } : state === 'retired' ? { state, retired_at: at } : { state })
    .where('kid', '=', kid)
    .execute();
}

/** Issue 8: a private key re-encrypted under a new COURSEPORT_SECRET. */
export async function updateToolKeyCiphertext(db: Kysely<Database>, kid: string, privateJwkEnc: string): Promise<void> {
  await db.updateTable('tool_keys').set({ private_jwk_enc: privateJwkEnc }).where('kid', '=', kid).execute();
}
