import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { ToolKeyService, type ToolKeyPolicy } from '../../src/keys/tool-keys.service.js';
import { KeyRotationJob } from '../../src/keys/key-rotation.job.js';
import { AuditLog } from '../../src/audit/audit-log.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import { fixedClock } from '../../src/util/clock.js';
import { DIALECTS, PG_URL, openTestStore, type TestStore } from '../helpers/dialects.js';

const SECRET = 'key-schedule-test-secret-0123456789abcdefgh';
const NEW_SECRET = 'key-schedule-new-secret-0123456789abcdefghij';
const DAY = 24 * 3600_000;
const START = Date.UTC(2026, 0, 10, 9, 0, 0);
const POLICY: ToolKeyPolicy = { rotateEveryMs: 90 * DAY, publishBeforeUseMs: 7 * DAY, retiredOverlapMs: 2 * DAY };
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A second connection to the same database: another process. On PostgreSQL a second pool on the
 * same schema. SQLite's locks block the whole thread (better-sqlite3 is synchronous), so two
 * connections in one test process would deadlock each other; there the "processes" share the
 * one connection and the test shows that concurrent jobs still act once.
 */
async function secondStore(store: TestStore): Promise<Store> {
  if (store.dialect === 'sqlite') return { db: store.db, dialect: 'sqlite', health: store.health, close: async () => undefined };
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
  return openStore(PG_URL ?? '', { pgSchema: rows[0]?.schema ?? '', pgPoolSize: 5 });
}

