import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { open, seal } from '../keys/secret-box.js';
import {
  buildClientRegistration,
  parseRegistrationRequest,
  parseRegistrationResponse,
  platformName,
  requestedScopes,
  toolUrls,
  validatePlatformConfiguration,
  type PlatformConfiguration,
  type ToolDescription,
} from '../lti/dynamic-registration.js';
import { findPlatform, listDeployments } from './platform.repository.js';
import { consumeRegistrationSession, findRegistrationSession, insertRegistrationSession } from './registration-session.repository.js';
import type { Database, Platform } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { randomToken } from '../util/ids.js';
import { OutgoingRequestError, type SafeFetch } from '../util/safe-fetch.js';
import type { AuditLog } from '../audit/audit-log.service.js';
import type { PlatformService, PlatformWithDeployments } from './platform.service.js';

export interface RegistrationOptions {
  readonly baseUrl: string;
  /** Production: every URL of the exchange must be https. */
  readonly requireHttps: boolean;
  /** Activate new registrations at once instead of leaving them `pending`. */
  readonly autoActivate: boolean;
  /** How long the administrator has to confirm. */
  readonly sessionTtlMs: number;
  /** Key sealing the platform's registration token while it waits for the confirmation. */
  readonly sealKey: Buffer;
  readonly tool: Omit<ToolDescription, 'baseUrl'>;
}

/** What the confirmation page shows: exactly what will be sent and stored. */
export interface RegistrationPreview {
  readonly sessionId: string;
  readonly configuration: PlatformConfiguration;
  readonly platformName: string;
  readonly scopes: readonly string[];
  readonly toolUrls: ReturnType<typeof toolUrls>;
  readonly registration: Record<string, unknown>;
  readonly activation: 'pending' | 'active';
}

export interface RegistrationOutcome {
  readonly platform: Platform;
  readonly deploymentIds: readonly string[];
  /** The platform registered this issuer and client id before: nothing new was created. */
  readonly reregistered: boolean;
  readonly configuration: PlatformConfiguration;
}

const MAX_ERROR_TEXT = 500;
const SESSION_ID = /^[A-Za-z0-9_-]{20,100}$/;

/**
 * LTI Dynamic Registration, tool side: GET /lti/register reads and checks the platform's
 * configuration and opens a one-time registration session; the administrator's confirmation
 * consumes it, registers Courseport at the platform, and stores the platform (pending by default).
 */
