import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../errors/app-error.js';
import { keyScheduleJson, toolKeyJson } from '../keys/tool-keys-view.js';
import { output, table, withContext } from './context.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description("the tool's signing keys");
  registerKeyLifecycleCommands(keys);
  keys
    .command('list')
    .description('list tool keys and their states (next, current, retired)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        await services.toolKeys.ensureCurrentKey();
        const all = await services.toolKeys.list();
        output(o, all.map(toolKeyJson), () =>
          table([
            ['KID', 'STATE', 'ALG', 'CREATED', 'ACTIVATED', 'RETIRED'],
            ...all.map((k) => [k.kid, k.state, k.alg, iso(k.created_at), iso(k.activated_at), iso(k.retired_at)]),
          ]),
        );
      });
    });
  keys
    .command('rotate')
    .description('publish a next key; a later rotate makes it current once it has been published long enough')
    .option('--now', 'make the next key current immediately (emergency: platforms that cached the old key set may fail until they refetch)')
    .option('--json', 'print JSON')
    .action(async (o: { now?: boolean; json?: boolean }) => {
      await withContext(async ({ services }) => {
        await services.toolKeys.ensureCurrentKey();
        // Audited by the service, in the rotation's transaction.
        const r = await services.toolKeys.rotate({ now: o.now === true, actor: 'cli' });
        const when = r.promotableAt ? new Date(r.promotableAt).toISOString() : undefined;
        output(o, { ...r, promotableAt: when }, () => {
          switch (r.action) {
            case 'published-next':
              return [
                `Published next key ${r.kid}; it signs nothing yet.`,
                `Run \`courseport keys rotate\` again after ${when} (or with --now) to make it current.`,
              ];
            case 'waiting':
              return [`Next key ${r.kid} is published but becomes eligible only at ${when}.`, 'Use --now to switch immediately.'];
            case 'promoted':
              return [`Key ${r.kid} is now current; the previous key stays published while retired.`];
          }
        });
      });
    });
}

/** The automatic schedule, and re-encryption after a change of COURSEPORT_SECRET. */
export function registerKeyLifecycleCommands(keys: Command): void {
  keys
    .command('schedule')
    .description('show the rotation schedule: current and next key, the next automatic step, retired keys still published')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        await services.toolKeys.ensureCurrentKey();
        const s = await services.toolKeys.schedule();
        output(o, keyScheduleJson(s), () => [
          `Automatic rotation: ${s.automatic ? `every ${days(s.policy.rotateEveryMs)}, next key published ${days(s.policy.publishBeforeUseMs)} before it signs` : 'off (COURSEPORT_KEY_ROTATION_DAYS=0)'}`,
          `Current key:  ${s.current ? `${s.current.kid} (signing since ${iso(s.current.activatedAt)})` : '-'}`,
          `Next key:     ${s.next ? `${s.next.kid} (published ${iso(s.next.publishedAt)}, may sign from ${iso(s.next.promotableAt)})` : '-'}`,
          `Upcoming:     ${s.upcoming ? `${s.upcoming.action === 'promote' ? 'promote the next key' : 'publish a next key'} at ${iso(s.upcoming.at)}` : '-'}`,
          ...s.retiredPublished.map((r) => `Retired:      ${r.kid} (published until ${iso(r.unpublishAt)})`),
        ]);
      });
    });
  keys
    .command('reencrypt')
    .description('after changing COURSEPORT_SECRET: re-encrypt the private keys, reading them with the old secret')
    .option('--old-secret-env <VAR>', 'name of the environment variable holding the old secret (never the secret itself)')
    .option('--old-secret-file <PATH>', 'file holding the old secret (e.g. the development secret file)')
    .option('--json', 'print JSON')
    .action(async (o: { oldSecretEnv?: string; oldSecretFile?: string; json?: boolean }) => {
      let oldSecret: string | undefined;
      if (o.oldSecretEnv && o.oldSecretFile) throw new AppError('VALIDATION_FAILED', 'give either --old-secret-env or --old-secret-file');
      if (o.oldSecretEnv) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.oldSecretEnv))
          throw new AppError('VALIDATION_FAILED', '--old-secret-env takes the NAME of an environment variable, not a secret');
        // The one place outside config.ts that reads the environment: a variable the operator names.
        oldSecret = process.env[o.oldSecretEnv];
        if (!oldSecret) throw new AppError('VALIDATION_FAILED', `the environment variable ${o.oldSecretEnv} is not set`);
      } else if (o.oldSecretFile) {
        oldSecret = readFileSync(o.oldSecretFile, 'utf8').trim();
      } else {
        throw new AppError('VALIDATION_FAILED', 'name the old secret with --old-secret-env VAR (or --old-secret-file PATH)');
      }
      await withContext(async ({ services }) => {
        // The sandbox's key is sealed under the secret too (its table exists whether or not the sandbox is on).
        const r = await services.toolKeys.reencrypt(oldSecret, { actor: 'cli', also: (trx) => services.sandbox.reencryptKeys(oldSecret, trx) });
        output(o, r, () => [`Re-encrypted ${r.reencrypted.length} key(s) under the current COURSEPORT_SECRET; ${r.unchanged.length} already were.`]);
      });
    });
}

function days(ms: number): string {
  return `${Math.round((ms / 86_400_000) * 100) / 100} days`;
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}
