/**
 * npm run bench: builds Courseport and measures it on this machine. Numbers are reported,
 * never asserted; docs/performance.md records them with the machine they came from.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { runLaunchBench } from './launch.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
console.log(`Courseport benchmarks · node ${process.version} · ${cpus().length} cores · ${cpus()[0]?.model ?? ''}`);

const launch = await runLaunchBench({ concurrency, durationMs: seconds * 1000, warmupMs: 2000 });
console.log('');
console.log(`Launch handshake (login → platform auth → launch), SQLite, ${concurrency} concurrent users, ${seconds} s`);
console.log(`  launches/s         ${launch.perSecond.toFixed(0)}   (target ≥ 600)`);
console.log(`  latency p50/p95/p99 ${launch.p50.toFixed(1)} / ${launch.p95.toFixed(1)} / ${launch.p99.toFixed(1)} ms   (target p99 < 100 ms), max ${launch.max.toFixed(1)} ms`);
console.log(`  server CPU/launch  ${launch.serverCpuMsPerLaunch.toFixed(2)} ms`);
console.log(`  launches ${launch.launches}, errors ${launch.errors}${launch.firstError ? ` (first: ${launch.firstError})` : ''}`);
if (launch.errors > 0) process.exitCode = 1;
