import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../store/database.js';
import type { Database, GradeOutboxRow, LineItemRow, OutboxState } from '../store/tables.js';
import { newId } from '../util/ids.js';

/*
 * The grade outbox's ordering rules, in SQL (docs/grades.md, "Guarantees"):
 *
 * 1. The scores of one learner on one link — one line item — are ordered by `seq`, unique
 *    among them. Only the row with the highest `seq` may be claimed for delivery: an older
 *    score is never sent once a newer one exists, whatever became of the newer one.
 * 2. At most one row of a (link, learner) is in delivery at a time: a row is not claimed
 *    while another of its learner's rows holds an unexpired lease.
 * 3. A claim is named (`lease_id`): only its holder records the outcome, so a worker whose
 *    lease expired and was taken over cannot put the row back in the queue.
 *
 * Each decision is taken inside the statement that acts on it (conditional updates), and the
 * claim locks what it takes (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's transactions hold
 * the write lock from their first statement).
 */

type Outbox = ExpressionBuilder<Database, 'grade_outbox'>;

/** A newer score of the same learner and link exists (for the row `grade_outbox` of the outer statement). */
function newerExists(eb: Outbox) {
  return eb.exists(
    eb
      .selectFrom('grade_outbox as n')
      .select('n.id')
      .whereRef('n.resource_link_id', '=', 'grade_outbox.resource_link_id')
      .whereRef('n.user_id', '=', 'grade_outbox.user_id')
      .whereRef('n.seq', '>', 'grade_outbox.seq'),
  );
}

