import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COURSE_12 } from '../helpers/fixtures.js';
import { build } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openStore } from '../../src/store/database.js';
import { LATEST_MIGRATION } from '../../src/store/migrations/index.js';
import { createCliWorkspace, parseJson, runCli, type CliResult, type CliWorkspace } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';

// Each CLI run is a real process (~1 s): the scenario below is a sequence that builds on
// itself, so the number of runs stays small.

interface DeploymentOut {
  id: string;
  deploymentId: string;
  name: string | null;
}
interface PlatformOut {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  authUrl: string;
  tokenUrl: string;
  jwksUrl: string | null;
  status: 'active' | 'disabled';
  allowMissingKid: boolean;
  deployments: DeploymentOut[];
}
interface KeyOut {
  kid: string;
  state: 'next' | 'current' | 'retired';
  alg: string;
}

const ISSUER = 'https://moodle.example.edu';
const ADD_ARGS = [
  'platform',
  'add',
  '--issuer',
  ISSUER,
  '--client-id',
  'client-cli',
  '--auth-url',
  `${ISSUER}/mod/lti/auth.php`,
  '--token-url',
  `${ISSUER}/mod/lti/token.php`,
  '--jwks-url',
  `${ISSUER}/mod/lti/certs.php`,
];

function expectOk(r: CliResult): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
}

/** The failure contract: a non-zero exit and exactly one `courseport: …` line on stderr. */
function expectOneLineFailure(r: CliResult, code: string): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^courseport: /);
  expect(lines[0]).toContain(`[${code}]`);
  expect(r.stdout).toBe('');
}

