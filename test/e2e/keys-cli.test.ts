import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deriveKey, open } from '../../src/keys/secret-box.js';
import { openStore } from '../../src/store/database.js';
import { CLI_MAIN, CLI_SECRET, createCliWorkspace, parseJson, runCli, type CliWorkspace } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';
import { freePort } from '../helpers/live-server.js';

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
const DAY = 86_400_000;

const NEW_SECRET = 'a-brand-new-secret-for-the-cli-test-0123456789abcdef';

/** `courseport keys schedule`, `keys rotate` (audited), `keys reencrypt` after a secret change. */
describe.each(DIALECTS)('courseport keys: schedule and re-encryption (%s)', (dialect) => {
  let ws: CliWorkspace;
  beforeAll(async () => {
    ws = await createCliWorkspace(dialect);
  });
  afterAll(async () => {
    await ws.dispose();
  });

  it('shows the schedule, and a rotation is in the audit log', async () => {
    const schedule = parseJson<{
      automatic: boolean;
      current: { kid: string };
      next: null;
      upcoming: { action: string; at: string };
      policy: { rotateEveryDays: number };
    }>(await runCli(ws, ['keys', 'schedule', '--json']));
    expect(schedule).toMatchObject({ automatic: true, next: null, upcoming: { action: 'publish-next' }, policy: { rotateEveryDays: 90 } });
    const human = await runCli(ws, ['keys', 'schedule']);
    expect(human.stdout).toContain(`Current key:  ${schedule.current.kid}`);
    expect(human.stdout).toContain('Automatic rotation: every 90 days');

    const rotated = parseJson<{ action: string; kid: string }>(await runCli(ws, ['keys', 'rotate', '--json']));
    expect(rotated.action).toBe('published-next');
    const after = parseJson<{ next: { kid: string } }>(await runCli(ws, ['keys', 'schedule', '--json']));
    expect(after.next.kid).toBe(rotated.kid);
  });

  it('the serving process runs the schedule: a key due for rotation gets its next key published at start, by the system', async () => {
    // Make the current key 85 days old (published-next is due from day 83).
    const store = openStore(ws.env.COURSEPORT_DATABASE_URL ?? '');
    try {
      await store.db
        .updateTable('tool_keys')
        .set({ activated_at: Date.now() - 85 * DAY, created_at: Date.now() - 85 * DAY })
        .where('state', '=', 'current')
        .execute();
      await store.db.deleteFrom('tool_keys').where('state', '=', 'next').execute();
    } finally {
      await store.close();
    }
    const port = await freePort();
    let stdout = '';
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'serve'], {
      cwd: ws.dataDir,
      env: {
        PATH: process.env.PATH ?? '',
        ...ws.env,
        TSX_TSCONFIG_PATH: TSCONFIG,
        COURSEPORT_HOST: '127.0.0.1',
        COURSEPORT_PORT: String(port),
        COURSEPORT_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    try {
      await vi.waitFor(() => expect(stdout).toContain('tool key schedule: published the next key'), { timeout: 30_000, interval: 200 });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    const after = parseJson<{ next: { kid: string } | null; upcoming: { action: string } }>(await runCli(ws, ['keys', 'schedule', '--json']));
    expect(after.next).not.toBeNull();
    expect(after.upcoming.action).toBe('promote');
  }, 60_000);

  it('re-encrypts the private keys after COURSEPORT_SECRET changes, reading the old one from a named variable', async () => {
    const changed = { ...ws, env: { ...ws.env, COURSEPORT_SECRET: NEW_SECRET } };
    // Never the secret itself on the command line.
    const refused = await runCli(changed, ['keys', 'reencrypt', '--old-secret-env', CLI_SECRET]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('takes the NAME of an environment variable');
    const unset = await runCli(changed, ['keys', 'reencrypt', '--old-secret-env', 'COURSEPORT_OLD_SECRET']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('COURSEPORT_OLD_SECRET is not set');

    const withOld = { ...changed, env: { ...changed.env, COURSEPORT_OLD_SECRET: CLI_SECRET } };
    const r = await runCli(withOld, ['keys', 'reencrypt', '--old-secret-env', 'COURSEPORT_OLD_SECRET', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = parseJson<{ reencrypted: string[]; unchanged: string[] }>(r);
    // The two tool keys and the sandbox LMS's key (created when `serve` started above with the
    // sandbox on): left under the old secret, it stopped `courseport serve` from starting.
    const sandboxKids = await sandboxKeys((rows) => rows.map((k) => k.kid));
    expect(sandboxKids).toHaveLength(1);
    expect(out.reencrypted).toHaveLength(3);
    expect(out.reencrypted).toEqual(expect.arrayContaining(sandboxKids));
    expect(out.unchanged).toEqual([]);
    await sandboxKeys((rows) => {
      for (const k of rows) expect(() => open(deriveKey(NEW_SECRET, 'sandbox-key-encryption'), k.private_jwk_enc, k.kid)).not.toThrow();
    });

    // Running it again finds every key already opening with the new secret, and changes nothing.
    const again = parseJson<{ reencrypted: string[]; unchanged: string[] }>(
      await runCli(withOld, ['keys', 'reencrypt', '--old-secret-env', 'COURSEPORT_OLD_SECRET', '--json']),
    );
    expect(again.reencrypted).toEqual([]);
    expect(again.unchanged).toHaveLength(3);
  });

  async function sandboxKeys<T>(fn: (rows: { kid: string; private_jwk_enc: string }[]) => T): Promise<T> {
    const store = openStore(ws.env.COURSEPORT_DATABASE_URL ?? '');
    try {
      return fn(await store.db.selectFrom('sandbox_keys').select(['kid', 'private_jwk_enc']).execute());
    } finally {
      await store.close();
    }
  }
});
