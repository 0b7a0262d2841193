import type { ServiceAccess, TokenPlatform } from './service-access.js';
import type { SafeFetch } from '../util/safe-fetch.js';
import { linkWithRel, nextLink, ServiceCallError } from './ags.js';

/** Names and Role Provisioning Services 2.0. */
export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
export const NRPS_MEDIA = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

export interface Member {
  readonly user_id: string;
  readonly roles: readonly string[];
  readonly status?: string;
  readonly name?: string;
  readonly given_name?: string;
  readonly family_name?: string;
  readonly email?: string;
  readonly picture?: string;
  readonly [extra: string]: unknown;
}

export interface MembershipPage {
  readonly members: Member[];
  /** `Link: rel="differences"`: where the next sync can ask for changes only. */
  readonly differencesUrl: string | undefined;
}

const MAX_PAGES = 500;

/**
 * Reads a whole membership container, following `rel="next"` through every page. With
 * `rlid` (NRPS 2.0 §2.3.2) the platform answers only the members who can access that
 * resource link.
 */
export async function fetchMemberships(
  fetch: SafeFetch,
  tokens: ServiceAccess,
  platform: TokenPlatform,
  url: string,
  options: { rlid?: string } = {},
): Promise<MembershipPage> {
  const members: Member[] = [];
  let differencesUrl: string | undefined;
  const first = new URL(url);
  if (options.rlid) first.searchParams.set('rlid', options.rlid);
  let next: string | undefined = first.toString();
  for (let page = 0; next && page < MAX_PAGES; page++) {
    const current: string = next;
    const res = await tokens.withToken(platform, [NRPS_SCOPE], (accessToken) =>
      fetch(current, { headers: { authorization: `Bearer ${accessToken}`, accept: NRPS_MEDIA } }),
    );
    if (!res.ok) throw new ServiceCallError(`The LMS roster answered ${res.status}`, res.status, undefined);
    const body = (await res.json()) as { members?: unknown };
    if (!Array.isArray(body.members)) throw new ServiceCallError('The LMS roster has no members array', res.status, undefined);
    for (const m of body.members) {
      if (typeof m === 'object' && m !== null && typeof (m as Member).user_id === 'string') {
        const roles = Array.isArray((m as Member).roles) ? (m as Member).roles.filter((r): r is string => typeof r === 'string') : [];
        members.push({ ...(m as Member), roles });
      }
    }
    differencesUrl = linkWithRel(res.headers.get('link'), 'differences', current) ?? differencesUrl;
    next = nextLink(res.headers.get('link'), current);
  }
  return { members, differencesUrl };
}
