import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Names and Role Provisioning: each course's roster, synced from the LMS.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rosters')
    .addColumn('context_id', 'varchar(64)', (c) => c.primaryKey().references('contexts.id').onDelete('cascade'))
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('memberships_url', 'varchar(2048)')
    .addColumn('differences_url', 'varchar(2048)')
    .addColumn('synced_at', 'bigint')
    .addColumn('sync_started_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('memberships')
    .addColumn('context_id', 'varchar(64)', (c) => c.notNull().references('contexts.id').onDelete('cascade'))
    .addColumn('user_sub', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(512)')
    .addColumn('email', 'varchar(512)')
    .addColumn('picture', 'varchar(2048)')
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('role_kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['context_id', 'user_sub'])
    .execute();
  // Who can access one resource link, from the link-scoped roster (NRPS rlid).
  await db.schema
    .createTable('link_members')
    .addColumn('resource_link_id', 'varchar(64)', (c) => c.notNull().references('resource_links.id').onDelete('cascade'))
    .addColumn('user_sub', 'varchar(255)', (c) => c.notNull())
    .addColumn('synced_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('link_members_pk', ['resource_link_id', 'user_sub'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('link_members').ifExists().execute();
  await db.schema.dropTable('memberships').ifExists().execute();
  await db.schema.dropTable('rosters').ifExists().execute();
}
