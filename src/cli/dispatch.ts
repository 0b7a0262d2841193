import { createWriteStream, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { destinationJson, dispatchJson, eventJson, reportJson } from '../dispatch/dispatch-reports.js';
import { parseExpiry, type LicenceInput } from '../dispatch/dispatch.service.js';
import { dispatchZip, launcherConfig } from '../dispatch/package-export.js';
import { unreachableOriginReason } from '../dispatch/launch-origin.js';
import { dispatchReportCsv } from '../dispatch/report-csv.js';
import { AppError } from '../errors/app-error.js';
import type { Dispatch } from '../store/tables.js';
import { output, table, withContext } from './context.js';

function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^\d{1,13}$/.test(value)) throw new AppError('VALIDATION_FAILED', `${name} must be a whole number ≥ 0, not ${JSON.stringify(value)}.`);
    return Number(value);
  };
}

function scormOption(value: string): '1.2' | '2004' {
  if (value !== '1.2' && value !== '2004') throw new AppError('VALIDATION_FAILED', `--scorm must be 1.2 or 2004 (3rd edition), not ${JSON.stringify(value)}.`);
  return value;
}

function describe(d: Dispatch): string[] {
  const j = dispatchJson(d);
  return [
    `id                 ${d.id}`,
    `title              ${d.title}`,
    `destination        ${d.destination_id}`,
    `package            ${d.package_id}`,
    `SCORM              ${d.scorm_version === '1.2' ? '1.2' : '2004 3rd edition'}`,
    `learner ids        ${d.hash_learner_ids ? 'hashed in the LMS browser (SHA-256)' : 'as the LMS gives them'}`,
    `enabled            ${j.licence.enabled ? 'yes' : 'no'}`,
    `new registrations  ${j.licence.allowNewRegistrations ? 'allowed' : 'closed'}`,
    `registration cap   ${d.registration_cap === 0 ? 'unlimited' : d.registration_cap}`,
    `expires            ${j.licence.expiresAt ?? 'never'}`,
    `launch cap         ${d.launch_cap ?? 'none'}`,
    `registrations      ${d.registration_count}`,
    `launches           ${d.launch_count}`,
    `refused launches   ${d.refused_count}`,
  ];
}

interface LicenceOptions {
  cap?: number;
  expires?: string;
  launchCap?: number;
  newRegistrations?: boolean;
  disabled?: boolean;
}

function licenceOf(o: LicenceOptions): LicenceInput {
  return {
    ...(o.cap !== undefined ? { registrationCap: o.cap } : {}),
    ...(o.expires !== undefined ? { expiresAt: parseExpiry(o.expires) } : {}),
    ...(o.launchCap !== undefined ? { launchCap: o.launchCap } : {}),
    ...(o.newRegistrations !== undefined ? { allowNewRegistrations: o.newRegistrations } : {}),
  };
}

