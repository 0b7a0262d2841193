import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.js';

/** The titles a link's progress export is named after: its course (context) and the link itself. */
export async function findLinkTitles(db: Kysely<Database>, resourceLinkId: string): Promise<{ courseTitle: string | null; linkTitle: string | null }> {
  const row = await db
    .selectFrom('resource_links as r')
    .leftJoin('contexts as c', 'c.id', 'r.context_id')
    .select(['c.title as courseTitle', 'r.title as linkTitle'])
    .where('r.id', '=', resourceLinkId)
    .executeTakeFirst();
  return { courseTitle: row?.courseTitle ?? null, linkTitle: row?.linkTitle ?? null };
}
