import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest, openStore } from '../../src/store/database.js';

describe('SQLite WAL checkpoints on their own thread (the server)', () => {
  it('keeps commits free of checkpoints and folds the WAL into the database from the background thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courseport-ckpt-'));
    const file = join(dir, 'db.sqlite');
    const errors: string[] = [];
    const store = openStore(`sqlite:${file}`, { backgroundCheckpoints: { intervalMs: 50, onError: (m) => errors.push(m) } });
    try {
      await migrateToLatest(store);
      const auto = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(store.db);
      expect(auto.rows[0]?.wal_autocheckpoint).toBe(0);
      const before = statSync(file).size;
      const detail = 'x'.repeat(1000);
      for (let batch = 0; batch < 20; batch++) {
        await store.db.transaction().execute(async (trx) => {
          for (let i = 0; i < 100; i++) {
            await trx
              .insertInto('audit_log')
              .values({ id: `aud_${batch}_${i}`, at: batch, actor: 'system', action: 'test.fill', target: null, details: detail, ip: null })
              .execute();
          }
        });
      }
      // Two megabytes written: only a checkpoint moves them from the WAL into the database file.
      await expect.poll(() => statSync(file).size, { timeout: 5000 }).toBeGreaterThan(before + 1_500_000);
      expect(errors).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
