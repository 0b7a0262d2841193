/**
 * Importing a large package streams: a ~1 GiB SCORM package (stored entries of random
 * data, so nothing compresses) is imported by the CLI (`courseport package import`) in its
 * own process while its resident memory is sampled.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { BENCH_SECRET } from './common.js';

const MiB = 1024 * 1024;

function manifest(files: string[]): string {
  return `<?xml version="1.0"?>
<manifest identifier="bench.big" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Big course</title>
    <item identifier="item_1" identifierref="res_1"><title>Big SCO</title></item>
  </organization></organizations>
  <resources><resource identifier="res_1" type="webcontent" adlcp:scormtype="sco" href="index.html">
    <file href="index.html"/>${files.map((f) => `<file href="${f}"/>`).join('')}
  </resource></resources>
</manifest>`;
}

/** Random bytes without generating a gigabyte of randomness: a 1 MiB random block, re-keyed per file. */
function randomStream(bytes: number): Readable {
  const block = randomBytes(MiB);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, MiB);
      left -= n;
      const chunk = Buffer.from(block.subarray(0, n));
      chunk.writeUInt32LE(((left >>> 0) ^ 0x9e3779b9) >>> 0, 0);
      this.push(chunk);
    },
  });
}

async function buildPackage(path: string, totalMiB: number): Promise<void> {
  const zip = new yazl.ZipFile();
  const fileMiB = 64;
  const files = Array.from({ length: Math.max(1, Math.round(totalMiB / fileMiB)) }, (_, i) => `media/video-${i}.bin`);
  zip.addBuffer(Buffer.from(manifest(files)), 'imsmanifest.xml');
  zip.addBuffer(Buffer.from('<!doctype html><title>Big</title>'), 'index.html');
  for (const f of files) zip.addReadStream(randomStream(fileMiB * MiB), f, { compress: false });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface ImportBenchResult {
  readonly packageMiB: number;
  readonly seconds: number;
  readonly miBPerSecond: number;
  readonly peakRssMiB: number;
}

export async function runImportBench(totalMiB: number): Promise<ImportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'courseport-import-bench-'));
  try {
    const zipPath = join(dir, 'big.zip');
    await buildPackage(zipPath, totalMiB);
    const started = performance.now();
    const child = spawn(process.execPath, ['dist/cli/main.js', 'package', 'import', zipPath, '--json'], {
      env: { ...process.env, NODE_ENV: 'development', COURSEPORT_DATA_DIR: join(dir, 'data'), COURSEPORT_SECRET: BENCH_SECRET, COURSEPORT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(child.pid!));
    }, 20);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    clearInterval(sampler);
    if (code !== 0) throw new Error(`import exited with ${code}: ${out.slice(0, 300)}`);
    const seconds = (performance.now() - started) / 1000;
    return { packageMiB: totalMiB, seconds, miBPerSecond: totalMiB / seconds, peakRssMiB: peak / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
