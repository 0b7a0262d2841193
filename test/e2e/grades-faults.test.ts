import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { handshake, type BenchServer } from '../../bench/common.js';
import { loadConfig } from '../../src/config/config.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import { createServices } from '../../src/container.js';
import { migrateToLatest, openStore } from '../../src/store/database.js';
import { systemClock } from '../../src/util/clock.js';
import { createCliWorkspace } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { freePort } from '../helpers/live-server.js';
import { servicesForLive } from '../helpers/services.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';
import { SimulatedServices } from '../platform/simulated-services.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Polls `probe` until it gives a value (not undefined/false), failing after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Arrival {
  readonly userId: string;
  readonly timestamp: string;
  readonly scoreGiven?: number;
}

/**
 * Courseport as its own process (`courseport serve`), killed with SIGKILL while scores are in
 * flight, against an LMS that answers 500, 429 with Retry-After, hangs, and is itself killed and
 * started again. The LMS's log of what it received is the judge: every learner's newest score
 * arrives, and no learner ever receives an older score after a newer one.
 */
describe.each(DIALECTS)('grade delivery through LMS faults and kill -9 (%s)', (dialect) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('delivers every learner’s newest score, in order, whatever fails', async () => {
    const ws = await createCliWorkspace(dialect);
    cleanup.push(() => ws.dispose());
    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const env: Record<string, string> = {
      ...ws.env,
      NODE_ENV: 'development',
      COURSEPORT_PORT: String(port),
      COURSEPORT_HOST: '127.0.0.1',
      COURSEPORT_BASE_URL: baseUrl,
      COURSEPORT_LOG_LEVEL: 'fatal',
      COURSEPORT_LOGIN_RATE_LIMIT: '0',
      COURSEPORT_LAUNCH_RATE_LIMIT: '0',
      COURSEPORT_SANDBOX: 'off',
      COURSEPORT_GRADES_POLL_MS: '100',
      COURSEPORT_GRADES_LEASE_SECONDS: '3',
      COURSEPORT_GRADES_RETRY_BASE_MS: '200',
      // Hanging posts end after this; platform keys are fetched within it too, on a busy machine.
      COURSEPORT_HTTP_TIMEOUT_MS: '1500',
    };
    const platform = await SimulatedPlatform.start({ hostname: 'localhost' });
    cleanup.push(() => platform.close());
    const lmsPort = await freePort();
    const lmsOptions = { ...servicesForLive(baseUrl, platform.clientId), port: lmsPort };
    let lms = await SimulatedServices.start(lmsOptions);
    // What every incarnation of the LMS received, in arrival order.
    const arrivals: Arrival[] = [];
    const drain = () => {
      for (const list of lms.scores.values()) arrivals.push(...(list.splice(0) as unknown as Arrival[]));
    };
    cleanup.push(() => lms.close());

    const setup = openStore(env.COURSEPORT_DATABASE_URL!);
    await migrateToLatest(setup);
    const services = createServices(loadConfig(env), setup, systemClock);
    await services.platforms.register({ ...platform.registration(), tokenUrl: lms.tokenUrl });
    const packageId = (await services.packages.importPackage(COURSE_12)).package.id;
    await setup.close();
    // The test's own look at the outbox, beside the server's connections.
    const check = openStore(env.COURSEPORT_DATABASE_URL!);
    cleanup.push(() => check.close());

    let child: ChildProcess | undefined;
    const start = async () => {
      const c = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
      child = c;
      await until('Courseport to be ready', async () => c.exitCode === null && (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.ok, 30_000);
    };
    const kill9 = async () => {
      const c = child!;
      c.kill('SIGKILL');
      if (c.exitCode === null && c.signalCode === null) await new Promise((r) => c.once('exit', r));
    };
    cleanup.push(() => void child?.kill('SIGKILL'));
    await start();

    const item = lms.addLineItem({ scoreMaximum: 100, label: 'Faults', resourceLinkId: 'rl-faults' });
    platform.agsClaim = { scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE], lineitem: item.id };
    const tool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
    const lmsPool = new Pool(platform.origin.replace('localhost', '127.0.0.1'), { connections: 4 });
    cleanup.push(async () => {
      await tool.close();
      await lmsPool.close();
    });
    const host = `localhost:${port}`;
    const s = { baseUrl, port, lms: platform, tool, platform: lmsPool } as unknown as BenchServer;

    const subs = Array.from({ length: 10 }, (_, i) => `fault-${dialect}-${i}`);
    const learners = await Promise.all(
      subs.map(async (sub) => {
        const page = await handshake(s, sub, { link: 'rl-faults', package: packageId });
        const api = /"api":"([^"]+)"/.exec(page)?.[1];
        const load = await tool.request({ method: 'POST', path: `${api}/sco/item_1`, headers: { host } });
        const { session } = (await load.body.json()) as { session: number };
        return { sub, api, session, seq: 0 };
      }),
    );
    const newest = new Map<string, number>();
    const commitAll = async (round: number, status = 'incomplete') => {
      await Promise.all(
        learners.map(async (l, i) => {
          const raw = round * 10 + i;
          const res = await tool.request({
            method: 'POST',
            path: `${l.api}/sco/item_1/commit?session=${l.session}`,
            headers: { host, 'content-type': 'application/json' },
            body: JSON.stringify({ 'cmi.core.lesson_status': status, 'cmi.core.score.raw': String(raw), commitSequence: ++l.seq }),
          });
          expect(res.statusCode, await res.body.text()).toBe(200);
          newest.set(l.sub, raw);
        }),
      );
    };
    const delivered = () => {
      drain();
      return arrivals.length;
    };

    // 500s, then 429 with Retry-After, while the learners keep scoring.
    lms.failScores = { status: 500, count: 6 };
    await commitAll(1);
    await until('the 500s to be answered', () => lms.failScores?.count === 0);
    lms.failScores = { status: 429, retryAfter: 1, count: 6 };
    await commitAll(2);
    await until('the 429s to be answered', () => lms.failScores?.count === 0);

    // The LMS hangs on some posts (they time out), then on more, and Courseport is killed while they hang.
    lms.hangScores = 3;
    await commitAll(3);
    await until('posts to hang', () => lms.hangScores === 0);
    lms.hangScores = 4;
    await commitAll(4);
    await until('more posts to hang', () => lms.hangScores === 0);
    await kill9();
    lms.releaseHung();
    await start();
    await commitAll(5);

    // The LMS itself is killed (connections refused) while the last scores wait, then comes back.
    drain();
    await lms.close();
    await commitAll(6, 'passed');
    await until('deliveries to fail against the dead LMS', async () => {
      const refused = await check.db
        .selectFrom('grade_outbox')
        .select('id')
        .where('state', '=', 'pending')
        .where('last_error', 'like', '%ECONNREFUSED%')
        .execute();
      return refused.length > 0;
    });
    lms = await SimulatedServices.start(lmsOptions);
    lms.lineItems.set(item.id, { ...item });

    await until(
      'every learner’s newest score to arrive',
      () => {
        delivered();
        const last = new Map(arrivals.map((a) => [a.userId, a.scoreGiven]));
        return subs.every((sub) => last.get(sub) === newest.get(sub));
      },
      40_000,
    );

    // No learner ever received an older score after a newer one (the same score twice is allowed).
    const seen = new Map<string, Arrival>();
    for (const a of arrivals) {
      const before = seen.get(a.userId);
      if (before)
        expect(Date.parse(a.timestamp), `${a.userId}: ${before.scoreGiven}@${before.timestamp} then ${a.scoreGiven}@${a.timestamp}`).toBeGreaterThanOrEqual(
          Date.parse(before.timestamp),
        );
      seen.set(a.userId, a);
    }
    expect(arrivals.length).toBeGreaterThanOrEqual(subs.length);
    // And the outbox agrees: each learner's newest row is sent, nothing is left in flight or waiting.
    await until('the outbox to settle', async () => {
      const open = await check.db.selectFrom('grade_outbox').select('id').where('state', 'in', ['pending', 'sending']).execute();
      return open.length === 0;
    });
    const rows = await check.db
      .selectFrom('grade_outbox as g')
      .innerJoin('users as u', 'u.id', 'g.user_id')
      .select(['u.sub', 'g.state', 'g.seq'])
      .orderBy('g.seq', 'desc')
      .execute();
    for (const sub of subs) expect(rows.find((r) => r.sub === sub)?.state, sub).toBe('sent');
  }, 60_000);
});
