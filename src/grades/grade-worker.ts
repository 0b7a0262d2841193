import type { TokenPlatform } from '../lti/service-access.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { ServiceCallError, type AgsClient, type Score } from '../lti/ags.js';
import { AGS_SCOPE } from '../lti/ags.js';
import type { Dialect } from '../store/database.js';
import { isDatabaseUnavailable } from '../store/database-errors.js';
import type { Database, GradeOutboxRow, LineItemRow } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { lastSent } from './grade-outbox.js';
import {
  claimDue,
  claimLineItemCreation,
  findDeliveryPlatforms,
  findLineItemSubject,
  findLineItemUrl,
  releaseLineItemClaim,
  storeLineItemUrl,
  findGradeTargets,
  finishClaimed,
  retryOrSupersede,
  type DeliveryPlatform,
} from './grade.repository.js';
import { SCORE_MAXIMUM } from './score-mapping.js';

export interface GradeWorkerOptions {
  readonly pollMs: number;
  /** How long a claimed row is ours; a worker that dies leaves it to another after this. */
  readonly leaseMs: number;
  readonly batch: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Rows still failing after this long move to the dead-letter state (their last error kept). */
  readonly maxAgeMs: number;
}

/** How long a worker may take to find or create a link's line item before another may try (several HTTP timeouts). */
const LINE_ITEM_CLAIM_MS = 60_000;
/** How soon a score waiting for another worker's line item is tried again. */
const LINE_ITEM_WAIT_MS = 2_000;

export const DEFAULT_GRADE_WORKER: GradeWorkerOptions = {
  pollMs: 1000,
  leaseMs: 60_000,
  batch: 50,
  baseDelayMs: 5_000,
  maxDelayMs: 30 * 60_000,
  maxAgeMs: 7 * 24 * 3600_000,
};

type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/** One claimed batch: its lease, and what its rows share, read once. */
interface Batch {
  readonly leaseId: string;
  readonly platforms: ReadonlyMap<string, DeliveryPlatform>;
  readonly targets: ReadonlyMap<string, LineItemRow>;
}

/** A Retry-After longer than this is taken as this: an LMS cannot park a score for weeks. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/**
 * How long a failed delivery waits, in whole milliseconds (the column is a bigint): exponential
 * from `baseDelayMs`, doubling per try up to `maxDelayMs`, spread by ±50 % jitter (`random` in
 * [0, 1): × 0.5 … × 1.5) so that scores failing together do not come back together — and never
 * sooner than the LMS's Retry-After.
 */
export function retryDelayMs(tries: number, options: Pick<GradeWorkerOptions, 'baseDelayMs' | 'maxDelayMs'>, random: number, retryAfterMs?: number): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, tries - 1));
  const jittered = Math.round(exponential * (0.5 + Math.min(Math.max(random, 0), 1)));
  const asked = retryAfterMs === undefined ? 0 : Math.ceil(Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  return Math.max(1, jittered, asked);
}

/**
 * A delivery must be over before its lease is: after that another worker may claim the row,
 * or the learner's next score, and an answer still in flight could arrive after it. The score
 * POST is cut off this long before the lease ends.
 */
function leaseMarginMs(leaseMs: number): number {
  return Math.min(5000, Math.floor(leaseMs / 4));
}

/**
 * Delivers the grade outbox: every score is a database row first, so nothing is lost to
 * an LMS outage or a restart. Rows are leased (SKIP LOCKED on PostgreSQL) — only each
 * learner's newest score, one delivery per learner and link at a time (grade.repository.ts) —
 * retried with exponential backoff and jitter, honouring Retry-After, and dead-lettered when
 * they keep failing past the maximum age or the LMS refuses them for good.
 */
