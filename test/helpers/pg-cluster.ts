import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './live-server.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, on a free port and a temporary directory, that the
 * test may stop, start, pause (SIGSTOP) and remove — never the machine's cluster on 5432.
 * It runs as the `postgres` OS user (initdb refuses root), so the tests need root, as CI has.
 */
export interface PgCluster {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication). */
  readonly url: string;
  start(): Promise<void>;
  /** A fast shutdown: sessions are terminated, connections refused until start(). */
  stop(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections open but nothing answers. */
  pause(): void;
  resume(): void;
  remove(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
  return join(root, newest, 'bin');
}

/** The processes of the cluster: its postmaster and the postmaster's children. */
function clusterPids(dataDir: string): number[] {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return [];
  const postmaster = Number(readFileSync(file, 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

export async function createPgCluster(): Promise<PgCluster> {
  if (process.getuid?.() !== 0) throw new Error('a PostgreSQL cluster of the test’s own needs root (it runs initdb as the postgres user)');
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'courseport-pg-'));
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeout: 30_000 });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  // Durability is not under test here: no fsync keeps the cluster fast on a shared machine.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB`;
  let paused: number[] = [];
  const cluster: PgCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '20', 'start']);
    },
    stop: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '20', 'stop']);
    },
    pause: () => {
      paused = clusterPids(data);
      for (const pid of paused) process.kill(pid, 'SIGSTOP');
    },
    resume: () => {
      for (const pid of paused) process.kill(pid, 'SIGCONT');
      paused = [];
    },
    remove: async () => {
      cluster.resume();
      if (existsSync(join(data, 'postmaster.pid')))
        await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
