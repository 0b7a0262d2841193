import type { Command } from 'commander';
import { toolKeyJson } from '../services/tool-keys-view.js';
import { output, table, withContext } from './context.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description("the tool's signing keys");
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
        const r = await services.toolKeys.rotate({ now: o.now === true });
        await services.audit.record({ actor: 'cli', action: 'key.rotate', target: r.kid, details: { result: r.action, now: o.now === true } });
        const when = r.promotableAt ? new Date(r.promotableAt).toISOString() : undefined;
        output(o, { ...r, promotableAt: when }, () => {
          switch (r.action) {
            case 'published-next':
              return [`Published next key ${r.kid}; it signs nothing yet.`, `Run \`courseport keys rotate\` again after ${when} (or with --now) to make it current.`];
            case 'waiting':
              return [`Next key ${r.kid} is published but becomes eligible only at ${when}.`, 'Use --now to switch immediately.'];
            case 'promoted':
              return [`Key ${r.kid} is now current; the previous key stays published while retired.`];
          }
        });
      });
    });
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}
