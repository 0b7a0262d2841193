import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.service.js';
import { fixedClock } from '../../src/util/clock.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

describe.each(DIALECTS)('audit log (%s)', (dialect) => {
  let store: TestStore;
  beforeEach(async () => {
    store = await openTestStore(dialect);
  });
  afterEach(async () => {
    await store.dispose();
  });

  it('pages newest first through entries that share a timestamp, and filters by action', async () => {
    const clock = fixedClock(Date.UTC(2026, 10, 27));
    const audit = new AuditLog(store.db, clock);
    for (let i = 0; i < 5; i++) {
      await audit.record({ actor: 'cli', action: i % 2 ? 'key.rotate' : 'platform.register', target: `t${i}`, details: { i } });
      if (i === 2) clock.advance(1000);
    }
    const all = await audit.list();
    expect(
      all
        .map((e) => e.details?.i)
        .slice(0, 2)
        .sort(),
    ).toEqual([3, 4]);
    const firstPage = await audit.list({ limit: 2 });
    const last = firstPage.at(-1)!;
    const rest = await audit.list({ before: { at: Date.parse(last.at), id: last.id } });
    expect([...firstPage, ...rest].map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(new Set(all.map((e) => e.id)).size).toBe(5);
    expect((await audit.list({ action: 'key.rotate' })).map((e) => e.target).sort()).toEqual(['t1', 't3']);
    expect(all[0]).toMatchObject({ actor: 'cli', at: new Date(clock.now()).toISOString() });
  });

  it('writes inside the caller transaction, so a rolled-back change leaves no entry', async () => {
    const audit = new AuditLog(store.db, fixedClock(1));
    await expect(
      store.db.transaction().execute(async (trx) => {
        await audit.record({ actor: 'system', action: 'key.rotate' }, trx);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await audit.list()).toEqual([]);
  });
});