/** The highest `seq` of a learner's scores on a link (0 without any). */
export async function lastScoreSeq(db: Kysely<Database>, resourceLinkId: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('grade_outbox')
    .select('seq')
    .where('resource_link_id', '=', resourceLinkId)
    .where('user_id', '=', userId)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

/** Inserts a queued score; false when its (link, learner, seq) was taken by a concurrent insert. */
export async function insertScoreRow(db: Kysely<Database>, row: Omit<GradeOutboxRow, 'lease_id'>): Promise<boolean> {
  const r = await db
    .insertInto('grade_outbox')
    .values({ ...row, lease_id: null })
    .onConflict((oc) => oc.columns(['resource_link_id', 'user_id', 'seq']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Queued (not in flight) scores older than `seq` will never be sent. */
export async function supersedeQueued(db: Kysely<Database>, resourceLinkId: string, userId: string, seq: number, now: number): Promise<void> {
  await db
    .updateTable('grade_outbox')
    .set({ state: 'superseded', updated_at: now })
    .where('resource_link_id', '=', resourceLinkId)
    .where('user_id', '=', userId)
    .where('state', '=', 'pending')
    .where('seq', '<', seq)
    .execute();
}

export interface Claim {
  readonly leaseId: string;
  readonly rows: GradeOutboxRow[];
}

/**
 * Leases due rows to one worker: the newest score of each learner and link, when none of that
 * learner's scores is in delivery. A lease that expired (its worker died or hangs) makes its row
 * due again — or superseded, when a newer score came meanwhile.
 */
export async function claimDue(db: Kysely<Database>, dialect: Dialect, now: number, leaseMs: number, limit: number): Promise<Claim> {
  const leaseId = newId('lse');
  const rows = await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('grade_outbox')
      .set({ state: 'superseded', lease_until: null, lease_id: null, updated_at: now })
      .where('state', '=', 'sending')
      .where('lease_until', '<', now)
      .where((eb) => newerExists(eb))
      .execute();
    let q = trx
      .selectFrom('grade_outbox')
      .select('id')
      .where((eb) =>
        eb.or([eb.and([eb('state', '=', 'pending'), eb('next_try_at', '<=', now)]), eb.and([eb('state', '=', 'sending'), eb('lease_until', '<', now)])]),
      )
      .where((eb) => eb.not(newerExists(eb)))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('grade_outbox as s')
              .select('s.id')
              .whereRef('s.resource_link_id', '=', 'grade_outbox.resource_link_id')
              .whereRef('s.user_id', '=', 'grade_outbox.user_id')
              .whereRef('s.id', '<>', 'grade_outbox.id')
              .where('s.state', '=', 'sending')
              .where('s.lease_until', '>=', now),
          ),
        ),
      )
      .orderBy('next_try_at')
      .limit(limit);
    if (dialect === 'postgres') q = q.forUpdate().skipLocked();
    const ids = (await q.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('grade_outbox')
      .set({ state: 'sending', lease_until: now + leaseMs, lease_id: leaseId, updated_at: now })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
  return { leaseId, rows };
}

/** Records a delivery's end, if the claim is still the caller's. */
export async function finishClaimed(
  db: Kysely<Database>,
  id: string,
  leaseId: string,
  state: Extract<OutboxState, 'sent' | 'skipped' | 'dead'>,
  now: number,
  error?: string,
): Promise<boolean> {
  const r = await db
    .updateTable('grade_outbox')
    .set({
      state,
      lease_until: null,
      lease_id: null,
      updated_at: now,
      ...(state === 'sent' ? { sent_at: now } : {}),
      ...(error !== undefined ? { last_error: error } : {}),
    })
    .where('id', '=', id)
    .where('lease_id', '=', leaseId)
    .where('state', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * A failed delivery goes back to the queue for `nextTryAt` — unless a newer score of the
 * learner came meanwhile: then it is superseded, and the newer score waits until `nextTryAt`
 * too (the LMS just failed; the learner's next score does not hurry past the backoff).
 * Returns the row's new state, or undefined when the claim was no longer the caller's.
 */
export async function retryOrSupersede(
  db: Kysely<Database>,
  row: Pick<GradeOutboxRow, 'id' | 'resource_link_id' | 'user_id' | 'seq'>,
  leaseId: string,
  retry: { readonly tries: number; readonly nextTryAt: number; readonly error: string },
  now: number,
): Promise<OutboxState | undefined> {
  return db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('grade_outbox')
      .set((eb) => ({
        state: eb.case().when(newerExists(eb)).then(eb.val<OutboxState>('superseded')).else(eb.val<OutboxState>('pending')).end(),
        tries: retry.tries,
        next_try_at: retry.nextTryAt,
        lease_until: null,
        lease_id: null,
        last_error: retry.error,
        updated_at: now,
      }))
      .where('id', '=', row.id)
      .where('lease_id', '=', leaseId)
      .where('state', '=', 'sending')
      .returning('state')
      .executeTakeFirst();
    if (r?.state === 'superseded') {
      await trx
        .updateTable('grade_outbox')
        .set({ next_try_at: retry.nextTryAt, updated_at: now })
        .where('resource_link_id', '=', row.resource_link_id)
        .where('user_id', '=', row.user_id)
        .where('seq', '>', row.seq)
        .where('state', '=', 'pending')
        .where('next_try_at', '<', retry.nextTryAt)
        .execute();
    }
    return r?.state;
  });
}

/**
 * Dead (or pending) rows go back to the queue now: `courseport grades retry`. A row a newer
 * score has replaced is superseded instead (it would never be sent). Returns how many were queued.
 */
export async function requeueRows(db: Kysely<Database>, ids: readonly string[] | 'all-dead', now: number): Promise<number> {
  let q = db.updateTable('grade_outbox').set((eb) => ({
    state: eb.case().when(newerExists(eb)).then(eb.val<OutboxState>('superseded')).else(eb.val<OutboxState>('pending')).end(),
    next_try_at: now,
    tries: 0,
    updated_at: now,
  }));
  q = ids === 'all-dead' ? q.where('state', '=', 'dead') : q.where('id', 'in', ids.length ? [...ids] : ['']).where('state', 'in', ['dead', 'pending']);
  const rows = await q.returning('state').execute();
  return rows.filter((r) => r.state === 'pending').length;
}

export interface DeliveryPlatform {
  readonly id: string;
  readonly clientId: string;
  readonly tokenUrl: string;
  readonly tokenAudience: string | null;
  readonly gradePolicy: 'overwrite' | 'raise' | 'preserve';
  readonly status: string;
}

/** The registrations a batch of scores goes to, by id (one read per batch, not per score). */
export async function findDeliveryPlatforms(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, DeliveryPlatform>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('platforms')
    .select(['id', 'client_id as clientId', 'token_url as tokenUrl', 'token_audience as tokenAudience', 'grade_policy as gradePolicy', 'status'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Where the grades of a batch's links go (granted scopes, the line item if known), by link. */
export async function findGradeTargets(db: Kysely<Database>, resourceLinkIds: readonly string[]): Promise<Map<string, LineItemRow>> {
  if (resourceLinkIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('line_items')
    .selectAll()
    .where('resource_link_id', 'in', [...new Set(resourceLinkIds)])
    .execute();
  return new Map(rows.map((r) => [r.resource_link_id, r]));
}

/** The gradebook column of a link, once known. */
export async function findLineItemUrl(db: Kysely<Database>, resourceLinkId: string): Promise<string | null> {
  const row = await db.selectFrom('line_items').select('lineitem_url').where('resource_link_id', '=', resourceLinkId).executeTakeFirst();
  return row?.lineitem_url ?? null;
}

/**
 * Claims the creation of a link's line item until `until`: a conditional update, so that of two
 * processes only one asks the LMS to create the column. False when another holds the claim.
 */
export async function claimLineItemCreation(db: Kysely<Database>, resourceLinkId: string, now: number, until: number): Promise<boolean> {
  const claimed = await db
    .updateTable('line_items')
    .set({ claim_until: until })
    .where('resource_link_id', '=', resourceLinkId)
    .where('lineitem_url', 'is', null)
    .where((eb) => eb.or([eb('claim_until', 'is', null), eb('claim_until', '<=', now)]))
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}

export async function releaseLineItemClaim(db: Kysely<Database>, resourceLinkId: string): Promise<void> {
  await db.updateTable('line_items').set({ claim_until: null }).where('resource_link_id', '=', resourceLinkId).where('lineitem_url', 'is', null).execute();
}

export async function storeLineItemUrl(db: Kysely<Database>, resourceLinkId: string, url: string, now: number): Promise<void> {
  await db.updateTable('line_items').set({ lineitem_url: url, claim_until: null, updated_at: now }).where('resource_link_id', '=', resourceLinkId).execute();
}

/** What a new line item is named after: the link and its package. */
export async function findLineItemSubject(db: Kysely<Database>, resourceLinkId: string) {
  return db
    .selectFrom('resource_links as r')
    .leftJoin('packages as p', 'p.id', 'r.package_id')
    .select(['r.resource_link_id as externalId', 'r.title as title', 'p.id as packageId', 'p.title as packageTitle'])
    .where('r.id', '=', resourceLinkId)
    .executeTakeFirstOrThrow();
}

/** Where a resource link's grades go, from the launch's AGS claim; a line item found or created stays unless the launch names one. */
export async function upsertLineItemEndpoint(
  trx: Kysely<Database>,
  values: { resource_link_id: string; platform_id: string; container_url: string | null; lineitem_url: string | null; scopes: string; updated_at: number },
): Promise<void> {
  await trx
    .insertInto('line_items')
    .values(values)
    .onConflict((oc) =>
      oc.column('resource_link_id').doUpdateSet({
        container_url: values.container_url,
        lineitem_url: (eb) => (values.lineitem_url ? eb.val(values.lineitem_url) : eb.ref('line_items.lineitem_url')),
        scopes: values.scopes,
        updated_at: values.updated_at,
      }),
    )
    .execute();
}

export async function findGradeTarget(db: Kysely<Database>, resourceLinkId: string): Promise<{ platform_id: string; scopes: string } | undefined> {
  return db.selectFrom('line_items').select(['platform_id', 'scopes']).where('resource_link_id', '=', resourceLinkId).executeTakeFirst();
}

export async function findUserSub(db: Kysely<Database>, userId: string): Promise<string> {
  return (await db.selectFrom('users').select('sub').where('id', '=', userId).executeTakeFirstOrThrow()).sub;
}

export async function findLastSentScore(db: Kysely<Database>, resourceLinkId: string, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('grade_outbox')
    .select('score')
    .where('resource_link_id', '=', resourceLinkId)
    .where('user_id', '=', userId)
    .where('state', '=', 'sent')
    .orderBy('sent_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.score;
}

export async function countOutboxByState(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('grade_outbox')
    .select(['state', sql<number>`count(*)`.as('n')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

export async function listOutboxRows(db: Kysely<Database>, states: readonly OutboxState[], limit: number) {
  return db
    .selectFrom('grade_outbox as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .innerJoin('resource_links as r', 'r.id', 'g.resource_link_id')
    .select(['g.id', 'g.state', 'g.tries', 'u.sub', 'r.resource_link_id', 'g.last_error', 'g.created_at', 'g.next_try_at', 'g.sent_at'])
    .where('g.state', 'in', [...states])
    .orderBy('g.updated_at', 'desc')
    .limit(limit)
    .execute();
}
