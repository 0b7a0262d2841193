import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildButtonCourse } from '../helpers/button-course.js';
import { createCliWorkspace, parseJson, runCli, type CliWorkspace } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';

// Each run is a real process (~1 s): a few runs, each checking what a first-time user sees.

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe.each(DIALECTS)('the CLI, as a first-time user meets it (%s)', (dialect) => {
  let ws: CliWorkspace;
  beforeAll(async () => {
    const base = await createCliWorkspace(dialect);
    ws = { ...base, env: { ...base.env, COURSEPORT_BASE_URL: 'https://courses.example.com' } };
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  it('prints its version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli(ws, [flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(VERSION);
    }
  });

  it('says "no such file" for a package that is not there, and exits non-zero with one line', async () => {
    const r = await runCli(ws, ['package', 'import', 'nope.zip']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('courseport: no such file: nope.zip [NOT_FOUND]\n');
    const dir = join(ws.dataDir, 'a-folder.zip');
    mkdirSync(dir);
    const folder = await runCli(ws, ['package', 'import', dir]);
    expect(folder.code).not.toBe(0);
    expect(folder.stderr).toContain(`not a file: ${dir}`);
  });

  it('imports, renames and deletes a package; the title limit is the same as in the console', { timeout: 60_000 }, async () => {
    const zip = await buildButtonCourse();
    const imported = await runCli(ws, ['package', 'import', zip, '--title', 'First title']);
    expect(imported.code, imported.stderr).toBe(0);
    const id = imported.stdout.trim();
    expect(id).toMatch(/^pkg_/);
    const long = await runCli(ws, ['package', 'rename', id, 'x'.repeat(201)]);
    expect(long.code).not.toBe(0);
    expect(long.stderr).toBe('courseport: The title must be at most 200 characters (it has 201). [VALIDATION_FAILED]\n');
    const renamed = await runCli(ws, ['package', 'rename', id, 'Second title', '--json']);
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(parseJson<{ title: string }>(renamed).title).toBe('Second title');
    const deleted = await runCli(ws, ['package', 'delete', id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`Deleted ${id} (“Second title”, 1 version(s)).\n`);
  });

  it('prints the full sign-in address after creating an administrator', { timeout: 60_000 }, async () => {
    const r = await runCli(ws, ['admin', 'create', '--email', 'first@example.edu', '--password-stdin'], 30_000, 'a long enough passphrase\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Administrator first@example\.edu created \(adm_[^)]+\)\. Sign in at https:\/\/courses\.example\.com\/admin\/login\n$/);
  });
});
