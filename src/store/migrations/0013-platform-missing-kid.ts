import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Launch id_tokens must name their signing key (kid). An administrator may exempt one
// registration whose LMS is known to omit it: 1 accepts such tokens, 0 (the default) refuses them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('platforms')
    .addColumn('allow_missing_kid', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
