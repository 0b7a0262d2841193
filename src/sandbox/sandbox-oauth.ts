import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { deriveKey } from '../keys/secret-box.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { SignedTokens } from '../util/signed-tokens.js';
import { SANDBOX_CLIENT_ID, SANDBOX_SCOPES, type SandboxUrls } from './sandbox-platform.js';
import { useOnce } from './sandbox.repository.js';

const ACCESS_TOKEN_TTL_MS = 3600 * 1000;

/**
 * The sandbox's OAuth 2 token endpoint (client credentials with a JWT client assertion, verified
 * against the tool's JWKS, jti used once) and the bearer check of its AGS and NRPS endpoints.
 */
export class SandboxOAuth {
  private readonly accessTokens: SignedTokens;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly toolKeys: ToolKeyService,
    private readonly clock: Clock,
    private readonly urls: SandboxUrls,
    secret: string,
  ) {
    const unauthorized = () => new AppError('SANDBOX_UNAUTHORIZED', 'The sandbox does not know this access token.');
    this.accessTokens = new SignedTokens(deriveKey(secret, 'sandbox-access-token'), ACCESS_TOKEN_TTL_MS, { invalid: unauthorized, expired: unauthorized });
  }

  /** Returns the OAuth answer, or an OAuth error (`error`, status) — never throws for a bad request. */
  async token(form: Readonly<Record<string, unknown>>): Promise<{ status: number; body: Record<string, unknown> }> {
    const oauthError = (status: number, error: string, description: string) => ({ status, body: { error, error_description: description } });
    if (form.grant_type !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return oauthError(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
    if (typeof form.client_assertion !== 'string') return oauthError(400, 'invalid_request', 'client_assertion is missing');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(form.client_assertion, createLocalJWKSet(await this.toolKeys.jwks()), {
        issuer: SANDBOX_CLIENT_ID,
        subject: SANDBOX_CLIENT_ID,
        audience: this.urls.token,
        algorithms: ['RS256'],
        currentDate: new Date(this.clock.now()),
        maxTokenAge: '10m',
      }));
    } catch (err) {
      return oauthError(401, 'invalid_client', `client assertion: ${(err as Error).message}`);
    }
    if (typeof payload.jti !== 'string' || !payload.jti) return oauthError(401, 'invalid_client', 'client assertion has no jti');
    if (!(await useOnce(this.db, `jti:${payload.jti}`, (payload.exp ?? 0) * 1000 + 60_000)))
      return oauthError(401, 'invalid_client', 'client assertion jti already used');
    const requested = typeof form.scope === 'string' ? form.scope.split(' ').filter(Boolean) : [];
    const granted = requested.filter((s) => SANDBOX_SCOPES.includes(s));
    if (granted.length === 0) return oauthError(400, 'invalid_scope', 'none of the requested scopes is offered');
    const accessToken = this.accessTokens.issue(granted.join(' '), this.clock.now());
    return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_MS / 1000, scope: granted.join(' ') } };
  }

  /** Checks a service call's bearer token for one of the scopes. */
  authorize(authorization: string | undefined, anyOf: readonly string[]): void {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw new AppError('SANDBOX_UNAUTHORIZED', 'A bearer access token from the sandbox token endpoint is required.');
    const scopes = this.accessTokens.verify(token, this.clock.now()).split(' ');
    if (!anyOf.some((s) => scopes.includes(s))) throw new AppError('SANDBOX_UNAUTHORIZED', `The access token lacks the scope (${anyOf.join(' or ')}).`);
  }
}
