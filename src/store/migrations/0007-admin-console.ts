import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// The browser admin console: administrator accounts, their sessions, a shared login throttle,
// and what the console shows per registration (last launch, last error) and per deployment (status).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('admins')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('email', 'varchar(320)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .execute();

  await db.schema
    .createTable('admin_sessions')
    // SHA-256 of the session id in the cookie: a copy of the table does not log anyone in.
    .addColumn('id_hash', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('admin_id', 'varchar(64)', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addColumn('csrf_token', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)')
    .addColumn('user_agent', 'varchar(512)')
    .execute();
  await db.schema.createIndex('admin_sessions_admin_idx').on('admin_sessions').column('admin_id').execute();
  await db.schema.createIndex('admin_sessions_expires_idx').on('admin_sessions').column('expires_at').execute();

  // Failed console logins per key (`ip:<address>` or `account:<email>`) in the current window.
  await db.schema
    .createTable('admin_login_throttle')
    .addColumn('key', 'varchar(400)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('platforms').addColumn('last_launch_at', 'bigint').execute();
  await db.schema.alterTable('platforms').addColumn('last_error', 'varchar(1024)').execute();
  await db.schema.alterTable('platforms').addColumn('last_error_at', 'bigint').execute();
  await db.schema
    .alterTable('deployments')
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('active'))
    .execute();
}
