import { readFileSync } from 'node:fs';
import { build, type App } from './app.js';
import type { Config } from './config/config.js';
import { cleanupExpired } from './launch/cleanup.job.js';
import { DEFAULT_GRADE_WORKER, GradeWorker } from './grades/grade-worker.js';
import { KeyRotationJob } from './keys/key-rotation.job.js';
import { isDatabaseUnavailable } from './store/database-errors.js';
import { migrateAtStart, openStore, storeOptions, type Store } from './store/database.js';
import { systemClock } from './util/clock.js';

export interface RunningServer {
  readonly app: App;
  readonly store: Store;
  readonly url: string;
  /** Re-reads COURSEPORT_TLS_CERT/KEY for new connections (the CLI calls it on SIGHUP). */
  reloadTls(): void;
  close(): Promise<void>;
}

const CLEANUP_EVERY_MS = 10 * 60 * 1000;
const CHECKPOINT_EVERY_MS = 1000;

/** Opens the database, applies migrations, makes sure a signing key exists, and listens. */
export async function startServer(config: Config, print: (line: string) => void = console.log): Promise<RunningServer> {
  let reportCheckpointError = (message: string) => console.error(`SQLite checkpoint failed: ${message}`);
  // SQLite: WAL checkpoints run on their own thread instead of stalling a commit (docs/performance.md).
  const store = openStore(config.databaseUrl, {
    ...storeOptions(config),
    backgroundCheckpoints: { intervalMs: CHECKPOINT_EVERY_MS, onError: (m) => reportCheckpointError(m) },
  });
  const { applied } = await migrateAtStart(config.databaseUrl, store, config.database.connectTimeoutMs);
  const https = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  const app = await build({ config, store, ...(https ? { https } : {}) });
  reportCheckpointError = (message) => app.log.error({ err: message }, 'background WAL checkpoint failed; SQLite checkpoints inside commits again');
  if (applied.length) app.log.info({ applied }, 'database migrations applied');
  await app.services.toolKeys.ensureCurrentKey();
  await app.services.content.clearStaging();
  // The sandbox LMS registers itself like any platform (and creates its key) on first start.
  const sandbox = config.sandbox ? await app.services.sandbox.ensureReady() : undefined;
  if (sandbox?.created) app.log.info({ platform: sandbox.platformId }, 'sandbox LMS registered as a platform');
  await app.listen({ host: config.host, port: config.port });

  const grades = new GradeWorker(store.db, store.dialect, app.services.ags, systemClock, app.log, {
    ...DEFAULT_GRADE_WORKER,
    pollMs: config.grades.pollMs,
    maxAgeMs: config.grades.maxAgeMs,
    leaseMs: config.grades.leaseMs,
    baseDelayMs: config.grades.retryBaseMs,
  });
  grades.start();

  // The tool key schedule, checked by every process; the database lock makes one act.
  const keySchedule = new KeyRotationJob(app.services.toolKeys, app.log, config.keys.checkEveryMs);
  keySchedule.start();

  const cleanup = setInterval(() => {
    // While the database is away the outage is logged once (DatabaseHealth); the next run cleans up.
    cleanupExpired(store.db, systemClock.now()).then(
      (removed) => app.log.debug(removed, 'expired login states and launches removed'),
      (err: unknown) => (isDatabaseUnavailable(err) ? undefined : app.log.error({ err }, 'cleanup of expired records failed')),
    );
    // Admin console: ended sessions and finished sign-in throttle windows
    app.services.admins.cleanup().then(
      (removed) => app.log.debug({ removed }, 'expired admin console sessions removed'),
      (err: unknown) => (isDatabaseUnavailable(err) ? undefined : app.log.error({ err }, 'cleanup of admin console sessions failed')),
    );
  }, CLEANUP_EVERY_MS);
  cleanup.unref();

  const b = config.baseUrl;
  print(`Courseport is listening on ${config.host}:${config.port} (${store.dialect} database)`);
  print(`  Public base URL        ${b}`);
  print(`  JWKS (public keys)     ${b}/.well-known/jwks.json`);
  print(`  OIDC login initiation  ${b}/lti/login`);
  print(`  Redirect / launch URL  ${b}/lti/launch`);
  print(`  Admin console          ${b}/admin`);
  print(`  Admin API              ${b}/api/v1  (token: npm run --silent courseport -- admin token create; OpenAPI at ${b}/api/docs)`);
  print(`  Health                 ${b}/healthz, ${b}/readyz`);
  print(`  Dynamic registration   ${b}/lti/register   (Canvas JSON: ${b}/lti/config/canvas.json)`);
  if (config.sandbox) {
    print(`  Sandbox LMS            ${b}/sandbox   (try Courseport without an LMS; COURSEPORT_SANDBOX=off turns it off)`);
    if (config.env === 'production') print('  NOTE: the sandbox LMS is on in production (COURSEPORT_SANDBOX=on): anyone can launch packages through it.');
  }
  if ((await app.services.admins.count()) === 0) {
    print('');
    print(`No administrator yet: open ${b}/admin to create the first one (or run: npm run --silent courseport -- admin create --email …).`);
  }
  if (config.devDefaults.length) {
    print('');
    print('WARNING: development-only defaults are in force. Do not run like this in production:');
    for (const d of config.devDefaults) print(`  - ${d}`);
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(cleanup);
      await keySchedule.stop();
      await grades.stop();
      await app.close();
      await store.close();
    })();
    return closing;
  };
  const reloadTls = () => {
    const tls = config.tls;
    if (!tls) {
      app.log.warn('SIGHUP: no TLS certificate configured, nothing to reload');
      return;
    }
    try {
      // A bad file keeps the certificate in use: a renewal mistake must not take the server down.
      (app.server as unknown as { setSecureContext(o: { cert: Buffer; key: Buffer }): void }).setSecureContext({
        cert: readFileSync(tls.certFile),
        key: readFileSync(tls.keyFile),
      });
      app.log.info({ cert: tls.certFile }, 'TLS certificate reloaded');
    } catch (err) {
      app.log.error({ err, cert: tls.certFile }, 'TLS certificate reload failed; the previous certificate stays in use');
    }
  };
  return { app, store, url: b, reloadTls, close };
}
