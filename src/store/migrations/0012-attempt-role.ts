import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// The role the attempt's user launched with (learner, instructor, …): staff previews are not
// graded and not listed among learners, long after the launch rows have expired.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('attempts').addColumn('role_kind', 'varchar(32)').execute();
}
