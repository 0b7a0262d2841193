import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { CLAIM } from '../../src/lti/claims.js';
import { createServices } from '../../src/container.js';
import { migrateToLatest, openStore } from '../../src/store/database.js';
import { systemClock } from '../../src/util/clock.js';
import { runCli } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, errorCode } from '../helpers/harness.js';
import { freePort } from '../helpers/live-server.js';
import { createPgCluster } from '../helpers/pg-cluster.js';
import { playerConfig } from '../helpers/player.js';
import { mountSmallDisk } from '../helpers/small-disk.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SECRET = 'database-faults-secret-database-faults-secret-0123';

/** Polls `probe` until it gives a value (not undefined/false), failing after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One HTTP request, how long its answer took, and its error code (JSON `error`, or the HTML page's). */
async function timed(url: string): Promise<{ status: number; ms: number; body: Record<string, unknown>; code: string | undefined }> {
  const t0 = performance.now();
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // an HTML page or a redirect
  }
  return { status: res.status, ms: performance.now() - t0, body, code: typeof body.error === 'string' ? body.error : errorCode(text) };
}

describe.each(DIALECTS)('the database fails under a running Courseport (%s)', (dialect) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  if (dialect === 'postgres') {
    it('survives its connections being terminated, PostgreSQL stopped and started, and PostgreSQL stopped with SIGSTOP', async () => {
      // A cluster of the test's own: this is the one stopped and paused, never the machine's.
      const cluster = await createPgCluster();
      cleanup.push(() => cluster.remove());
      const dataDir = mkdtempSync(join(tmpdir(), 'courseport-dbfaults-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const env: Record<string, string> = {
        NODE_ENV: 'test',
        COURSEPORT_DATA_DIR: dataDir,
        COURSEPORT_SECRET: SECRET,
        COURSEPORT_DATABASE_URL: cluster.url,
        COURSEPORT_PORT: String(port),
        COURSEPORT_HOST: '127.0.0.1',
        COURSEPORT_BASE_URL: baseUrl,
        COURSEPORT_LOG_LEVEL: 'info',
        COURSEPORT_LOGIN_RATE_LIMIT: '0',
        COURSEPORT_SANDBOX: 'off',
        COURSEPORT_DB_CONNECT_TIMEOUT_MS: '1000',
        COURSEPORT_DB_STATEMENT_TIMEOUT_MS: '1000',
        COURSEPORT_DB_POOL_SIZE: '4',
      };
      const lms = await SimulatedPlatform.start();
      cleanup.push(() => lms.close());
      const setup = openStore(cluster.url);
      await migrateToLatest(setup);
      await createServices(loadConfig(env), setup, systemClock).platforms.register(lms.registration());
      await setup.close();

      const logs: Record<string, unknown>[] = [];
      const child: ChildProcess = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanup.push(() => void child.kill('SIGKILL'));
      let buffered = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
      });
      child.stderr!.resume();
      const logged = (text: string) => logs.filter((l) => String(l.msg).includes(text)).length;
      const alive = () => child.exitCode === null && child.signalCode === null;
      const readyz = () => timed(`${baseUrl}/readyz`);
      // A request that needs the database: the login reads the registration and stores a state (302).
      const login = () =>
        timed(
          `${baseUrl}/lti/login?${new URLSearchParams({ iss: lms.issuer, login_hint: 'learner-1', target_link_uri: `${baseUrl}/lti/launch`, lti_message_hint: 'm', client_id: lms.clientId, lti_deployment_id: lms.deploymentId })}`,
        );
      await until('Courseport to be ready', async () => alive() && (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.ok, 30_000);
      expect((await login()).status).toBe(302);

      // 1. Every connection of the pool terminated (a failover, a restart, a pooler or idle_session_timeout does this).
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      const terminated = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'courseport'`);
      await admin.end();
      expect(terminated.rowCount).toBeGreaterThan(0);
      await until('Courseport to notice its connections closed', () => logged('idle database connection was closed') > 0);
      expect(alive()).toBe(true);
      expect((await login()).status).toBe(302);
      expect((await readyz()).status).toBe(200);

      // 2. PostgreSQL stopped with SIGSTOP: connections stay open, nothing answers.
      cluster.pause();
      const frozen = await readyz();
      expect(frozen.status).toBe(503);
      expect(frozen.ms).toBeLessThan(2000);
      expect(frozen.body).toMatchObject({ status: 'not-ready', database: 'postgres', error: 'DATABASE_UNAVAILABLE' });
      // The first request waits out the timeouts (about 2 s here) …
      const first = await login();
      expect(first.status).toBe(503);
      expect(first.code).toBe('DATABASE_UNAVAILABLE');
      expect(first.ms).toBeLessThan(5000);
      // … the next ones are refused at once, and /readyz too.
      const next = await Promise.all([login(), login(), readyz()]);
      for (const r of next) expect([r.status, r.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
      expect(Math.max(...next.map((r) => r.ms))).toBeLessThan(2000);
      cluster.resume();
      const resumedAt = performance.now();
      await until('readiness after SIGCONT', async () => (await readyz()).status === 200);
      expect(performance.now() - resumedAt).toBeLessThan(5000);
      expect((await login()).status).toBe(302);
      expect(alive()).toBe(true);

      // 3. PostgreSQL stopped (fast shutdown: sessions terminated, new connections refused), then started again.
      await cluster.stop();
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.ms).toBeLessThan(2000);
      const refused = await login();
      expect(refused.status).toBe(503);
      expect(refused.code).toBe('DATABASE_UNAVAILABLE');
      expect(refused.ms).toBeLessThan(2000);
      expect(alive()).toBe(true);
      await cluster.start();
      const startedAt = performance.now();
      await until('readiness after the restart', async () => (await readyz()).status === 200);
      expect(performance.now() - startedAt).toBeLessThan(5000);
      expect((await login()).status).toBe(302);
      expect(alive()).toBe(true);

      // Each outage is logged once with PostgreSQL's own error, however many requests it refused.
      expect(logged('database unavailable')).toBe(2);
      expect(logged('database available again')).toBe(2);
      expect(logs.filter((l) => l.code === 'DATABASE_UNAVAILABLE' && Number(l.level) >= 50)).toEqual([]);
    }, 60_000);
  }

  if (dialect === 'sqlite') {
    it('a full disk: commits answer 503 (the real error logged once), /readyz reports SQLITE_FULL, and both recover when space is freed', async () => {
      const disk = await mountSmallDisk(8);
      cleanup.push(() => disk.remove());
      const file = join(disk.dir, 'db', 'courseport.db');
      const store = openStore(`sqlite:${file}`);
      await migrateToLatest(store);
      const h = await createHarness('sqlite', {}, { store: { ...store, dispose: () => store.close() } });
      cleanup.push(() => h.close());
      const packageId = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
      const cfg = playerConfig(await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-full' }, [CLAIM.CUSTOM]: { package_id: packageId } } }));
      const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
      const commit = (seq: number) =>
        h.app.inject({
          method: 'POST',
          url: `${cfg.api}/sco/item_1/commit?session=${session}`,
          payload: { 'cmi.core.lesson_status': 'incomplete', 'cmi.suspend_data': `${seq}:${'x'.repeat(60_000)}`, commitSequence: seq },
        });
      expect((await commit(1)).statusCode).toBe(200);

      disk.fill();
      for (let seq = 2; seq <= 6; seq++) {
        const refused = await commit(seq);
        expect(refused.statusCode, refused.body.slice(0, 300)).toBe(503);
        expect(refused.json()).toMatchObject({ error: 'DATABASE_UNAVAILABLE' });
        expect(refused.headers['retry-after']).toBe('2');
      }
      const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not-ready', database: 'sqlite', error: 'DATABASE_UNAVAILABLE', dbError: 'SQLITE_FULL' });
      // Reads still work: the learner's progress is there.
      expect((await h.app.inject({ method: 'GET', url: `${cfg.api}/attempt` })).statusCode).toBe(200);
      // One line with the real error, naming the file's disk — not "cannot rollback" per request.
      const outage = h.logs.filter((l) => l.msg.startsWith('database unavailable'));
      expect(outage).toHaveLength(1);
      expect(outage[0]!.msg).toContain('SQLITE_FULL');
      expect(outage[0]!.msg).toContain(`the disk holding ${join(disk.dir, 'db')} is full`);
      expect(h.logs.filter((l) => /cannot rollback/.test(JSON.stringify(l)))).toEqual([]);
      expect(h.logs.filter((l) => l.code === 'DATABASE_UNAVAILABLE')).toHaveLength(5);

      disk.free();
      expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await commit(7)).statusCode).toBe(200);
      expect(h.logs.filter((l) => l.msg === 'database available again')).toHaveLength(1);
    });

    it('another process holding the write lock past busy_timeout: 503 with SQLITE_BUSY logged, nothing half-written', async () => {
      const h = await createHarness('sqlite');
      cleanup.push(() => h.close());
      const packageId = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
      const cfg = playerConfig(await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-busy' }, [CLAIM.CUSTOM]: { package_id: packageId } } }));
      const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
      const file = (h.store as { file?: string }).file!;
      // Another process (here a thread with its own connection, as the CLI would have) holds the write lock.
      const holder = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         const db = new (require(workerData.driver))(workerData.file);
         db.exec('begin immediate');
         parentPort.postMessage('locked');
         parentPort.on('message', () => { db.exec('rollback'); db.close(); parentPort.close(); });`,
        { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } },
      );
      cleanup.push(() => holder.terminate().then(() => undefined));
      await new Promise((resolve) => holder.once('message', resolve));
      const commit = (seq: number) =>
        h.app.inject({
          method: 'POST',
          url: `${cfg.api}/sco/item_1/commit?session=${session}`,
          payload: { 'cmi.core.lesson_status': 'incomplete', 'cmi.core.lesson_location': String(seq), commitSequence: seq },
        });
      const refused = await commit(1);
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ error: 'DATABASE_UNAVAILABLE' });
      expect(h.logs.filter((l) => l.code === 'DATABASE_UNAVAILABLE').map((l) => l.dbError)).toEqual(['SQLITE_BUSY']);
      expect(h.logs.filter((l) => /cannot rollback/.test(JSON.stringify(l)))).toEqual([]);
      holder.postMessage('release');
      const stored = await commit(1);
      expect(stored.statusCode, stored.body).toBe(200);
    });

    it('at start, a read-only data directory and a full disk are named with the file and the cause', async () => {
      const readOnly = await mountSmallDisk(4);
      cleanup.push(() => readOnly.remove());
      await readOnly.readOnly();
      const env = (dir: string) => ({
        dialect: 'sqlite' as const,
        dataDir: dir,
        env: { NODE_ENV: 'test', COURSEPORT_DATA_DIR: dir, COURSEPORT_SECRET: SECRET },
        dispose: async () => undefined,
      });
      const ro = await runCli(env(readOnly.dir), ['migrate']);
      expect(ro.code).toBe(1);
      expect(ro.stderr.trim()).toBe(
        `courseport: Cannot use the SQLite database ${join(readOnly.dir, 'courseport.db')}: the data directory ${readOnly.dir} is on a read-only file system (SQLite: SQLITE_CANTOPEN: unable to open database file)`,
      );

      const full = await mountSmallDisk(4);
      cleanup.push(() => full.remove());
      full.fill();
      const res = await runCli(env(full.dir), ['migrate']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`courseport: Cannot use the SQLite database ${join(full.dir, 'courseport.db')}: the disk holding ${full.dir} is full`);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});
