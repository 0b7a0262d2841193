import type { Kysely } from 'kysely';
import { AppError, LtiError } from '../errors/app-error.js';
import { insertLaunch, upsertContext, upsertResourceLink, upsertUser } from './launch.repository.js';
import { consumeLoginState, findLoginState, findLoginStateByNonce, insertLoginState } from './login-state.repository.js';
import {
  findDeployment,
  findPlatform,
  findPlatformById,
  findPlatformsByIssuer,
  recordPlatformError,
  touchPlatformLaunch,
} from '../platforms/platform.repository.js';
import type { Database, Deployment, Platform } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';
import { checkIssuerAndAudience, checkMessageClaims, checkTimes, displayName, type ValidatedLaunchClaims } from '../lti/id-token-claims.js';
import { buildAuthRedirect, parseLoginRequest, resumeParams, type Params } from '../lti/login.js';
import { checkStorageProof, platformStorageOrigin, storageKey } from '../lti/platform-storage.js';
import { checkAlgorithm, decodeUntrusted, type PlatformKeys } from '../lti/platform-keys.js';

export interface LaunchServiceOptions {
  readonly baseUrl: string;
  readonly loginStateTtlMs: number;
  readonly clockSkewMs: number;
  readonly launchTtlMs: number;
}

export interface LoginResult {
  readonly redirectUrl: string;
  readonly state: string;
  readonly platform: Platform;
  /** Set when the login keeps its proof in platform storage (tier 2) before going on to redirectUrl. */
  readonly storage: PlatformStorageStep | undefined;
}

export interface PlatformStorageStep {
  /** `_parent` or the frame name the platform gave in `lti_storage_target`. */
  readonly target: string;
  /** The only origin that may answer (the registration's auth URL origin). */
  readonly origin: string;
  readonly key: string;
  readonly value: string;
}

export interface LoginOptions {
  /** The login re-runs in a top-level window (tier 3): platform storage is not used there. */
  readonly topLevel?: boolean;
}

/** What a launch whose state cookie did not come back can still try. */
export interface LaunchRecovery {
  readonly storage: { readonly target: string; readonly origin: string; readonly key: string } | undefined;
  /** The original login parameters, to re-run the login in a new window. */
  readonly resumeParams: Record<string, string>;
}

export interface LaunchInput {
  readonly idToken: unknown;
  readonly state: unknown;
  /** The state the browser's cookie carries for this login, if the cookie came back. */
  readonly cookieState: string | undefined;
  /**
   * Instead of the cookie: the value the browser retrieved from platform storage (tier 2), checked
   * against the one stored with the login. Only POST /lti/launch/verified sets it.
   */
  readonly storageValue?: string | undefined;
  readonly platformError: unknown;
  readonly platformErrorDescription: unknown;
}

/** Work done inside the launch transaction by features built on the launch (e.g. the player). */
export type LaunchExtension<T> = (trx: Kysely<Database>, launch: Omit<LaunchResult, 'launchId'>) => Promise<T>;

export interface LaunchResult {
  readonly launchId: string;
  readonly platform: Platform;
  readonly deployment: Deployment;
  readonly claims: ValidatedLaunchClaims;
  readonly userId: string;
  readonly contextId: string | null;
  readonly resourceLinkId: string | null;
}

/**
 * The LTI 1.3 launch: OIDC login initiation, then id_token validation as a pipeline of
 * small named checks, each failing with its own stable error code. State and nonce are
 * consumed in the single write transaction that also records the launch.
 */
