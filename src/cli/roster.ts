import type { Command } from 'commander';
import { listRosterContexts } from '../rosters/roster.repository.js';
import { output, table, withContext } from './context.js';

export function registerRosterCommands(program: Command): void {
  const roster = program.command('roster').description('course rosters from the LMSs (Names and Role Provisioning)');
  roster
    .command('sync')
    .description('read the rosters of every course with a roster service (or of one, with --context)')
    .option('--context <id>', 'only this course (Courseport context id)')
    .option('--json', 'print JSON')
    .action(async (o: { context?: string; json?: boolean }) => {
      await withContext(async ({ store, services }) => {
        const contexts = await listRosterContexts(store.db, o.context);
        const results: { context: string; members?: number; incremental?: boolean; error?: string }[] = [];
        for (const context of contexts) {
          try {
            results.push({ context, ...(await services.rosters.sync(context)) });
          } catch (err) {
            results.push({ context, error: (err as Error).message });
          }
        }
        output(o, results, () =>
          results.length === 0
            ? ['No course has a roster service yet (rosters are known once an instructor or learner has launched from the course).']
            : table([
                ['CONTEXT', 'MEMBERS', 'KIND', 'ERROR'],
                ...results.map((r) => [r.context, String(r.members ?? '-'), r.incremental ? 'changes' : 'full', r.error ?? '']),
              ]),
        );
        if (results.some((r) => r.error)) process.exitCode = 1;
      });
    });
}
