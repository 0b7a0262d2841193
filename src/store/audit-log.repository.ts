import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

/** Every action the audit log holds, A→Z (the console's filter offers exactly these). */
export async function distinctAuditActions(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('audit_log').select('action').distinct().orderBy('action').execute()).map((r) => r.action);
}