export class GradeWorker {
  private timer: NodeJS.Timeout | undefined;
  /** One line item lookup or creation per resource link at a time: a batch must not create it 50 times. */
  private readonly lineItemLookups = new Map<string, Promise<string>>();
  private running: Promise<number> | undefined;
  private stopped = true;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly ags: AgsClient,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly options: GradeWorkerOptions = DEFAULT_GRADE_WORKER,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce().catch((err: unknown) => {
        // While the database is away the outage is logged once (DatabaseHealth), not every poll.
        if (!isDatabaseUnavailable(err)) this.log.error({ err }, 'grade delivery round failed');
        return 0;
      });
      void this.running.finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round: claims the due rows and delivers them. Returns how many were handled. */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const { leaseId, rows } = await claimDue(this.db, this.dialect, this.clock.now(), this.options.leaseMs, this.options.batch);
      if (rows.length === 0) return handled;
      // Registrations and gradebook endpoints are read once per batch: most of a batch shares them.
      const batch: Batch = {
        leaseId,
        platforms: await findDeliveryPlatforms(
          this.db,
          rows.map((r) => r.platform_id),
        ),
        targets: await findGradeTargets(
          this.db,
          rows.map((r) => r.resource_link_id),
        ),
      };
      await Promise.all(rows.map((row) => this.deliver(row, batch)));
      handled += rows.length;
      if (rows.length < this.options.batch) return handled;
    }
  }

  private async deliver(row: GradeOutboxRow, batch: Batch): Promise<void> {
    const now = this.clock.now();
    const leaseId = batch.leaseId;
    const finish = (state: 'sent' | 'skipped' | 'dead', at: number, error?: string) => this.finish(row, leaseId, state, at, error);
    const deadline = AbortSignal.timeout(Math.max(0, (row.lease_until ?? now) - now - leaseMarginMs(this.options.leaseMs)));
    try {
      const platform = batch.platforms.get(row.platform_id);
      if (!platform) return await finish('dead', now, 'the platform registration was deleted');
      if (platform.status !== 'active') throw new ServiceCallError('the platform registration is disabled', null, undefined);
      const score = JSON.parse(row.score) as Score;
      // Where this link's grades go: the granted scopes and the line item, if known.
      const target = batch.targets.get(row.resource_link_id);
      if (!target) throw new ServiceCallError('the resource link has no grade service endpoint', 404, undefined);
      const lineItemUrl = target.lineitem_url ?? (await this.lineItemOf(row, target.container_url, platform));
      const scopes = JSON.parse(target.scopes) as string[];
      if (platform.gradePolicy !== 'overwrite' && scopes.includes(AGS_SCOPE.RESULT_READONLY) && score.scoreGiven !== undefined) {
        const result = await this.ags.result(platform, lineItemUrl, score.userId);
        const sent = await lastSent(this.db, row.resource_link_id, row.user_id);
        const current = result?.resultScore === undefined ? undefined : (result.resultScore / (result.resultMaximum ?? SCORE_MAXIMUM)) * SCORE_MAXIMUM;
        const manual = current !== undefined && (sent?.scoreGiven === undefined || Math.abs(current - sent.scoreGiven) > 1e-6);
        if (manual && (platform.gradePolicy === 'preserve' || current >= score.scoreGiven)) {
          this.log.info(
            { outbox: row.id, policy: platform.gradePolicy, gradebook: current, ours: score.scoreGiven },
            'grade not sent: the gradebook holds a grade set in the LMS',
          );
          return await finish('skipped', this.clock.now(), `kept the LMS grade ${current} (${platform.gradePolicy})`);
        }
      }
      await this.ags.postScore(platform, lineItemUrl, score, { signal: deadline });
      await finish('sent', this.clock.now());
    } catch (err) {
      await this.failed(row, leaseId, err);
    }
  }

  private async finish(row: GradeOutboxRow, leaseId: string, state: 'sent' | 'skipped' | 'dead', now: number, error?: string): Promise<void> {
    if (!(await finishClaimed(this.db, row.id, leaseId, state, now, error))) {
      this.log.warn({ outbox: row.id, state }, 'grade delivery outcome not recorded: the lease had expired and the score was taken over');
    }
  }

  private async failed(row: GradeOutboxRow, leaseId: string, err: unknown): Promise<void> {
    const now = this.clock.now();
    const message = err instanceof Error ? err.message : String(err);
    // Our own database failing is not the LMS's fault: the score is retried like a 5xx.
    const permanent = isDatabaseUnavailable(err)
      ? false
      : err instanceof ServiceCallError
        ? err.permanent
        : err instanceof AppError && err.code === 'SERVICE_TOKEN_FAILED'
          ? false
          : !(err instanceof AppError);
    if (permanent || now - row.created_at > this.options.maxAgeMs) {
      this.log.error({ outbox: row.id, tries: row.tries + 1, err: message }, 'grade delivery gave up (dead letter)');
      return this.finish(row, leaseId, 'dead', now, message);
    }
    const tries = row.tries + 1;
    const wait = retryDelayMs(tries, this.options, this.random(), err instanceof ServiceCallError ? err.retryAfterMs : undefined);
    const state = await retryOrSupersede(this.db, row, leaseId, { tries, nextTryAt: now + wait, error: message }, now);
    if (state === 'superseded') this.log.info({ outbox: row.id, tries, err: message }, 'grade delivery failed; a newer score of the learner replaces it');
    else if (state === 'pending') this.log.warn({ outbox: row.id, tries, retryInMs: wait, err: message }, 'grade delivery failed; will retry');
    else this.log.warn({ outbox: row.id, err: message }, 'grade delivery failed after its lease expired; the score was taken over');
  }

  private lineItemOf(row: GradeOutboxRow, containerUrl: string | null, platform: TokenPlatform): Promise<string> {
    let pending = this.lineItemLookups.get(row.resource_link_id);
    if (!pending) {
      pending = this.resolveLineItem(row, containerUrl, platform).finally(() => this.lineItemLookups.delete(row.resource_link_id));
      this.lineItemLookups.set(row.resource_link_id, pending);
    }
    return pending;
  }

  /** The line item of a link that has none yet: found in the container, or created (and remembered). */
  private async resolveLineItem(row: GradeOutboxRow, containerUrl: string | null, platform: TokenPlatform): Promise<string> {
    // A concurrent lookup of this process may have stored it meanwhile.
    const known = await findLineItemUrl(this.db, row.resource_link_id);
    if (known) return known;
    // Another process may be creating it right now: only the holder of the claim asks the LMS,
    // so two processes never create two gradebook columns for one link.
    const now = this.clock.now();
    if (!(await claimLineItemCreation(this.db, row.resource_link_id, now, now + LINE_ITEM_CLAIM_MS))) {
      const again = await findLineItemUrl(this.db, row.resource_link_id);
      if (again) return again;
      throw new ServiceCallError('another worker is creating the line item of this link', null, LINE_ITEM_WAIT_MS);
    }
    const link = await findLineItemSubject(this.db, row.resource_link_id);
    let url: string;
    try {
      url = await this.ags.ensureLineItem(
        platform,
        { ...(containerUrl ? { lineitems: containerUrl } : {}) },
        {
          scoreMaximum: SCORE_MAXIMUM,
          label: link.title ?? link.packageTitle ?? 'Courseport activity',
          resourceLinkId: link.externalId,
          ...(link.packageId ? { resourceId: link.packageId } : {}),
          tag: 'courseport',
        },
      );
    } catch (err) {
      // The next try (of any worker) may claim it at once.
      await releaseLineItemClaim(this.db, row.resource_link_id);
      throw err;
    }
    await storeLineItemUrl(this.db, row.resource_link_id, url, this.clock.now());
    return url;
  }
}
