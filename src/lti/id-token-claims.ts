import type { JWTPayload } from 'jose';
import { LtiError } from '../errors/app-error.js';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE, SUPPORTED_MESSAGE_TYPES, type SupportedMessageType } from './claims.js';

/** The registration the id_token must have been issued for. */
export interface ExpectedAudience {
  readonly issuer: string;
  readonly clientId: string;
}

export interface ResourceLinkClaim {
  readonly id: string;
  readonly title?: string | undefined;
  readonly description?: string | undefined;
}

export interface ContextClaim {
  readonly id: string;
  readonly label?: string | undefined;
  readonly title?: string | undefined;
  readonly type?: readonly string[] | undefined;
}

/** The claims Courseport relies on, after every check of the spec passed. */
export interface ValidatedLaunchClaims {
  readonly issuer: string;
  readonly subject: string;
  readonly nonce: string;
  readonly messageType: SupportedMessageType;
  readonly deploymentId: string;
  readonly targetLinkUri: string;
  readonly roles: readonly string[];
  readonly resourceLink: ResourceLinkClaim | undefined;
  readonly context: ContextClaim | undefined;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
  readonly picture: string | undefined;
  /** Custom parameters the LMS sends with this link (string values only). */
  readonly custom: Readonly<Record<string, string>>;
  readonly raw: JWTPayload;
}

export interface TimeCheck {
  readonly now: number;
  readonly skewMs: number;
}

/** iss / aud / azp, as LTI 1.3 Core §5.1.3 and OIDC Core §3.1.3.7 require. */
export function checkIssuerAndAudience(payload: JWTPayload, expected: ExpectedAudience): void {
  if (payload.iss !== expected.issuer) {
    throw new LtiError('LTI_INVALID_ISSUER', `The id_token was issued by ${JSON.stringify(payload.iss)}, but the login was started for ${expected.issuer}.`, {
      details: { expected: expected.issuer, actual: payload.iss ?? null },
    });
  }
  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(expected.clientId)) {
    throw new LtiError('LTI_INVALID_AUDIENCE', `The id_token is not addressed to this tool's client id (${expected.clientId}).`, {
      details: { clientId: expected.clientId },
    });
  }
  const untrusted = audiences.filter((a) => a !== expected.clientId);
  if (untrusted.length > 0) {
    // OIDC Core §3.1.3.7: reject additional audiences the tool does not trust (it trusts none).
    throw new LtiError('LTI_INVALID_AUDIENCE', 'The id_token is also addressed to other parties than this tool.', {
      details: { clientId: expected.clientId },
    });
  }
  const azp = payload.azp;
  if (audiences.length > 1 && azp === undefined) {
    throw new LtiError('LTI_INVALID_AZP', 'The id_token has several audiences but no azp (authorized party) claim.');
  }
  if (azp !== undefined && azp !== expected.clientId) {
    throw new LtiError('LTI_INVALID_AZP', `The id_token's authorized party (azp) is not this tool's client id (${expected.clientId}).`);
  }
}

/** exp / iat / nbf with a small allowed skew. */
export function checkTimes(payload: JWTPayload, { now, skewMs }: TimeCheck): void {
  const nowSec = now / 1000;
  const skew = skewMs / 1000;
  if (typeof payload.exp !== 'number') throw new LtiError('LTI_MISSING_CLAIM', 'The id_token has no exp claim.', { details: { claim: 'exp' } });
  if (typeof payload.iat !== 'number') throw new LtiError('LTI_MISSING_CLAIM', 'The id_token has no iat claim.', { details: { claim: 'iat' } });
  if (payload.exp <= nowSec - skew) {
    throw new LtiError(
      'LTI_TOKEN_EXPIRED',
      'The id_token has expired. Launch the tool again from the LMS; if this keeps happening, check that the LMS server clock is right.',
      {
        details: { exp: payload.exp },
      },
    );
  }
  if (payload.iat > nowSec + skew) {
    throw new LtiError('LTI_TOKEN_ISSUED_IN_FUTURE', 'The id_token claims to be issued in the future; the LMS or Courseport clock is wrong.', {
      details: { iat: payload.iat },
    });
  }
  if (typeof payload.nbf === 'number' && payload.nbf > nowSec + skew) {
    throw new LtiError('LTI_TOKEN_NOT_YET_VALID', 'The id_token is not valid yet (nbf).', { details: { nbf: payload.nbf } });
  }
}

