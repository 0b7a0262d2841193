import { rosterKind } from '../lti/roles.js';
import type { Kysely } from 'kysely';
import { fetchMemberships, type Member } from '../lti/nrps.js';
import type { ServiceTokens } from '../oauth/service-tokens.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import type { SafeFetch } from '../util/safe-fetch.js';

/** The NRPS claim (`https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice`). */
export function membershipsUrlOf(claim: unknown): string | undefined {
  if (typeof claim !== 'object' || claim === null) return undefined;
  const url = (claim as { context_memberships_url?: unknown }).context_memberships_url;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? url : undefined;
}

/** Inside the launch transaction: where the course's roster can be read. */
export async function recordRosterEndpoint(trx: Kysely<Database>, input: { contextId: string; platformId: string; claim: unknown; now: number }): Promise<void> {
  const url = membershipsUrlOf(input.claim);
  if (!url) return;
  await trx
    .insertInto('rosters')
    .values({ context_id: input.contextId, platform_id: input.platformId, memberships_url: url, differences_url: null, synced_at: null, sync_started_at: null, last_error: null, updated_at: input.now })
    .onConflict((oc) => oc.column('context_id').doUpdateSet({ memberships_url: url, updated_at: input.now }))
    .execute();
}


export interface SyncResult {
  readonly members: number;
  readonly incremental: boolean;
}

/**
 * Roster sync: reads every page of the course's membership container (or only the
 * differences since the last sync, when the LMS offered a differences link) and stores
 * it in one transaction. A failing LMS leaves the previous roster as it was, with the
 * error kept for the page to show.
 */
export class RosterService {
  private readonly running = new Map<string, Promise<SyncResult>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly fetch: SafeFetch,
    private readonly tokens: ServiceTokens,
    private readonly clock: Clock,
  ) {}

  /** One sync per course at a time in this process; callers share it. */
  sync(contextId: string): Promise<SyncResult> {
    let pending = this.running.get(contextId);
    if (!pending) {
      pending = this.doSync(contextId).finally(() => this.running.delete(contextId));
      this.running.set(contextId, pending);
    }
    return pending;
  }

  /** The members who can access one resource link (NRPS `rlid`), read live: not stored. */
  async linkMembers(resourceLinkId: string): Promise<Member[]> {
    const link = await this.db
      .selectFrom('resource_links as r')
      .innerJoin('rosters as ro', 'ro.context_id', 'r.context_id')
      .innerJoin('platforms as p', 'p.id', 'ro.platform_id')
      .select(['r.resource_link_id as rlid', 'ro.memberships_url as url', 'p.id as id', 'p.client_id as clientId', 'p.token_url as tokenUrl', 'p.token_audience as tokenAudience'])
      .where('r.id', '=', resourceLinkId)
      .executeTakeFirst();
    if (!link?.url) return [];
    return (await fetchMemberships(this.fetch, this.tokens, link, link.url, { rlid: link.rlid })).members;
  }

  /**
   * Stores who can access one resource link (the link-scoped roster), so that the link's
   * progress view lists only them. Failures leave the previous list.
   */
  async syncLink(resourceLinkId: string): Promise<number> {
    const members = await this.linkMembers(resourceLinkId);
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('link_members').where('resource_link_id', '=', resourceLinkId).execute();
      for (const m of members) {
        await trx.insertInto('link_members').values({ resource_link_id: resourceLinkId, user_sub: m.user_id, synced_at: now }).onConflict((oc) => oc.doNothing()).execute();
      }
    });
    return members.length;
  }

  isSyncing(contextId: string): boolean {
    return this.running.has(contextId);
  }

  private async doSync(contextId: string): Promise<SyncResult> {
    const roster = await this.db.selectFrom('rosters').selectAll().where('context_id', '=', contextId).executeTakeFirst();
    if (!roster?.memberships_url) return { members: 0, incremental: false };
    const platform = await this.db
      .selectFrom('platforms')
      .select(['id', 'client_id as clientId', 'token_url as tokenUrl', 'token_audience as tokenAudience'])
      .where('id', '=', roster.platform_id)
      .executeTakeFirstOrThrow();
    const started = this.clock.now();
    await this.db.updateTable('rosters').set({ sync_started_at: started }).where('context_id', '=', contextId).execute();
    const incremental = roster.differences_url !== null && roster.synced_at !== null;
    try {
      const page = await fetchMemberships(this.fetch, this.tokens, platform, incremental ? roster.differences_url! : roster.memberships_url);
      const now = this.clock.now();
      await this.db.transaction().execute(async (trx) => {
        for (const m of page.members) await upsertMember(trx, contextId, m, now);
        if (!incremental) {
          // A full roster: whoever it no longer lists has left the course.
          const listed = new Set(page.members.map((m) => m.user_id));
          const known = await trx.selectFrom('memberships').select('user_sub').where('context_id', '=', contextId).execute();
          const gone = known.map((k) => k.user_sub).filter((s) => !listed.has(s));
          if (gone.length) await trx.updateTable('memberships').set({ status: 'Deleted', updated_at: now }).where('context_id', '=', contextId).where('user_sub', 'in', gone).execute();
        }
        await trx
          .updateTable('rosters')
          .set({ synced_at: now, sync_started_at: null, last_error: null, differences_url: page.differencesUrl ?? null, updated_at: now })
          .where('context_id', '=', contextId)
          .execute();
      });
      return { members: page.members.length, incremental };
    } catch (err) {
      await this.db
        .updateTable('rosters')
        .set({ sync_started_at: null, last_error: (err as Error).message.slice(0, 500), updated_at: this.clock.now() })
        .where('context_id', '=', contextId)
        .execute();
      throw err;
    }
  }
}

async function upsertMember(trx: Kysely<Database>, contextId: string, m: Member, now: number): Promise<void> {
  const name = m.name ?? ([m.given_name, m.family_name].filter(Boolean).join(' ') || null);
  const row = {
    context_id: contextId,
    user_sub: m.user_id,
    name: name ? String(name).slice(0, 512) : null,
    email: typeof m.email === 'string' ? m.email.slice(0, 512) : null,
    picture: typeof m.picture === 'string' ? m.picture.slice(0, 2048) : null,
    roles: JSON.stringify(m.roles),
    role_kind: rosterKind(m.roles),
    status: m.status === 'Inactive' || m.status === 'Deleted' ? m.status : 'Active',
    raw: JSON.stringify(m),
    updated_at: now,
  };
  await trx
    .insertInto('memberships')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['context_id', 'user_sub']).doUpdateSet({ name: row.name, email: row.email, picture: row.picture, roles: row.roles, role_kind: row.role_kind, status: row.status, raw: row.raw, updated_at: now }),
    )
    .execute();
}
