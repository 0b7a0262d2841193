import type { Kysely } from 'kysely';
import type { AuditEntryRow, Database } from '../store/tables.js';

export async function insertAuditEntry(db: Kysely<Database>, row: AuditEntryRow): Promise<void> {
  await db.insertInto('audit_log').values(row).execute();
}

/** Newest first; `before` pages to entries strictly older than the given one. */
export async function listAuditEntries(
  db: Kysely<Database>,
  query: { action?: string | undefined; before?: { at: number; id: string } | undefined; limit: number },
): Promise<AuditEntryRow[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (query.action) q = q.where('action', '=', query.action);
  const before = query.before;
  if (before) q = q.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]));
  return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
}