export class RegistrationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly fetch: SafeFetch,
    private readonly platforms: PlatformService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly options: RegistrationOptions,
  ) {}

  private get policy() {
    return { requireHttps: this.options.requireHttps };
  }

  async start(query: Readonly<Record<string, unknown>>): Promise<RegistrationPreview> {
    const request = parseRegistrationRequest(query, this.policy);
    const configuration = await this.fetchConfiguration(request.openidConfigurationUrl, request.registrationToken);
    const sessionId = randomToken(32);
    const now = this.clock.now();
    await insertRegistrationSession(this.db, {
      id_hash: hashId(sessionId),
      openid_configuration_url: request.openidConfigurationUrl,
      configuration: JSON.stringify(configuration),
      registration_token_enc: request.registrationToken ? seal(this.options.sealKey, request.registrationToken, hashId(sessionId)) : null,
      created_at: now,
      expires_at: now + this.options.sessionTtlMs,
      consumed_at: null,
    });
    return {
      sessionId,
      configuration,
      platformName: platformName(configuration),
      scopes: requestedScopes(configuration),
      toolUrls: toolUrls(this.options.baseUrl),
      registration: this.clientRegistration(configuration),
      activation: this.options.autoActivate ? 'active' : 'pending',
    };
  }

  private clientRegistration(configuration: PlatformConfiguration): Record<string, unknown> {
    return buildClientRegistration(configuration, { ...this.options.tool, baseUrl: this.options.baseUrl });
  }

  private async fetchConfiguration(url: string, token: string | undefined): Promise<PlatformConfiguration> {
    let res: Response;
    try {
      // Canvas wants the registration token for its configuration too; others ignore it.
      res = await this.fetch(url, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    } catch (err) {
      const reason = err instanceof OutgoingRequestError ? err.message : 'the request failed';
      throw new AppError('REGISTRATION_CONFIG_UNAVAILABLE', `Courseport could not read the LMS's configuration at ${new URL(url).origin}: ${reason}.`, {
        cause: err,
        details: { url: redactQuery(url), reason: err instanceof OutgoingRequestError ? err.reason : 'network' },
        hint: 'Check that Courseport can reach the LMS (firewall, DNS, COURSEPORT_ALLOW_PRIVATE_NETWORK for an LMS on a private network), then start the registration again.',
      });
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      throw new AppError('REGISTRATION_CONFIG_UNAVAILABLE', `The LMS answered HTTP ${res.status} for its configuration${shownError(text)}`, {
        details: { status: res.status, url: redactQuery(url), body: excerpt(text) },
        hint: 'The registration link may have expired: start the registration again from the LMS.',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError(
        'REGISTRATION_CONFIG_INVALID',
        `The LMS's configuration is not JSON${text.trim() ? " (what it answered is in Courseport's log)" : ' (it was empty)'}.`,
        {
          details: { problems: ['not JSON'], url: redactQuery(url), body: excerpt(text) },
          hint: 'Ask the LMS administrator or vendor: the LMS must publish an LTI Dynamic Registration 1.0 configuration.',
        },
      );
    }
    return validatePlatformConfiguration(json, url, this.policy);
  }

  /** The administrator confirmed: consume the session once, register at the platform, store the platform. */
  async confirm(sessionId: unknown, ip: string | undefined): Promise<RegistrationOutcome> {
    const session = await this.consume(sessionId);
    const configuration = JSON.parse(session.configuration) as PlatformConfiguration;
    const token = session.registration_token_enc ? open(this.options.sealKey, session.registration_token_enc, session.id_hash) : undefined;
    const body = this.clientRegistration(configuration);
    const result = await this.postRegistration(configuration.registrationEndpoint, body, token);

    const input = {
      issuer: configuration.issuer,
      clientId: result.clientId,
      authUrl: configuration.authorizationEndpoint,
      tokenUrl: configuration.tokenEndpoint,
      jwksUrl: configuration.jwksUri,
      tokenAudience: configuration.authorizationServer,
      name: platformName(configuration),
      deployments: result.deploymentId ? [result.deploymentId] : [],
    };
    const existing = await findPlatform(this.db, configuration.issuer, result.clientId);
    if (existing) return this.reregister(existing, input, configuration, ip);

    const status = this.options.autoActivate ? 'active' : 'pending';
    const { platform, deployments } = await this.platforms.register(input, { status });
    await this.audit.record({
      actor: `platform:${platform.id}`,
      action: 'platform.register',
      target: platform.id,
      details: {
        method: 'dynamic-registration',
        issuer: platform.issuer,
        clientId: platform.client_id,
        status,
        product: configuration.productFamilyCode,
        deployments: deployments.map((d) => d.deployment_id),
        scopes: body.scope,
      },
      ip,
    });
    return { platform, deploymentIds: deployments.map((d) => d.deployment_id), reregistered: false, configuration };
  }

  /**
   * The platform handed out a client id Courseport already knows. Same URLs: nothing is
   * duplicated (a new deployment is added); other URLs: refused, since an unauthenticated
   * page must not rewrite a registration an administrator may have activated.
   */
  private async reregister(
    existing: Platform,
    input: { authUrl: string; tokenUrl: string; jwksUrl: string; tokenAudience: string | undefined; deployments: string[] },
    configuration: PlatformConfiguration,
    ip: string | undefined,
  ): Promise<RegistrationOutcome> {
    const same =
      existing.auth_url === input.authUrl &&
      existing.token_url === input.tokenUrl &&
      existing.jwks_url === input.jwksUrl &&
      (existing.token_audience ?? undefined) === input.tokenAudience;
    if (!same) {
      throw new AppError(
        'PLATFORM_EXISTS',
        `This LMS (issuer ${existing.issuer}, client id ${existing.client_id}) is already registered in Courseport with other URLs.`,
        {
          details: { platformId: existing.id },
          hint: 'An administrator must update or remove the existing registration in Courseport (admin console or courseport platform) first.',
        },
      );
    }
    const known = new Set((await listDeployments(this.db, existing.id)).map((d) => d.deployment_id));
    const added: string[] = [];
    for (const d of input.deployments) {
      if (known.has(d)) continue;
      await this.platforms.addDeployment(existing.id, d);
      added.push(d);
    }
    await this.audit.record({
      actor: `platform:${existing.id}`,
      action: 'platform.reregister',
      target: existing.id,
      details: { method: 'dynamic-registration', issuer: existing.issuer, clientId: existing.client_id, addedDeployments: added },
      ip,
    });
    const current: PlatformWithDeployments = await this.platforms.get(existing.id);
    return { platform: current.platform, deploymentIds: current.deployments.map((d) => d.deployment_id), reregistered: true, configuration };
  }

  /** The administrator cancelled: the session is used up, nothing is sent to the LMS. */
  async cancel(sessionId: unknown): Promise<void> {
    await this.consume(sessionId);
  }

  private async consume(sessionId: unknown) {
    if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) throw sessionInvalid('The confirmation carries no valid registration session.');
    const idHash = hashId(sessionId);
    const row = await findRegistrationSession(this.db, idHash);
    const now = this.clock.now();
    if (!row) throw sessionInvalid('This registration is not known to Courseport.');
    if (row.consumed_at !== null) throw sessionUsed();
    if (row.expires_at <= now) throw sessionInvalid('This registration took too long to confirm and has expired.');
    // One confirmation per session, decided by the database: a double submit or a replay loses here.
    if (!(await consumeRegistrationSession(this.db, idHash, now))) throw sessionUsed();
    return row;
  }

  private async postRegistration(endpoint: string, body: Record<string, unknown>, token: string | undefined) {
    let res: Response;
    try {
      res = await this.fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    } catch (err) {
      const reason = err instanceof OutgoingRequestError ? err.message : 'the request failed';
      throw new AppError('REGISTRATION_REJECTED', `Courseport could not reach the LMS's registration endpoint at ${new URL(endpoint).origin}: ${reason}.`, {
        cause: err,
        details: { status: null },
        hint: 'Start the registration again from the LMS once it is reachable.',
      });
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      throw new AppError('REGISTRATION_REJECTED', `The LMS refused the registration (HTTP ${res.status})${shownError(text)}`, {
        details: { status: res.status, body: excerpt(text) },
        hint: 'The LMS said why above. Fix it in the LMS (or ask its administrator), then start the registration again.',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError(
        'REGISTRATION_RESPONSE_INVALID',
        `The LMS accepted the registration but its answer is not JSON${text.trim() ? " (what it answered is in Courseport's log)" : ' (it was empty)'}.`,
        {
          details: { reason: 'not JSON', body: excerpt(text) },
          hint: 'Ask the LMS administrator to check the tool in the LMS; the registration may need to be removed there and started again.',
        },
      );
    }
    return parseRegistrationResponse(json);
  }
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The platform's own text, shortened; pages escape it, logs keep it as data. */
function excerpt(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > MAX_ERROR_TEXT ? `${t.slice(0, MAX_ERROR_TEXT)}…` : t;
}

/**
 * What the page may show of an LMS's error answer: an OAuth-style error (`error`,
 * `error_description`) in words, nothing else. This page is public and fetches URLs its caller
 * names, so it must not echo arbitrary answers (a read proxy); the full text goes to the log
 * (`details.body`).
 */
function shownError(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof j.error === 'string')
      return `: ${excerpt(typeof j.error_description === 'string' && j.error_description ? `${j.error} — ${j.error_description}` : j.error)}`;
  } catch {
    // not JSON
  }
  return text.trim() ? ". What it answered is in Courseport's log." : '.';
}

/** A configuration URL may carry a token in its query: only the origin and path are repeated. */
function redactQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}

function sessionInvalid(message: string): AppError {
  return new AppError('REGISTRATION_SESSION_INVALID', message, { hint: 'Start the registration again from the LMS.' });
}

function sessionUsed(): AppError {
  return new AppError('REGISTRATION_SESSION_USED', 'This registration has already been confirmed. Each registration can be confirmed once.', {
    hint: 'Check the LMS and the Courseport console: the tool may already be registered. Otherwise start the registration again from the LMS.',
  });
}
