import { rosterKind } from '../lti/roles.js';
import type { Kysely } from 'kysely';
import { fetchMemberships, type Member } from '../lti/nrps.js';
import type { ServiceTokens } from '../oauth/service-tokens.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import type { SafeFetch } from '../util/safe-fetch.js';
import * as repo from './roster.repository.js';

/** The NRPS claim (`https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice`). */
export function membershipsUrlOf(claim: unknown): string | undefined {
  if (typeof claim !== 'object' || claim === null) return undefined;
  const url = (claim as { context_memberships_url?: unknown }).context_memberships_url;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? url : undefined;
}

/** Inside the launch transaction: where the course's roster can be read. */
export async function recordRosterEndpoint(
  trx: Kysely<Database>,
  input: { contextId: string; platformId: string; claim: unknown; now: number },
): Promise<void> {
  const url = membershipsUrlOf(input.claim);
  if (!url) return;
  await repo.upsertRosterEndpoint(trx, { contextId: input.contextId, platformId: input.platformId, url, now: input.now });
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
    const link = await repo.findLinkRosterSource(this.db, resourceLinkId);
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
    const subs = members.map((m) => m.user_id);
    await this.db.transaction().execute((trx) => repo.replaceLinkMembers(trx, resourceLinkId, subs, now));
    return members.length;
  }

  isSyncing(contextId: string): boolean {
    return this.running.has(contextId);
  }

  private async doSync(contextId: string): Promise<SyncResult> {
    const roster = await repo.findRoster(this.db, contextId);
    if (!roster?.memberships_url) return { members: 0, incremental: false };
    const platform = await repo.findRosterPlatform(this.db, roster.platform_id);
    await repo.markSyncStarted(this.db, contextId, this.clock.now());
    const incremental = roster.differences_url !== null && roster.synced_at !== null;
    try {
      const page = await fetchMemberships(this.fetch, this.tokens, platform, incremental ? roster.differences_url! : roster.memberships_url);
      const now = this.clock.now();
      await this.db.transaction().execute(async (trx) => {
        for (const m of page.members) await repo.upsertMembership(trx, membershipRow(contextId, m, now));
        if (!incremental) {
          // A full roster: whoever it no longer lists has left the course.
          const listed = new Set(page.members.map((m) => m.user_id));
          const gone = (await repo.listMemberSubs(trx, contextId)).filter((s) => !listed.has(s));
          if (gone.length) await repo.markMembersDeleted(trx, contextId, gone, now);
        }
        await repo.markSynced(trx, contextId, page.differencesUrl ?? null, now);
      });
      return { members: page.members.length, incremental };
    } catch (err) {
      await repo.markSyncFailed(this.db, contextId, (err as Error).message.slice(0, 500), this.clock.now());
      throw err;
    }
  }
}

/** The stored row of a member as the LMS sent it. */
function membershipRow(contextId: string, m: Member, now: number): repo.MembershipRow {
  const name = m.name ?? ([m.given_name, m.family_name].filter(Boolean).join(' ') || null);
  return {
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
}
