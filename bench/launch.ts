/**
 * Full LTI launch handshake under load: OIDC login at the tool → the platform's auth
 * endpoint (mints and signs an id_token) → form_post launch at the tool. Courseport runs
 * as its own process (`node dist/cli/main.js serve`, SQLite); the simulated LMS and the
 * load generator share this process. Everything runs on this machine, over loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { migrateToLatest, openStore } from '../src/store/database.js';
import { PlatformService } from '../src/services/platforms.js';
import { systemClock } from '../src/util/clock.js';
import { freePort } from '../test/helpers/live-server.js';
import { SimulatedPlatform } from '../test/platform/simulated-platform.js';

export interface LaunchBenchOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
}

export interface LaunchBenchResult {
  readonly launches: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** CPU time of the Courseport process per launch, in milliseconds. */
  readonly serverCpuMsPerLaunch: number;
  readonly firstError?: string;
}

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in ticks (100 Hz)
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`Courseport exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Courseport did not become ready');
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export async function runLaunchBench(options: LaunchBenchOptions): Promise<LaunchBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courseport-bench-'));
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const lms = await SimulatedPlatform.start({ hostname: 'localhost' });

  const store = openStore(`sqlite:${join(dataDir, 'courseport.db')}`);
  await migrateToLatest(store);
  await new PlatformService(store.db, systemClock, { requireHttps: false }).register(lms.registration());
  await store.close();

  const profileArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profileArgs, 'dist/cli/main.js', 'serve'], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      COURSEPORT_DATA_DIR: dataDir,
      COURSEPORT_PORT: String(port),
      COURSEPORT_HOST: '127.0.0.1',
      COURSEPORT_BASE_URL: baseUrl,
      COURSEPORT_SECRET: SECRET,
      COURSEPORT_LOG_LEVEL: 'warn',
      // Every virtual user comes from 127.0.0.1: the per-address login limit would measure itself.
      COURSEPORT_LOGIN_RATE_LIMIT: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(`${baseUrl}/readyz`, child);
    const tool = new Pool(`http://127.0.0.1:${port}`, { connections: options.concurrency, pipelining: 1 });
    const platformPool = new Pool(lms.origin.replace('localhost', '127.0.0.1'), { connections: options.concurrency });
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let measuring = false;
    const started = performance.now();
    const stopAt = started + options.warmupMs + options.durationMs;

    const handshake = async (user: string): Promise<void> => {
      const q = new URLSearchParams({
        iss: lms.issuer,
        login_hint: user,
        target_link_uri: `${baseUrl}/lti/launch`,
        lti_message_hint: 'rl-1',
        client_id: lms.clientId,
        lti_deployment_id: lms.deploymentId,
      });
      const login = await tool.request({ method: 'GET', path: `/lti/login?${q}`, headers: { host: `localhost:${port}` } });
      await login.body.dump();
      if (login.statusCode !== 302) throw new Error(`login answered ${login.statusCode}`);
      const auth = new URL(String(login.headers.location));
      const cookie = String(([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]).split(';')[0]!;
      const authRes = await platformPool.request({ method: 'GET', path: `${auth.pathname}${auth.search}` });
      const html = await authRes.body.text();
      const idToken = /name="id_token" value="([^"]+)"/.exec(html)?.[1];
      const state = /name="state" value="([^"]+)"/.exec(html)?.[1];
      if (!idToken || !state) throw new Error(`auth answered ${authRes.statusCode}: ${html.slice(0, 200)}`);
      const launch = await tool.request({
        method: 'POST',
        path: '/lti/launch',
        headers: { host: `localhost:${port}`, 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ id_token: idToken, state }).toString(),
      });
      const body = await launch.body.text();
      if (launch.statusCode !== 200) throw new Error(`launch answered ${launch.statusCode}: ${/data-error-code[^>]*>([A-Z_]+)/.exec(body)?.[1] ?? body.slice(0, 200)}`);
    };

    let cpuStart = 0;
    let measuredFrom = 0;
    setTimeout(() => {
      measuring = true;
      measuredFrom = performance.now();
      cpuStart = cpuMs(child.pid!);
    }, options.warmupMs).unref();

    await Promise.all(
      Array.from({ length: options.concurrency }, async (_, vu) => {
        let i = 0;
        while (performance.now() < stopAt) {
          const t0 = performance.now();
          try {
            await handshake(`user-${vu}-${i++ % 50}`);
            if (measuring) latencies.push(performance.now() - t0);
          } catch (err) {
            if (measuring) errors++;
            firstError ??= (err as Error).message;
          }
        }
      }),
    );
    const elapsed = (performance.now() - measuredFrom) / 1000;
    const cpu = cpuMs(child.pid!) - cpuStart;
    await tool.close();
    await platformPool.close();
    latencies.sort((a, b) => a - b);
    return {
      launches: latencies.length,
      errors,
      perSecond: latencies.length / elapsed,
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      p99: quantile(latencies, 0.99),
      max: latencies.at(-1) ?? 0,
      serverCpuMsPerLaunch: latencies.length ? cpu / latencies.length : 0,
      ...(firstError ? { firstError } : {}),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await lms.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
