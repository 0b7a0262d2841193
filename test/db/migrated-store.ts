import { Migrator, sql } from 'kysely';
import type { Dialect } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { openTestStore, type TestStore } from '../helpers/dialects.js';

/**
 * A fresh migrated store for DB tests that are not about migrations.
 *
 * On PostgreSQL, `migrateToLatest` (src/store/database.ts) builds Kysely's Migrator without
 * `migrationTableSchema`; the migrator then finds `kysely_migration*` tables of *any* schema
 * through introspection and skips creating its own in the current one, so migrating a test
 * schema fails while another test schema exists ("relation kysely_migration_lock does not
 * exist"). test/db/migrations.test.ts demonstrates that bug; until it is fixed, the other DB
 * tests migrate with the schema pinned here so that files can run in parallel.
 *
 * The store is opened before migrating, so a failed migration still drops its schema.
 */
export async function openMigratedStore(dialect: Dialect): Promise<TestStore> {
  const store = await openTestStore(dialect, { migrate: false });
  try {
    if (dialect === 'postgres') {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
      const migrator = new Migrator({ db: store.db, provider: migrationProvider, migrationTableSchema: rows[0]?.schema });
      const { error } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
    } else {
      await migrateToLatest(store);
    }
  } catch (err) {
    await store.dispose();
    throw err;
  }
  return store;
}
