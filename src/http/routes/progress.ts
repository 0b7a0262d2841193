import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { AppError } from '../../errors/app-error.js';
import { roleKinds } from '../../lti/claims.js';
import type { LaunchTokens } from '../../lti/launch-token.js';
import { PROGRESS_SORTS, progressCsv, progressRows, type ProgressSort } from '../../rosters/progress.js';
import type { RosterService } from '../../rosters/roster-service.js';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { ProgressPage } from '../../web/progress-page.js';
import { progressCsvDisposition, sortQuery } from '../../rosters/progress-view.js';

export interface ProgressDeps {
  readonly db: Kysely<Database>;
  readonly launchTokens: LaunchTokens;
  readonly rosters: RosterService;
  readonly clock: Clock;
  /** A roster older than this is refreshed when the view opens. */
  readonly rosterMaxAgeMs: number;
}

/** Who may see every learner's progress: staff of the course by LTI role. */
export function canSeeProgress(roles: readonly string[]): boolean {
  return roleKinds(roles).some((k) => k === 'administrator' || k === 'instructor' || k === 'content-developer' || k === 'teaching-assistant');
}

/** The link to the view for an instructor's launch (undefined for anyone else). */
export function progressUrl(deps: Pick<ProgressDeps, 'launchTokens' | 'clock'>, launchId: string, roles: readonly string[]): string | undefined {
  return canSeeProgress(roles) ? `/progress/${deps.launchTokens.issue(launchId, deps.clock.now())}` : undefined;
}

const SYNC_WAIT_MS = 5_000;

export function progressRoutes(app: FastifyInstance, deps: ProgressDeps): void {
  const context = async (request: FastifyRequest) => {
    const { token } = request.params as { token: string };
    const launchId = deps.launchTokens.verify(token, deps.clock.now());
    const launch = await deps.db
      .selectFrom('launches as l')
      .innerJoin('resource_links as r', 'r.id', 'l.resource_link_id')
      .select(['l.roles', 'r.id as resourceLinkId', 'r.context_id as contextId', 'r.title as title'])
      .where('l.id', '=', launchId)
      .executeTakeFirst();
    if (!launch) throw new AppError('LAUNCH_TOKEN_INVALID', 'This progress link is no longer valid.', { hint: 'Open the activity again from the LMS.' });
    if (!canSeeProgress(JSON.parse(launch.roles) as string[])) {
      throw new AppError('PROGRESS_FORBIDDEN', 'Learner progress is for the course’s instructors.', { hint: 'Your own progress is shown in the activity itself.' });
    }
    return { ...launch, base: `/progress/${token}` };
  };
  const sortOf = (request: FastifyRequest): ProgressSort => {
    const s = (request.query as { sort?: unknown }).sort;
    return PROGRESS_SORTS.includes(s as ProgressSort) ? (s as ProgressSort) : 'name';
  };
  // The course roster, then the link-scoped one (rlid): both keep their previous state on failure.
  const startSync = (contextId: string, resourceLinkId: string, request: FastifyRequest) =>
    deps.rosters
      .sync(contextId)
      .then(() => deps.rosters.syncLink(resourceLinkId))
      .catch((err: unknown) => {
        request.log.warn({ err: (err as Error).message, context: contextId }, 'roster sync failed; the previous roster stays');
        return undefined;
      });

  app.get('/progress/:token', async (request, reply: FastifyReply) => {
    const c = await context(request);
    const roster = c.contextId ? await deps.db.selectFrom('rosters').selectAll().where('context_id', '=', c.contextId).executeTakeFirst() : undefined;
    const now = deps.clock.now();
    // Never wait for the LMS here: a stale roster starts a sync and the page shows the last one.
    if (roster?.memberships_url && c.contextId && (roster.synced_at === null || now - roster.synced_at > deps.rosterMaxAgeMs) && !deps.rosters.isSyncing(c.contextId)) {
      void startSync(c.contextId, c.resourceLinkId, request);
    }
    const state = !roster?.memberships_url ? 'none' : c.contextId && deps.rosters.isSyncing(c.contextId) ? 'syncing' : roster.synced_at === null ? 'never' : 'synced';
    const html = ProgressPage({
      base: c.base,
      title: c.title ?? 'Activity',
      sort: sortOf(request),
      rows: await progressRows(deps.db, c.resourceLinkId, sortOf(request)),
      roster: state,
      syncedAt: roster?.synced_at ?? null,
      lastError: roster?.last_error ?? null,
      now,
    });
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  });

  app.post('/progress/:token/sync', async (request, reply) => {
    const c = await context(request);
    if (c.contextId) {
      // Wait a little, so that a quick LMS shows the fresh roster right away; a slow one keeps syncing.
      await Promise.race([startSync(c.contextId, c.resourceLinkId, request), new Promise((r) => setTimeout(r, SYNC_WAIT_MS).unref())]);
    }
    return reply.redirect(`${c.base}${sortQuery(sortOf(request))}`, 303);
  });

  app.get('/progress/:token/export.csv', async (request, reply) => {
    const c = await context(request);
    const csv = progressCsv(await progressRows(deps.db, c.resourceLinkId, sortOf(request)));
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', await progressCsvDisposition(deps.db, c.resourceLinkId))
      .type('text/csv; charset=utf-8')
      .send(csv);
  });
}
