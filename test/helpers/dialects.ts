import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { migrateToLatest, openStore, type Dialect, type OpenOptions, type Store } from '../../src/store/database.js';

/**
 * SQLite always; PostgreSQL too when the test run found one (test/helpers/postgres-probe.ts:
 * COURSEPORT_TEST_PG_URL, else the local default if it answers). Outside vitest (the
 * benchmarks import helpers that import this file) nothing was provided: SQLite only.
 */
export const PG_URL = process.env.VITEST ? (inject('pgUrl') ?? undefined) : undefined;
export const DIALECTS: Dialect[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestStore extends Store {
  /** Closes the store and removes its database (temp directory or PostgreSQL schema). */
  dispose(): Promise<void>;
}

/** A fresh, migrated database of the given dialect, isolated from every other test. */
export async function openTestStore(dialect: Dialect, options: { migrate?: boolean; log?: OpenOptions['log'] } = {}): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'courseport-test-'));
    const store = openStore(`sqlite:${join(dir, 'test.db')}`, options.log ? { log: options.log } : {});
    if (options.migrate !== false) await migrateToLatest(store);
    return {
      ...store,
      dispose: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!PG_URL) throw new Error('no PostgreSQL for this test run (see test/helpers/postgres-probe.ts)');
  const schema = `cp_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = openStore(PG_URL, { pgSchema: schema, pgPoolSize: 5, ...(options.log ? { log: options.log } : {}) });
  if (options.migrate !== false) await migrateToLatest(store);
  return {
    ...store,
    dispose: async () => {
      await store.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}
