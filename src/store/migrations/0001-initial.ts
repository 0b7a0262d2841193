import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('platforms')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('issuer', 'varchar(1024)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('auth_url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('token_url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('token_audience', 'varchar(2048)')
    .addColumn('jwks_url', 'varchar(2048)')
    .addColumn('public_jwk', 'text')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('platforms_issuer_client_uq', ['issuer', 'client_id'])
    .execute();

  await db.schema
    .createTable('deployments')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('deployment_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('deployments_platform_deployment_uq', ['platform_id', 'deployment_id'])
    .execute();

  await db.schema
    .createTable('tool_keys')
    .addColumn('kid', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('alg', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activated_at', 'bigint')
    .addColumn('retired_at', 'bigint')
    .execute();
  // At most one key signs: concurrent first starts cannot both create a current key.
  await db.schema.createIndex('tool_keys_one_current_uq').on('tool_keys').column('state').unique().where(sql.ref('state'), '=', 'current').execute();

  await db.schema
    .createTable('login_states')
    .addColumn('state', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('nonce', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('target_link_uri', 'varchar(2048)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('login_states_expires_idx').on('login_states').column('expires_at').execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('sub', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(512)')
    .addColumn('given_name', 'varchar(255)')
    .addColumn('family_name', 'varchar(255)')
    .addColumn('email', 'varchar(512)')
    .addColumn('picture', 'varchar(2048)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('users_platform_sub_uq', ['platform_id', 'sub'])
    .execute();

  await db.schema
    .createTable('contexts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('context_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('label', 'varchar(512)')
    .addColumn('title', 'varchar(1024)')
    .addColumn('types', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('contexts_platform_deployment_context_uq', ['platform_id', 'deployment_id', 'context_id'])
    .execute();

  await db.schema
    .createTable('resource_links')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('context_id', 'varchar(64)', (c) => c.references('contexts.id').onDelete('set null'))
    .addColumn('resource_link_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('title', 'varchar(1024)')
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('resource_links_platform_deployment_link_uq', ['platform_id', 'deployment_id', 'resource_link_id'])
    .execute();

  await db.schema
    .createTable('launches')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('platform_id', 'varchar(64)', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('context_id', 'varchar(64)', (c) => c.references('contexts.id').onDelete('set null'))
    .addColumn('resource_link_id', 'varchar(64)', (c) => c.references('resource_links.id').onDelete('set null'))
    .addColumn('message_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('claims', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    // When a deep linking launch was answered: a request is answered once.
    .addColumn('responded_at', 'bigint')
    .execute();
  await db.schema.createIndex('launches_expires_idx').on('launches').column('expires_at').execute();

  await db.schema
    .createTable('admin_tokens')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('token_hash', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['admin_tokens', 'launches', 'resource_links', 'contexts', 'users', 'login_states', 'tool_keys', 'deployments', 'platforms']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
