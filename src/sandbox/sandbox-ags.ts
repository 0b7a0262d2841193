import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { memberBySub } from './course.js';
import { latestScores } from './sandbox-gradebook.js';
import { sandboxInvalid as invalid, type SandboxUrls } from './sandbox-platform.js';
import { findLineItem, insertLineItem, insertScore, listLineItems, type SandboxLineItem } from './sandbox.repository.js';

const ACTIVITY_PROGRESS = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'];
const GRADING_PROGRESS = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'];

/** The sandbox's Assignment and Grade Services endpoints: line items, scores and results. */
export class SandboxAgs {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly urls: SandboxUrls,
  ) {}

  async lineItems(filter: { resourceLinkId?: string | undefined; resourceId?: string | undefined; tag?: string | undefined } = {}): Promise<SandboxLineItem[]> {
    return listLineItems(this.db, filter);
  }

  async lineItem(id: string): Promise<SandboxLineItem> {
    const item = await findLineItem(this.db, id);
    if (!item) throw new AppError('NOT_FOUND', `The sandbox has no line item ${id}.`);
    return item;
  }

  lineItemJson(item: SandboxLineItem): Record<string, unknown> {
    return {
      id: this.urls.lineItem(item.id),
      label: item.label,
      scoreMaximum: item.scoreMaximum,
      ...(item.resourceId ? { resourceId: item.resourceId } : {}),
      ...(item.resourceLinkId ? { resourceLinkId: item.resourceLinkId } : {}),
      ...(item.tag ? { tag: item.tag } : {}),
    };
  }

  async createLineItem(body: unknown): Promise<SandboxLineItem> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof b.label !== 'string' || !b.label.trim() || typeof b.scoreMaximum !== 'number' || !(b.scoreMaximum > 0)) {
      throw invalid('A line item needs a label and a positive scoreMaximum.');
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 255) : null);
    const item: SandboxLineItem = {
      id: newId('sbli'),
      label: b.label.slice(0, 1024),
      scoreMaximum: b.scoreMaximum,
      resourceId: str(b.resourceId),
      resourceLinkId: str(b.resourceLinkId),
      tag: str(b.tag),
    };
    await insertLineItem(this.db, item, this.clock.now());
    return this.lineItem(item.id);
  }

  /** AGS Score (§3.4): checked as an LMS would, then kept (every score, in arrival order). */
  async postScore(lineItemId: string, body: unknown): Promise<void> {
    await this.lineItem(lineItemId);
    const s = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const problems = [
      (typeof s.userId !== 'string' || !memberBySub(s.userId)) && 'userId',
      (typeof s.timestamp !== 'string' || Number.isNaN(Date.parse(s.timestamp))) && 'timestamp',
      !ACTIVITY_PROGRESS.includes(s.activityProgress as string) && 'activityProgress',
      !GRADING_PROGRESS.includes(s.gradingProgress as string) && 'gradingProgress',
      s.scoreGiven !== undefined && (typeof s.scoreGiven !== 'number' || s.scoreGiven < 0) && 'scoreGiven',
      s.scoreGiven !== undefined && (typeof s.scoreMaximum !== 'number' || !(s.scoreMaximum > 0)) && 'scoreMaximum',
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length) throw invalid(`The score is invalid: ${problems.join(', ')}.`, { problems });
    await insertScore(this.db, {
      id: newId('sbs'),
      line_item_id: lineItemId,
      user_id: s.userId as string,
      score_given: typeof s.scoreGiven === 'number' ? s.scoreGiven : null,
      score_maximum: typeof s.scoreMaximum === 'number' ? s.scoreMaximum : null,
      activity_progress: s.activityProgress as string,
      grading_progress: s.gradingProgress as string,
      comment: typeof s.comment === 'string' ? s.comment.slice(0, 4000) : null,
      timestamp: s.timestamp as string,
      received_at: this.clock.now(),
    });
  }

  /** AGS results: the latest fully graded score of each user. */
  async results(lineItemId: string, userId?: string): Promise<Record<string, unknown>[]> {
    const item = await this.lineItem(lineItemId);
    const out: Record<string, unknown>[] = [];
    for (const [user, s] of await latestScores(this.db, lineItemId)) {
      if (userId && user !== userId) continue;
      if (s.gradingProgress !== 'FullyGraded' || s.scoreGiven === null) continue;
      const max = s.scoreMaximum ?? item.scoreMaximum;
      out.push({
        id: `${this.urls.lineItem(lineItemId)}/results/${encodeURIComponent(user)}`,
        scoreOf: this.urls.lineItem(lineItemId),
        userId: user,
        resultScore: (s.scoreGiven / max) * item.scoreMaximum,
        resultMaximum: item.scoreMaximum,
        ...(s.comment ? { comment: s.comment } : {}),
      });
    }
    return out;
  }
}
