import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { canSeeProgress } from '../lti/roles.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import type { SignedTokens } from '../util/signed-tokens.js';
import { PROGRESS_SORTS, progressCsv, progressRows, type ProgressRow, type ProgressSort } from './progress.js';
import { findProgressLaunch, findRoster } from './roster.repository.js';
import type { RosterService } from './roster.service.js';
import { progressCsvDisposition } from './progress-view.js';

export interface ProgressDeps {
  readonly db: Kysely<Database>;
  readonly launchTokens: SignedTokens;
  readonly rosters: RosterService;
  readonly clock: Clock;
  /** A roster older than this is refreshed when the view opens. */
  readonly rosterMaxAgeMs: number;
}

/** The resource link an instructor's progress link opens. */
export interface ProgressContext {
  readonly resourceLinkId: string;
  readonly contextId: string | null;
  readonly title: string | null;
  /** The view's own path (its token), for links and redirects. */
  readonly base: string;
}

/** What the instructor's progress page shows. */
export interface ProgressView {
  readonly base: string;
  readonly title: string;
  readonly sort: ProgressSort;
  readonly rows: readonly ProgressRow[];
  readonly roster: 'synced' | 'syncing' | 'never' | 'none';
  readonly syncedAt: number | null;
  readonly lastError: string | null;
  readonly now: number;
}

const SYNC_WAIT_MS = 5_000;

/** The sort a request asks for, or by name. */
export function progressSort(value: unknown): ProgressSort {
  return PROGRESS_SORTS.includes(value as ProgressSort) ? (value as ProgressSort) : 'name';
}

/**
 * The instructors' view of a resource link: every learner's progress, the course roster kept
 * fresh from the LMS (NRPS) without ever making the page wait for it.
 */
export class ProgressService {
  constructor(private readonly deps: ProgressDeps) {}

  /** The link a progress token opens; staff only. */
  async open(token: string): Promise<ProgressContext> {
    const launchId = this.deps.launchTokens.verify(token, this.deps.clock.now());
    const launch = await findProgressLaunch(this.deps.db, launchId);
    if (!launch) throw new AppError('LAUNCH_TOKEN_INVALID', 'This progress link is no longer valid.', { hint: 'Open the activity again from the LMS.' });
    if (!canSeeProgress(JSON.parse(launch.roles) as string[])) {
      throw new AppError('PROGRESS_FORBIDDEN', 'Learner progress is for the course’s instructors.', {
        hint: 'Your own progress is shown in the activity itself.',
      });
    }
    return { resourceLinkId: launch.resourceLinkId, contextId: launch.contextId, title: launch.title, base: `/progress/${token}` };
  }

  /** The page; a stale roster starts a sync in the background and the page shows the last one. */
  async view(c: ProgressContext, sort: ProgressSort, onSyncError: (err: unknown) => void): Promise<ProgressView> {
    const roster = c.contextId ? await findRoster(this.deps.db, c.contextId) : undefined;
    const now = this.deps.clock.now();
    const { rosters, rosterMaxAgeMs } = this.deps;
    if (roster?.memberships_url && c.contextId && (roster.synced_at === null || now - roster.synced_at > rosterMaxAgeMs) && !rosters.isSyncing(c.contextId)) {
      void this.startSync(c, onSyncError);
    }
    const state = !roster?.memberships_url
      ? 'none'
      : c.contextId && rosters.isSyncing(c.contextId)
        ? 'syncing'
        : roster.synced_at === null
          ? 'never'
          : 'synced';
    return {
      base: c.base,
      title: c.title ?? 'Activity',
      sort,
      rows: await progressRows(this.deps.db, c.resourceLinkId, sort),
      roster: state,
      syncedAt: roster?.synced_at ?? null,
      lastError: roster?.last_error ?? null,
      now,
    };
  }

  /** "Update roster now": waits a little, so that a quick LMS shows the fresh roster right away; a slow one keeps syncing. */
  async syncNow(c: ProgressContext, onSyncError: (err: unknown) => void): Promise<void> {
    if (!c.contextId) return;
    await Promise.race([this.startSync(c, onSyncError), new Promise((r) => setTimeout(r, SYNC_WAIT_MS).unref())]);
  }

  /** The CSV's Content-Disposition, named after the course and activity. */
  async csvDisposition(c: ProgressContext): Promise<string> {
    return progressCsvDisposition(this.deps.db, c.resourceLinkId);
  }

  async csv(c: ProgressContext, sort: ProgressSort): Promise<string> {
    return progressCsv(await progressRows(this.deps.db, c.resourceLinkId, sort));
  }

  /** The course roster, then the link-scoped one (rlid): both keep their previous state on failure. */
  private startSync(c: ProgressContext, onSyncError: (err: unknown) => void): Promise<unknown> {
    if (!c.contextId) return Promise.resolve();
    return this.deps.rosters
      .sync(c.contextId)
      .then(() => this.deps.rosters.syncLink(c.resourceLinkId))
      .catch((err: unknown) => {
        onSyncError(err);
        return undefined;
      });
  }
}
