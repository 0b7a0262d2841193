import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../store/database.js';
import type { Admin, AdminSession, Database } from '../store/tables.js';

// --- administrators --------------------------------------------------------------------------

export async function countAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('admins')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function listAdmins(db: Kysely<Database>): Promise<Admin[]> {
  return db.selectFrom('admins').selectAll().orderBy('created_at').execute();
}

export async function anyAdminExists(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('admins').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Inside a transaction that decides on "is there an administrator yet?": on PostgreSQL a table
 * lock, so that a concurrent transaction waits and then sees the first one's row. Nothing on SQLite.
 */
export async function lockAdmins(trx: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`lock table admins in share row exclusive mode`.execute(trx);
}

export async function insertAdmin(db: Kysely<Database>, admin: Admin): Promise<void> {
  await db.insertInto('admins').values(admin).execute();
}

export async function findAdminById(db: Kysely<Database>, id: string): Promise<Admin | undefined> {
  return db.selectFrom('admins').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findAdminByEmail(db: Kysely<Database>, email: string): Promise<Admin | undefined> {
  return db.selectFrom('admins').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function setLastLogin(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('admins').set({ last_login_at: at }).where('id', '=', id).execute();
}

export async function setPasswordHash(db: Kysely<Database>, id: string, passwordHash: string, at: number): Promise<void> {
  await db.updateTable('admins').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', id).execute();
}

// --- sign-in throttle ------------------------------------------------------------------------

export interface ThrottleRow {
  readonly key: string;
  readonly failures: number;
  readonly window_start: number;
}

export async function findThrottles(db: Kysely<Database>, keys: readonly string[]): Promise<ThrottleRow[]> {
  return db.selectFrom('admin_login_throttle').selectAll().where('key', 'in', keys).execute();
}

export async function findThrottle(db: Kysely<Database>, key: string): Promise<ThrottleRow | undefined> {
  return db.selectFrom('admin_login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
}

/**
 * One more failure for a key, in one atomic upsert: a window that started at or before
 * `expiredBefore` starts again at 1 from `now`. Answers the new count and window start.
 */
export async function countFailure(db: Kysely<Database>, key: string, now: number, expiredBefore: number): Promise<{ failures: number; windowStart: number }> {
  const row = await db
    .insertInto('admin_login_throttle')
    .values({ key, failures: 1, window_start: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when admin_login_throttle.window_start <= ${expiredBefore} then 1 else admin_login_throttle.failures + 1 end`,
        window_start: sql<number>`case when admin_login_throttle.window_start <= ${expiredBefore} then ${now} else admin_login_throttle.window_start end`,
      }),
    )
    .returning(['failures', 'window_start'])
    .executeTakeFirst();
  return { failures: Number(row?.failures ?? 1), windowStart: Number(row?.window_start ?? now) };
}

/** Takes back one failure counted before a check that then succeeded (never below zero). */
export async function uncountFailure(db: Kysely<Database>, key: string): Promise<void> {
  await db
    .updateTable('admin_login_throttle')
    .set((eb) => ({ failures: eb('failures', '-', 1) }))
    .where('key', '=', key)
    .where('failures', '>', 0)
    .execute();
}

export async function deleteThrottle(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('admin_login_throttle').where('key', '=', key).execute();
}

/** Throttle windows that started at or before `before`: finished. */
export async function deleteFinishedThrottles(db: Kysely<Database>, before: number): Promise<number> {
  const r = await db.deleteFrom('admin_login_throttle').where('window_start', '<=', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// --- console sessions ------------------------------------------------------------------------

export async function insertSession(db: Kysely<Database>, row: AdminSession): Promise<void> {
  await db.insertInto('admin_sessions').values(row).execute();
}

/** A session with its administrator. */
export async function findSession(db: Kysely<Database>, idHash: string) {
  return db
    .selectFrom('admin_sessions as s')
    .innerJoin('admins as a', 'a.id', 's.admin_id')
    .select(['s.id_hash', 's.csrf_token', 's.created_at', 's.last_seen_at', 's.expires_at', 'a.id as adminId', 'a.email'])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
}

export async function touchSession(db: Kysely<Database>, idHash: string, now: number): Promise<void> {
  await db.updateTable('admin_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Kysely<Database>, idHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteOtherSessions(db: Kysely<Database>, adminId: string, keepIdHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('admin_id', '=', adminId).where('id_hash', '!=', keepIdHash).execute();
}

/** Sessions neither past their absolute end nor idle since `idleSince`, per administrator id. */
export async function countLiveSessions(db: Kysely<Database>, now: number, idleSince: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('admin_sessions')
    .select(['admin_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('expires_at', '>', now)
    .where('last_seen_at', '>', idleSince)
    .groupBy('admin_id')
    .execute();
  return new Map(rows.map((r) => [r.admin_id, Number(r.n)]));
}

export async function deleteExpiredSessions(db: Kysely<Database>, now: number, idleSince: number): Promise<number> {
  const r = await db
    .deleteFrom('admin_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleSince)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
