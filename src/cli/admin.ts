import type { Command } from 'commander';
import { AppError } from '../errors/app-error.js';
import { output, table, withContext } from './context.js';

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('administration');
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
        output(o, rows, () => table([['ID', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], ...rows.map((r) => [r.id, r.name, r.createdAt, r.lastUsedAt ?? '-', r.revokedAt ?? '-'])]));
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
