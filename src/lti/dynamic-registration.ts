import { AppError } from '../errors/app-error.js';
import { AGS_SCOPE } from './ags.js';
import { MESSAGE_TYPE } from './claims.js';
import { NRPS_SCOPE } from './nrps.js';

/**
 * LTI Dynamic Registration 1.0, tool side (1EdTech lti-dr v1p0): the platform's OpenID
 * configuration, checked; the client registration Courseport sends; the platform's answer,
 * checked. Pure protocol: no HTTP framework, no database.
 */

export const DR = {
  /** The platform's LTI facts inside its OpenID configuration (§3.5.1). */
  PLATFORM_CONFIGURATION: 'https://purl.imsglobal.org/spec/lti-platform-configuration',
  /** The tool's LTI facts inside the client registration and its answer (§3.5.2). */
  TOOL_CONFIGURATION: 'https://purl.imsglobal.org/spec/lti-tool-configuration',
  /** The message the registration page sends its opener or parent when it is done (§3.6). */
  CLOSE_SUBJECT: 'org.imsglobal.lti.close',
  /** Canvas reads the privacy level of a dynamically registered tool from this key. */
  CANVAS_PRIVACY_LEVEL: 'https://canvas.instructure.com/lti/privacy_level',
} as const;

/** The scopes Courseport asks for, in this order, when the platform supports them. */
export const WANTED_SCOPES: readonly string[] = [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE, NRPS_SCOPE];

/** The identity claims Courseport wants in launches (names and email for the progress view). */
export const WANTED_CLAIMS: readonly string[] = ['iss', 'sub', 'name', 'given_name', 'family_name', 'email', 'picture'];

export interface RegistrationRequest {
  readonly openidConfigurationUrl: string;
  /** Absent when the platform sends none (the spec makes it optional). */
  readonly registrationToken: string | undefined;
}

export interface PlatformConfiguration {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly registrationEndpoint: string;
  /** The audience of client assertions when the platform names one (`authorization_server`). */
  readonly authorizationServer: string | undefined;
  readonly scopesSupported: readonly string[];
  readonly productFamilyCode: string;
  readonly version: string | undefined;
  /** Message types the platform supports, with their placements (empty list: none named). */
  readonly messagesSupported: readonly { readonly type: string; readonly placements: readonly string[] }[];
}

export interface UrlPolicy {
  /** Production: every URL of the exchange must be https. */
  readonly requireHttps: boolean;
}

function invalidRequest(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('REGISTRATION_INVALID_REQUEST', message, {
    ...(details ? { details } : {}),
    hint: 'Start the registration from your LMS (its "register a tool by URL" page) with the URL of this Courseport: …/lti/register.',
  });
}

/** `openid_configuration` (required) and `registration_token` (optional) of GET /lti/register (§3.3). */
export function parseRegistrationRequest(query: Readonly<Record<string, unknown>>, policy: UrlPolicy): RegistrationRequest {
  const raw = query.openid_configuration;
  if (typeof raw !== 'string' || raw.length === 0) {
    throw invalidRequest('The registration request carries no openid_configuration URL.', { parameter: 'openid_configuration' });
  }
  if (raw.length > 2048) throw invalidRequest('The openid_configuration URL is too long.', { parameter: 'openid_configuration' });
  const problem = urlProblem(raw, policy);
  if (problem) throw invalidRequest(`The openid_configuration URL ${problem}.`, { parameter: 'openid_configuration' });
  const token = query.registration_token;
  if (token !== undefined && (typeof token !== 'string' || token.length > 8192)) {
    throw invalidRequest('The registration_token must be given once, as text.', { parameter: 'registration_token' });
  }
  return { openidConfigurationUrl: raw, registrationToken: token === '' ? undefined : token };
}

function urlProblem(value: string, policy: UrlPolicy): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL';
  if (policy.requireHttps && u.protocol !== 'https:') return 'must use https';
  if (u.username || u.password) return 'must not carry credentials';
  return undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Checks the platform's OpenID configuration (§3.4, §3.5): the issuer on the host the
 * configuration came from, the endpoints Courseport needs, RS256 id_tokens, the LTI platform claim.
 */
