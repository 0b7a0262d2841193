import type { Kysely, Selectable } from 'kysely';
import type { Database, RegistrationSessionTable } from '../store/tables.js';

export type RegistrationSession = Selectable<RegistrationSessionTable>;

export async function insertRegistrationSession(db: Kysely<Database>, row: RegistrationSession): Promise<void> {
  await db.insertInto('registration_sessions').values(row).execute();
}

export async function findRegistrationSession(db: Kysely<Database>, idHash: string): Promise<RegistrationSession | undefined> {
  return db.selectFrom('registration_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

/** Marks the session used, once: false when another confirmation consumed it first (a conditional update decides). */
export async function consumeRegistrationSession(db: Kysely<Database>, idHash: string, now: number): Promise<boolean> {
  const updated = await db
    .updateTable('registration_sessions')
    .set({ consumed_at: now })
    .where('id_hash', '=', idHash)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

export async function deleteRegistrationSessionsExpiredBefore(db: Kysely<Database>, before: number): Promise<number> {
  return Number((await db.deleteFrom('registration_sessions').where('expires_at', '<', before).executeTakeFirst()).numDeletedRows);
}