describe.each(DIALECTS)('courseport CLI (%s)', (dialect) => {
  let ws: CliWorkspace;
  beforeAll(async () => {
    ws = await createCliWorkspace(dialect);
  });
  afterAll(async () => {
    await ws.dispose();
  });

  let platformId = '';
  let currentKid = '';
  let nextKid = '';
  let token = '';

  it('migrate --json applies the migrations to a fresh database', async () => {
    const first = await runCli(ws, ['migrate', '--json']);
    expectOk(first);
    expect(parseJson(first)).toEqual({ dialect, applied: expect.arrayContaining([LATEST_MIGRATION]) });
  });

  it('platform add --json registers a platform with repeated --deployment options and prints it', async () => {
    const r = await runCli(ws, [...ADD_ARGS, '--deployment', 'd1', '--deployment', 'd2', '--name', 'Moodle CLI', '--allow-missing-kid', '--json']);
    expectOk(r);
    const p = parseJson<PlatformOut>(r);
    expect(p.id).toMatch(/^plt_/);
    expect(p).toMatchObject({
      name: 'Moodle CLI',
      issuer: ISSUER,
      clientId: 'client-cli',
      jwksUrl: `${ISSUER}/mod/lti/certs.php`,
      status: 'active',
      allowMissingKid: true,
    });
    expect(p.deployments.map((d) => d.deploymentId).sort()).toEqual(['d1', 'd2']);
    platformId = p.id;
  });

  it('platform list --json and platform show --json return the registration', async () => {
    const [list, show] = await Promise.all([runCli(ws, ['platform', 'list', '--json']), runCli(ws, ['platform', 'show', platformId, '--json'])]);
    expectOk(list);
    expectOk(show);
    const all = parseJson<PlatformOut[]>(list);
    expect(all.map((p) => p.id)).toEqual([platformId]);
    const one = parseJson<PlatformOut>(show);
    expect(one).toEqual(all[0]);
  });

  it('deployment add --json adds a deployment to the platform', async () => {
    const r = await runCli(ws, ['deployment', 'add', '--platform', platformId, 'd3', '--name', 'Third', '--json']);
    expectOk(r);
    const d = parseJson<DeploymentOut>(r);
    expect(d).toMatchObject({ deploymentId: 'd3', name: 'Third' });
    expect(d.id).toMatch(/^dep_/);
  });

  it('platform disable --json marks the platform disabled', async () => {
    const r = await runCli(ws, ['platform', 'disable', platformId, '--json']);
    expectOk(r);
    const p = parseJson<PlatformOut>(r);
    expect(p).toMatchObject({ id: platformId, status: 'disabled' });
    expect(p.deployments.map((d) => d.deploymentId).sort()).toEqual(['d1', 'd2', 'd3']);
  });

  it('keys list --json shows one current key; keys rotate --json publishes a next key', async () => {
    const list = await runCli(ws, ['keys', 'list', '--json']);
    expectOk(list);
    const keys = parseJson<KeyOut[]>(list);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ state: 'current', alg: 'RS256' });
    expect(list.stdout).not.toMatch(/private|"d"\s*:/i);
    currentKid = keys[0]!.kid;

    const rotate = await runCli(ws, ['keys', 'rotate', '--json']);
    expectOk(rotate);
    const r = parseJson<{ action: string; kid: string; promotableAt: string }>(rotate);
    expect(r.action).toBe('published-next');
    expect(r.kid).not.toBe(currentKid);
    expect(Date.parse(r.promotableAt)).toBeGreaterThan(Date.now());
    nextKid = r.kid;
  });

  it('admin token create --json prints a token once; the server accepts it and sees what the CLI did', async () => {
    const r = await runCli(ws, ['admin', 'token', 'create', '--name', 'ci', '--json']);
    expectOk(r);
    const created = parseJson<{ id: string; token: string }>(r);
    expect(created.id).toMatch(/^tok_/);
    expect(created.token).toMatch(/^cpat_/);
    token = created.token;

    // The server, configured from the same environment, shares the database with the CLI.
    const config = loadConfig(ws.env, ws.dataDir);
    const store = openStore(config.databaseUrl);
    const app = await build({ config, store });
    try {
      const stored = await store.db.selectFrom('admin_tokens').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
      expect(stored.name).toBe('ci');
      // Only a SHA-256 hash is stored, never the token itself.
      expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored.last_used_at).toBeNull();

      const auth = { authorization: `Bearer ${token}` };
      const platforms = await app.inject({ method: 'GET', url: '/api/v1/platforms', headers: auth });
      expect(platforms.statusCode, platforms.body).toBe(200);
      const body = platforms.json<{ platforms: PlatformOut[] }>();
      expect(body.platforms).toHaveLength(1);
      expect(body.platforms[0]).toMatchObject({ id: platformId, name: 'Moodle CLI', status: 'disabled' });
      expect(body.platforms[0]!.deployments.map((d) => d.deploymentId).sort()).toEqual(['d1', 'd2', 'd3']);

      const keys = await app.inject({ method: 'GET', url: '/api/v1/keys', headers: auth });
      expect(keys.statusCode).toBe(200);
      const states = Object.fromEntries(keys.json<{ keys: KeyOut[] }>().keys.map((k) => [k.kid, k.state]));
      expect(states).toEqual({ [currentKid]: 'current', [nextKid]: 'next' });

      const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(
        jwks
          .json<{ keys: { kid: string }[] }>()
          .keys.map((k) => k.kid)
          .sort(),
      ).toEqual([currentKid, nextKid].sort());

      const used = await store.db.selectFrom('admin_tokens').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      expect(used.last_used_at).not.toBeNull();
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('migrate --json on an up-to-date database applies nothing', async () => {
    const again = await runCli(ws, ['migrate', '--json']);
    expectOk(again);
    expect(parseJson(again)).toEqual({ dialect, applied: [] });
  });

  it('fails with one line and stores nothing when platform add gets a bad URL; platform show of an unknown id exits 1', async () => {
    const [bad, missing] = await Promise.all([
      runCli(ws, [
        'platform',
        'add',
        '--issuer',
        'https://bad.example',
        '--client-id',
        'c',
        '--auth-url',
        'not a url',
        '--token-url',
        'https://bad.example/t',
        '--jwks-url',
        'https://bad.example/j',
        '--json',
      ]),
      runCli(ws, ['platform', 'show', 'nope', '--json']),
    ]);
    expectOneLineFailure(bad, 'VALIDATION_FAILED');
    expect(bad.stderr).toContain('auth URL is not a URL');
    expectOneLineFailure(missing, 'PLATFORM_NOT_FOUND');
    expect(missing.code).toBe(1);

    const store = openStore(ws.env.COURSEPORT_DATABASE_URL!);
    try {
      const rows = await store.db.selectFrom('platforms').select('issuer').execute();
      expect(rows).toEqual([{ issuer: ISSUER }]);
    } finally {
      await store.close();
    }
  });
});