export class LaunchService {
  readonly redirectUri: string;
  /** When this process last wrote each registration's last_launch_at. */
  private readonly launchTouched = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keys: PlatformKeys,
    private readonly clock: Clock,
    private readonly options: LaunchServiceOptions,
  ) {
    this.redirectUri = `${options.baseUrl}/lti/launch`;
  }

  async startLogin(params: Params, options: LoginOptions = {}): Promise<LoginResult> {
    const request = parseLoginRequest(params);
    const platform = await this.resolvePlatform(request.iss, request.clientId);
    return this.recordingFailures(platform, () => this.loginWith(platform, request, options));
  }

  private async loginWith(platform: Platform, request: ReturnType<typeof parseLoginRequest>, options: LoginOptions): Promise<LoginResult> {
    if (request.deploymentId !== undefined) checkDeployment(await findDeployment(this.db, platform.id, request.deploymentId), request.deploymentId, platform);
    this.checkOwnUrl(request.targetLinkUri, 'LTI_INVALID_TARGET_LINK_URI');
    const now = this.clock.now();
    const state = randomToken(32);
    const nonce = randomToken(32);
    const storageTarget = options.topLevel ? undefined : request.storageTarget;
    const storageValue = storageTarget ? randomToken(32) : undefined;
    await insertLoginState(this.db, {
      state,
      nonce,
      platform_id: platform.id,
      target_link_uri: request.targetLinkUri,
      created_at: now,
      expires_at: now + this.options.loginStateTtlMs,
      consumed_at: null,
      storage_target: storageTarget ?? null,
      storage_proof: storageValue ?? null,
      resume_params: JSON.stringify(resumeParams(request)),
    });
    const redirectUrl = buildAuthRedirect({ authUrl: platform.auth_url, clientId: platform.client_id, redirectUri: this.redirectUri, state, nonce, request });
    const storage =
      storageTarget && storageValue
        ? { target: storageTarget, origin: platformStorageOrigin(platform.auth_url), key: storageKey(state), value: storageValue }
        : undefined;
    return { redirectUrl, state, platform, storage };
  }

  async completeLaunch<T = undefined>(input: LaunchInput, extension?: LaunchExtension<T>): Promise<LaunchResult & { extension: T | undefined }> {
    checkPlatformError(input);
    const { idToken, state } = requireFormFields(input);
    const untrusted = decodeUntrusted(idToken);
    checkAlgorithm(untrusted.alg);
    const loginState = await this.checkState(state, input.cookieState, input.storageValue);
    const platform = await findPlatformById(this.db, loginState.platform_id);
    if (!platform) throw new LtiError('LTI_UNKNOWN_PLATFORM', 'The platform that started this login is no longer registered.');
    return this.recordingFailures(platform, () => this.launchWith(platform, loginState, idToken, state, extension));
  }

  private async launchWith<T>(
    platform: Platform,
    loginState: Awaited<ReturnType<LaunchService['checkState']>>,
    idToken: string,
    state: string,
    extension: LaunchExtension<T> | undefined,
  ): Promise<LaunchResult & { extension: T | undefined }> {
    if (platform.status !== 'active') throw notActive(platform);

    const payload = await this.keys.verify(idToken, {
      id: platform.id,
      jwksUrl: platform.jwks_url,
      publicJwk: platform.public_jwk,
      allowMissingKid: platform.allow_missing_kid === 1,
    });
    checkIssuerAndAudience(payload, { issuer: platform.issuer, clientId: platform.client_id });
    const now = this.clock.now();
    checkTimes(payload, { now, skewMs: this.options.clockSkewMs });
    await this.checkNonce(payload.nonce, loginState.nonce);
    checkIssuedAfterLogin(payload.iat, loginState.created_at, this.options.clockSkewMs);
    const claims = { ...checkMessageClaims(payload), issuer: platform.issuer, nonce: loginState.nonce, raw: payload };
    if (claims.targetLinkUri !== loginState.target_link_uri) {
      // LTI Core §5.4.1: the claim must be the value the platform sent with the login.
      throw new LtiError('LTI_INVALID_CLAIM', 'The id_token target_link_uri differs from the one the LMS sent when the login started.', {
        details: { claim: 'target_link_uri' },
      });
    }
    const deployment = checkDeployment(await findDeployment(this.db, platform.id, claims.deploymentId), claims.deploymentId, platform);

    const touchLastLaunch = now - (this.launchTouched.get(platform.id) ?? -Infinity) >= LAST_LAUNCH_EVERY_MS;
    const result = await this.db.transaction().execute(async (trx) => {
      if (!(await consumeLoginState(trx, state, now))) {
        throw stateUsed();
      }
      // The admin console's "last launch": at most one write a minute per registration, in this
      // transaction. The map only spares the statement; the update's condition decides across processes.
      if (touchLastLaunch) await touchPlatformLaunch(trx, platform.id, now, LAST_LAUNCH_EVERY_MS);
      const userId = await upsertUser(
        trx,
        newId('usr'),
        {
          platform_id: platform.id,
          sub: claims.subject,
          name: displayName(claims),
          given_name: claims.givenName ?? null,
          family_name: claims.familyName ?? null,
          email: claims.email ?? null,
          picture: claims.picture ?? null,
        },
        now,
      );
      const contextId = claims.context
        ? await upsertContext(
            trx,
            newId('ctx'),
            {
              platform_id: platform.id,
              deployment_id: deployment.id,
              context_id: claims.context.id,
              label: claims.context.label ?? null,
              title: claims.context.title ?? null,
              types: claims.context.type ? JSON.stringify(claims.context.type) : null,
            },
            now,
          )
        : null;
      const resourceLinkId = claims.resourceLink
        ? await upsertResourceLink(
            trx,
            newId('rl'),
            {
              platform_id: platform.id,
              deployment_id: deployment.id,
              context_id: contextId,
              resource_link_id: claims.resourceLink.id,
              title: claims.resourceLink.title ?? null,
              description: claims.resourceLink.description ?? null,
            },
            now,
          )
        : null;
      const launch = { platform, deployment, claims, userId, contextId, resourceLinkId };
      const extensionResult = extension ? await extension(trx, launch) : undefined;
      const launchId = newId('lch');
      await insertLaunch(trx, {
        id: launchId,
        platform_id: platform.id,
        deployment_id: deployment.id,
        user_id: userId,
        context_id: contextId,
        resource_link_id: resourceLinkId,
        message_type: claims.messageType,
        roles: JSON.stringify(claims.roles),
        claims: JSON.stringify(payload),
        created_at: now,
        expires_at: now + this.options.launchTtlMs,
        responded_at: null,
      });
      return { launchId, ...launch, extension: extensionResult };
    });
    if (touchLastLaunch) this.launchTouched.set(platform.id, now);
    return result;
  }

  /**
   * Runs a login or launch step for a known registration; a refusal is remembered on the
   * registration (the admin console's "last error") with one small write, then rethrown.
   */
  private async recordingFailures<R>(platform: Platform, step: () => Promise<R>): Promise<R> {
    try {
      return await step();
    } catch (err) {
      // A missing state cookie is usually recovered (platform storage, new window): not an error to show.
      if (err instanceof AppError && err.code !== 'LTI_STATE_COOKIE_MISSING') {
        // The refusal matters more than its record: a failed write must not hide it.
        await recordPlatformError(this.db, platform.id, `${err.code}: ${err.message}`, this.clock.now()).catch(() => undefined);
      }
      throw err;
    }
  }

  private async resolvePlatform(issuer: string, clientId: string | undefined): Promise<Platform> {
    let platform: Platform | undefined;
    if (clientId !== undefined) {
      platform = await findPlatform(this.db, issuer, clientId);
    } else {
      const candidates = await findPlatformsByIssuer(this.db, issuer);
      if (candidates.length > 1) {
        throw new LtiError('LTI_AMBIGUOUS_PLATFORM', `Several registrations exist for ${issuer} and the LMS did not send a client_id.`, {
          hint: 'Configure the LMS to send client_id in the login request, or keep a single registration for this issuer.',
        });
      }
      platform = candidates[0];
    }
    if (!platform) {
      throw new LtiError('LTI_UNKNOWN_PLATFORM', `No platform is registered for issuer ${issuer}${clientId ? ` and client id ${clientId}` : ''}.`, {
        details: { issuer, clientId: clientId ?? null },
        hint: 'An administrator must register this LMS in Courseport (courseport platform add) with exactly this issuer and client id.',
      });
    }
    if (platform.status !== 'active') throw notActive(platform);
    return platform;
  }

  /**
   * For a launch refused with LTI_STATE_COOKIE_MISSING: what the browser can still try (platform
   * storage, or the login again in a new window). Undefined when the state is not usable.
   */
  async launchRecovery(state: unknown): Promise<LaunchRecovery | undefined> {
    if (typeof state !== 'string' || state.length === 0 || state.length > 128) return undefined;
    const row = await findLoginState(this.db, state);
    if (!row || row.consumed_at !== null || row.expires_at <= this.clock.now()) return undefined;
    const platform = await findPlatformById(this.db, row.platform_id);
    if (!platform) return undefined;
    const storage =
      row.storage_target && row.storage_proof
        ? { target: row.storage_target, origin: platformStorageOrigin(platform.auth_url), key: storageKey(state) }
        : undefined;
    return { storage, resumeParams: parseResumeParams(row.resume_params) };
  }

  private async checkState(state: string, cookieState: string | undefined, storageValue: string | undefined) {
    const row = await findLoginState(this.db, state);
    const now = this.clock.now();
    if (!row) {
      throw new LtiError('LTI_UNKNOWN_STATE', 'This launch does not match any login Courseport started.', { hint: 'Open the activity again from the LMS.' });
    }
    if (row.consumed_at !== null) {
      throw stateUsed();
    }
    if (row.expires_at <= now) {
      throw new LtiError('LTI_STATE_EXPIRED', 'The login took too long to complete and has expired.', { hint: 'Open the activity again from the LMS.' });
    }
    if (cookieState === undefined && storageValue !== undefined) {
      // Tier 2: the browser brought back, from the platform's storage, the value put there at login.
      checkStorageProof(row.storage_proof, storageValue);
      return row;
    }
    if (cookieState === undefined) {
      throw stateCookieMissing();
    }
    if (cookieState !== state) {
      throw new LtiError('LTI_STATE_COOKIE_MISMATCH', 'This launch was started in another browser or tab than the one completing it.', {
        hint: 'Open the activity again from the LMS in this browser.',
      });
    }
    return row;
  }

  private async checkNonce(tokenNonce: unknown, expected: string): Promise<void> {
    if (typeof tokenNonce !== 'string' || tokenNonce.length === 0) {
      throw new LtiError('LTI_NONCE_MISSING', 'The id_token carries no nonce.', { details: { claim: 'nonce' } });
    }
    if (tokenNonce === expected) return;
    const other = await findLoginStateByNonce(this.db, tokenNonce);
    if (other?.consumed_at != null) {
      throw new LtiError('LTI_NONCE_USED', 'The id_token has already been used for a launch (replayed nonce).', { details: { claim: 'nonce' } });
    }
    throw new LtiError('LTI_NONCE_MISMATCH', 'The id_token nonce does not match the one issued for this login.', { details: { claim: 'nonce' } });
  }

  private checkOwnUrl(value: string, code: 'LTI_INVALID_TARGET_LINK_URI' | 'LTI_INVALID_CLAIM'): void {
    let origin: string | undefined;
    try {
      origin = new URL(value).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== this.options.baseUrl) {
      throw new LtiError(code, `The target link URI ${value} does not point at this Courseport (${this.options.baseUrl}).`, {
        details: { claim: 'target_link_uri' },
        hint: `The tool's URLs in the LMS must start with ${this.options.baseUrl} (see COURSEPORT_BASE_URL).`,
      });
    }
  }
}

