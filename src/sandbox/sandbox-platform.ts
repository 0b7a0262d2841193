import { AppError } from '../errors/app-error.js';
import { AGS_SCOPE } from '../lti/ags.js';
import { NRPS_SCOPE } from '../lti/nrps.js';

/*
 * Who the sandbox is as an LTI platform: its client and deployment ids at the tool, the scopes
 * it grants, and its URLs (all under <base URL>/sandbox, next to the tool it launches).
 */

export const SANDBOX_CLIENT_ID = 'courseport-sandbox';
export const SANDBOX_DEPLOYMENT_ID = 'sandbox';
/** What the sandbox grants: AGS and NRPS, as a generous LMS would. */
export const SANDBOX_SCOPES: readonly string[] = [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE, NRPS_SCOPE];
/** How long a launch link (login hint) and a deep linking request stay usable. */
export const HINT_TTL_MS = 10 * 60 * 1000;

export function sandboxInvalid(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('SANDBOX_INVALID_REQUEST', message, { ...(details ? { details } : {}), hint: 'Start again from the sandbox course page (/sandbox).' });
}

export class SandboxUrls {
  readonly issuer: string;
  readonly auth: string;
  readonly token: string;
  readonly jwks: string;
  readonly lineItems: string;
  readonly memberships: string;
  readonly deepLinkReturn: string;
  readonly course: string;
  readonly toolLogin: string;
  readonly toolLaunch: string;

  constructor(private readonly baseUrl: string) {
    const s = `${baseUrl}/sandbox`;
    this.issuer = s;
    this.auth = `${s}/auth`;
    this.token = `${s}/token`;
    this.jwks = `${s}/jwks`;
    this.lineItems = `${s}/lineitems`;
    this.memberships = `${s}/memberships`;
    this.deepLinkReturn = `${s}/deep-link-return`;
    this.course = s;
    this.toolLogin = `${baseUrl}/lti/login`;
    this.toolLaunch = `${baseUrl}/lti/launch`;
  }

  lineItem(id: string): string {
    return `${this.lineItems}/${encodeURIComponent(id)}`;
  }

  /**
   * A stored link's URL on this Courseport's current base URL: links keep working when
   * COURSEPORT_BASE_URL changes (a new port in development), as an LMS would re-point them.
   */
  onThisTool(stored: string): string {
    const u = new URL(stored);
    return new URL(`${u.pathname}${u.search}`, this.baseUrl).toString();
  }

  /** Whether a URL points into this Courseport. */
  isOnThisTool(url: string): boolean {
    return new URL(url).origin === new URL(this.baseUrl).origin;
  }
}
