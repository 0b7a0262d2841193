/**
 * npm run bench [-- launch runtime content grades import runtime-pg grades-pg]: builds Courseport
 * and measures it on this machine. Numbers are reported, never asserted; docs/performance.md
 * records them. The PostgreSQL ones need BENCH_PG_URL (and run by default when it is set).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import type { LoadResult } from './common.js';
import { runContentBench } from './content.js';
import { runGradeBench } from './grades.js';
import { runImportBench } from './import.js';
import { runLaunchBench } from './launch.js';
import { runRuntimeBench } from './runtime.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const importMiB = Number(process.env.BENCH_IMPORT_MIB ?? 1024);
/** A PostgreSQL server for the runtime-pg and grades-pg benchmarks (each run gets a schema of its own, dropped after). */
const pgUrl = process.env.BENCH_PG_URL;
const pgConcurrency = Number(process.env.BENCH_PG_CONCURRENCY ?? 64);
const selected = new Set(
  process.argv.slice(2).length ? process.argv.slice(2) : ['launch', 'runtime', 'content', 'grades', 'import', ...(pgUrl ? ['runtime-pg', 'grades-pg'] : [])],
);
if ((selected.has('runtime-pg') || selected.has('grades-pg')) && !pgUrl) {
  console.error('runtime-pg and grades-pg need BENCH_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  process.exit(2);
}
const load = { concurrency, durationMs: seconds * 1000, warmupMs: 2000 };
let failed = false;

const ms = (n: number) => n.toFixed(1);
function report(title: string, target: string, r: LoadResult, unit: string): void {
  console.log('');
  console.log(title);
  console.log(`  ${unit}/s${' '.repeat(Math.max(1, 17 - unit.length))}${r.perSecond.toFixed(0)}   (${target})`);
  console.log(`  latency p50/p95/p99 ${ms(r.p50)} / ${ms(r.p95)} / ${ms(r.p99)} ms, max ${ms(r.max)} ms`);
  console.log(`  server CPU per op  ${r.serverCpuMsPerOp.toFixed(2)} ms`);
  if (r.databaseCpuMsPerOp !== undefined) console.log(`  PostgreSQL CPU per op ${r.databaseCpuMsPerOp.toFixed(2)} ms (its sessions for this Courseport)`);
  console.log(`  ${unit} ${r.ops}, errors ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}`);
  if (r.errors > 0) failed = true;
}

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
console.log(
  `Courseport benchmarks · node ${process.version} · ${cpus().length} cores · ${cpus()[0]?.model ?? ''} · ${concurrency} concurrent clients, ${seconds} s each`,
);

if (selected.has('launch')) {
  report('Launch handshake (login → platform auth → launch), SQLite', 'target ≥ 600, p99 < 100 ms', await runLaunchBench(load), 'launches');
}
if (selected.has('runtime')) {
  report('SCORM runtime commits (HTTP, validated, rolled up), SQLite', 'target ≥ 2000', await runRuntimeBench(load), 'commits');
}
if (selected.has('runtime-pg')) {
  report(
    `SCORM runtime commits (HTTP, validated, rolled up under the attempt's row lock), PostgreSQL, ${pgConcurrency} learners`,
    'target ≥ 1500',
    await runRuntimeBench({ ...load, concurrency: pgConcurrency, pgUrl: pgUrl! }),
    'commits',
  );
}
if (selected.has('content')) {
  const c = await runContentBench(load);
  report('Package files from /content/<token>/…', 'Courseport', c.courseport, 'requests');
  report('The same files from @fastify/static', 'reference', c.fastifyStatic, 'requests');
  console.log(
    `  ratio Courseport / @fastify/static: ${c.ratio.toFixed(2)} (median of alternating rounds: ${c.ratios.map((r) => r.toFixed(2)).join(', ')})   (target ≥ 0.8)`,
  );
}
if (selected.has('grades')) {
  const learners = Number(process.env.BENCH_GRADE_LEARNERS ?? 2000);
  const g = await runGradeBench({ learners, concurrency });
  console.log('');
  console.log(`Grade delivery (outbox → AGS scores at the simulated LMS), ${learners} learners`);
  console.log(`  scores/s           ${g.perSecond.toFixed(0)}   (target ≥ 500)`);
  console.log(
    `  ${g.scores} scores in ${g.seconds.toFixed(2)} s, ${g.tokenRequests} token request(s), ${g.lineItems} line item(s) created, ${g.refusals} refusal(s)`,
  );
  if (g.scores !== learners || g.refusals > 0 || g.lineItems !== 1) failed = true;
}
if (selected.has('grades-pg')) {
  const learners = Number(process.env.BENCH_GRADE_LEARNERS ?? 2000);
  const g = await runGradeBench({ learners, concurrency, pgUrl: pgUrl! });
  console.log('');
  console.log(`Grade delivery (outbox → AGS scores at the simulated LMS), PostgreSQL, ${learners} learners`);
  console.log(`  scores/s           ${g.perSecond.toFixed(0)}   (target ≥ 500)`);
  console.log(
    `  ${g.scores} scores in ${g.seconds.toFixed(2)} s, ${g.tokenRequests} token request(s), ${g.lineItems} line item(s) created, ${g.refusals} refusal(s)`,
  );
  if (g.scores !== learners || g.refusals > 0 || g.lineItems !== 1) failed = true;
}
if (selected.has('import')) {
  const r = await runImportBench(importMiB);
  console.log('');
  console.log(`Import of a ${r.packageMiB} MiB package (CLI, its own process)`);
  console.log(`  time ${r.seconds.toFixed(1)} s (${r.miBPerSecond.toFixed(0)} MiB/s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB   (target < 150 MiB)`);
}
if (failed) process.exitCode = 1;
