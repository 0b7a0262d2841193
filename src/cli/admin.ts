import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { AppError } from '../errors/app-error.js';
import { output, table, withContext } from './context.js';

/** The whole of standard input, without its final line break (`--password-stdin`). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks on the terminal without echoing what is typed. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    let prompted = false;
    out._writeToOutput = (s: string) => {
      if (!prompted) {
        out.output.write(s);
        prompted = true;
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('administration');

  // Admin console accounts
  admin
    .command('create')
    .description('create an administrator of the browser console (/admin); the password is asked for, or read from stdin')
    .requiredOption('--email <email>', "the administrator's email (their sign-in name)")
    .option('--password-stdin', 'read the password from standard input (never give it as an argument)')
    .option('--json', 'print JSON')
    .action(async (o: { email: string; passwordStdin?: boolean; json?: boolean }) => {
      let password: string;
      let confirm: string;
      if (o.passwordStdin) {
        password = await readStdin();
        confirm = password;
      } else if (process.stdin.isTTY) {
        password = await askHidden('Password (at least 12 characters): ');
        confirm = await askHidden('Confirm password: ');
      } else {
        throw new AppError('VALIDATION_FAILED', 'No terminal to ask the password on: pipe it with --password-stdin.');
      }
      await withContext(async ({ services, config }) => {
        const created = await services.admins.create(o.email, password, { confirm });
        await services.audit.record({ actor: 'cli', action: 'admin.create', target: created.id, details: { email: created.email } });
        // The full address (COURSEPORT_BASE_URL): a path alone does not say which server to open.
        const signIn = `${config.baseUrl}/admin/login`;
        output(o, { ...created, signInUrl: signIn }, () => [`Administrator ${created.email} created (${created.id}). Sign in at ${signIn}`]);
      });
    });
  admin
    .command('list')
    .description('list the administrators of the browser console')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const rows = (await services.admins.list()).map((a) => ({
          id: a.id,
          email: a.email,
          createdAt: new Date(a.created_at).toISOString(),
          lastLoginAt: a.last_login_at ? new Date(a.last_login_at).toISOString() : null,
        }));
        output(o, rows, () => table([['ID', 'EMAIL', 'CREATED', 'LAST SIGN-IN'], ...rows.map((r) => [r.id, r.email, r.createdAt, r.lastLoginAt ?? '-'])]));
      });
    });

  const token = admin.command('token').description('bearer tokens for the admin REST API (/api/v1)');
  token
    .command('create')
    .description('create an API token; it is printed once and stored only as a hash')
    .option('--name <name>', 'what the token is for', 'api')
    .option('--json', 'print JSON')
    .action(async (o: { name: string; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const t = await services.adminTokens.create(o.name);
        await services.audit.record({ actor: 'cli', action: 'api-token.create', target: t.id, details: { name: o.name } });
        output(o, t, () => [t.token]);
        if (!o.json) process.stderr.write(`Token ${t.id} created. Store it now: it cannot be shown again.\n`);
      });
    });
  token
    .command('list')
    .description('list API tokens (never their values)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const all = await services.adminTokens.list();
        const rows = all.map((t) => ({
          id: t.id,
          name: t.name,
          createdAt: new Date(t.created_at).toISOString(),
          lastUsedAt: t.last_used_at ? new Date(t.last_used_at).toISOString() : null,
          revokedAt: t.revoked_at ? new Date(t.revoked_at).toISOString() : null,
        }));
        output(o, rows, () =>
          table([['ID', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], ...rows.map((r) => [r.id, r.name, r.createdAt, r.lastUsedAt ?? '-', r.revokedAt ?? '-'])]),
        );
      });
    });
  token
    .command('revoke <id>')
    .description('revoke an API token')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        if (!(await services.adminTokens.revoke(id))) throw new AppError('NOT_FOUND', `No active token with id ${id}.`);
        await services.audit.record({ actor: 'cli', action: 'api-token.revoke', target: id });
        output(o, { id, revoked: true }, () => [`Token ${id} revoked.`]);
      });
    });
}
