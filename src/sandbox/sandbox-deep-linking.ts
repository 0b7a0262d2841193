import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import { deriveKey } from '../keys/secret-box.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from '../lti/claims.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';
import { SignedTokens } from '../util/signed-tokens.js';
import { HINT_TTL_MS, SANDBOX_CLIENT_ID, SANDBOX_DEPLOYMENT_ID, sandboxInvalid as invalid, type SandboxUrls } from './sandbox-platform.js';
import { insertLineItem, insertLink, useOnce, type SandboxLink } from './sandbox.repository.js';

/**
 * Deep linking, platform side: the settings of a deep linking request, and the return endpoint
 * that verifies the tool's LtiDeepLinkingResponse against the tool's JWKS and adds its resource
 * links (with their line items) to the sandbox course.
 */
export class SandboxDeepLinking {
  private readonly data: SignedTokens;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly toolKeys: ToolKeyService,
    private readonly clock: Clock,
    private readonly urls: SandboxUrls,
    secret: string,
  ) {
    this.data = new SignedTokens(deriveKey(secret, 'sandbox-deep-linking-data'), HINT_TTL_MS, {
      invalid: () => invalid('This sandbox launch link is invalid.'),
      expired: () => invalid('This sandbox launch link has expired.'),
    });
  }

  /** The deep linking settings claim of a new request. */
  settings(): Record<string, unknown> {
    return {
      deep_link_return_url: this.urls.deepLinkReturn,
      accept_types: ['ltiResourceLink'],
      accept_presentation_document_targets: ['iframe', 'window'],
      accept_multiple: true,
      accept_lineitem: true,
      auto_create: true,
      title: 'Add content to the sandbox course',
      // Bound to this request and used once: a response cannot be replayed or forged for another.
      data: this.data.issue(randomToken(16), this.clock.now()),
    };
  }

  /** Verifies the tool's LtiDeepLinkingResponse against the tool's JWKS and stores its resource links. */
  async receive(jwt: unknown): Promise<{ added: SandboxLink[]; message: string | undefined }> {
    if (typeof jwt !== 'string' || !jwt) throw invalid('The deep linking response carries no JWT.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, createLocalJWKSet(await this.toolKeys.jwks()), {
        issuer: SANDBOX_CLIENT_ID,
        audience: this.urls.issuer,
        algorithms: ['RS256'],
        currentDate: new Date(this.clock.now()),
        maxTokenAge: '10m',
      }));
    } catch (err) {
      throw invalid(`The deep linking response does not verify against the tool's keys: ${(err as Error).message}`);
    }
    if (payload[CLAIM.MESSAGE_TYPE] !== MESSAGE_TYPE.DEEP_LINKING_RESPONSE) throw invalid('The JWT is not an LtiDeepLinkingResponse.');
    if (payload[CLAIM.VERSION] !== LTI_VERSION) throw invalid('The deep linking response has the wrong LTI version.');
    if (payload[CLAIM.DEPLOYMENT_ID] !== SANDBOX_DEPLOYMENT_ID) throw invalid('The deep linking response names another deployment.');
    const data = payload[CLAIM.DEEP_LINKING_DATA];
    this.data.verify(typeof data === 'string' ? data : undefined, this.clock.now());
    if (!(await useOnce(this.db, `dl:${String(data)}`, this.clock.now() + HINT_TTL_MS))) throw invalid('This deep linking response was already received.');

    const items = Array.isArray(payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS]) ? (payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as unknown[]) : [];
    const added: SandboxLink[] = [];
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      for (const raw of items) {
        if (typeof raw !== 'object' || raw === null) continue;
        const item = raw as Record<string, unknown>;
        if (item.type !== 'ltiResourceLink') continue;
        const url = typeof item.url === 'string' ? item.url : this.urls.toolLaunch;
        if (!this.urls.isOnThisTool(url)) throw invalid('A content item points outside this Courseport.');
        const custom: Record<string, string> = {};
        if (typeof item.custom === 'object' && item.custom !== null) {
          for (const [k, v] of Object.entries(item.custom)) if (typeof v === 'string') custom[k] = v;
        }
        const id = newId('sbl');
        const title = (typeof item.title === 'string' && item.title.trim() ? item.title : 'Untitled').slice(0, 1024);
        let lineItemId: string | null = null;
        const li = item.lineItem as Record<string, unknown> | undefined;
        if (li && typeof li === 'object' && typeof li.scoreMaximum === 'number' && li.scoreMaximum > 0) {
          lineItemId = newId('sbli');
          await insertLineItem(
            trx,
            {
              id: lineItemId,
              label: typeof li.label === 'string' && li.label ? li.label.slice(0, 1024) : title,
              scoreMaximum: li.scoreMaximum,
              resourceId: typeof li.resourceId === 'string' ? li.resourceId.slice(0, 255) : null,
              resourceLinkId: id,
              tag: typeof li.tag === 'string' ? li.tag.slice(0, 255) : null,
            },
            now,
          );
        }
        const link: SandboxLink = { id, title, text: typeof item.text === 'string' ? item.text : null, url, custom, lineItemId };
        await insertLink(trx, link, now);
        added.push(link);
      }
    });
    const msg = payload[CLAIM.DEEP_LINKING_MSG];
    return { added, message: typeof msg === 'string' ? msg.slice(0, 500) : undefined };
  }
}