/** The LTI message claims for the supported message types (LTI 1.3 Core §5.3, Deep Linking 2.0 §4.4). */
export function checkMessageClaims(payload: JWTPayload): Omit<ValidatedLaunchClaims, 'issuer' | 'nonce' | 'raw'> {
  const version = payload[CLAIM.VERSION];
  if (version !== LTI_VERSION) {
    throw new LtiError('LTI_INVALID_VERSION', `LTI version ${JSON.stringify(version ?? null)} is not supported; Courseport speaks LTI ${LTI_VERSION}.`, {
      details: { claim: CLAIM.VERSION },
    });
  }
  const messageType = payload[CLAIM.MESSAGE_TYPE];
  if (typeof messageType !== 'string' || !SUPPORTED_MESSAGE_TYPES.includes(messageType)) {
    throw new LtiError('LTI_UNSUPPORTED_MESSAGE_TYPE', `The message type ${JSON.stringify(messageType ?? null)} is not supported.`, {
      details: { claim: CLAIM.MESSAGE_TYPE, supported: SUPPORTED_MESSAGE_TYPES },
    });
  }
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) {
    // Anonymous launches (no sub) cannot be tracked, and tracking is what Courseport does.
    throw missing('sub', 'a user identifier (sub) of 1 to 255 characters');
  }
  const deploymentId = requireString(payload, CLAIM.DEPLOYMENT_ID, 255);
  const targetLinkUri = requireString(payload, CLAIM.TARGET_LINK_URI, 4096);
  const roles = payload[CLAIM.ROLES];
  if (roles === undefined) throw missing(CLAIM.ROLES, 'an array of roles (it may be empty)');
  if (!Array.isArray(roles)) throw invalid(CLAIM.ROLES, 'roles must be an array');
  if (!roles.every((r): r is string => typeof r === 'string')) throw invalid(CLAIM.ROLES, 'roles must be strings');

  let resourceLink: ResourceLinkClaim | undefined;
  if (messageType === MESSAGE_TYPE.RESOURCE_LINK) {
    const rl = payload[CLAIM.RESOURCE_LINK];
    if (!isObject(rl)) throw missing(CLAIM.RESOURCE_LINK, 'the resource link claim');
    if (typeof rl.id !== 'string' || rl.id.length === 0 || rl.id.length > 255)
      throw missing(`${CLAIM.RESOURCE_LINK}.id`, 'a resource link id of 1 to 255 characters');
    resourceLink = { id: rl.id, title: optString(rl.title), description: optString(rl.description) };
  } else if (messageType === MESSAGE_TYPE.DEEP_LINKING) {
    const settings = payload[CLAIM.DEEP_LINKING_SETTINGS];
    if (!isObject(settings)) throw missing(CLAIM.DEEP_LINKING_SETTINGS, 'the deep linking settings claim');
    if (typeof settings.deep_link_return_url !== 'string' || !isHttpUrl(settings.deep_link_return_url)) {
      throw missing(`${CLAIM.DEEP_LINKING_SETTINGS}.deep_link_return_url`, 'an http(s) deep_link_return_url');
    }
  }

  let context: ContextClaim | undefined;
  const ctx = payload[CLAIM.CONTEXT];
  if (ctx !== undefined) {
    if (!isObject(ctx) || typeof ctx.id !== 'string' || ctx.id.length === 0 || ctx.id.length > 255) {
      throw invalid(CLAIM.CONTEXT, 'the context claim must carry an id of 1 to 255 characters');
    }
    context = {
      id: ctx.id,
      label: optString(ctx.label),
      title: optString(ctx.title),
      type: Array.isArray(ctx.type) ? ctx.type.filter((t): t is string => typeof t === 'string') : undefined,
    };
  }

  return {
    subject,
    messageType: messageType as SupportedMessageType,
    deploymentId,
    targetLinkUri,
    roles,
    resourceLink,
    context,
    name: optString(payload.name),
    givenName: optString(payload.given_name),
    familyName: optString(payload.family_name),
    email: optString(payload.email),
    picture: optString(payload.picture),
    custom: customParameters(payload[CLAIM.CUSTOM]),
  };
}

/** LTI custom parameters: an object of strings; other values are dropped, not guessed at. */
function customParameters(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string' && k.length <= 255 && v.length <= 4096) out[k] = v;
  return out;
}

function requireString(payload: JWTPayload, claim: string, maxLength: number): string {
  const v = payload[claim];
  if (typeof v !== 'string' || v.length === 0) throw missing(claim, 'a non-empty string');
  if (v.length > maxLength) throw invalid(claim, `longer than ${maxLength} characters`);
  return v;
}

function missing(claim: string, what: string): LtiError {
  return new LtiError('LTI_MISSING_CLAIM', `The launch is missing a required claim: ${claim} (${what}).`, { details: { claim } });
}

function invalid(claim: string, why: string): LtiError {
  return new LtiError('LTI_INVALID_CLAIM', `The launch claim ${claim} is invalid: ${why}.`, { details: { claim } });
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The user's display name: `name`, else given and family name, else null. */
export function displayName(c: Pick<ValidatedLaunchClaims, 'name' | 'givenName' | 'familyName'>): string | null {
  return c.name ?? ([c.givenName, c.familyName].filter(Boolean).join(' ') || null);
}
