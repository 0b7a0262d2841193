import { SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import { deriveKey } from '../keys/secret-box.js';
import { AGS_SCOPE } from '../lti/ags.js';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from '../lti/claims.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { SignedTokens } from '../util/signed-tokens.js';
import { memberBySub, rolesOf, SANDBOX_COURSE, SANDBOX_INSTRUCTOR, type SandboxMember } from './course.js';
import type { SandboxDeepLinking } from './sandbox-deep-linking.js';
import type { SandboxKeys } from './sandbox-keys.js';
import { HINT_TTL_MS, SANDBOX_CLIENT_ID, SANDBOX_DEPLOYMENT_ID, sandboxInvalid as invalid, type SandboxUrls } from './sandbox-platform.js';
import { listLinks, type SandboxLink } from './sandbox.repository.js';

const ID_TOKEN_LIFETIME_S = 300;

/** What a login hint carries: who launches what (signed by the sandbox, it cannot be forged). */
interface Hint {
  readonly u: string;
  readonly l: string | null;
  readonly d: boolean;
}

/**
 * Launching the tool from the sandbox course: the third-party initiated login form, then the
 * OIDC authentication endpoint that answers with a signed id_token (a resource link launch or
 * a deep linking request).
 */
export class SandboxLaunch {
  private readonly hints: SignedTokens;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keys: SandboxKeys,
    private readonly deepLinking: SandboxDeepLinking,
    private readonly clock: Clock,
    private readonly urls: SandboxUrls,
    secret: string,
  ) {
    this.hints = new SignedTokens(deriveKey(secret, 'sandbox-login-hint'), HINT_TTL_MS, {
      invalid: () => invalid('This sandbox launch link is invalid.'),
      expired: () => invalid('This sandbox launch link has expired.'),
    });
  }

  async links(): Promise<SandboxLink[]> {
    return listLinks(this.db);
  }

  async link(id: unknown): Promise<SandboxLink> {
    const link = typeof id === 'string' ? (await this.links()).find((l) => l.id === id) : undefined;
    if (!link) throw invalid('The sandbox course has no such link.', { link: typeof id === 'string' ? id.slice(0, 64) : null });
    return link;
  }

  /** The form the sandbox posts to the tool's login URL (LTI Core §5.1.1), for a link or for deep linking. */
  async loginForm(input: { user: unknown; link?: unknown; deepLink: boolean }): Promise<Record<string, string>> {
    const member = input.deepLink ? SANDBOX_INSTRUCTOR : memberBySub(input.user);
    if (!member) throw invalid('The sandbox course has no such person.');
    const link = input.deepLink ? undefined : await this.link(input.link);
    const hint: Hint = { u: member.sub, l: link?.id ?? null, d: input.deepLink };
    return {
      iss: this.urls.issuer,
      login_hint: member.sub,
      target_link_uri: link ? this.urls.onThisTool(link.url) : this.urls.toolLaunch,
      lti_message_hint: this.hints.issue(JSON.stringify(hint), this.clock.now()),
      client_id: SANDBOX_CLIENT_ID,
      lti_deployment_id: SANDBOX_DEPLOYMENT_ID,
    };
  }

  /**
   * The OIDC authentication request from the tool (Security Framework §5.1.1.2): every
   * parameter checked, then the signed id_token to post to the registered redirect URI.
   */
  async authenticate(q: Readonly<Record<string, unknown>>): Promise<{ redirectUri: string; idToken: string; state: string }> {
    const get = (name: string) => (typeof q[name] === 'string' ? (q[name] as string) : undefined);
    const problems = [
      get('scope') !== 'openid' && 'scope',
      get('response_type') !== 'id_token' && 'response_type',
      get('response_mode') !== 'form_post' && 'response_mode',
      get('prompt') !== 'none' && 'prompt',
      get('client_id') !== SANDBOX_CLIENT_ID && 'client_id',
      get('redirect_uri') !== this.urls.toolLaunch && 'redirect_uri',
      !get('nonce') && 'nonce',
      !get('state') && 'state',
      !get('login_hint') && 'login_hint',
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length) throw invalid(`The authentication request is invalid: ${problems.join(', ')}.`, { problems });
    const hint = JSON.parse(this.hints.verify(get('lti_message_hint'), this.clock.now())) as Hint;
    if (hint.u !== get('login_hint')) throw invalid('The login hint does not belong to this launch.');
    const member = memberBySub(hint.u);
    if (!member) throw invalid('The sandbox course has no such person.');
    const claims = hint.d ? this.deepLinkingClaims(member) : this.resourceLinkClaims(member, await this.link(hint.l));
    const now = Math.floor(this.clock.now() / 1000);
    const key = await this.keys.signingKey();
    const idToken = await new SignJWT({ ...claims, nonce: get('nonce') })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.urls.issuer)
      .setAudience(SANDBOX_CLIENT_ID)
      .setSubject(member.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + ID_TOKEN_LIFETIME_S)
      .sign(key.key);
    return { redirectUri: this.urls.toolLaunch, idToken, state: get('state')! };
  }

  private baseClaims(member: SandboxMember): Record<string, unknown> {
    return {
      azp: SANDBOX_CLIENT_ID,
      name: member.name,
      given_name: member.givenName,
      family_name: member.familyName,
      email: member.email,
      [CLAIM.VERSION]: LTI_VERSION,
      [CLAIM.DEPLOYMENT_ID]: SANDBOX_DEPLOYMENT_ID,
      [CLAIM.ROLES]: rolesOf(member),
      [CLAIM.CONTEXT]: SANDBOX_COURSE,
      [CLAIM.TOOL_PLATFORM]: { guid: 'courseport-sandbox', name: 'Courseport sandbox', product_family_code: 'courseport-sandbox', version: '1' },
      [CLAIM.LAUNCH_PRESENTATION]: { document_target: 'iframe', return_url: this.urls.course },
      [CLAIM.NRPS]: { context_memberships_url: this.urls.memberships, service_versions: ['2.0'] },
    };
  }

  private resourceLinkClaims(member: SandboxMember, link: SandboxLink): Record<string, unknown> {
    return {
      ...this.baseClaims(member),
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.RESOURCE_LINK,
      [CLAIM.TARGET_LINK_URI]: this.urls.onThisTool(link.url),
      [CLAIM.RESOURCE_LINK]: { id: link.id, title: link.title, ...(link.text ? { description: link.text } : {}) },
      [CLAIM.CUSTOM]: link.custom,
      [CLAIM.AGS_ENDPOINT]: {
        scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE],
        lineitems: this.urls.lineItems,
        ...(link.lineItemId ? { lineitem: this.urls.lineItem(link.lineItemId) } : {}),
      },
    };
  }

  private deepLinkingClaims(member: SandboxMember): Record<string, unknown> {
    return {
      ...this.baseClaims(member),
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.DEEP_LINKING,
      [CLAIM.TARGET_LINK_URI]: this.urls.toolLaunch,
      [CLAIM.DEEP_LINKING_SETTINGS]: this.deepLinking.settings(),
    };
  }
}