/** How often a registration's last launch time is written (admin console). */
const LAST_LAUNCH_EVERY_MS = 60_000;

/** OAuth 2.0 / OIDC authentication error codes (RFC 6749 §4.2.2.1, OIDC Core §3.1.2.6). */
const OIDC_ERRORS = new Set([
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'interaction_required',
  'login_required',
  'account_selection_required',
  'consent_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
]);

/**
 * The platform may answer an OIDC error instead of an id_token. Anyone can post such a
 * form, so only a known error code is shown; the free-text description goes to the log.
 */
function checkPlatformError(input: LaunchInput): void {
  if (input.platformError === undefined || input.platformError === '') return;
  const raw = String(input.platformError);
  const error = OIDC_ERRORS.has(raw) ? raw : 'unknown_error';
  const description = input.platformErrorDescription ? String(input.platformErrorDescription).slice(0, 500) : undefined;
  throw new LtiError('LTI_PLATFORM_ERROR', `The LMS did not complete the login (${error}).`, {
    details: { error, ...(description ? { description } : {}) },
    hint:
      error === 'login_required'
        ? 'Sign in to the LMS again, then open the activity.'
        : 'Open the activity again from the LMS; if it keeps failing, ask the LMS administrator to check the tool configuration.',
  });
}

/** A genuine id_token cannot predate the login that issued its nonce. */
function checkIssuedAfterLogin(iat: unknown, loginCreatedAt: number, skewMs: number): void {
  if (typeof iat === 'number' && iat * 1000 < loginCreatedAt - skewMs) {
    throw new LtiError('LTI_TOKEN_EXPIRED', 'The id_token was issued before this login started; it is an old token replayed.', {
      details: { iat },
    });
  }
}

