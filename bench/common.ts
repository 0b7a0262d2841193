/**
 * Shared pieces of the benchmarks: Courseport as its own process (on SQLite, or PostgreSQL), the simulated
 * LMS, the launch handshake as a browser performs it, and a closed-loop load generator.
 * Everything runs on this machine, over loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { loadConfig } from '../src/config/config.js';
import { createServices, type Services } from '../src/container.js';
import { migrateToLatest, openStore, type Store } from '../src/store/database.js';
import { systemClock } from '../src/util/clock.js';
import { buildCourse } from '../test/helpers/courses.js';
import { freePort } from '../test/helpers/live-server.js';
import { SimulatedPlatform } from '../test/platform/simulated-platform.js';

export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

let course: Promise<string> | undefined;
/** The project's SCORM 1.2 test course (test/fixtures/courses/), zipped once per bench run. */
export function benchCourse(): Promise<string> {
  course ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courseport-bench-course-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return buildCourse('bike-care-12', join(dir, 'bike-care-12.zip'));
  })();
  return course;
}

export interface BenchServer {
  readonly baseUrl: string;
  readonly port: number;
  readonly dataDir: string;
  readonly lms: SimulatedPlatform;
  readonly child: ChildProcess;
  readonly env: Record<string, string>;
  /** Connection pools to the tool and the LMS (sized for the benchmark's concurrency). */
  readonly tool: Pool;
  readonly platform: Pool;
  /** PostgreSQL: the server processes of Courseport's sessions (their CPU is Courseport's database work). */
  readonly databasePids?: () => Promise<number[]>;
  close(): Promise<void>;
}

export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, 100 Hz ticks
}

export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

function benchEnv(dataDir: string, port: number, baseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'development',
    COURSEPORT_DATA_DIR: dataDir,
    COURSEPORT_PORT: String(port),
    COURSEPORT_HOST: '127.0.0.1',
    COURSEPORT_BASE_URL: baseUrl,
    COURSEPORT_SECRET: BENCH_SECRET,
    COURSEPORT_LOG_LEVEL: 'warn',
    // Every virtual user comes from 127.0.0.1: the per-address login limit would measure itself.
    COURSEPORT_LOGIN_RATE_LIMIT: '0',
    // One client address sends every launch here.
    COURSEPORT_LAUNCH_RATE_LIMIT: '0',
  };
}

/**
 * A schema of its own on a PostgreSQL server (BENCH_PG_URL), as a URL Courseport opens like
 * any other (libpq's `options` sets the search path); `drop` removes it after the run.
 */
async function pgBenchDatabase(serverUrl: string): Promise<{ url: string; backendPids: () => Promise<number[]>; drop: () => Promise<void> }> {
  const schema = `cp_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const sqlOn = async (text: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await sqlOn(`create schema ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  // Its sessions are told apart from everyone else's on a shared server (CPU accounting below).
  url.searchParams.set('application_name', schema);
  return {
    url: url.toString(),
    backendPids: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        return (await c.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [schema])).rows.map((r) => r.pid);
      } finally {
        await c.end();
      }
    },
    drop: () => sqlOn(`drop schema if exists ${schema} cascade`),
  };
}

/**
 * Registers the simulated LMS (and runs `prepare`, e.g. package imports) directly on the
 * database, then starts `node dist/cli/main.js serve` on it. The database is SQLite in the
 * data directory, or a fresh schema on the PostgreSQL server at `options.pgUrl`.
 */