export function validatePlatformConfiguration(json: unknown, configurationUrl: string, policy: UrlPolicy): PlatformConfiguration {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw configInvalid(['the configuration is not a JSON object']);
  }
  const c = json as Record<string, unknown>;
  const problems: string[] = [];
  const url = (name: string, required: boolean): string | undefined => {
    const v = c[name];
    if (v === undefined || v === null || v === '') {
      if (required) problems.push(`${name} is missing`);
      return undefined;
    }
    if (typeof v !== 'string') {
      problems.push(`${name} must be a string`);
      return undefined;
    }
    const problem = urlProblem(v, policy);
    if (problem) problems.push(`${name} ${problem}`);
    return v;
  };
  const issuer = url('issuer', true);
  const authorizationEndpoint = url('authorization_endpoint', true);
  const tokenEndpoint = url('token_endpoint', true);
  const jwksUri = url('jwks_uri', true);
  const registrationEndpoint = url('registration_endpoint', true);
  const authorizationServer = typeof c.authorization_server === 'string' && c.authorization_server ? c.authorization_server : undefined;

  const algs = c.id_token_signing_alg_values_supported;
  if (!Array.isArray(algs)) problems.push('id_token_signing_alg_values_supported is missing');
  else if (!algs.includes('RS256')) problems.push('id_token_signing_alg_values_supported does not include RS256');
  if (!Array.isArray(c.scopes_supported)) problems.push('scopes_supported is missing');
  const authMethods = c.token_endpoint_auth_methods_supported;
  if (Array.isArray(authMethods) && !authMethods.includes('private_key_jwt'))
    problems.push('token_endpoint_auth_methods_supported does not include private_key_jwt');
  const responseTypes = c.response_types_supported;
  if (Array.isArray(responseTypes) && !responseTypes.includes('id_token')) problems.push('response_types_supported does not include id_token');

  // Some Moodle releases publish the claim name with a trailing space.
  const ltiKey = Object.keys(c).find((k) => k.trim() === DR.PLATFORM_CONFIGURATION);
  const lti = ltiKey === undefined ? undefined : c[ltiKey];
  let productFamilyCode = '';
  let version: string | undefined;
  const messagesSupported: { type: string; placements: string[] }[] = [];
  if (typeof lti !== 'object' || lti === null || Array.isArray(lti)) {
    problems.push(`the ${DR.PLATFORM_CONFIGURATION} claim is missing`);
  } else {
    const p = lti as Record<string, unknown>;
    if (typeof p.product_family_code !== 'string' || !p.product_family_code)
      problems.push('product_family_code is missing from the LTI platform configuration');
    else productFamilyCode = p.product_family_code.slice(0, 100);
    version = typeof p.version === 'string' ? p.version.slice(0, 100) : undefined;
    // The spec lists objects {type, placements}; early Moodle releases list bare type names.
    if (Array.isArray(p.messages_supported)) {
      for (const m of p.messages_supported) {
        if (typeof m === 'string') messagesSupported.push({ type: m, placements: [] });
        else if (typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string') {
          messagesSupported.push({ type: (m as { type: string }).type, placements: strings((m as { placements?: unknown }).placements) });
        }
      }
    }
  }
  if (problems.length) throw configInvalid(problems);
  checkIssuerHost(issuer!, configurationUrl);
  return {
    issuer: issuer!,
    authorizationEndpoint: authorizationEndpoint!,
    tokenEndpoint: tokenEndpoint!,
    jwksUri: jwksUri!,
    registrationEndpoint: registrationEndpoint!,
    authorizationServer,
    scopesSupported: strings(c.scopes_supported),
    productFamilyCode,
    version,
    messagesSupported,
  };
}

/** §3.5.1: "the issuer domain must match the openid_configuration URL domain". */
function checkIssuerHost(issuer: string, configurationUrl: string): void {
  const issuerHost = new URL(issuer).hostname;
  const configHost = new URL(configurationUrl).hostname;
  if (issuerHost !== configHost) {
    throw new AppError(
      'REGISTRATION_ISSUER_MISMATCH',
      `The LMS names its issuer ${issuer}, which is not on the host its configuration came from (${configHost}).`,
      {
        details: { issuer, configurationHost: configHost },
        hint: 'Only an LMS can register itself, for its own issuer. Start the registration from the LMS whose issuer this is.',
      },
    );
  }
}

function configInvalid(problems: string[]): AppError {
  return new AppError('REGISTRATION_CONFIG_INVALID', `The LMS's OpenID configuration cannot be used: ${problems.join('; ')}.`, {
    details: { problems },
    hint: 'Ask the LMS administrator or vendor: the LMS must publish an LTI Dynamic Registration 1.0 configuration.',
  });
}

/** Canvas names itself `canvas`; its placements and privacy level are its own. */
export function isCanvas(config: PlatformConfiguration): boolean {
  return config.productFamilyCode.toLowerCase() === 'canvas';
}

/** The scopes to request: those Courseport uses that the platform says it supports. */
export function requestedScopes(config: PlatformConfiguration): string[] {
  return WANTED_SCOPES.filter((s) => config.scopesSupported.includes(s));
}

