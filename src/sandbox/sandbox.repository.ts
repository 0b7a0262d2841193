import type { Kysely, Selectable } from 'kysely';
import { isUniqueViolation } from '../store/database.js';
import type { Database, SandboxKeyTable, SandboxLineItemTable, SandboxScoreTable } from '../store/tables.js';

export interface SandboxLink {
  readonly id: string;
  readonly title: string;
  readonly text: string | null;
  readonly url: string;
  readonly custom: Record<string, string>;
  readonly lineItemId: string | null;
}

export interface SandboxLineItem {
  readonly id: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly resourceId: string | null;
  readonly resourceLinkId: string | null;
  readonly tag: string | null;
}

export interface SandboxScore {
  readonly lineItemId: string;
  readonly userId: string;
  readonly scoreGiven: number | null;
  readonly scoreMaximum: number | null;
  readonly activityProgress: string;
  readonly gradingProgress: string;
  readonly comment: string | null;
  readonly timestamp: string;
  readonly receivedAt: number;
}

// --- keys ------------------------------------------------------------------------------------

type SandboxKeyRow = Selectable<SandboxKeyTable>;

/** The oldest key: the one the sandbox signs with (kid breaks ties so that every process agrees). */
export async function findSigningKey(db: Kysely<Database>): Promise<SandboxKeyRow | undefined> {
  return db.selectFrom('sandbox_keys').selectAll().orderBy('created_at').orderBy('kid').executeTakeFirst();
}

/** Inserts a key unless one with the same kid exists: false when another process stored it first. */
export async function insertKey(db: Kysely<Database>, row: SandboxKeyRow): Promise<boolean> {
  try {
    await db.insertInto('sandbox_keys').values(row).execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

export async function listSealedKeys(db: Kysely<Database>): Promise<Pick<SandboxKeyRow, 'kid' | 'private_jwk_enc'>[]> {
  return db.selectFrom('sandbox_keys').select(['kid', 'private_jwk_enc']).orderBy('created_at').orderBy('kid').execute();
}

export async function listPublicJwks(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('sandbox_keys').select('public_jwk').orderBy('created_at').execute()).map((r) => r.public_jwk);
}

export async function updateKeyCiphertext(db: Kysely<Database>, kid: string, privateJwkEnc: string): Promise<void> {
  await db.updateTable('sandbox_keys').set({ private_jwk_enc: privateJwkEnc }).where('kid', '=', kid).execute();
}

// --- one-time values -------------------------------------------------------------------------

/** Records a one-time value (jti, deep linking data): false when it was recorded before (the primary key decides). */
export async function useOnce(db: Kysely<Database>, value: string, expiresAt: number): Promise<boolean> {
  try {
    await db
      .insertInto('sandbox_assertions')
      .values({ jti: value.slice(0, 255), expires_at: expiresAt })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

// --- course links ----------------------------------------------------------------------------

export async function listLinks(db: Kysely<Database>): Promise<SandboxLink[]> {
  const rows = await db.selectFrom('sandbox_links').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    text: r.text,
    url: r.url,
    custom: JSON.parse(r.custom) as Record<string, string>,
    lineItemId: r.line_item_id,
  }));
}

export async function insertLink(db: Kysely<Database>, link: SandboxLink, now: number): Promise<void> {
  await db
    .insertInto('sandbox_links')
    .values({
      id: link.id,
      title: link.title,
      text: link.text,
      url: link.url,
      custom: JSON.stringify(link.custom),
      line_item_id: link.lineItemId,
      created_at: now,
    })
    .execute();
}

// --- gradebook -------------------------------------------------------------------------------

function lineItemOf(r: Selectable<SandboxLineItemTable>): SandboxLineItem {
  return { id: r.id, label: r.label, scoreMaximum: Number(r.score_maximum), resourceId: r.resource_id, resourceLinkId: r.resource_link_id, tag: r.tag };
}

export async function listLineItems(
  db: Kysely<Database>,
  filter: { resourceLinkId?: string | undefined; resourceId?: string | undefined; tag?: string | undefined } = {},
): Promise<SandboxLineItem[]> {
  let q = db.selectFrom('sandbox_line_items').selectAll();
  if (filter.resourceLinkId) q = q.where('resource_link_id', '=', filter.resourceLinkId);
  if (filter.resourceId) q = q.where('resource_id', '=', filter.resourceId);
  if (filter.tag) q = q.where('tag', '=', filter.tag);
  return (await q.orderBy('created_at').orderBy('id').execute()).map(lineItemOf);
}

export async function findLineItem(db: Kysely<Database>, id: string): Promise<SandboxLineItem | undefined> {
  const row = await db.selectFrom('sandbox_line_items').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? lineItemOf(row) : undefined;
}

export async function insertLineItem(db: Kysely<Database>, item: SandboxLineItem, now: number): Promise<void> {
  await db
    .insertInto('sandbox_line_items')
    .values({
      id: item.id,
      label: item.label,
      score_maximum: item.scoreMaximum,
      resource_id: item.resourceId,
      resource_link_id: item.resourceLinkId,
      tag: item.tag,
      created_at: now,
    })
    .execute();
}

export async function insertScore(db: Kysely<Database>, row: Selectable<SandboxScoreTable>): Promise<void> {
  await db.insertInto('sandbox_scores').values(row).execute();
}

/** Every score received (of one line item, or of all), oldest first. */
export async function listScores(db: Kysely<Database>, lineItemId?: string): Promise<SandboxScore[]> {
  let q = db.selectFrom('sandbox_scores').selectAll();
  if (lineItemId) q = q.where('line_item_id', '=', lineItemId);
  const rows = await q.orderBy('received_at').orderBy('id').execute();
  return rows.map((r) => ({
    lineItemId: r.line_item_id,
    userId: r.user_id,
    scoreGiven: r.score_given === null ? null : Number(r.score_given),
    scoreMaximum: r.score_maximum === null ? null : Number(r.score_maximum),
    activityProgress: r.activity_progress,
    gradingProgress: r.grading_progress,
    comment: r.comment,
    timestamp: r.timestamp,
    receivedAt: Number(r.received_at),
  }));
}

export async function deleteExpiredAssertions(db: Kysely<Database>, now: number): Promise<number> {
  return Number((await db.deleteFrom('sandbox_assertions').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows);
}
