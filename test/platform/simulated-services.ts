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
export interface StoredLineItem {
  id: string;
  scoreMaximum: number;
  label: string;
  resourceId?: string;
  resourceLinkId?: string;
  tag?: string;
}

export class SimulatedServices {
  readonly issued: IssuedToken[] = [];
  /** Line items by their URL; scores received per line item URL, in arrival order. */
  readonly lineItems = new Map<string, StoredLineItem>();
  readonly scores = new Map<string, Record<string, unknown>[]>();
  /** Gradebook results the LMS reports (as if a teacher graded by hand), by line item URL and user. */
  readonly results = new Map<string, Map<string, number>>();
  /** Answer the next score posts with this status (and Retry-After: seconds, or a header value such as an HTTP-date). */
  failScores: { status: number; retryAfter?: number | string; count: number } | undefined;
  /** Line items per page of the container (to exercise Link: rel="next"). */
  pageSize = 2;
  /** The course roster (NRPS members) and how many members a page holds. */
  members: Record<string, unknown>[] = [];
  memberPageSize = 2;
  /** Members changed since the last full read, served at the differences link. */
  memberChanges: Record<string, unknown>[] = [];
  /** Answer roster reads with this status instead (fault injection). */
  failRoster: number | undefined;
  rosterReads = 0;
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

  /** Score posts that get no answer at all (the LMS hangs) until `releaseHung()`. */
  hangScores = 0;
  private readonly hung: ServerResponse[] = [];

  /** Answers the hung requests with 503 (their clients may be gone already). */
  releaseHung(): void {
    for (const res of this.hung.splice(0)) if (!res.writableEnded && !res.destroyed) res.writeHead(503).end();
  }

