import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Assignment and Grade Services: where each resource link's grades go, and the durable
// outbox every score passes through.
export async function up(db: Kysely<unknown>): Promise<void> {
  // overwrite | raise | preserve: what to do when the LMS gradebook holds a grade we did not send.
  await db.schema
    .alterTable('platforms')
    .addColumn('grade_policy', 'varchar(16)', (c) => c.notNull().defaultTo('overwrite'))
    .execute();

  await db.schema
    .createTable('line_items')
    .addColumn('resource_link_id', 'varchar(64)', (c) => c.primaryKey().references('resource_links.id').onDelete('cascade'))
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('container_url', 'varchar(2048)')
    .addColumn('lineitem_url', 'varchar(2048)')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('grade_outbox')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('attempt_id', 'varchar(64)', (c) => c.notNull().references('attempts.id').onDelete('cascade'))
    .addColumn('resource_link_id', 'varchar(64)', (c) => c.notNull().references('resource_links.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('score', 'text', (c) => c.notNull())
    // pending → sending (leased) → sent | skipped | dead; superseded when a newer score replaced it unsent.
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('tries', 'integer', (c) => c.notNull())
    .addColumn('next_try_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema.createIndex('grade_outbox_due_idx').on('grade_outbox').columns(['state', 'next_try_at']).execute();
  await db.schema.createIndex('grade_outbox_link_user_idx').on('grade_outbox').columns(['resource_link_id', 'user_id', 'state']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('grade_outbox').ifExists().execute();
  await db.schema.dropTable('line_items').ifExists().execute();
  await db.schema.alterTable('platforms').dropColumn('grade_policy').execute();
}
