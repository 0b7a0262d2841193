import { isStaffRole } from '../lti/roles.js';
import type { Kysely } from 'kysely';
import { AGS_SCOPE, type Score } from '../lti/ags.js';
import type { Attempt, Database, OutboxState } from '../store/tables.js';
import { newId } from '../util/ids.js';
import {
  countOutboxByState,
  findGradeTarget,
  findLastSentScore,
  findUserSub,
  insertScoreRow,
  lastScoreSeq,
  listOutboxRows,
  requeueRows,
  supersedeQueued,
  upsertLineItemEndpoint,
} from './grade.repository.js';
import { gradeChanged, mapAttemptToScore } from './score-mapping.js';

/** The AGS endpoint claim (`https://purl.imsglobal.org/spec/lti-ags/claim/endpoint`). */
export interface AgsEndpointClaim {
  readonly scope?: readonly string[];
  readonly lineitems?: string;
  readonly lineitem?: string;
}

/** Remembers where a resource link's grades go, from the launch's AGS claim (inside the launch transaction). */
export async function recordAgsEndpoint(
  trx: Kysely<Database>,
  input: { resourceLinkId: string; platformId: string; claim: unknown; now: number },
): Promise<void> {
  const claim = parseClaim(input.claim);
  if (!claim) return;
  const values = {
    resource_link_id: input.resourceLinkId,
    platform_id: input.platformId,
    container_url: claim.lineitems ?? null,
    lineitem_url: claim.lineitem ?? null,
    scopes: JSON.stringify(claim.scope ?? []),
    updated_at: input.now,
  };
  await upsertLineItemEndpoint(trx, values);
}

function parseClaim(value: unknown): AgsEndpointClaim | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as Record<string, unknown>;
  const url = (v: unknown) => (typeof v === 'string' && /^https?:\/\//.test(v) ? v : undefined);
  const lineitems = url(c.lineitems);
  const lineitem = url(c.lineitem);
  if (!lineitems && !lineitem) return undefined;
  return {
    scope: Array.isArray(c.scope) ? c.scope.filter((s): s is string => typeof s === 'string') : [],
    ...(lineitems ? { lineitems } : {}),
    ...(lineitem ? { lineitem } : {}),
  };
}

/** How many times a queued score looks for a free `seq` when concurrent commits of the learner took it. */
const SEQ_ATTEMPTS = 5;

/**
 * Inside the transaction that changed the attempt: when completion, success or score
 * changed and the link has a gradebook we may post to, the score becomes an outbox row.
 * Its `seq` (and AGS timestamp, in ms) is above every earlier score of the learner on the
 * link, so it is the newest; queued older ones are superseded (only the newest is sent).
 */
export async function enqueueScore(trx: Kysely<Database>, before: Attempt, after: Attempt, now: number): Promise<string | undefined> {
  if (!gradeChanged(before, after)) return undefined;
  // Staff trying the activity out are not graded: LMSs refuse (or file) scores for non-students.
  if (isStaffRole(after.role_kind)) return undefined;
  const target = await findGradeTarget(trx, after.resource_link_id);
  if (!target || !(JSON.parse(target.scopes) as string[]).includes(AGS_SCOPE.SCORE)) return undefined;
  const userSub = await findUserSub(trx, after.user_id);
  const mapped = mapAttemptToScore(after);
  for (let attempt = 1; ; attempt++) {
    // Timestamps increase per learner and link, with milliseconds: the LMS keeps the newest too.
    const seq = Math.max(now, (await lastScoreSeq(trx, after.resource_link_id, after.user_id)) + 1);
    const score: Score = { userId: userSub, timestamp: new Date(seq).toISOString(), ...mapped };
    const id = newId('grd');
    const inserted = await insertScoreRow(trx, {
      id,
      attempt_id: after.id,
      resource_link_id: after.resource_link_id,
      user_id: after.user_id,
      platform_id: target.platform_id,
      score: JSON.stringify(score),
      state: 'pending',
      tries: 0,
      next_try_at: now,
      lease_until: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      sent_at: null,
      seq,
    });
    if (inserted) {
      await supersedeQueued(trx, after.resource_link_id, after.user_id, seq, now);
      return id;
    }
    // Another attempt of the learner on this link queued a score with the same seq at this moment.
    if (attempt >= SEQ_ATTEMPTS) throw new Error(`could not queue the score of attempt ${after.id}: its sequence number stayed taken`);
  }
}

/** The last score actually delivered for a learner and link (for the manual-grade policies). */
export async function lastSent(db: Kysely<Database>, resourceLinkId: string, userId: string): Promise<Score | undefined> {
  const score = await findLastSentScore(db, resourceLinkId, userId);
  return score ? (JSON.parse(score) as Score) : undefined;
}

export async function outboxCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  return countOutboxByState(db);
}

/** Dead (or pending) rows go back to the queue now: `courseport grades retry` (superseded instead when a newer score exists). */
export async function requeue(db: Kysely<Database>, ids: readonly string[] | 'all-dead', now: number): Promise<number> {
  return requeueRows(db, ids, now);
}

export interface OutboxEntryView {
  readonly id: string;
  readonly state: string;
  readonly tries: number;
  readonly userSub: string;
  readonly resourceLinkId: string;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly nextTryAt: string;
  readonly sentAt: string | null;
}

/** Recent rows in the given states, newest first (for `grades status` and the API). */
export async function listOutbox(db: Kysely<Database>, states: readonly OutboxState[], limit = 50): Promise<OutboxEntryView[]> {
  const rows = await listOutboxRows(db, states, limit);
  const iso = (ms: number) => new Date(ms).toISOString();
  return rows.map((r) => ({
    id: r.id,
    state: r.state,
    tries: r.tries,
    userSub: r.sub,
    resourceLinkId: r.resource_link_id,
    lastError: r.last_error,
    createdAt: iso(r.created_at),
    nextTryAt: iso(r.next_try_at),
    sentAt: r.sent_at === null ? null : iso(r.sent_at),
  }));
}
