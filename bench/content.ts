/**
 * Package files: Courseport's /content/<token>/… (token check, @fastify/send with ETag,
 * Range, MIME) against @fastify/static serving the same extracted directory, each on its
 * own process, the same closed-loop load in turn.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { GOLF_12 } from '../test/helpers/fixtures.js';
import { freePort } from '../test/helpers/live-server.js';
import { closedLoop, handshake, startBenchServer, type LoadResult } from './common.js';

const FILES = ['shared/launchpage.html', 'shared/scormfunctions.js', 'Playing/Playing.html', 'Etiquette/course.jpg', 'Playing/par.jpg', 'shared/style.css'];

export async function runContentBench(options: { concurrency: number; durationMs: number; warmupMs: number }): Promise<{ courseport: LoadResult; fastifyStatic: LoadResult; ratio: number }> {
  let packageId = '';
  let versionId = '';
  const s = await startBenchServer(options.concurrency, async (services) => {
    const r = await services.packages.importPackage(GOLF_12);
    packageId = r.package.id;
    versionId = r.version.id;
  });
  const staticPort = await freePort();
  const ref = spawn(process.execPath, ['--import', 'tsx', 'bench/static-server.ts', join(s.dataDir, 'content', 'packages', versionId), String(staticPort)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const refPool = new Pool(`http://127.0.0.1:${staticPort}`, { connections: options.concurrency });
  try {
    const page = await handshake(s, 'content-bench', { link: 'rl-content', package: packageId });
    const base = /"contentBase":"([^"]+)"/.exec(page)?.[1];
    if (!base) throw new Error('the launch did not open the player');
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${staticPort}/${FILES[0]}`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const get = (pool: Pool, path: string) => async () => {
      const res = await pool.request({ method: 'GET', path });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
    };
    const courseport = await closedLoop(s.child.pid, options, (_w, i) => get(s.tool, `${base}${FILES[i % FILES.length]}`)());
    const fastifyStatic = await closedLoop(ref.pid, options, (_w, i) => get(refPool, `/${FILES[i % FILES.length]}`)());
    return { courseport, fastifyStatic, ratio: courseport.perSecond / fastifyStatic.perSecond };
  } finally {
    await refPool.close();
    ref.kill('SIGTERM');
    await s.close();
  }
}