describe.each(DIALECTS)('courseport package commands (%s)', (dialect) => {
  let ws: CliWorkspace;
  beforeAll(async () => {
    ws = await createCliWorkspace(dialect);
  });
  afterAll(async () => {
    await ws.dispose();
  });

  // Nine CLI processes in five rounds (each bounded by runCli): 13-17 s on an idle 2-core machine,
  // more than the default 20 s once the rest of the suite runs beside it.
  it('imports a package, lists and shows it; refuses a broken archive with one line and stores nothing', { timeout: 60_000 }, async () => {
    const imported = await runCli(ws, ['package', 'import', COURSE_12, '--title', 'Bicycle Care from the CLI', '--json']);
    expectOk(imported);
    const p = parseJson<{ id: string; title: string; version: { version: number; scormVersion: string; scoCount: number } }>(imported);
    expect(p.id).toMatch(/^pkg_/);
    expect(p.title).toBe('Bicycle Care from the CLI');
    expect(p.version).toMatchObject({ version: 1, scormVersion: '1.2', scoCount: 1 });

    const notZip = join(ws.dataDir, 'not-a-package.zip');
    writeFileSync(notZip, 'plain text, not a zip archive');
    const [list, show, bad, again] = await Promise.all([
      runCli(ws, ['package', 'list', '--json']),
      runCli(ws, ['package', 'show', p.id, '--json']),
      runCli(ws, ['package', 'import', notZip, '--json']),
      runCli(ws, ['package', 'import', COURSE_12, '--package', 'pkg_nope', '--json']),
    ]);
    expectOk(list);
    expect(parseJson<{ id: string }[]>(list).map((x) => x.id)).toEqual([p.id]);
    expectOk(show);
    expect(parseJson<{ versions: unknown[] }>(show).versions).toHaveLength(1);
    expectOneLineFailure(bad, 'PACKAGE_NOT_ZIP');
    expectOneLineFailure(again, 'PACKAGE_NOT_FOUND');
    expect(readdirSync(join(ws.dataDir, 'content', 'packages'))).toHaveLength(1);
    expect(readdirSync(join(ws.dataDir, 'content', 'staging'))).toEqual([]);

    const archived = await runCli(ws, ['package', 'archive', p.id, '--json']);
    expectOk(archived);
    expect(parseJson<{ status: string }>(archived).status).toBe('archived');
    const [restored, missing] = await Promise.all([runCli(ws, ['package', 'unarchive', p.id]), runCli(ws, ['package', 'archive', 'pkg_nope'])]);
    expectOk(restored);
    expect(restored.stdout).toContain('is back in the content picker');
    expectOneLineFailure(missing, 'PACKAGE_NOT_FOUND');
    // Without --json: the id alone on stdout (PKG=$(courseport package import …)), the summary on stderr.
    const plain = await runCli(ws, ['package', 'import', COURSE_12, '--package', p.id]);
    expectOk(plain);
    expect(plain.stdout).toBe(`${p.id}\n`);
    expect(plain.stderr).toContain(': SCORM 1.2, version 2, 1 SCO(s)');
  });
});

describe('courseport CLI without a database', () => {
  it('--help lists the command groups and exits 0; an unknown command exits non-zero', async () => {
    const [help, unknown] = await Promise.all([runCli(undefined, ['--help']), runCli(undefined, ['frobnicate'])]);
    expect(help.code).toBe(0);
    for (const cmd of ['serve', 'migrate', 'platform', 'deployment', 'keys', 'admin']) expect(help.stdout).toContain(cmd);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(unknown.stdout).toBe('');
  });
});
