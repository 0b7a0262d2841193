import cliProgress from 'cli-progress';
import type { ImportProgress } from '../packages/package.service.js';

const MiB = 1024 * 1024;

/** Bytes as MiB for the progress line: one decimal below 100 MiB, whole numbers above. */
export function mib(bytes: number): string {
  const v = bytes / MiB;
  return v < 100 ? v.toFixed(1) : String(Math.round(v));
}

const PHASE: Record<ImportProgress['phase'], string> = { extract: 'extracting', validate: 'checking the manifest', store: 'storing', done: 'done' };

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
}

/**
 * The import progress bar (stderr, terminals only). The bar counts bytes unpacked; its payload
 * names avoid cli-progress's own `{value}` and `{total}` tokens (which would print raw bytes next to
 * "MiB"), and once extraction is over the bar stays at its total: the later phases have no bytes.
 */
export function importProgressBar(stream: ProgressStream, options: { enabled: boolean; noTty?: boolean }): { update(p: ImportProgress): void; stop(): void } {
  if (!options.enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: 'Importing |{bar}| {percentage}% · {doneMiB}/{totalMiB} MiB · {files} files · {phase}',
      stream: stream as NodeJS.WritableStream,
      hideCursor: true,
      ...(options.noTty ? { noTTYOutput: true, notTTYSchedule: 0 } : {}),
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let total = 0;
  let entries = '0/0';
  return {
    update(p) {
      if (p.bytesTotal > 0) total = p.bytesTotal;
      if (p.entriesTotal > 0) entries = `${p.entriesDone}/${p.entriesTotal}`;
      if (!started && total > 0) {
        bar.start(total, 0, { doneMiB: mib(0), totalMiB: mib(total), files: entries, phase: PHASE[p.phase] });
        started = true;
      }
      if (!started) return;
      const done = p.phase === 'extract' ? Math.min(p.bytesDone, total) : total;
      bar.update(done, { doneMiB: mib(done), totalMiB: mib(total), files: entries, phase: PHASE[p.phase] });
    },
    stop() {
      if (started) {
        started = false;
        bar.stop();
      }
    },
  };
}
