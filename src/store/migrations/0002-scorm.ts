import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('packages')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('title', 'varchar(1024)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('latest_version_id', 'varchar(64)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('package_versions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('package_id', 'varchar(64)', (c) => c.notNull().references('packages.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('scorm_version', 'varchar(16)', (c) => c.notNull())
    .addColumn('title', 'varchar(1024)', (c) => c.notNull())
    .addColumn('manifest', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_count', 'integer', (c) => c.notNull())
    .addColumn('total_bytes', 'bigint', (c) => c.notNull())
    .addColumn('sco_count', 'integer', (c) => c.notNull())
    .addColumn('scored', 'integer', (c) => c.notNull())
    .addColumn('source_name', 'varchar(1024)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('package_versions_package_version_uq', ['package_id', 'version'])
    .execute();

  await db.schema
    .alterTable('resource_links')
    .addColumn('package_id', 'varchar(64)', (c) => c.references('packages.id').onDelete('set null'))
    .execute();

  await db.schema
    .createTable('attempts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('resource_link_id', 'varchar(64)', (c) => c.notNull().references('resource_links.id').onDelete('cascade'))
    .addColumn('package_version_id', 'varchar(64)', (c) => c.notNull().references('package_versions.id'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('completion', 'varchar(16)', (c) => c.notNull())
    .addColumn('success', 'varchar(16)', (c) => c.notNull())
    .addColumn('score_scaled', 'double precision')
    .addColumn('score_raw', 'double precision')
    .addColumn('score_min', 'double precision')
    .addColumn('score_max', 'double precision')
    .addColumn('total_time_ms', 'bigint', (c) => c.notNull())
    .addColumn('current_sco', 'varchar(255)')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_access_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .addUniqueConstraint('attempts_link_user_number_uq', ['resource_link_id', 'user_id', 'number'])
    .execute();

  await db.schema
    .createTable('sco_runtime')
    .addColumn('attempt_id', 'varchar(64)', (c) => c.notNull().references('attempts.id').onDelete('cascade'))
    .addColumn('sco_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('cmi', 'text', (c) => c.notNull())
    .addColumn('session_no', 'integer', (c) => c.notNull())
    .addColumn('commit_session', 'integer', (c) => c.notNull())
    .addColumn('commit_seq', 'integer', (c) => c.notNull())
    .addColumn('timed_session', 'integer', (c) => c.notNull())
    .addColumn('total_time_ms', 'bigint', (c) => c.notNull())
    .addColumn('completion', 'varchar(16)', (c) => c.notNull())
    .addColumn('success', 'varchar(16)', (c) => c.notNull())
    .addColumn('score_scaled', 'double precision')
    .addColumn('score_raw', 'double precision')
    .addColumn('score_min', 'double precision')
    .addColumn('score_max', 'double precision')
    .addColumn('suspended', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sco_runtime_pk', ['attempt_id', 'sco_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sco_runtime').ifExists().execute();
  await db.schema.dropTable('attempts').ifExists().execute();
  await db.schema.alterTable('resource_links').dropColumn('package_id').execute();
  await db.schema.dropTable('package_versions').ifExists().execute();
  await db.schema.dropTable('packages').ifExists().execute();
}
