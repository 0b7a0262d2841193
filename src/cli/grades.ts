import type { Command } from 'commander';
import { listOutbox, outboxCounts, requeue } from '../grades/grade-outbox.js';
import { output, table, withContext } from './context.js';

export function registerGradeCommands(program: Command): void {
  const grades = program.command('grades').description('scores on their way to the LMS gradebooks');
  grades
    .command('status')
    .description('counts by state, and the scores that are waiting or gave up')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ store }) => {
        const counts = await outboxCounts(store.db);
        const problems = await listOutbox(store.db, ['dead', 'pending'], 50);
        output(o, { counts, entries: problems }, () => [
          `pending ${counts.pending ?? 0} · sending ${counts.sending ?? 0} · sent ${counts.sent ?? 0} · kept LMS grade ${counts.skipped ?? 0} · dead ${counts.dead ?? 0} · superseded ${counts.superseded ?? 0}`,
          ...(problems.length
            ? [
                '',
                ...table([
                  ['ID', 'STATE', 'TRIES', 'LEARNER', 'LINK', 'NEXT TRY', 'LAST ERROR'],
                  ...problems.map((p) => [p.id, p.state, String(p.tries), p.userSub, p.resourceLinkId, p.nextTryAt, (p.lastError ?? '').slice(0, 80)]),
                ]),
              ]
            : []),
        ]);
      });
    });
  grades
    .command('retry [ids...]')
    .description('send these scores (or, with --dead, every dead one) again now')
    .option('--dead', 'retry every dead score')
    .option('--json', 'print JSON')
    .action(async (ids: string[], o: { dead?: boolean; json?: boolean }) => {
      await withContext(async ({ store, services }) => {
        const n = await requeue(store.db, o.dead ? 'all-dead' : ids, Date.now());
        await services.audit.record({ actor: 'cli', action: 'grades.retry', details: { requeued: n, dead: o.dead === true } });
        output(o, { requeued: n }, () => [`${n} score(s) queued for delivery; a running Courseport sends them within seconds.`]);
      });
    });
}
