import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { handshake, type BenchServer } from '../../bench/common.js';
import { loadConfig } from '../../src/config/config.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { createServices } from '../../src/container.js';
import { migrateToLatest, openStore } from '../../src/store/database.js';
import { systemClock } from '../../src/util/clock.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { freePort } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesForLive } from '../helpers/services.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a score survives the server being killed mid-delivery', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('is delivered exactly once by the restarted process', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courseport-restart-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      COURSEPORT_DATA_DIR: dataDir,
      COURSEPORT_PORT: String(port),
      COURSEPORT_HOST: '127.0.0.1',
      COURSEPORT_BASE_URL: baseUrl,
      COURSEPORT_SECRET: 'restart-test-secret-restart-test-secret-0123456789',
      COURSEPORT_LOG_LEVEL: 'fatal',
      COURSEPORT_LOGIN_RATE_LIMIT: '0',
      COURSEPORT_GRADES_POLL_MS: '100',
      COURSEPORT_GRADES_LEASE_SECONDS: '1',
    };
    const lms = await SimulatedPlatform.start({ hostname: 'localhost' });
    cleanup.push(() => lms.close());
    const services = await SimulatedServices.start(servicesForLive(baseUrl, lms.clientId));
    cleanup.push(() => services.close());

    const store = openStore(loadConfig(env).databaseUrl);
    await migrateToLatest(store);
    const setup = createServices(loadConfig(env), store, systemClock);
    await setup.platforms.register({ ...lms.registration(), tokenUrl: services.tokenUrl });
    const packageId = (await setup.packages.importPackage(COURSE_12)).package.id;
    await store.close();

    let child: ChildProcess | undefined;
    const startServer = async () => {
      child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
      await until('Courseport to answer', async () => (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.ok || undefined);
    };
    cleanup.push(() => void child?.kill('SIGKILL'));
    await startServer();

    const item = services.addLineItem({ scoreMaximum: 100, label: 'Survives', resourceLinkId: 'rl-restart' });
    lms.agsClaim = { scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE], lineitem: item.id };
    const tool = new Pool(`http://127.0.0.1:${port}`, { connections: 2 });
    const platformPool = new Pool(lms.origin.replace('localhost', '127.0.0.1'), { connections: 2 });
    cleanup.push(async () => {
      await tool.close();
      await platformPool.close();
    });
    const s = { baseUrl, port, lms, tool, platform: platformPool } as unknown as BenchServer;
    const page = await handshake(s, 'learner-restart', { link: 'rl-restart', package: packageId });
    const api = /"api":"([^"]+)"/.exec(page)?.[1];
    const host = `localhost:${port}`;
    const load = await tool.request({ method: 'POST', path: `${api}/sco/item_1`, headers: { host } });
    const { session } = (await load.body.json()) as { session: number };

    // The LMS will hold the score post open: the delivery is in flight when the process dies.
    services.hangScores = 1;
    const commit = await tool.request({
      method: 'POST',
      path: `${api}/sco/item_1/commit?session=${session}`,
      headers: { host, 'content-type': 'application/json' },
      body: JSON.stringify({ 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '88', commitSequence: 1, terminate: true }),
    });
    expect(commit.statusCode).toBe(200);
    await commit.body.dump();
    await until('the delivery to hang at the LMS', () => (services.hangScores === 0 ? true : undefined));
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    services.releaseHung();
    expect(services.scores.get(item.id) ?? []).toHaveLength(0);

    await startServer();
    const delivered = await until('the score to arrive after the restart', () =>
      (services.scores.get(item.id)?.length ?? 0) > 0 ? services.scores.get(item.id) : undefined,
    );
    expect(delivered).toEqual([
      expect.objectContaining({ userId: 'learner-restart', scoreGiven: 88, activityProgress: 'Completed', gradingProgress: 'FullyGraded' }),
    ]);
    // The row is recorded as sent, so no worker will send it again: exactly one score.
    const check = openStore(loadConfig(env).databaseUrl);
    try {
      await until('the outbox row to be marked sent', async () =>
        (await check.db.selectFrom('grade_outbox').select('state').executeTakeFirst())?.state === 'sent' ? true : undefined,
      );
      expect(await check.db.selectFrom('grade_outbox').select('state').execute()).toEqual([{ state: 'sent' }]);
    } finally {
      await check.close();
    }
    expect(services.scores.get(item.id)).toHaveLength(1);
    child!.kill('SIGTERM');
  }, 60_000);
});
