/**
 * Grade delivery: learners launch and complete a scored package (real launches and runtime
 * commits, so each score is an outbox row written with its attempt), then a grade worker
 * delivers the outbox to the simulated LMS's AGS endpoints over HTTP: the service token is
 * fetched once and reused, and the LMS verifies every request.
 */
import type { JSONWebKeySet } from 'jose';
import { loadConfig } from '../src/config/config.js';
import { DEFAULT_GRADE_WORKER, GradeWorker } from '../src/grades/grade-worker.js';
import { AGS_SCOPE } from '../src/lti/ags.js';
import { createServices } from '../src/container.js';
import { migrateToLatest, openStore } from '../src/store/database.js';
import { systemClock } from '../src/util/clock.js';
import { SimulatedServices } from '../test/platform/simulated-services.js';
import { benchCourse, handshake, startBenchServer } from './common.js';

export interface GradeBenchResult {
  readonly scores: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly tokenRequests: number;
  readonly refusals: number;
  readonly lineItems: number;
}

export async function runGradeBench(options: { learners: number; concurrency: number; pgUrl?: string }): Promise<GradeBenchResult> {
  let services: SimulatedServices | undefined;
  let packageId = '';
  const s = await startBenchServer(
    options.concurrency,
    async (svc, store, baseUrl) => {
      packageId = (await svc.packages.importPackage(await benchCourse())).package.id;
      services = await SimulatedServices.start({
        clientId: (await svc.platforms.list())[0]!.platform.client_id,
        getToolJwks: async () => (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet,
      });
      await store.db.updateTable('platforms').set({ token_url: services.tokenUrl }).execute();
    },
    // The server's own worker stays idle: this benchmark measures delivery alone.
    { COURSEPORT_GRADES_POLL_MS: '600000' },
    options.pgUrl ? { pgUrl: options.pgUrl } : {},
  );
  const lms = services!;
  try {
    s.lms.agsClaim = { scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.SCORE], lineitems: lms.lineItemsUrl };
    const host = `localhost:${s.port}`;
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (let i = next++; i < options.learners; i = next++) {
          const page = await handshake(s, `grade-learner-${i}`, { link: 'rl-grades', package: packageId });
          const api = /"api":"([^"]+)"/.exec(page)?.[1];
          const load = await s.tool.request({ method: 'POST', path: `${api}/sco/item_1`, headers: { host } });
          const { session } = (await load.body.json()) as { session: number };
          const commit = await s.tool.request({
            method: 'POST',
            path: `${api}/sco/item_1/commit?session=${session}`,
            headers: { host, 'content-type': 'application/json' },
            body: JSON.stringify({ 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': String(50 + (i % 50)), commitSequence: 1, terminate: true }),
          });
          await commit.body.dump();
        }
      }),
    );
    // A worker of its own, on the same database and keys, as a second Courseport process would run it.
    const config = loadConfig({ ...process.env, ...s.env });
    const store = openStore(config.databaseUrl);
    await migrateToLatest(store);
    const app = createServices(config, store, systemClock);
    const worker = new GradeWorker(
      store.db,
      store.dialect,
      app.ags,
      systemClock,
      { info: () => undefined, warn: () => undefined, error: () => undefined },
      { ...DEFAULT_GRADE_WORKER, batch: 64 },
    );
    const started = performance.now();
    let delivered = 0;
    for (let round = 0; round < 1000 && delivered < options.learners; round++) delivered += await worker.runOnce();
    const seconds = (performance.now() - started) / 1000;
    const sent = [...lms.scores.values()].reduce((n, list) => n + list.length, 0);
    await (app.fetch as { close?: () => Promise<void> }).close?.();
    await store.close();
    return { scores: sent, seconds, perSecond: sent / seconds, tokenRequests: lms.issued.length, refusals: lms.refusals.length, lineItems: lms.lineItems.size };
  } finally {
    await s.close();
    await lms.close();
  }
}
