import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Content dispatch (issue 10): destinations (customers), dispatches (one package for one
// destination, with a licence), the LMS learners registered through them, and refused launches.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dispatch_destinations')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('dispatches')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('destination_id', 'varchar(64)', (c) => c.notNull().references('dispatch_destinations.id').onDelete('cascade'))
    .addColumn('package_id', 'varchar(64)', (c) => c.notNull().references('packages.id').onDelete('cascade'))
    // The internal resource link (and its deployment) that owns the learners' attempts.
    .addColumn('resource_link_ref', 'varchar(64)', (c) => c.notNull().references('resource_links.id').onDelete('cascade'))
    .addColumn('deployment_ref', 'varchar(64)', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('title', 'varchar(1024)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('allow_new_registrations', 'integer', (c) => c.notNull())
    .addColumn('registration_cap', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('launch_cap', 'integer')
    .addColumn('hash_learner_ids', 'integer', (c) => c.notNull())
    .addColumn('scorm_version', 'varchar(16)', (c) => c.notNull())
    // Not the secret: a random value the secret is derived from (HMAC under COURSEPORT_SECRET).
    .addColumn('secret_seed', 'varchar(64)', (c) => c.notNull())
    .addColumn('learner_salt', 'varchar(64)', (c) => c.notNull())
    .addColumn('registration_count', 'integer', (c) => c.notNull())
    .addColumn('launch_count', 'integer', (c) => c.notNull())
    .addColumn('refused_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dispatches_destination').on('dispatches').columns(['destination_id', 'created_at']).execute();

  await db.schema
    .createTable('dispatch_registrations')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('dispatch_id', 'varchar(64)', (c) => c.notNull().references('dispatches.id').onDelete('cascade'))
    // The LMS learner id as the launcher sent it: the raw id, or its salted SHA-256 (hex).
    .addColumn('learner_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('learner_name', 'varchar(255)')
    .addColumn('hashed', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('launch_count', 'integer', (c) => c.notNull())
    .addColumn('first_launch_at', 'bigint', (c) => c.notNull())
    .addColumn('last_launch_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dispatch_registrations_learner_uq', ['dispatch_id', 'learner_id'])
    .execute();
  await db.schema.createIndex('dispatch_registrations_user').on('dispatch_registrations').column('user_id').execute();

  await db.schema
    .createTable('dispatch_events')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('dispatch_id', 'varchar(64)', (c) => c.notNull().references('dispatches.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('code', 'varchar(64)', (c) => c.notNull())
    .addColumn('learner_id', 'varchar(255)')
    .addColumn('ip', 'varchar(64)')
    .execute();
  await db.schema.createIndex('dispatch_events_dispatch_at').on('dispatch_events').columns(['dispatch_id', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dispatch_events').ifExists().execute();
  await db.schema.dropTable('dispatch_registrations').ifExists().execute();
  await db.schema.dropTable('dispatches').ifExists().execute();
  await db.schema.dropTable('dispatch_destinations').ifExists().execute();
}
