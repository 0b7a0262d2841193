import type { Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import type { Database, RosterTable } from '../store/tables.js';

/** The resource link and roles of the launch a progress link stands for. */
export async function findProgressLaunch(db: Kysely<Database>, launchId: string) {
  return db
    .selectFrom('launches as l')
    .innerJoin('resource_links as r', 'r.id', 'l.resource_link_id')
    .select(['l.roles', 'r.id as resourceLinkId', 'r.context_id as contextId', 'r.title as title'])
    .where('l.id', '=', launchId)
    .executeTakeFirst();
}

export async function findRoster(db: Kysely<Database>, contextId: string): Promise<Selectable<RosterTable> | undefined> {
  return db.selectFrom('rosters').selectAll().where('context_id', '=', contextId).executeTakeFirst();
}