  static async start(options: {
    clientId: string;
    getToolJwks: () => Promise<JSONWebKeySet>;
    audience?: string;
    now?: () => number;
    port?: number;
  }): Promise<SimulatedServices> {
    let self: SimulatedServices | undefined;
    const server = createServer((req, res) => {
      if (!self) return void res.writeHead(503).end();
      self.handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    self = new SimulatedServices(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, { now: () => Date.now(), ...options });
    return self;
  }

  get tokenUrl(): string {
    return `${this.origin}/token`;
  }

  /** The line item container of the simulated course (what the AGS claim's `lineitems` names). */
  get lineItemsUrl(): string {
    return `${this.origin}/courses/42/lineitems`;
  }

  /** Adds a line item as the LMS would (deep linking, or a teacher); its URL carries a query like Moodle's. */
  addLineItem(item: Omit<StoredLineItem, 'id'>): StoredLineItem {
    const id = `${this.origin}/courses/42/lineitems/${this.lineItems.size + 1}/lineitem?type_id=3`;
    const stored = { id, ...item };
    this.lineItems.set(id, stored);
    return stored;
  }

  private tokenAllows(req: IncomingMessage, scope: string): boolean {
    const auth = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = this.issued.find((t) => t.accessToken === auth);
    return token?.scope.split(' ').includes(scope) === true;
  }

  close(): Promise<void> {
    this.releaseHung();
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** The course roster URL (what the NRPS claim's `context_memberships_url` names). */
  get membershipsUrl(): string {
    return `${this.origin}/courses/42/memberships`;
  }

  /** NRPS 2.0 platform side: media type, scope, pages linked by rel="next", a rel="differences" link. */
  private handleNrps(req: IncomingMessage, res: ServerResponse, url: URL): void {
    this.rosterReads++;
    if (!this.tokenAllows(req, 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly')) {
      this.refuse(res, 401, 'invalid_token', 'nrps scope');
      return;
    }
    if (req.headers.accept !== 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json') {
      this.refuse(res, 406, 'not_acceptable', 'nrps accept');
      return;
    }
    if (this.failRoster) return void res.writeHead(this.failRoster).end('roster unavailable');
    const since = url.searchParams.get('since');
    const rlid = url.searchParams.get('rlid');
    // A member with `rlids` can access only those resource links (the link-scoped roster).
    const all = (since ? this.memberChanges : this.members).filter((m) => !rlid || !Array.isArray(m.rlids) || (m.rlids as string[]).includes(rlid));
    const page = Number(url.searchParams.get('page') ?? '0');
    const slice = all.slice(page * this.memberPageSize, (page + 1) * this.memberPageSize);
    const links: string[] = [`<${this.membershipsUrl}?since=${Date.now()}>; rel="differences"`];
    if ((page + 1) * this.memberPageSize < all.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      links.push(`<${next.toString()}>; rel="next"`);
    }
    res
      .writeHead(200, { 'content-type': 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json', link: links.join(', ') })
      .end(JSON.stringify({ id: this.membershipsUrl, context: { id: 'course-42', title: 'Introduction to Golf' }, members: slice }));
  }

  /** AGS 2.0 platform side: media types, scopes, paging, Moodle-style URLs with a query. */
  private async handleAgs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const container = url.pathname === '/courses/42/lineitems';
    const sub = /^\/courses\/42\/lineitems\/(\d+)\/lineitem(\/scores|\/results)?$/.exec(url.pathname);
    const itemUrl = sub ? `${this.origin}/courses/42/lineitems/${sub[1]}/lineitem?type_id=${url.searchParams.get('type_id') ?? ''}` : '';
    if (container && req.method === 'GET') {
      if (!this.tokenAllows(req, LINEITEM_SCOPE)) return this.refuse(res, 401, 'invalid_token', 'lineitem scope');
      if (req.headers.accept !== 'application/vnd.ims.lis.v2.lineitemcontainer+json') return this.refuse(res, 406, 'not_acceptable', 'container accept');
      const all = [...this.lineItems.values()].filter(
        (i) =>
          (!url.searchParams.get('resource_link_id') || i.resourceLinkId === url.searchParams.get('resource_link_id')) &&
          (!url.searchParams.get('resource_id') || i.resourceId === url.searchParams.get('resource_id')) &&
          (!url.searchParams.get('tag') || i.tag === url.searchParams.get('tag')),
      );
      const page = Number(url.searchParams.get('page') ?? '0');
      const slice = all.slice(page * this.pageSize, (page + 1) * this.pageSize);
      const headers: Record<string, string> = { 'content-type': 'application/vnd.ims.lis.v2.lineitemcontainer+json' };
      if ((page + 1) * this.pageSize < all.length) {
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return void res.writeHead(200, headers).end(JSON.stringify(slice));
    }
    if (container && req.method === 'POST') {
      if (!this.tokenAllows(req, LINEITEM_SCOPE)) return this.refuse(res, 401, 'invalid_token', 'lineitem scope');
      if (req.headers['content-type'] !== 'application/vnd.ims.lis.v2.lineitem+json')
        return this.refuse(res, 415, 'unsupported_media_type', 'lineitem content type');
      const body = JSON.parse(await readBody(req)) as Omit<StoredLineItem, 'id'>;
      if (!(body.scoreMaximum > 0) || !body.label) return this.refuse(res, 400, 'invalid_request', 'lineitem fields');
      const created = this.addLineItem(body);
      return void res.writeHead(201, { 'content-type': 'application/vnd.ims.lis.v2.lineitem+json' }).end(JSON.stringify(created));
    }
    if (sub && sub[2] === '/scores' && req.method === 'POST') {
      if (!this.lineItems.has(itemUrl)) return this.refuse(res, 404, 'not_found', `no line item ${itemUrl}`);
      if (!this.tokenAllows(req, SCORE_SCOPE)) return this.refuse(res, 401, 'invalid_token', 'score scope');
      if (req.headers['content-type'] !== 'application/vnd.ims.lis.v1.score+json') return this.refuse(res, 415, 'unsupported_media_type', 'score content type');
      if (this.hangScores > 0) {
        this.hangScores--;
        this.hung.push(res);
        return;
      }
      if (this.failScores && this.failScores.count > 0) {
        this.failScores.count--;
        const headers: Record<string, string> = this.failScores.retryAfter !== undefined ? { 'retry-after': String(this.failScores.retryAfter) } : {};
        return void res.writeHead(this.failScores.status, headers).end('injected failure');
      }
      const score = JSON.parse(await readBody(req)) as Record<string, unknown>;
      if (typeof score.userId !== 'string' || typeof score.timestamp !== 'string' || !/\.\d{3}/.test(score.timestamp)) {
        return this.refuse(res, 400, 'invalid_request', 'score userId/timestamp');
      }
      const list = this.scores.get(itemUrl) ?? [];
      list.push(score);
      this.scores.set(itemUrl, list);
      if (typeof score.scoreGiven === 'number' && score.gradingProgress === 'FullyGraded') {
        const results = this.results.get(itemUrl) ?? new Map<string, number>();
        results.set(score.userId, score.scoreGiven);
        this.results.set(itemUrl, results);
      }
      return void res.writeHead(204).end();
    }
    if (sub && sub[2] === '/results' && req.method === 'GET') {
      if (!this.tokenAllows(req, RESULT_SCOPE)) return this.refuse(res, 401, 'invalid_token', 'result scope');
      if (req.headers.accept !== 'application/vnd.ims.lis.v2.resultcontainer+json') return this.refuse(res, 406, 'not_acceptable', 'result accept');
      const item = this.lineItems.get(itemUrl);
      const user = url.searchParams.get('user_id');
      const rows = [...(this.results.get(itemUrl) ?? new Map<string, number>()).entries()]
        .filter(([u]) => !user || u === user)
        .map(([userId, resultScore]) => ({
          id: `${itemUrl}/results/${userId}`,
          userId,
          resultScore,
          resultMaximum: item?.scoreMaximum ?? 100,
          scoreOf: itemUrl,
        }));
      return void res.writeHead(200, { 'content-type': 'application/vnd.ims.lis.v2.resultcontainer+json' }).end(JSON.stringify(rows));
    }
    return void res.writeHead(404).end();
  }

  private refuse(res: ServerResponse, status: number, error: string, why: string): void {
    this.refusals.push(why);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error, error_description: why }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname.startsWith('/courses/42/lineitems')) return this.handleAgs(req, res, url);
    if (url.pathname === '/courses/42/memberships') return this.handleNrps(req, res, url);
    if (url.pathname !== '/token' || req.method !== 'POST') return void res.writeHead(404).end();
    if (!String(req.headers['user-agent'] ?? '').startsWith('Courseport/')) return this.refuse(res, 400, 'invalid_request', 'no User-Agent');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return this.refuse(res, 400, 'invalid_request', 'content type');
    const form = new URLSearchParams(await readBody(req));
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      return this.refuse(res, this.failNext.status, this.failNext.error, 'injected failure');
    }
    if (form.get('grant_type') !== 'client_credentials') return this.refuse(res, 400, 'unsupported_grant_type', 'grant_type');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return this.refuse(res, 400, 'invalid_request', 'client_assertion_type');
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
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenLifetime, scope }));
  }
}

const LINEITEM_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem';
const SCORE_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/score';
const RESULT_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
