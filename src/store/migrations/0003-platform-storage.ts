import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Launches that survive blocked third-party cookies (issue 9): a login that used LTI platform
// storage remembers the storage frame and the value put there; every login keeps its
// parameters so that the launch can be resumed in a new window.
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite accepts a single ADD COLUMN per ALTER TABLE.
  await db.schema.alterTable('login_states').addColumn('storage_target', 'varchar(255)').execute();
  await db.schema.alterTable('login_states').addColumn('storage_proof', 'varchar(128)').execute();
  await db.schema.alterTable('login_states').addColumn('resume_params', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('login_states').dropColumn('resume_params').execute();
  await db.schema.alterTable('login_states').dropColumn('storage_proof').execute();
  await db.schema.alterTable('login_states').dropColumn('storage_target').execute();
}
