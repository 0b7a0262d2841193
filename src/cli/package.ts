import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { ImportProgress } from '../packages/package.service.js';
import { packageJson, versionJson } from '../packages/package-view.js';
import { output, table, withContext } from './context.js';

const MiB = 1024 * 1024;

/** A progress bar on stderr while the archive is extracted (only on a terminal, never with --json). */
function progressReporter(enabled: boolean): { update(p: ImportProgress): void; stop(): void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: 'Importing |{bar}| {percentage}% · {done}/{total} MiB · {entries} files · {phase}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = Math.max(1, Math.round(p.bytesTotal / MiB));
      if (!started && p.bytesTotal > 0) {
        bar.start(p.bytesTotal, 0, { done: 0, total, entries: 0, phase: p.phase });
        started = true;
      }
      if (started) bar.update(p.phase === 'extract' ? p.bytesDone : p.bytesTotal || p.bytesDone, { done: Math.round(p.bytesDone / MiB), total, entries: `${p.entriesDone}/${p.entriesTotal}`, phase: p.phase });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function registerPackageCommands(program: Command): void {
  const pkg = program.command('package').description('SCORM packages');
  pkg
    .command('import <zip>')
    .description('import a SCORM 1.2 or 2004 package (a new package, or a new version with --package)')
    .option('--title <title>', 'title shown in the catalogue (default: the manifest title)')
    .option('--package <id>', 'import as a new version of this package')
    .option('--json', 'print JSON')
    .action(async (zip: string, o: { title?: string; package?: string; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const progress = progressReporter(!o.json && process.stderr.isTTY === true);
        try {
          const r = await services.packages.importPackage(zip, { title: o.title, packageId: o.package, sourceName: zip.split('/').pop() }, (p) => progress.update(p));
          progress.stop();
          await services.audit.record({ actor: 'cli', action: 'package.import', target: r.package.id, details: { version: r.version.id, title: r.package.title } });
          // Only the id on stdout, as the docs promise (`PKG=$(courseport package import course.zip)`); the summary on stderr.
          output(o, { ...packageJson(r.package), version: versionJson(r.version) }, () => [r.package.id]);
          if (!o.json) process.stderr.write(`${r.version.title}: SCORM ${r.version.scorm_version}, version ${r.version.version}, ${r.version.sco_count} SCO(s), ${r.version.file_count} files\n`);
        } finally {
          progress.stop();
        }
      });
    });
  pkg
    .command('list')
    .description('list packages')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const all = await services.packages.list();
        output(o, all.map(packageJson), () =>
          all.length === 0
            ? ['No packages yet. Import one with: courseport package import course.zip']
            : table([['ID', 'TITLE', 'STATUS', 'LATEST VERSION'], ...all.map((p) => [p.id, p.title, p.status, p.latest_version_id ?? '-'])]),
        );
      });
    });
  pkg
    .command('show <id>')
    .description('show a package and its versions')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const { package: p, versions } = await services.packages.get(id);
        output(o, { ...packageJson(p), versions: versions.map(versionJson) }, () => [
          `id       ${p.id}`,
          `title    ${p.title}`,
          `status   ${p.status}`,
          ...table([['VERSION', 'ID', 'SCORM', 'SCOS', 'FILES', 'IMPORTED'], ...versions.map((v) => [String(v.version), v.id, v.scorm_version, String(v.sco_count), String(v.file_count), new Date(v.created_at).toISOString()])]),
          '',
          `Launch it from an LMS with the custom parameter package_id=${p.id}`,
        ]);
      });
    });
  for (const [verb, status, effect] of [
    ['archive', 'archived', 'leaves the content picker; links already bound to it keep playing'],
    ['unarchive', 'active', 'is back in the content picker'],
  ] as const) {
    pkg
      .command(`${verb} <id>`)
      .description(verb === 'archive' ? 'hide a package from the content picker and from new links (bound links keep playing)' : 'offer an archived package again')
      .option('--json', 'print JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        await withContext(async ({ services }) => {
          const p = await services.packages.setStatus(id, status);
          await services.audit.record({ actor: 'cli', action: `package.${verb}`, target: p.id, details: { title: p.title } });
          output(o, packageJson(p), () => [`${p.title} (${p.id}) ${effect}.`]);
        });
      });
  }
}
