import { stat } from 'node:fs/promises';
import type { Command } from 'commander';

import { packageJson, versionJson } from '../packages/package-view.js';
import { AppError } from '../errors/app-error.js';
import { output, table, withContext } from './context.js';
import { importProgressBar } from './import-progress.js';

/** The archive to import, checked before anything is opened: "no such file" beats an I/O error code. */
async function requireFile(path: string): Promise<void> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new AppError('NOT_FOUND', `no such file: ${path}`);
    if (err.code === 'EACCES') throw new AppError('BAD_REQUEST', `cannot read ${path}: permission denied`);
    throw err;
  });
  if (!info.isFile()) throw new AppError('BAD_REQUEST', `not a file: ${path} (give the path of a SCORM .zip)`);
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
      await requireFile(zip);
      await withContext(async ({ services }) => {
        const progress = importProgressBar(process.stderr, { enabled: !o.json && process.stderr.isTTY === true });
        try {
          const r = await services.packages.importPackage(zip, { title: o.title, packageId: o.package, sourceName: zip.split('/').pop() }, (p) =>
            progress.update(p),
          );
          progress.stop();
          await services.audit.record({
            actor: 'cli',
            action: 'package.import',
            target: r.package.id,
            details: { version: r.version.id, title: r.package.title },
          });
          // Only the id on stdout, as the docs promise (`PKG=$(courseport package import course.zip)`); the summary on stderr.
          output(o, { ...packageJson(r.package), version: versionJson(r.version) }, () => [r.package.id]);
          if (!o.json)
            process.stderr.write(
              `${r.version.title}: SCORM ${r.version.scorm_version}, version ${r.version.version}, ${r.version.sco_count} SCO(s), ${r.version.file_count} files\n`,
            );
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
          ...table([
            ['VERSION', 'ID', 'SCORM', 'SCOS', 'FILES', 'IMPORTED'],
            ...versions.map((v) => [String(v.version), v.id, v.scorm_version, String(v.sco_count), String(v.file_count), new Date(v.created_at).toISOString()]),
          ]),
          '',
          `Launch it from an LMS with the custom parameter package_id=${p.id}`,
        ]);
      });
    });
  pkg
    .command('rename <id> <title>')
    .description('change the title shown in the catalogue and the content picker')
    .option('--json', 'print JSON')
    .action(async (id: string, title: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const { package: p, previousTitle } = await services.packageAdmin.rename(id, title);
        await services.audit.record({ actor: 'cli', action: 'package.rename', target: p.id, details: { from: previousTitle, to: p.title } });
        output(o, packageJson(p), () => [`${p.id} renamed to “${p.title}”.`]);
      });
    });
  pkg
    .command('delete <id>')
    .description('delete a package and its files (refused while LMS links, dispatches or attempts use it: archive it then)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const deleted = await services.packageAdmin.delete(id);
        await services.audit.record({ actor: 'cli', action: 'package.delete', target: id, details: deleted });
        output(o, { deleted: id, ...deleted }, () => [`Deleted ${id} (“${deleted.title}”, ${deleted.versions} version(s)).`]);
      });
    });
  for (const [verb, status, effect] of [
    ['archive', 'archived', 'leaves the content picker; links already bound to it keep playing'],
    ['unarchive', 'active', 'is back in the content picker'],
  ] as const) {
    pkg
      .command(`${verb} <id>`)
      .description(
        verb === 'archive' ? 'hide a package from the content picker and from new links (bound links keep playing)' : 'offer an archived package again',
      )
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