export async function startBenchServer(
  concurrency: number,
  prepare?: (services: Services, store: Store, baseUrl: string) => Promise<void>,
  extraEnv: Record<string, string> = {},
  options: { pgUrl?: string } = {},
): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courseport-bench-'));
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const pgDatabase = options.pgUrl ? await pgBenchDatabase(options.pgUrl) : undefined;
  const env = { ...benchEnv(dataDir, port, baseUrl), ...(pgDatabase ? { COURSEPORT_DATABASE_URL: pgDatabase.url } : {}), ...extraEnv };
  const lms = await SimulatedPlatform.start({ hostname: 'localhost' });

  const config = loadConfig(env);
  const store = openStore(config.databaseUrl);
  await migrateToLatest(store);
  const services = createServices(config, store, systemClock);
  await services.platforms.register(lms.registration());
  await prepare?.(services, store, baseUrl);
  await (services.fetch as { close?: () => Promise<void> }).close?.();
  await store.close();

  const profileArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profileArgs, 'dist/cli/main.js', 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(`${baseUrl}/readyz`, child);
  const tool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
  const platform = new Pool(lms.origin.replace('localhost', '127.0.0.1'), { connections: concurrency });
  return {
    baseUrl,
    port,
    dataDir,
    lms,
    child,
    env,
    tool,
    platform,
    ...(pgDatabase ? { databasePids: pgDatabase.backendPids } : {}),
    close: async () => {
      await tool.close();
      await platform.close();
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      await lms.close();
      await pgDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`Courseport exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Courseport did not become ready');
}

/** login → platform auth (mints an id_token) → launch; returns the launch page HTML. */
export async function handshake(s: BenchServer, user: string, hint?: { link: string; package?: string }): Promise<string> {
  const host = `localhost:${s.port}`;
  const q = new URLSearchParams({
    iss: s.lms.issuer,
    login_hint: user,
    target_link_uri: `${s.baseUrl}/lti/launch`,
    lti_message_hint: hint ? Buffer.from(JSON.stringify(hint)).toString('base64url') : 'rl-1',
    client_id: s.lms.clientId,
    lti_deployment_id: s.lms.deploymentId,
  });
  const login = await s.tool.request({ method: 'GET', path: `/lti/login?${q}`, headers: { host } });
  await login.body.dump();
  if (login.statusCode !== 302) throw new Error(`login answered ${login.statusCode}`);
  const auth = new URL(String(login.headers.location));
  const cookie = String(([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]).split(';')[0]!;
  const authRes = await s.platform.request({ method: 'GET', path: `${auth.pathname}${auth.search}` });
  const html = await authRes.body.text();
  const idToken = /name="id_token" value="([^"]+)"/.exec(html)?.[1];
  const state = /name="state" value="([^"]+)"/.exec(html)?.[1];
  if (!idToken || !state) throw new Error(`auth answered ${authRes.statusCode}: ${html.slice(0, 200)}`);
  const launch = await s.tool.request({
    method: 'POST',
    path: '/lti/launch',
    headers: { host, 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ id_token: idToken, state }).toString(),
  });
  const body = await launch.body.text();
  if (launch.statusCode !== 200)
    throw new Error(`launch answered ${launch.statusCode}: ${/data-error-code[^>]*>([A-Z_]+)/.exec(body)?.[1] ?? body.slice(0, 200)}`);
  return body;
}

export interface LoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly serverCpuMsPerOp: number;
  /** PostgreSQL's CPU for Courseport's sessions, per operation (absent on SQLite, which runs inside the server). */
  readonly databaseCpuMsPerOp?: number;
  readonly firstError?: string;
}

/** Runs `op(worker, i)` in a closed loop from `concurrency` workers; measures after the warm-up. */
export async function closedLoop(
  pid: number | undefined,
  options: { concurrency: number; durationMs: number; warmupMs: number },
  op: (worker: number, i: number) => Promise<void>,
  databasePids?: () => Promise<number[]>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  let measuredFrom = 0;
  let cpuStart = 0;
  const stopAt = performance.now() + options.warmupMs + options.durationMs;
  let dbPids: number[] = [];
  let dbCpuStart = 0;
  const dbCpu = () => dbPids.reduce((sum, p) => sum + cpuMs(p), 0);
  setTimeout(() => {
    measuring = true;
    measuredFrom = performance.now();
    if (pid) cpuStart = cpuMs(pid);
    void databasePids?.().then((pids) => {
      dbPids = pids;
      dbCpuStart = dbCpu();
    });
  }, options.warmupMs).unref();
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, w) => {
      let i = 0;
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        try {
          await op(w, i++);
          if (measuring) latencies.push(performance.now() - t0);
        } catch (err) {
          if (measuring) errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const elapsed = (performance.now() - measuredFrom) / 1000;
  const cpu = pid ? cpuMs(pid) - cpuStart : 0;
  const databaseCpu = databasePids ? dbCpu() - dbCpuStart : undefined;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? 0,
    serverCpuMsPerOp: latencies.length ? cpu / latencies.length : 0,
    ...(databaseCpu !== undefined && latencies.length ? { databaseCpuMsPerOp: databaseCpu / latencies.length } : {}),
    ...(firstError ? { firstError } : {}),
  };
}
