import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { createCliWorkspace, parseJson, runCli, type CliResult, type CliWorkspace } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';

// Each CLI run is a real process (~1 s): one scenario that builds on itself.

interface DispatchOut {
  id: string;
  title: string;
  scormVersion: string;
  hashLearnerIds: boolean;
  licence: { enabled: boolean; allowNewRegistrations: boolean; registrationCap: number; expiresAt: string | null; launchCap: number | null };
  counts: { registrations: number; launches: number; refused: number };
}

function expectOk(r: CliResult): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
}

describe.each(DIALECTS)('courseport dispatch … (%s)', (dialect) => {
  let ws: CliWorkspace;
  beforeAll(async () => {
    ws = await createCliWorkspace(dialect);
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  it('creates a destination and a licensed dispatch, exports a package the importer accepts, and audits it', { timeout: 90_000 }, async () => {
    const pkg = await runCli(ws, ['package', 'import', COURSE_12, '--json']);
    expectOk(pkg);
    const packageId = parseJson<{ id: string }>(pkg).id;

    const dest = await runCli(ws, ['dispatch', 'destination', 'add', '--name', 'Acme Corp', '--notes', 'Moodle 4.3']);
    expectOk(dest);
    const destinationId = dest.stdout.trim();
    expect(destinationId).toMatch(/^dst_/);

    const created = await runCli(ws, [
      'dispatch',
      'create',
      '--destination',
      destinationId,
      '--package',
      packageId,
      '--cap',
      '2',
      '--expires',
      '2030-01-01',
      '--hash-learners',
      '--json',
    ]);
    expectOk(created);
    const d = parseJson<DispatchOut>(created);
    expect(d).toMatchObject({
      scormVersion: '1.2',
      hashLearnerIds: true,
      licence: { enabled: true, allowNewRegistrations: true, registrationCap: 2, expiresAt: '2030-01-01T23:59:59.999Z', launchCap: null },
      counts: { registrations: 0, launches: 0, refused: 0 },
    });

    const licence = await runCli(ws, ['dispatch', 'licence', d.id, '--launch-cap', '10', '--no-new-registrations', '--expires', 'never', '--json']);
    expectOk(licence);
    expect(parseJson<DispatchOut>(licence).licence).toMatchObject({ allowNewRegistrations: false, launchCap: 10, expiresAt: null, registrationCap: 2 });

    const zip = join(ws.dataDir, 'acme-2004.zip');
    const exported = await runCli(ws, ['dispatch', 'export', d.id, '-o', zip, '--scorm', '2004']);
    expectOk(exported);
    expect(exported.stdout).toContain('SCORM 2004 3rd edition');
    expect(existsSync(zip)).toBe(true);
    // The project's own importer accepts the exported package.
    const reimported = await runCli(ws, ['package', 'import', zip, '--json']);
    expectOk(reimported);
    expect(parseJson<{ version: { scormVersion: string; title: string; scoCount: number } }>(reimported).version).toMatchObject({
      scormVersion: '2004-3rd',
      scoCount: 1,
    });

    const disabled = await runCli(ws, ['dispatch', 'disable', d.id, '--json']);
    expectOk(disabled);
    expect(parseJson<DispatchOut>(disabled).licence.enabled).toBe(false);

    const shown = await runCli(ws, ['dispatch', 'show', d.id]);
    expectOk(shown);
    expect(shown.stdout).toMatch(/enabled\s+no/);
    expect(shown.stdout).toMatch(/registration cap\s+2/);

    const csv = await runCli(ws, ['dispatch', 'report', d.id, '--csv']);
    expectOk(csv);
    expect(csv.stdout).toBe('learner,hashed,name,status,completion,success,score %,attempt,time (minutes),launches,first launch,last launch\r\n');

    const missing = await runCli(ws, ['dispatch', 'show', 'dsp_missing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^courseport: No dispatch with id dsp_missing\. \[DISPATCH_NOT_FOUND\]$/);
    const badCap = await runCli(ws, ['dispatch', 'licence', d.id, '--cap', '-3']);
    expect(badCap.code).not.toBe(0);

    const store = openStore(ws.env.COURSEPORT_DATABASE_URL!);
    try {
      const audit = await store.db
        .selectFrom('audit_log')
        .select(['actor', 'action', 'target'])
        .where('action', 'like', 'dispatch.%')
        .orderBy('at')
        .orderBy('id')
        .execute();
      expect(audit.map((a) => [a.actor, a.action, a.target])).toEqual([
        ['cli', 'dispatch.destination.create', destinationId],
        ['cli', 'dispatch.create', d.id],
        ['cli', 'dispatch.update', d.id],
        ['cli', 'dispatch.export', d.id],
        ['cli', 'dispatch.update', d.id],
      ]);
    } finally {
      await store.close();
    }
  });
});