function requireFormFields(input: LaunchInput): { idToken: string; state: string } {
  if (typeof input.idToken !== 'string' || input.idToken.length === 0) {
    throw new LtiError('LTI_MISSING_ID_TOKEN', 'The launch request carries no id_token.', {
      hint: 'Courseport must be launched from an LMS through LTI 1.3; opening this URL directly does not work.',
    });
  }
  if (typeof input.state !== 'string' || input.state.length === 0 || input.state.length > 128) {
    throw new LtiError('LTI_MISSING_STATE', 'The launch request carries no valid state parameter.');
  }
  return { idToken: input.idToken, state: input.state };
}

/** The tier-3 refusal: names the browser setting and the fix (the page adds "Open in a new window"). */
export function stateCookieMissing(): LtiError {
  return new LtiError(
    'LTI_STATE_COOKIE_MISSING',
    'Your browser did not send back the cookie Courseport set when the launch began, so it cannot tell that this launch is yours.',
    {
      hint:
        'Your browser blocks cookies for sites shown inside the LMS page (third-party cookies). Open the activity in a new window, or allow cookies for this site: ' +
        'in Chrome or Edge, Settings → Privacy and security → Third-party cookies → "Sites allowed to use third-party cookies" → add this site; ' +
        'in Safari, Settings → Privacy → turn off "Prevent cross-site tracking"; in Firefox, click the shield in the address bar and turn off Enhanced Tracking Protection for the LMS.',
    },
  );
}

