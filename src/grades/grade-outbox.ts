import { isStaffRole } from '../lti/roles.js';
import { sql, type Kysely } from 'kysely';
import { AGS_SCOPE, type Score } from '../lti/ags.js';
import type { Dialect } from '../store/database.js';
import type { Attempt, Database, GradeOutboxRow, OutboxState } from '../store/tables.js';
import { newId } from '../util/ids.js';
import { gradeChanged, mapAttemptToScore } from './score-mapping.js';

/** The AGS endpoint claim (`https://purl.imsglobal.org/spec/lti-ags/claim/endpoint`). */
export interface AgsEndpointClaim {
  readonly scope?: readonly string[];
  readonly lineitems?: string;
  readonly lineitem?: string;
}

/** Remembers where a resource link's grades go, from the launch's AGS claim (inside the launch transaction). */
export async function recordAgsEndpoint(trx: Kysely<Database>, input: { resourceLinkId: string; platformId: string; claim: unknown; now: number }): Promise<void> {
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
  await trx
    .insertInto('line_items')
    .values(values)
    .onConflict((oc) =>
      oc.column('resource_link_id').doUpdateSet({
        container_url: values.container_url,
        // A line item we found or created stays unless the launch names one.
        lineitem_url: (eb) => (values.lineitem_url ? eb.val(values.lineitem_url) : eb.ref('line_items.lineitem_url')),
        scopes: values.scopes,
        updated_at: values.updated_at,
      }),
    )
    .execute();
}

function parseClaim(value: unknown): AgsEndpointClaim | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as Record<string, unknown>;
  const url = (v: unknown) => (typeof v === 'string' && /^https?:\/\//.test(v) ? v : undefined);
  const lineitems = url(c.lineitems);
  const lineitem = url(c.lineitem);
  if (!lineitems && !lineitem) return undefined;
  return { scope: Array.isArray(c.scope) ? c.scope.filter((s): s is string => typeof s === 'string') : [], ...(lineitems ? { lineitems } : {}), ...(lineitem ? { lineitem } : {}) };
}


/**
 * Inside the transaction that changed the attempt: when completion, success or score
 * changed and the link has a gradebook we may post to, the score becomes an outbox row.
 * Older unsent rows of the same learner and link are superseded (only the newest is sent).
 */
export async function enqueueScore(trx: Kysely<Database>, before: Attempt, after: Attempt, now: number): Promise<string | undefined> {
  if (!gradeChanged(before, after)) return undefined;
  // Staff trying the activity out are not graded: LMSs refuse (or file) scores for non-students.
  if (isStaffRole(after.role_kind)) return undefined;
  const target = await trx.selectFrom('line_items').select(['platform_id', 'scopes']).where('resource_link_id', '=', after.resource_link_id).executeTakeFirst();
  if (!target || !(JSON.parse(target.scopes) as string[]).includes(AGS_SCOPE.SCORE)) return undefined;
  const user = await trx.selectFrom('users').select('sub').where('id', '=', after.user_id).executeTakeFirstOrThrow();
  // Timestamps are monotonic per attempt, with milliseconds: the LMS keeps the newest.
  const last = await trx.selectFrom('grade_outbox').select('score').where('attempt_id', '=', after.id).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const lastTs = last ? Date.parse((JSON.parse(last.score) as Score).timestamp) : 0;
  const score: Score = { userId: user.sub, timestamp: new Date(Math.max(now, lastTs + 1)).toISOString(), ...mapAttemptToScore(after) };
  await trx
    .updateTable('grade_outbox')
    .set({ state: 'superseded', updated_at: now })
    .where('resource_link_id', '=', after.resource_link_id)
    .where('user_id', '=', after.user_id)
    .where('state', '=', 'pending')
    .execute();
  const id = newId('grd');
  await trx
    .insertInto('grade_outbox')
    .values({
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
    })
    .execute();
  return id;
}

/**
 * Leases due rows to one worker: on PostgreSQL with FOR UPDATE SKIP LOCKED, so several
 * processes never take the same row; a lease that expired (a worker died mid-delivery) is
 * due again.
 */
export async function claimDue(db: Kysely<Database>, dialect: Dialect, now: number, leaseMs: number, limit: number): Promise<GradeOutboxRow[]> {
  return db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('grade_outbox')
      .select('id')
      .where((eb) => eb.or([eb.and([eb('state', '=', 'pending'), eb('next_try_at', '<=', now)]), eb.and([eb('state', '=', 'sending'), eb('lease_until', '<', now)])]))
      .orderBy('next_try_at')
      .limit(limit);
    if (dialect === 'postgres') q = q.forUpdate().skipLocked();
    const ids = (await q.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx.updateTable('grade_outbox').set({ state: 'sending', lease_until: now + leaseMs, updated_at: now }).where('id', 'in', ids).execute();
    return trx.selectFrom('grade_outbox').selectAll().where('id', 'in', ids).execute();
  });
}

export async function finish(db: Kysely<Database>, id: string, state: Extract<OutboxState, 'sent' | 'skipped' | 'dead'>, now: number, error?: string): Promise<void> {
  await db
    .updateTable('grade_outbox')
    .set({ state, lease_until: null, updated_at: now, ...(state === 'sent' ? { sent_at: now } : {}), ...(error !== undefined ? { last_error: error } : {}) })
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .execute();
}

export async function retryLater(db: Kysely<Database>, id: string, tries: number, nextTryAt: number, error: string, now: number): Promise<void> {
  await db.updateTable('grade_outbox').set({ state: 'pending', tries, next_try_at: nextTryAt, lease_until: null, last_error: error, updated_at: now }).where('id', '=', id).where('state', '=', 'sending').execute();
}

/** The last score actually delivered for a learner and link (for the manual-grade policies). */
export async function lastSent(db: Kysely<Database>, resourceLinkId: string, userId: string): Promise<Score | undefined> {
  const row = await db
    .selectFrom('grade_outbox')
    .select('score')
    .where('resource_link_id', '=', resourceLinkId)
    .where('user_id', '=', userId)
    .where('state', '=', 'sent')
    .orderBy('sent_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? (JSON.parse(row.score) as Score) : undefined;
}

export async function outboxCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('grade_outbox').select(['state', sql<number>`count(*)`.as('n')]).groupBy('state').execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Dead (or pending) rows go back to the queue now: `courseport grades retry`. */
export async function requeue(db: Kysely<Database>, ids: readonly string[] | 'all-dead', now: number): Promise<number> {
  let q = db.updateTable('grade_outbox').set({ state: 'pending', next_try_at: now, tries: 0, updated_at: now });
  q = ids === 'all-dead' ? q.where('state', '=', 'dead') : q.where('id', 'in', ids.length ? [...ids] : ['']).where('state', 'in', ['dead', 'pending']);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
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
  const rows = await db
    .selectFrom('grade_outbox as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .innerJoin('resource_links as r', 'r.id', 'g.resource_link_id')
    .select(['g.id', 'g.state', 'g.tries', 'u.sub', 'r.resource_link_id', 'g.last_error', 'g.created_at', 'g.next_try_at', 'g.sent_at'])
    .where('g.state', 'in', [...states])
    .orderBy('g.updated_at', 'desc')
    .limit(limit)
    .execute();
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