export interface ToolDescription {
  readonly baseUrl: string;
  readonly name: string;
  readonly description: string;
  readonly logoUri?: string | undefined;
}

/** The tool's URLs (DESIGN.md URL map). */
export function toolUrls(baseUrl: string) {
  return {
    login: `${baseUrl}/lti/login`,
    launch: `${baseUrl}/lti/launch`,
    jwks: `${baseUrl}/.well-known/jwks.json`,
  };
}

const DEEP_LINKING_PLACEMENTS = ['ContentArea'];
const CANVAS_DEEP_LINKING_PLACEMENTS = ['link_selection', 'assignment_selection'];

/** The client registration request (§3.5.2), shaped for what this platform supports. */
export function buildClientRegistration(config: PlatformConfiguration, tool: ToolDescription): Record<string, unknown> {
  const urls = toolUrls(tool.baseUrl);
  const canvas = isCanvas(config);
  const supported = new Map(config.messagesSupported.map((m) => [m.type, m.placements]));
  // A platform that lists no message types is taken to support both (they are the core of LTI).
  const offers = (type: string) => supported.size === 0 || supported.has(type);
  const dlPlacements = canvas ? CANVAS_DEEP_LINKING_PLACEMENTS : DEEP_LINKING_PLACEMENTS;
  const advertised = supported.get(MESSAGE_TYPE.DEEP_LINKING) ?? [];
  const placements = advertised.length ? dlPlacements.filter((p) => advertised.includes(p)) : dlPlacements;
  const messages: Record<string, unknown>[] = [];
  if (offers(MESSAGE_TYPE.DEEP_LINKING)) {
    messages.push({
      type: MESSAGE_TYPE.DEEP_LINKING,
      target_link_uri: urls.launch,
      label: `Add ${tool.name} content`,
      ...(placements.length ? { placements } : {}),
    });
  }
  // Resource links are launched from what deep linking created; no placement of their own.
  if (offers(MESSAGE_TYPE.RESOURCE_LINK) || offers('LtiResourceLink')) {
    messages.push({ type: MESSAGE_TYPE.RESOURCE_LINK, target_link_uri: urls.launch, label: tool.name });
  }
  const scopes = requestedScopes(config);
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: urls.login,
    redirect_uris: [urls.launch],
    client_name: tool.name,
    jwks_uri: urls.jwks,
    ...(tool.logoUri ? { logo_uri: tool.logoUri } : {}),
    token_endpoint_auth_method: 'private_key_jwt',
    scope: scopes.join(' '),
    [DR.TOOL_CONFIGURATION]: {
      // Moodle requires the domain to be the host[:port] of target_link_uri.
      domain: new URL(tool.baseUrl).host,
      target_link_uri: urls.launch,
      description: tool.description,
      claims: [...WANTED_CLAIMS],
      messages,
      ...(canvas ? { [DR.CANVAS_PRIVACY_LEVEL]: 'public' } : {}),
    },
  };
}

export interface RegistrationResult {
  readonly clientId: string;
  /** The deployment the platform created with the registration, when it names one (Moodle does). */
  readonly deploymentId: string | undefined;
}

/** The platform's answer to the client registration (§3.6): a client_id, maybe a deployment_id. */
export function parseRegistrationResponse(json: unknown): RegistrationResult {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw responseInvalid('the answer is not a JSON object');
  }
  const r = json as Record<string, unknown>;
  const clientId = typeof r.client_id === 'number' ? String(r.client_id) : r.client_id;
  if (typeof clientId !== 'string' || !clientId.trim() || clientId.length > 255) throw responseInvalid('it carries no usable client_id');
  const toolConfig = r[DR.TOOL_CONFIGURATION];
  let deploymentId: string | undefined;
  if (typeof toolConfig === 'object' && toolConfig !== null) {
    const d = (toolConfig as { deployment_id?: unknown }).deployment_id;
    const v = typeof d === 'number' ? String(d) : d;
    if (typeof v === 'string' && v.trim()) {
      if (v.length > 255) throw responseInvalid('its deployment_id is longer than 255 characters');
      deploymentId = v.trim();
    }
  }
  return { clientId: clientId.trim(), deploymentId };
}

function responseInvalid(why: string): AppError {
  return new AppError('REGISTRATION_RESPONSE_INVALID', `The LMS accepted the registration but its answer cannot be used: ${why}.`, {
    details: { reason: why },
    hint: 'Ask the LMS administrator to check the tool in the LMS; the registration may need to be removed there and started again.',
  });
}

/** A name for the registration: the product and the issuer's host. */
export function platformName(config: PlatformConfiguration): string {
  const host = new URL(config.issuer).host;
  return `${config.productFamilyCode} (${host})`.slice(0, 255);
}