export function registerDispatchCommands(program: Command): void {
  const dispatch = program
    .command('dispatch')
    .description('content dispatch: SCORM packages that play Courseport-hosted courses from any LMS, under a licence');

  // --- destinations -------------------------------------------------------------------------
  const dest = dispatch.command('destination').description('destinations: the customers dispatches go to');
  dest
    .command('add')
    .description('add a destination')
    .requiredOption('--name <name>', 'the customer name')
    .option('--notes <text>', 'free notes')
    .option('--disabled', 'create it disabled (its dispatches refuse every launch)')
    .option('--json', 'print JSON')
    .action(async (o: { name: string; notes?: string; disabled?: boolean; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const d = await services.dispatch.createDestination({ name: o.name, notes: o.notes, enabled: !o.disabled });
        await services.audit.record({ actor: 'cli', action: 'dispatch.destination.create', target: d.id, details: { name: d.name } });
        output(o, destinationJson(d), () => [d.id]);
      });
    });
  dest
    .command('list')
    .description('list destinations')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const all = await services.dispatch.listDestinations();
        output(o, all.map(destinationJson), () =>
          all.length === 0
            ? ['No destinations yet. Add one with: courseport dispatch destination add --name "Customer"']
            : table([['ID', 'NAME', 'ENABLED'], ...all.map((d) => [d.id, d.name, d.enabled ? 'yes' : 'no'])]),
        );
      });
    });
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    dest
      .command(`${verb} <id>`)
      .description(`${verb} a destination${enabled ? '' : ' (every dispatch of it refuses launches)'}`)
      .option('--json', 'print JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        await withContext(async ({ services }) => {
          const d = await services.dispatch.updateDestination(id, { enabled });
          await services.audit.record({ actor: 'cli', action: 'dispatch.destination.update', target: d.id, details: { enabled } });
          output(o, destinationJson(d), () => [`${d.id} ${enabled ? 'enabled' : 'disabled'}`]);
        });
      });
  }
  dest
    .command('delete <id>')
    .description('delete a destination with all its dispatches and their learner records')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const r = await services.dispatch.deleteDestination(id);
        await services.audit.record({ actor: 'cli', action: 'dispatch.destination.delete', target: id, details: r });
        output(o, { deleted: id, ...r }, () => [`Deleted ${id} and ${r.dispatches} dispatch(es).`]);
      });
    });

  // --- dispatches ---------------------------------------------------------------------------
  dispatch
    .command('create')
    .description('dispatch a package to a destination (prints the dispatch id)')
    .requiredOption('--destination <id>', 'the destination')
    .requiredOption('--package <id>', 'the package to play')
    .option('--title <title>', 'course title in the exported package (default: the package title)')
    .option('--scorm <version>', 'SCORM version of the exported package: 1.2 or 2004 (3rd edition)', scormOption, '1.2' as const)
    .option('--hash-learners', 'hash learner ids in the LMS browser (SHA-256): no personal data leaves the LMS')
    .option('--cap <n>', 'registration cap (0 = unlimited)', wholeNumber('--cap'))
    .option('--expires <date>', 'licence expiry: YYYY-MM-DD (end of day, UTC) or ISO 8601')
    .option('--launch-cap <n>', 'total launches allowed (0 = no cap)', wholeNumber('--launch-cap'))
    .option('--no-new-registrations', 'refuse learners who never launched it')
    .option('--disabled', 'create it disabled')
    .option('--json', 'print JSON')
    .action(
      async (o: LicenceOptions & { destination: string; package: string; title?: string; scorm: '1.2' | '2004'; hashLearners?: boolean; json?: boolean }) => {
        await withContext(async ({ services }) => {
          const d = await services.dispatch.createDispatch({
            destinationId: o.destination,
            packageId: o.package,
            title: o.title,
            scormVersion: o.scorm,
            hashLearnerIds: o.hashLearners === true,
            enabled: !o.disabled,
            ...licenceOf(o),
          });
          await services.audit.record({
            actor: 'cli',
            action: 'dispatch.create',
            target: d.id,
            details: { destination: d.destination_id, package: d.package_id, licence: dispatchJson(d).licence },
          });
          output(o, dispatchJson(d), () => [d.id]);
        });
      },
    );
  dispatch
    .command('list')
    .description('list dispatches with their licence counts')
    .option('--destination <id>', 'only this destination')
    .option('--json', 'print JSON')
    .action(async (o: { destination?: string; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const all = await services.dispatch.listDispatches({ destinationId: o.destination });
        output(o, all.map(dispatchJson), () =>
          all.length === 0
            ? ['No dispatches yet. Create one with: courseport dispatch create --destination <id> --package <id>']
            : table([
                ['ID', 'TITLE', 'DESTINATION', 'ENABLED', 'REGISTRATIONS', 'LAUNCHES', 'REFUSED', 'EXPIRES'],
                ...all.map((d) => [
                  d.id,
                  d.title,
                  d.destination_id,
                  d.enabled ? 'yes' : 'no',
                  `${d.registration_count}/${d.registration_cap || '∞'}`,
                  `${d.launch_count}${d.launch_cap !== null ? `/${d.launch_cap}` : ''}`,
                  String(d.refused_count),
                  d.expires_at === null ? 'never' : new Date(d.expires_at).toISOString(),
                ]),
              ]),
        );
      });
    });
  dispatch
    .command('show <id>')
    .description('show a dispatch, its licence and counts')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const d = await services.dispatch.getDispatch(id);
        output(o, dispatchJson(d), () => describe(d));
      });
    });
  dispatch
    .command('licence <id>')
    .alias('license')
    .description("change a dispatch's licence")
    .option('--cap <n>', 'registration cap (0 = unlimited)', wholeNumber('--cap'))
    .option('--expires <date>', 'licence expiry: YYYY-MM-DD, ISO 8601, or "never"')
    .option('--launch-cap <n>', 'total launches allowed (0 = no cap)', wholeNumber('--launch-cap'))
    .option('--new-registrations', 'accept new learners')
    .option('--no-new-registrations', 'refuse learners who never launched it (registered learners continue)')
    .option('--hash-learners', 'require learner ids hashed in the browser (export the package again)')
    .option('--no-hash-learners', 'accept learner ids as the LMS gives them (export the package again)')
    .option('--title <title>', 'the course title')
    .option('--scorm <version>', 'default SCORM version of exports: 1.2 or 2004', scormOption)
    .option('--json', 'print JSON')
    .action(async (id: string, o: LicenceOptions & { hashLearners?: boolean; title?: string; scorm?: '1.2' | '2004'; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const changes = {
          ...licenceOf(o),
          ...(o.hashLearners !== undefined ? { hashLearnerIds: o.hashLearners } : {}),
          ...(o.title !== undefined ? { title: o.title } : {}),
          ...(o.scorm ? { scormVersion: o.scorm } : {}),
        };
        const d = await services.dispatch.updateDispatch(id, changes);
        await services.audit.record({ actor: 'cli', action: 'dispatch.update', target: d.id, details: { ...changes } });
        output(o, dispatchJson(d), () => describe(d));
      });
    });
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    dispatch
      .command(`${verb} <id>`)
      .description(`${verb} a dispatch${enabled ? '' : ': every copy of its package refuses launches'}`)
      .option('--json', 'print JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        await withContext(async ({ services }) => {
          const d = await services.dispatch.updateDispatch(id, { enabled });
          await services.audit.record({ actor: 'cli', action: 'dispatch.update', target: d.id, details: { enabled } });
          output(o, dispatchJson(d), () => [`${d.id} ${enabled ? 'enabled' : 'disabled'}`]);
        });
      });
  }
  dispatch
    .command('rotate-secret <id>')
    .description('give the dispatch a new secret: every package exported before stops working')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const d = await services.dispatch.rotateSecret(id);
        await services.audit.record({ actor: 'cli', action: 'dispatch.rotate-secret', target: d.id });
        output(o, dispatchJson(d), () => [`${d.id}: new secret; export the package again (courseport dispatch export ${d.id} -o course.zip).`]);
      });
    });
  dispatch
    .command('delete <id>')
    .description('delete a dispatch and its learner records: every copy of its package stops working')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        await services.dispatch.deleteDispatch(id);
        await services.audit.record({ actor: 'cli', action: 'dispatch.delete', target: id });
        output(o, { deleted: id }, () => [`Deleted ${id}.`]);
      });
    });
  dispatch
    .command('export <id>')
    .description('write the dispatch package (a SCORM ZIP to upload to the LMS)')
    .requiredOption('-o, --output <file>', 'the ZIP file to write')
    .option('--scorm <version>', 'SCORM version of this export: 1.2 or 2004 (default: the dispatch setting)', scormOption)
    .option('--json', 'print JSON')
    .action(async (id: string, o: { output: string; scorm?: '1.2' | '2004'; json?: boolean }) => {
      await withContext(async ({ config, services }) => {
        const d = await services.dispatch.getDispatch(id);
        const version = o.scorm ?? d.scorm_version;
        await pipeline(
          dispatchZip(launcherConfig({ ...d, scorm_version: version }, config.baseUrl, services.dispatch.secretOf(d))) as Readable,
          createWriteStream(o.output),
        );
        await services.audit.record({ actor: 'cli', action: 'dispatch.export', target: d.id, details: { scormVersion: version } });
        const unreachable = unreachableOriginReason(config.baseUrl);
        if (unreachable)
          process.stderr.write(
            `courseport: warning: the package plays from ${new URL(config.baseUrl).origin}, which a customer's LMS cannot reach: ${unreachable}. Set COURSEPORT_BASE_URL to the public address.\n`,
          );
        output(
          o,
          {
            dispatch: d.id,
            file: o.output,
            scormVersion: version,
            courseport: new URL(config.baseUrl).origin,
            ...(unreachable ? { warning: unreachable } : {}),
          },
          () => [
            `Wrote ${o.output}: SCORM ${version === '1.2' ? '1.2' : '2004 3rd edition'} package "${d.title}", playing from ${new URL(config.baseUrl).origin}.`,
          ],
        );
      });
    });
  dispatch
    .command('report <id>')
    .description("a dispatch's learners (or their hashes): status, score, first and last launch; and refused launches")
    .option('--csv', 'print CSV')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { csv?: boolean; output?: string; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const rows = await services.dispatch.report(id);
        const events = await services.dispatch.events(id);
        const write = (text: string) => (o.output ? writeFileSync(o.output, text) : process.stdout.write(text));
        if (o.csv) return write(dispatchReportCsv(rows));
        if (o.json) return write(`${JSON.stringify({ registrations: rows.map(reportJson), refusals: events.map(eventJson) }, null, 2)}\n`);
        const lines = [
          ...(rows.length === 0
            ? ['No learner has launched this dispatch yet.']
            : table([
                ['LEARNER', 'NAME', 'STATUS', 'SCORE %', 'LAUNCHES', 'FIRST LAUNCH', 'LAST LAUNCH'],
                ...rows.map((r) => [
                  r.learnerId,
                  r.learnerName ?? '-',
                  r.status,
                  r.scorePercent === null ? '-' : String(r.scorePercent),
                  String(r.launches),
                  new Date(r.firstLaunchAt).toISOString(),
                  new Date(r.lastLaunchAt).toISOString(),
                ]),
              ])),
          ...(events.length
            ? [
                '',
                'Refused launches (newest first):',
                ...table([['AT', 'CODE', 'LEARNER'], ...events.map((e) => [new Date(e.at).toISOString(), e.code, e.learner_id ?? '-'])]),
              ]
            : []),
        ];
        write(`${lines.join('\n')}\n`);
      });
    });
}
