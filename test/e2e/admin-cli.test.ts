import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openStore } from '../../src/store/database.js';
import { ConsoleClient } from '../helpers/admin.js';
import { createCliWorkspace, parseJson, runCli, type CliResult, type CliWorkspace } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';

const EMAIL = 'ops@example.edu';
const PASSWORD = 'a long passphrase from a pipe';

function expectOneLineFailure(r: CliResult, code: string): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^courseport: /);
  expect(lines[0]).toContain(`[${code}]`);
}

describe.each(DIALECTS)('courseport admin create (%s)', (dialect) => {
  let ws: CliWorkspace;
  beforeAll(async () => {
    ws = await createCliWorkspace(dialect);
  });
  afterAll(async () => {
    await ws.dispose();
  });

  it('creates an administrator with the password from stdin, who can then sign in to the console', { timeout: 60_000 }, async () => {
    const r = await runCli(ws, ['admin', 'create', '--email', EMAIL, '--password-stdin', '--json'], 30_000, `${PASSWORD}\n`);
    expect(r.code, r.stderr).toBe(0);
    const created = parseJson<{ id: string; email: string }>(r);
    expect(created).toMatchObject({ email: EMAIL, id: expect.stringMatching(/^adm_/) });

    const config = loadConfig(ws.env, ws.dataDir);
    const store = openStore(config.databaseUrl);
    const app = await build({ config, store });
    try {
      const row = await store.db.selectFrom('admins').selectAll().executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
      const c = new ConsoleClient(app);
      expect((await c.login(EMAIL, PASSWORD)).statusCode).toBe(303);
      expect((await c.get('/admin/settings')).statusCode).toBe(200);
      const [entry] = await app.services.audit.list({ action: 'admin.create' });
      expect(entry).toMatchObject({ actor: 'cli', target: created.id, details: { email: EMAIL } });
    } finally {
      await app.close();
      await store.close();
    }

    const list = await runCli(ws, ['admin', 'list', '--json']);
    expect(parseJson<{ email: string }[]>(list).map((a) => a.email)).toEqual([EMAIL]);
  });

  it('refuses a second account with the same email, a short password, and a password with no stdin or terminal', { timeout: 60_000 }, async () => {
    expectOneLineFailure(
      await runCli(ws, ['admin', 'create', '--email', EMAIL.toUpperCase(), '--password-stdin'], 30_000, 'another long password'),
      'ADMIN_EXISTS',
    );
    expectOneLineFailure(await runCli(ws, ['admin', 'create', '--email', 'new@example.edu', '--password-stdin'], 30_000, 'short'), 'VALIDATION_FAILED');
    expectOneLineFailure(await runCli(ws, ['admin', 'create', '--email', 'new@example.edu']), 'VALIDATION_FAILED');
    // There is no option to pass the password in the arguments (it would show in `ps` and shell history).
    const argv = await runCli(ws, ['admin', 'create', '--email', 'new@example.edu', '--password', PASSWORD]);
    expect(argv.code).not.toBe(0);
    expect(argv.stderr).toContain("unknown option '--password'");
    const store = openStore(loadConfig(ws.env, ws.dataDir).databaseUrl);
    try {
      expect(await store.db.selectFrom('admins').select('email').execute()).toEqual([{ email: EMAIL }]);
    } finally {
      await store.close();
    }
  });
});