function parseResumeParams(json: string | null | undefined): Record<string, string> {
  if (!json) return {};
  try {
    const value = JSON.parse(json) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

function stateUsed(): LtiError {
  return new LtiError('LTI_STATE_USED', 'This launch has already been used. Each launch from the LMS can be used once.', {
    hint: 'Open the activity again from the LMS.',
  });
}

function notActive(platform: Platform): LtiError {
  if (platform.status === 'pending') {
    // A registration made through LTI Dynamic Registration waits for an administrator.
    return new LtiError(
      'LTI_PLATFORM_PENDING',
      `${platform.name} registered itself with Courseport, but an administrator has not activated the registration yet.`,
      {
        details: { platformId: platform.id },
        hint: `Ask the Courseport administrator to activate this LMS (admin console → Platforms → Activate, or: courseport platform enable ${platform.id}).`,
      },
    );
  }
  return disabled(platform);
}

function disabled(platform: Platform): LtiError {
  return new LtiError('LTI_PLATFORM_DISABLED', `Launches from ${platform.name} are disabled in Courseport.`, {
    hint: 'Ask the Courseport administrator to enable this platform registration.',
  });
}

/** The deployment must be registered and not disabled by an administrator. */
function checkDeployment(deployment: Deployment | undefined, deploymentId: string, platform: Platform): Deployment {
  if (!deployment) throw unknownDeployment(deploymentId, platform);
  if (deployment.status === 'disabled') {
    throw new LtiError('LTI_DEPLOYMENT_DISABLED', `This LMS deployment (${deploymentId}) is disabled in Courseport.`, {
      details: { deploymentId, platformId: platform.id },
      hint: 'Ask the Courseport administrator to enable this deployment (admin console → Platforms).',
    });
  }
  return deployment;
}

function unknownDeployment(deploymentId: string, platform: Platform): LtiError {
  return new LtiError('LTI_UNKNOWN_DEPLOYMENT', `This LMS deployment (${deploymentId}) is not registered in Courseport.`, {
    details: { deploymentId, platformId: platform.id },
    hint: 'Ask the Courseport administrator to register this deployment id for your LMS.',
  });
}
