import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// LTI Dynamic Registration sessions, and the built-in sandbox LMS (its key, links, line items, scores).
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per registration started at GET /lti/register; consumed once by the confirming POST.
  await db.schema
    .createTable('registration_sessions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('openid_configuration_url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('configuration', 'text', (c) => c.notNull())
    /** The platform's registration token, sealed under COURSEPORT_SECRET (null: none given). */
    .addColumn('registration_token_enc', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('registration_sessions_expires_idx').on('registration_sessions').column('expires_at').execute();

  await db.schema
    .createTable('sandbox_keys')
    .addColumn('kid', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_links')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('title', 'varchar(1024)', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('custom', 'text', (c) => c.notNull())
    .addColumn('line_item_id', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_line_items')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('label', 'varchar(1024)', (c) => c.notNull())
    .addColumn('score_maximum', 'double precision', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(255)')
    .addColumn('resource_link_id', 'varchar(255)')
    .addColumn('tag', 'varchar(255)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_scores')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('line_item_id', 'varchar(64)', (c) => c.notNull().references('sandbox_line_items.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('score_given', 'double precision')
    .addColumn('score_maximum', 'double precision')
    .addColumn('activity_progress', 'varchar(32)', (c) => c.notNull())
    .addColumn('grading_progress', 'varchar(32)', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('timestamp', 'varchar(64)', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sandbox_scores_item_user_idx').on('sandbox_scores').columns(['line_item_id', 'user_id', 'received_at']).execute();

  // Client assertion ids seen by the sandbox token endpoint: a replayed jti loses on the primary key.
  await db.schema
    .createTable('sandbox_assertions')
    .addColumn('jti', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}
