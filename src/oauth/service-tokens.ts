import type { ServiceAccess, TokenPlatform } from '../lti/service-access.js';
import { SignJWT } from 'jose';
import { AppError } from '../errors/app-error.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';
import type { Clock } from '../util/clock.js';
import { randomToken } from '../util/ids.js';
import type { SafeFetch } from '../util/safe-fetch.js';

/** The registration fields a token request needs. */
export interface ServiceToken {
  readonly accessToken: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A token is renewed this long before the platform says it expires. */
const RENEW_BEFORE_MS = 60_000;
const ASSERTION_LIFETIME_SECONDS = 300;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

/**
 * OAuth 2 client-credentials tokens for LTI Advantage services (AGS, NRPS), obtained with
 * a signed JWT client assertion (RFC 7523, LTI Security Framework §4.1). Tokens are cached
 * per (registration, scope set) until shortly before they expire, and concurrent callers
 * share one request in flight. Canvas rate-limits token requests, so this matters.
 */
export class ServiceTokens implements ServiceAccess {
  private readonly cache = new Map<string, ServiceToken>();
  private readonly inflight = new Map<string, Promise<ServiceToken>>();
  requestsMade = 0;

  constructor(
    private readonly keys: ToolKeyService,
    private readonly fetch: SafeFetch,
    private readonly clock: Clock,
  ) {}

  async token(platform: TokenPlatform, scopes: readonly string[]): Promise<ServiceToken> {
    const key = cacheKey(platform, scopes);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt - RENEW_BEFORE_MS > this.clock.now()) return cached;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.request(platform, scopes).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const token = await pending;
    this.cache.set(key, token);
    return token;
  }

  /** Forgets a token the platform refused (a 401 from a service): the next call fetches a new one. */
  invalidate(platform: TokenPlatform, scopes: readonly string[], accessToken?: string): void {
    const key = cacheKey(platform, scopes);
    if (accessToken === undefined || this.cache.get(key)?.accessToken === accessToken) this.cache.delete(key);
  }

  /**
   * Calls a service with a bearer token; on 401 the token is dropped and the call is made
   * once more with a fresh one.
   */
  async withToken<T extends { status: number }>(platform: TokenPlatform, scopes: readonly string[], call: (accessToken: string) => Promise<T>): Promise<T> {
    const first = await this.token(platform, scopes);
    const res = await call(first.accessToken);
    if (res.status !== 401) return res;
    this.invalidate(platform, scopes, first.accessToken);
    return call((await this.token(platform, scopes)).accessToken);
  }

  /** The RFC 7523 client assertion: iss = sub = client id, aud = token endpoint, unique jti, short exp. */
  async clientAssertion(platform: TokenPlatform): Promise<string> {
    const key = await this.keys.signingKey();
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(platform.clientId)
      .setSubject(platform.clientId)
      .setAudience(platform.tokenAudience ?? platform.tokenUrl)
      .setJti(randomToken(16))
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
      .sign(key.key);
  }

  private async request(platform: TokenPlatform, scopes: readonly string[]): Promise<ServiceToken> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await this.clientAssertion(platform),
      scope: [...scopes].sort().join(' '),
    });
    this.requestsMade++;
    let res: Response;
    try {
      res = await this.fetch(platform.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
      });
    } catch (cause) {
      throw new AppError('SERVICE_TOKEN_FAILED', `The token endpoint ${new URL(platform.tokenUrl).origin} could not be reached: ${(cause as Error).message}`, {
        cause,
        details: { status: null },
      });
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below
    }
    if (!res.ok || typeof json.access_token !== 'string') {
      throw new AppError('SERVICE_TOKEN_FAILED', `The token endpoint answered ${res.status}${typeof json.error === 'string' ? ` (${json.error})` : ''}.`, {
        details: {
          status: res.status,
          error: typeof json.error === 'string' ? json.error : null,
          description: typeof json.error_description === 'string' ? json.error_description : null,
        },
      });
    }
    const lifetime = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_LIFETIME_SECONDS;
    const granted = typeof json.scope === 'string' ? json.scope.split(' ').filter(Boolean) : [...scopes];
    return { accessToken: json.access_token, scopes: granted, expiresAt: this.clock.now() + lifetime * 1000 };
  }
}

function cacheKey(platform: TokenPlatform, scopes: readonly string[]): string {
  return `${platform.id}\n${[...new Set(scopes)].sort().join(' ')}`;
}
