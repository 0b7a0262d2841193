import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// A link's line item is created by one process at a time: the creator holds a short claim.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('line_items').addColumn('claim_until', 'bigint').execute();
}
