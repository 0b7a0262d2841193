/**
 * Package files: Courseport's /content/<token>/… (token check, @fastify/send with ETag,
 * Range, MIME) against @fastify/static serving the same extracted directory, each on its
 * own process, the same closed-loop load in turn.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort } from '../test/helpers/live-server.js';
import { benchCourse, closedLoop, handshake, startBenchServer, type LoadResult } from './common.js';

const FILES = ['launch.html', 'common/scorm-api.js', 'pages/tools.html', 'media/tools.jpg', 'media/tyres.jpg', 'course.css'];

export async function runContentBench(options: {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
}): Promise<{ courseport: LoadResult; fastifyStatic: LoadResult; ratio: number; ratios: number[] }> {
  let packageId = '';
  let versionId = '';
  const s = await startBenchServer(options.concurrency, async (services) => {
    const r = await services.packages.importPackage(await benchCourse());
    packageId = r.package.id;
    versionId = r.version.id;
  });
  const staticPort = await freePort();
  const ref = spawn(process.execPath, ['--import', 'tsx', 'bench/static-server.ts', join(s.dataDir, 'content', 'packages', versionId), String(staticPort)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
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
    // Alternating rounds: the two servers share two cores with the load generator, so one
    // long run each is at the mercy of whatever else the machine did; the median ratio is not.
    const rounds = 4;
    const round = { ...options, durationMs: Math.max(1000, Math.floor(options.durationMs / rounds)), warmupMs: 500 };
    await closedLoop(s.child.pid, { ...round, durationMs: 1000 }, (_w, i) => get(s.tool, `${base}${FILES[i % FILES.length]}`)());
    await closedLoop(ref.pid, { ...round, durationMs: 1000 }, (_w, i) => get(refPool, `/${FILES[i % FILES.length]}`)());
    const ours: LoadResult[] = [];
    const theirs: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      ours.push(await closedLoop(s.child.pid, round, (_w, i) => get(s.tool, `${base}${FILES[i % FILES.length]}`)()));
      theirs.push(await closedLoop(ref.pid, round, (_w, i) => get(refPool, `/${FILES[i % FILES.length]}`)()));
    }
    const ratios = ours.map((o, i) => o.perSecond / theirs[i]!.perSecond).sort((a, b) => a - b);
    const median = (ratios[Math.floor((rounds - 1) / 2)]! + ratios[Math.ceil((rounds - 1) / 2)]!) / 2;
    const pick = (list: LoadResult[]) => [...list].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds / 2)]!;
    return { courseport: pick(ours), fastifyStatic: pick(theirs), ratio: median, ratios };
  } finally {
    await refPool.close();
    ref.kill('SIGTERM');
    await s.close();
  }
}
