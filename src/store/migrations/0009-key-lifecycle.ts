import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Key lifecycle (issue 8): at most one `next` tool key, and what each platform's JWKS
// endpoint last answered (shared by every process, shown to administrators).
export async function up(db: Kysely<unknown>): Promise<void> {
  // Before this migration two racing `keys rotate` could both publish a next key; keep the newest.
  const { rows } = await sql<{
    kid: string;
    created_at: number | string;
  }>`select kid, created_at from tool_keys where state = 'next' order by created_at desc, kid desc`.execute(db);
  for (const extra of rows.slice(1)) {
    await sql`update tool_keys set state = 'retired', retired_at = ${Number(extra.created_at)} where kid = ${extra.kid}`.execute(db);
  }
  await db.schema.createIndex('tool_keys_one_next_uq').on('tool_keys').column('state').unique().where(sql.ref('state'), '=', 'next').execute();

  await db.schema
    .createTable('platform_key_status')
    .addColumn('platform_id', 'varchar(64)', (c) => c.primaryKey().references('platforms.id').onDelete('cascade'))
    /** Last successful fetch of the platform's JWKS. */
    .addColumn('fetched_at', 'bigint')
    /** JSON array of the kids it published then. */
    .addColumn('kids', 'text')
    /** Last failed fetch and why; cleared by the next success. */
    .addColumn('error', 'text')
    .addColumn('error_at', 'bigint')
    /** Set while launches verify with a key set the endpoint no longer confirms. */
    .addColumn('stale_since', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('platform_key_status').ifExists().execute();
  await db.schema.dropIndex('tool_keys_one_next_uq').ifExists().execute();
}
