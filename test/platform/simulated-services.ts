import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

export interface IssuedToken {
  readonly accessToken: string;
  readonly scope: string;
  readonly assertion: JWTPayload;
  readonly kid: string | undefined;
}

/**
 * The LMS's service side: an OAuth 2 token endpoint that verifies the tool's client
 * assertion against the tool's real JWKS (signature, iss = sub = client id, aud, exp,
 * jti never reused), over real HTTP on loopback. AGS and NRPS endpoints join it later.
 */
export class SimulatedServices {
  readonly issued: IssuedToken[] = [];
  readonly refusals: string[] = [];
  /** Answer the next token requests with this status and error instead (fault injection). */
  failNext: { status: number; error: string; count: number } | undefined;
  /** How long issued tokens live, in seconds. */
  tokenLifetime = 3600;
  private readonly seenJti = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly options: { clientId: string; getToolJwks: () => Promise<JSONWebKeySet>; audience?: string; now: () => number },
  ) {}

  static async start(options: { clientId: string; getToolJwks: () => Promise<JSONWebKeySet>; audience?: string; now?: () => number }): Promise<SimulatedServices> {
    let self: SimulatedServices | undefined;
    const server = createServer((req, res) => {
      if (!self) return void res.writeHead(503).end();
      self.handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new SimulatedServices(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, { now: () => Date.now(), ...options });
    return self;
  }

  get tokenUrl(): string {
    return `${this.origin}/token`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private refuse(res: ServerResponse, status: number, error: string, why: string): void {
    this.refusals.push(why);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error, error_description: why }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname !== '/token' || req.method !== 'POST') return void res.writeHead(404).end();
    if (!String(req.headers['user-agent'] ?? '').startsWith('Courseport/')) return this.refuse(res, 400, 'invalid_request', 'no User-Agent');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return this.refuse(res, 400, 'invalid_request', 'content type');
    const form = new URLSearchParams(await readBody(req));
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      return this.refuse(res, this.failNext.status, this.failNext.error, 'injected failure');
    }
    if (form.get('grant_type') !== 'client_credentials') return this.refuse(res, 400, 'unsupported_grant_type', 'grant_type');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return this.refuse(res, 400, 'invalid_request', 'client_assertion_type');
    let verified: { payload: JWTPayload; protectedHeader: { kid?: string } };
    try {
      verified = await jwtVerify(form.get('client_assertion') ?? '', createLocalJWKSet(await this.options.getToolJwks()), {
        issuer: this.options.clientId,
        subject: this.options.clientId,
        audience: this.options.audience ?? this.tokenUrl,
        algorithms: ['RS256'],
        currentDate: new Date(this.options.now()),
        maxTokenAge: '10m',
      });
    } catch (err) {
      return this.refuse(res, 401, 'invalid_client', `assertion: ${(err as Error).message}`);
    }
    const jti = verified.payload.jti;
    if (!jti || this.seenJti.has(jti)) return this.refuse(res, 401, 'invalid_client', 'jti missing or replayed');
    this.seenJti.add(jti);
    const scope = form.get('scope') ?? '';
    const accessToken = `at-${this.issued.length + 1}-${Math.random().toString(36).slice(2)}`;
    this.issued.push({ accessToken, scope, assertion: verified.payload, kid: verified.protectedHeader.kid });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenLifetime, scope }));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
