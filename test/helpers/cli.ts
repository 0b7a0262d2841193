import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Dialect } from '../../src/store/database.js';
import { PG_URL } from './dialects.js';

/** The CLI entry point, run from source through tsx's loader (no build needed). */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** Absolute, so the CLI can run with any working directory (tsx is resolved from the checkout). */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export const CLI_SECRET = 'cli-test-secret-cli-test-secret-0123456789-abcdef';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A data directory (and, for PostgreSQL, a schema of its own) that CLI runs share. */
export interface CliWorkspace {
  readonly dialect: Dialect;
  readonly dataDir: string;
  /** The whole environment a CLI run sees: nothing leaks in from the test process. */
  readonly env: Readonly<Record<string, string>>;
  dispose(): Promise<void>;
}

export async function createCliWorkspace(dialect: Dialect): Promise<CliWorkspace> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courseport-cli-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    COURSEPORT_DATA_DIR: dataDir,
    COURSEPORT_SECRET: CLI_SECRET,
    COURSEPORT_DATABASE_URL: `sqlite:${join(dataDir, 'courseport.db')}`,
  };
  let schema: string | undefined;
  if (dialect === 'postgres') {
    if (!PG_URL) throw new Error('no PostgreSQL for this test run (see test/helpers/postgres-probe.ts)');
    schema = `cp_cli_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    await pgQuery(`create schema ${schema}`);
    // libpq's `options` parameter, honoured by node-postgres: the CLI sees an ordinary URL.
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    env.COURSEPORT_DATABASE_URL = url.toString();
  }
  return {
    dialect,
    dataDir,
    env,
    dispose: async () => {
      if (schema) await pgQuery(`drop schema if exists ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function pgQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Runs `courseport …` as a child process in the workspace's data directory; `input` is piped to its stdin. */
export function runCli(ws: CliWorkspace | undefined, args: readonly string[], timeoutMs = 20_000, input?: string): Promise<CliResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...(ws?.env ?? {}) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], {
      cwd: ws?.dataDir ?? tmpdir(),
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`courseport ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the JSON a `--json` command printed, failing with the whole output when it is not JSON. */
export function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${String(result.code)})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}
