/** What an LTI Advantage service call needs to know of the platform to get an access token. */
export interface TokenPlatform {
  readonly id: string;
  readonly clientId: string;
  readonly tokenUrl: string;
  /** Audience of the client assertion when the platform wants something else than its token URL (Brightspace). */
  readonly tokenAudience: string | null;
}

/**
 * Where the AGS and NRPS clients get OAuth 2 access tokens (client credentials with a signed
 * assertion, Security Framework §4.1): `call` runs with a token for the scopes, and runs again
 * once with a fresh token when the platform answers 401.
 */
export interface ServiceAccess {
  withToken<T extends { status: number }>(platform: TokenPlatform, scopes: readonly string[], call: (accessToken: string) => Promise<T>): Promise<T>;
}
