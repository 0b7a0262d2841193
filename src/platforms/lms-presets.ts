/**
 * Where the common LMSs keep their LTI 1.3 endpoints (docs/lti.md, "Per-LMS values"), so the
 * console's platform form can be filled from the LMS's address instead of typed by hand.
 */
export interface LmsPresetInput {
  /** The LMS's own address (Moodle site, Brightspace host), e.g. https://moodle.example.edu. */
  readonly site: string;
  readonly clientId: string;
}

export interface LmsPresetValues {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly tokenAudience: string;
}

export interface LmsPreset {
  readonly id: 'moodle' | 'canvas' | 'blackboard' | 'brightspace';
  readonly label: string;
  /** The preset needs the LMS's address (self-hosted or per-customer host). */
  readonly needsSite: boolean;
  /** The JWKS URL contains the client id (Blackboard's application id). */
  readonly needsClientId: boolean;
  readonly sitePlaceholder?: string;
  /** Shown under the form once filled: what the preset cannot know. */
  readonly note: string;
  values(input: LmsPresetInput): LmsPresetValues;
}

export const LMS_PRESETS: readonly LmsPreset[] = [
  {
    id: 'moodle',
    label: 'Moodle 4.x',
    needsSite: true,
    needsClientId: false,
    sitePlaceholder: 'https://moodle.example.edu',
    note: "Moodle's issuer is the site URL. Copy the client id and the deployment id (the tool's id, a small number) from the tool's “View configuration details”.",
    values: ({ site, clientId }) => ({
      name: `Moodle ${hostOf(site)}`,
      issuer: site,
      clientId,
      authUrl: `${site}/mod/lti/auth.php`,
      tokenUrl: `${site}/mod/lti/token.php`,
      jwksUrl: `${site}/mod/lti/certs.php`,
      tokenAudience: '',
    }),
  },
  {
    id: 'canvas',
    label: 'Canvas (Instructure cloud)',
    needsSite: false,
    needsClientId: false,
    note: 'One issuer for every Canvas customer: the client id (the developer key’s number) tells them apart. Beta and test instances use sso.beta.canvaslms.com / sso.test.canvaslms.com and the issuers https://canvas.beta.instructure.com / https://canvas.test.instructure.com.',
    values: ({ clientId }) => ({
      name: 'Canvas',
      issuer: 'https://canvas.instructure.com',
      clientId,
      authUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
      tokenUrl: 'https://sso.canvaslms.com/login/oauth2/token',
      jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks',
      tokenAudience: '',
    }),
  },
  {
    id: 'blackboard',
    label: 'Blackboard Learn',
    needsSite: false,
    needsClientId: true,
    note: 'The client id is the Application ID from the Anthology developer portal; each institution’s Learn administrator then gives you its deployment id.',
    values: ({ clientId }) => ({
      name: 'Blackboard Learn',
      issuer: 'https://blackboard.com',
      clientId,
      authUrl: 'https://developer.blackboard.com/api/v1/gateway/oidcauth',
      tokenUrl: 'https://developer.blackboard.com/api/v1/gateway/oauth2/jwttoken',
      jwksUrl: clientId ? `https://developer.blackboard.com/api/v1/management/applications/${encodeURIComponent(clientId)}/jwks.json` : '',
      tokenAudience: '',
    }),
  },
  {
    id: 'brightspace',
    label: 'D2L Brightspace',
    needsSite: true,
    needsClientId: false,
    sitePlaceholder: 'https://school.brightspace.com',
    note: 'Check the issuer against the one Brightspace shows after registering the tool (usually the LMS address). The token audience is Brightspace’s OAuth2 Audience.',
    values: ({ site, clientId }) => ({
      name: `Brightspace ${hostOf(site)}`,
      issuer: site,
      clientId,
      authUrl: `${site}/d2l/lti/authenticate`,
      tokenUrl: 'https://auth.brightspace.com/core/connect/token',
      jwksUrl: `${site}/d2l/.well-known/jwks`,
      tokenAudience: 'https://api.brightspace.com/auth/token',
    }),
  },
];

export function findPreset(id: unknown): LmsPreset | undefined {
  return LMS_PRESETS.find((p) => p.id === id);
}

/**
 * The LMS address as an origin (`https://moodle.example.edu`, or with a path for a Moodle in a
 * sub-folder), or the problem with what was typed.
 */
export function normaliseSite(raw: string): { site: string } | { problem: string } {
  const v = raw.trim();
  if (!v) return { problem: 'Enter the LMS address, e.g. https://moodle.example.edu' };
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`);
  } catch {
    return { problem: `The LMS address is not a URL: ${v}` };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { problem: 'The LMS address must be an http(s) URL' };
  const path = u.pathname.replace(/\/+$/, '').replace(/\/(?:login|my|course|d2l)(?:\/.*)?$/, '');
  return { site: `${u.origin}${path}` };
}

function hostOf(site: string): string {
  try {
    return new URL(site).host;
  } catch {
    return site;
  }
}