describe.each(DIALECTS)('tool key schedule (%s)', (dialect) => {
  let store: TestStore;
  let other: Store;
  let clock: ReturnType<typeof fixedClock>;

  const service = (db = store.db, secret = SECRET, policy = POLICY) =>
    new ToolKeyService(db, secret, clock, policy, { dialect, audit: new AuditLog(db, clock) });
  const states = async () => Object.fromEntries((await store.db.selectFrom('tool_keys').select(['kid', 'state']).execute()).map((r) => [r.kid, r.state]));
  const rotations = async () =>
    (await new AuditLog(store.db, clock).list({ action: 'key.rotate' }))
      .reverse()
      .map((e) => ({ actor: e.actor, target: e.target, result: e.details?.result }));

  beforeAll(async () => {
    store = await openTestStore(dialect);
    other = await secondStore(store);
  });
  afterAll(async () => {
    await other.close();
    await store.dispose();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('audit_log').execute();
    await store.db.deleteFrom('tool_keys').execute();
    clock = fixedClock(START);
  });

  it('publishes the next key 7 days before the rotation date, promotes it at 90 days, and audits both as the system', async () => {
    const keys = service();
    await keys.ensureCurrentKey();
    const k1 = (await keys.signingKey()).kid;

    clock.set(START + 83 * DAY - 1);
    expect(await keys.runSchedule()).toBeUndefined();
    expect(Object.values(await states())).toEqual(['current']);

    clock.set(START + 83 * DAY);
    const published = await keys.runSchedule();
    expect(published).toMatchObject({ action: 'published-next', promotableAt: START + 90 * DAY });
    const k2 = published?.kid ?? '';
    expect(await states()).toEqual({ [k1]: 'current', [k2]: 'next' });
    expect((await keys.jwks()).keys.map((k) => k.kid).sort()).toEqual([k1, k2].sort());
    expect((await keys.signingKey()).kid).toBe(k1);
    // Nothing more is due until the rotation date.
    clock.set(START + 90 * DAY - 1);
    expect(await keys.runSchedule()).toBeUndefined();

    clock.set(START + 90 * DAY);
    expect(await keys.runSchedule()).toEqual({ action: 'promoted', kid: k2 });
    expect(await states()).toEqual({ [k1]: 'retired', [k2]: 'current' });
    expect((await keys.signingKey()).kid).toBe(k2);
    // The retired key stays in the JWKS for the overlap window.
    expect((await keys.jwks()).keys.map((k) => k.kid).sort()).toEqual([k1, k2].sort());
    clock.advance(POLICY.retiredOverlapMs + 1);
    expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual([k2]);

    expect(await rotations()).toEqual([
      { actor: 'system', target: k2, result: 'published-next' },
      { actor: 'system', target: k2, result: 'promoted' },
    ]);
  });

  it('never promotes a key that has not been published for the whole window, even when the rotation is overdue', async () => {
    const keys = service();
    await keys.ensureCurrentKey();
    // The server was down through the publication date: it publishes first, and waits the full window.
    clock.set(START + 200 * DAY);
    const published = await keys.runSchedule();
    expect(published?.action).toBe('published-next');
    expect(published?.promotableAt).toBe(START + 207 * DAY);
    clock.set(START + 207 * DAY - 1);
    expect(await keys.runSchedule()).toBeUndefined();
    clock.set(START + 207 * DAY);
    expect((await keys.runSchedule())?.action).toBe('promoted');
  });

  it('survives a restart: a new process continues from the timestamps in the database', async () => {
    await service().ensureCurrentKey();
    clock.set(START + 85 * DAY);
    const next = await service().runSchedule();
    // "Restart": fresh service objects, nothing kept in memory.
    clock.set(START + 90 * DAY);
    const restarted = service();
    const s = await restarted.schedule();
    expect(s).toMatchObject({
      automatic: true,
      next: { kid: next?.kid, publishedAt: START + 85 * DAY, promotableAt: START + 92 * DAY },
      upcoming: { action: 'promote', at: START + 92 * DAY },
    });
    expect(await restarted.runSchedule()).toBeUndefined();
    clock.set(START + 92 * DAY);
    expect(await service().runSchedule()).toEqual({ action: 'promoted', kid: next?.kid });
  });

  it('two processes on one database running the schedule together rotate once', async () => {
    const a = service(store.db);
    const b = service(other.db);
    await a.ensureCurrentKey();
    const k1 = (await a.signingKey()).kid;

    clock.set(START + 84 * DAY);
    const [ra, rb] = await Promise.all([a.runSchedule(), b.runSchedule()]);
    expect([ra?.action, rb?.action].filter(Boolean)).toEqual(['published-next']);
    expect(Object.values(await states()).sort()).toEqual(['current', 'next']);

    clock.set(START + 91 * DAY);
    const jobs = [new KeyRotationJob(a, silent, 60_000), new KeyRotationJob(b, silent, 60_000), new KeyRotationJob(service(other.db), silent, 60_000)];
    await Promise.all(jobs.map((j) => j.runOnce()));
    const after = await states();
    expect(Object.values(after).sort()).toEqual(['current', 'retired']);
    expect(after[k1]).toBe('retired');
    const log = await rotations();
    expect(log.map((e) => e.result)).toEqual(['published-next', 'promoted']);
    // Both processes sign with the new key (the other one at once here, since its cache was empty).
    expect((await b.signingKey()).kid).toBe((await a.signingKey()).kid);
  });

  it('manual rotations are audited with their actor, in the same transaction', async () => {
    const keys = service();
    await keys.ensureCurrentKey();
    const r1 = await keys.rotate({ actor: 'cli' });
    const r2 = await keys.rotate({ now: true, actor: 'api-token:ops', ip: '192.0.2.7' });
    expect(await rotations()).toEqual([
      { actor: 'cli', target: r1.kid, result: 'published-next' },
      { actor: 'api-token:ops', target: r2.kid, result: 'promoted' },
    ]);
    const [entry] = await new AuditLog(store.db, clock).list({ action: 'key.rotate', limit: 1 });
    expect(entry).toMatchObject({ ip: '192.0.2.7', details: { result: 'promoted', now: true } });
  });

  it('does nothing automatically when the rotation period is 0 (manual rotation only)', async () => {
    const keys = service(store.db, SECRET, { ...POLICY, rotateEveryMs: 0 });
    await keys.ensureCurrentKey();
    clock.set(START + 1000 * DAY);
    expect(await keys.runSchedule()).toBeUndefined();
    expect((await keys.schedule()).upcoming).toBeNull();
    expect(await rotations()).toEqual([]);
  });

  describe('re-encryption after COURSEPORT_SECRET changes', () => {
    afterEach(() => undefined);

    it('re-encrypts every key under the new secret, all or nothing, and is harmless to repeat', async () => {
      const old = service();
      await old.ensureCurrentKey();
      await old.rotate();
      const kids = Object.keys(await states()).sort();
      const before = await store.db.selectFrom('tool_keys').select(['kid', 'private_jwk_enc']).orderBy('kid').execute();

      const fresh = service(store.db, NEW_SECRET);
      await expect(fresh.signingKey()).rejects.toMatchObject({ code: 'KEY_DECRYPTION_FAILED' });

      // A wrong "old" secret changes nothing.
      await expect(fresh.reencrypt('not-the-old-secret-0123456789abcdefghijk', { actor: 'cli' })).rejects.toBeInstanceOf(AppError);
      expect(await store.db.selectFrom('tool_keys').select(['kid', 'private_jwk_enc']).orderBy('kid').execute()).toEqual(before);

      const r = await fresh.reencrypt(SECRET, { actor: 'cli' });
      expect({ reencrypted: [...r.reencrypted].sort(), unchanged: r.unchanged }).toEqual({ reencrypted: kids, unchanged: [] });
      const signing = await fresh.signingKey();
      expect(kids).toContain(signing.kid);
      await expect(service(store.db, SECRET).signingKey()).rejects.toMatchObject({ code: 'KEY_DECRYPTION_FAILED' });
      // Twice is harmless.
      const again = await fresh.reencrypt(SECRET);
      expect({ reencrypted: again.reencrypted, unchanged: [...again.unchanged].sort() }).toEqual({ reencrypted: [], unchanged: kids });
      const audit = await new AuditLog(store.db, clock).list({ action: 'key.reencrypt' });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: 'cli', details: { unchanged: [] } });
      expect([...((audit[0]?.details?.reencrypted as string[] | undefined) ?? [])].sort()).toEqual(kids);
    });
  });
});
