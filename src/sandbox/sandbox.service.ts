import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, calculateJwkThumbprint, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import { deriveKey, open, seal } from '../keys/secret-box.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';
import { AGS_SCOPE } from '../lti/ags.js';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from '../lti/claims.js';
import { LaunchTokens } from '../util/signed-tokens.js';
import { NRPS_SCOPE } from '../lti/nrps.js';
import type { AuditLog } from '../audit/audit-log.service.js';
import type { PlatformService } from '../platforms/platform.service.js';
import { isUniqueViolation } from '../store/database.js';
import { findDeployment, findPlatform } from '../platforms/platform.repository.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';
import { memberBySub, rolesOf, SANDBOX_COURSE, SANDBOX_INSTRUCTOR, SANDBOX_MEMBERS, type SandboxMember } from './course.js';

/*
 * The sandbox LMS: a real LTI 1.3 platform inside Courseport, at /sandbox. It has its own RSA
 * key (encrypted at rest like the tool's keys), registers itself as a platform like any LMS,
 * and speaks the protocol over HTTP: OIDC auth (form_post id_token), deep linking return
 * (verified against the tool's JWKS), OAuth client credentials (client assertions verified
 * against the tool's JWKS, jti single use), AGS line items/scores/results and NRPS.
 * Nothing is shortcut: the tool validates the sandbox's launches exactly as any LMS's.
 */

export const SANDBOX_CLIENT_ID = 'courseport-sandbox';
export const SANDBOX_DEPLOYMENT_ID = 'sandbox';
const HINT_TTL_MS = 10 * 60 * 1000;
const ID_TOKEN_LIFETIME_S = 300;
const ACCESS_TOKEN_TTL_MS = 3600 * 1000;
/** What the sandbox grants: AGS and NRPS, as a generous LMS would. */
export const SANDBOX_SCOPES: readonly string[] = [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE, NRPS_SCOPE];

export interface SandboxOptions {
  readonly baseUrl: string;
  readonly secret: string;
}

/** What a login hint carries: who launches what (signed by the sandbox, it cannot be forged). */
interface Hint {
  readonly u: string;
  readonly l: string | null;
  readonly d: boolean;
}

export interface SandboxLink {
  readonly id: string;
  readonly title: string;
  readonly text: string | null;
  readonly url: string;
  readonly custom: Record<string, string>;
  readonly lineItemId: string | null;
}

export interface SandboxLineItem {
  readonly id: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly resourceId: string | null;
  readonly resourceLinkId: string | null;
  readonly tag: string | null;
}

export interface SandboxScore {
  readonly lineItemId: string;
  readonly userId: string;
  readonly scoreGiven: number | null;
  readonly scoreMaximum: number | null;
  readonly activityProgress: string;
  readonly gradingProgress: string;
  readonly comment: string | null;
  readonly timestamp: string;
  readonly receivedAt: number;
}

function invalid(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('SANDBOX_INVALID_REQUEST', message, { ...(details ? { details } : {}), hint: 'Start again from the sandbox course page (/sandbox).' });
}

export class SandboxService {
  readonly issuer: string;
  private readonly encKey: Buffer;
  private readonly hints: LaunchTokens;
  private readonly dlData: LaunchTokens;
  private readonly accessTokens: LaunchTokens;
  private signing: { kid: string; key: CryptoKey } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly toolKeys: ToolKeyService,
    private readonly platforms: PlatformService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly options: SandboxOptions,
  ) {
    this.issuer = `${options.baseUrl}/sandbox`;
    this.encKey = deriveKey(options.secret, 'sandbox-key-encryption');
    const invalidHint = { invalid: () => invalid('This sandbox launch link is invalid.'), expired: () => invalid('This sandbox launch link has expired.') };
    this.hints = new LaunchTokens(deriveKey(options.secret, 'sandbox-login-hint'), HINT_TTL_MS, invalidHint);
    this.dlData = new LaunchTokens(deriveKey(options.secret, 'sandbox-deep-linking-data'), HINT_TTL_MS, invalidHint);
    const unauthorized = () => new AppError('SANDBOX_UNAUTHORIZED', 'The sandbox does not know this access token.');
    this.accessTokens = new LaunchTokens(deriveKey(options.secret, 'sandbox-access-token'), ACCESS_TOKEN_TTL_MS, { invalid: unauthorized, expired: unauthorized });
  }

  get urls() {
    const s = this.issuer;
    return {
      auth: `${s}/auth`,
      token: `${s}/token`,
      jwks: `${s}/jwks`,
      lineItems: `${s}/lineitems`,
      memberships: `${s}/memberships`,
      deepLinkReturn: `${s}/deep-link-return`,
      course: s,
      toolLogin: `${this.options.baseUrl}/lti/login`,
      toolLaunch: `${this.options.baseUrl}/lti/launch`,
    };
  }

  /**
   * A stored link's URL on this Courseport's current base URL: links keep working when
   * COURSEPORT_BASE_URL changes (a new port in development), as an LMS would re-point them.
   */
  private onThisTool(stored: string): string {
    const u = new URL(stored);
    return new URL(`${u.pathname}${u.search}`, this.options.baseUrl).toString();
  }

  lineItemUrl(id: string): string {
    return `${this.urls.lineItems}/${encodeURIComponent(id)}`;
  }

  /** At start: the sandbox's key exists and the sandbox is registered as a platform (active) with its deployment. */
  async ensureReady(): Promise<{ platformId: string; created: boolean }> {
    await this.signingKey();
    const existing = await findPlatform(this.db, this.issuer, SANDBOX_CLIENT_ID);
    if (existing) {
      if (!(await findDeployment(this.db, existing.id, SANDBOX_DEPLOYMENT_ID))) await this.platforms.addDeployment(existing.id, SANDBOX_DEPLOYMENT_ID);
      return { platformId: existing.id, created: false };
    }
    try {
      const { platform } = await this.platforms.register({
        issuer: this.issuer,
        clientId: SANDBOX_CLIENT_ID,
        authUrl: this.urls.auth,
        tokenUrl: this.urls.token,
        jwksUrl: this.urls.jwks,
        name: 'Courseport sandbox',
        deployments: [SANDBOX_DEPLOYMENT_ID],
      });
      await this.audit.record({ actor: 'system', action: 'platform.register', target: platform.id, details: { method: 'sandbox', issuer: platform.issuer, clientId: platform.client_id } });
      return { platformId: platform.id, created: true };
    } catch (err) {
      // Another process registered it at the same moment.
      if (err instanceof AppError && err.code === 'PLATFORM_EXISTS') {
        const again = await findPlatform(this.db, this.issuer, SANDBOX_CLIENT_ID);
        if (again) return { platformId: again.id, created: false };
      }
      throw err;
    }
  }

  // ---- keys ----

  /** The sandbox's signing key: generated once, private half sealed under COURSEPORT_SECRET. */
  private async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    if (this.signing) return this.signing;
    let row = await this.db.selectFrom('sandbox_keys').selectAll().orderBy('created_at').orderBy('kid').executeTakeFirst();
    if (!row) {
      const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      try {
        await this.db
          .insertInto('sandbox_keys')
          .values({
            kid,
            public_jwk: JSON.stringify({ ...publicJwk, kid, alg: 'RS256', use: 'sig' }),
            private_jwk_enc: seal(this.encKey, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }), kid),
            created_at: this.clock.now(),
          })
          .execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      row = await this.db.selectFrom('sandbox_keys').selectAll().orderBy('created_at').orderBy('kid').executeTakeFirstOrThrow();
    }
    let jwk: JWK;
    try {
      jwk = JSON.parse(open(this.encKey, row.private_jwk_enc, row.kid)) as JWK;
    } catch (cause) {
      throw new AppError('KEY_DECRYPTION_FAILED', 'the sandbox private key cannot be decrypted: COURSEPORT_SECRET differs from the one it was encrypted with', { cause });
    }
    this.signing = { kid: row.kid, key: (await importJWK(jwk, 'RS256')) as CryptoKey };
    return this.signing;
  }

  /**
   * After a change of COURSEPORT_SECRET (`courseport keys reencrypt`): re-seals the sandbox's
   * private keys, read with the old secret, under the current one. Keys already under the
   * current secret are left alone; a key that opens with neither throws KEY_DECRYPTION_FAILED
   * (inside the caller's transaction `db`, so nothing changes). Without this the sandbox, on by
   * default in development, stopped `courseport serve` from starting after the documented
   * secret change.
   */
  async reencryptKeys(oldSecret: string, db: Kysely<Database> = this.db): Promise<{ reencrypted: string[]; unchanged: string[] }> {
    const oldKey = deriveKey(oldSecret, 'sandbox-key-encryption');
    const reencrypted: string[] = [];
    const unchanged: string[] = [];
    for (const row of await db.selectFrom('sandbox_keys').select(['kid', 'private_jwk_enc']).orderBy('created_at').orderBy('kid').execute()) {
      if (opens(this.encKey, row.private_jwk_enc, row.kid)) {
        unchanged.push(row.kid);
        continue;
      }
      let plain: string;
      try {
        plain = open(oldKey, row.private_jwk_enc, row.kid);
      } catch (cause) {
        throw new AppError('KEY_DECRYPTION_FAILED', `sandbox key ${row.kid} opens with neither the old nor the current secret; nothing was changed`, { cause });
      }
      await db.updateTable('sandbox_keys').set({ private_jwk_enc: seal(this.encKey, plain, row.kid) }).where('kid', '=', row.kid).execute();
      reencrypted.push(row.kid);
    }
    this.signing = undefined;
    return { reencrypted, unchanged };
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    await this.signingKey();
    const rows = await this.db.selectFrom('sandbox_keys').select('public_jwk').orderBy('created_at').execute();
    return { keys: rows.map((r) => JSON.parse(r.public_jwk) as JWK) };
  }

  // ---- links ----

  async links(): Promise<SandboxLink[]> {
    const rows = await this.db.selectFrom('sandbox_links').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, title: r.title, text: r.text, url: r.url, custom: JSON.parse(r.custom) as Record<string, string>, lineItemId: r.line_item_id }));
  }

  async link(id: unknown): Promise<SandboxLink> {
    const link = typeof id === 'string' ? (await this.links()).find((l) => l.id === id) : undefined;
    if (!link) throw invalid('The sandbox course has no such link.', { link: typeof id === 'string' ? id.slice(0, 64) : null });
    return link;
  }

  // ---- launching: third-party initiated login, then the OIDC auth endpoint ----

  /** The form the sandbox posts to the tool's login URL (LTI Core §5.1.1), for a link or for deep linking. */
  async loginForm(input: { user: unknown; link?: unknown; deepLink: boolean }): Promise<Record<string, string>> {
    const member = input.deepLink ? SANDBOX_INSTRUCTOR : memberBySub(input.user);
    if (!member) throw invalid('The sandbox course has no such person.');
    const link = input.deepLink ? undefined : await this.link(input.link);
    const hint: Hint = { u: member.sub, l: link?.id ?? null, d: input.deepLink };
    return {
      iss: this.issuer,
      login_hint: member.sub,
      target_link_uri: link ? this.onThisTool(link.url) : this.urls.toolLaunch,
      lti_message_hint: this.hints.issue(JSON.stringify(hint), this.clock.now()),
      client_id: SANDBOX_CLIENT_ID,
      lti_deployment_id: SANDBOX_DEPLOYMENT_ID,
    };
  }

  /**
   * The OIDC authentication request from the tool (Security Framework §5.1.1.2): every
   * parameter checked, then the signed id_token to post to the registered redirect URI.
   */
  async authenticate(q: Readonly<Record<string, unknown>>): Promise<{ redirectUri: string; idToken: string; state: string }> {
    const get = (name: string) => (typeof q[name] === 'string' ? (q[name] as string) : undefined);
    const problems = [
      get('scope') !== 'openid' && 'scope',
      get('response_type') !== 'id_token' && 'response_type',
      get('response_mode') !== 'form_post' && 'response_mode',
      get('prompt') !== 'none' && 'prompt',
      get('client_id') !== SANDBOX_CLIENT_ID && 'client_id',
      get('redirect_uri') !== this.urls.toolLaunch && 'redirect_uri',
      !get('nonce') && 'nonce',
      !get('state') && 'state',
      !get('login_hint') && 'login_hint',
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length) throw invalid(`The authentication request is invalid: ${problems.join(', ')}.`, { problems });
    const hint = JSON.parse(this.hints.verify(get('lti_message_hint'), this.clock.now())) as Hint;
    if (hint.u !== get('login_hint')) throw invalid('The login hint does not belong to this launch.');
    const member = memberBySub(hint.u);
    if (!member) throw invalid('The sandbox course has no such person.');
    const claims = hint.d ? await this.deepLinkingClaims(member) : await this.resourceLinkClaims(member, await this.link(hint.l));
    const now = Math.floor(this.clock.now() / 1000);
    const key = await this.signingKey();
    const idToken = await new SignJWT({ ...claims, nonce: get('nonce') })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(SANDBOX_CLIENT_ID)
      .setSubject(member.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + ID_TOKEN_LIFETIME_S)
      .sign(key.key);
    return { redirectUri: this.urls.toolLaunch, idToken, state: get('state')! };
  }

  private baseClaims(member: SandboxMember): Record<string, unknown> {
    return {
      azp: SANDBOX_CLIENT_ID,
      name: member.name,
      given_name: member.givenName,
      family_name: member.familyName,
      email: member.email,
      [CLAIM.VERSION]: LTI_VERSION,
      [CLAIM.DEPLOYMENT_ID]: SANDBOX_DEPLOYMENT_ID,
      [CLAIM.ROLES]: rolesOf(member),
      [CLAIM.CONTEXT]: SANDBOX_COURSE,
      [CLAIM.TOOL_PLATFORM]: { guid: 'courseport-sandbox', name: 'Courseport sandbox', product_family_code: 'courseport-sandbox', version: '1' },
      [CLAIM.LAUNCH_PRESENTATION]: { document_target: 'iframe', return_url: this.urls.course },
      [CLAIM.NRPS]: { context_memberships_url: this.urls.memberships, service_versions: ['2.0'] },
    };
  }

  private async resourceLinkClaims(member: SandboxMember, link: SandboxLink): Promise<Record<string, unknown>> {
    return {
      ...this.baseClaims(member),
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.RESOURCE_LINK,
      [CLAIM.TARGET_LINK_URI]: this.onThisTool(link.url),
      [CLAIM.RESOURCE_LINK]: { id: link.id, title: link.title, ...(link.text ? { description: link.text } : {}) },
      [CLAIM.CUSTOM]: link.custom,
      [CLAIM.AGS_ENDPOINT]: {
        scope: [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE],
        lineitems: this.urls.lineItems,
        ...(link.lineItemId ? { lineitem: this.lineItemUrl(link.lineItemId) } : {}),
      },
    };
  }

  private async deepLinkingClaims(member: SandboxMember): Promise<Record<string, unknown>> {
    return {
      ...this.baseClaims(member),
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.DEEP_LINKING,
      [CLAIM.TARGET_LINK_URI]: this.urls.toolLaunch,
      [CLAIM.DEEP_LINKING_SETTINGS]: {
        deep_link_return_url: this.urls.deepLinkReturn,
        accept_types: ['ltiResourceLink'],
        accept_presentation_document_targets: ['iframe', 'window'],
        accept_multiple: true,
        accept_lineitem: true,
        auto_create: true,
        title: 'Add content to the sandbox course',
        // Bound to this request and used once: a response cannot be replayed or forged for another.
        data: this.dlData.issue(randomToken(16), this.clock.now()),
      },
    };
  }

  // ---- deep linking return ----

  /** Verifies the tool's LtiDeepLinkingResponse against the tool's JWKS and stores its resource links. */
  async receiveDeepLinkingResponse(jwt: unknown): Promise<{ added: SandboxLink[]; message: string | undefined }> {
    if (typeof jwt !== 'string' || !jwt) throw invalid('The deep linking response carries no JWT.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, createLocalJWKSet(await this.toolKeys.jwks()), {
        issuer: SANDBOX_CLIENT_ID,
        audience: this.issuer,
        algorithms: ['RS256'],
        currentDate: new Date(this.clock.now()),
        maxTokenAge: '10m',
      }));
    } catch (err) {
      throw invalid(`The deep linking response does not verify against the tool's keys: ${(err as Error).message}`);
    }
    if (payload[CLAIM.MESSAGE_TYPE] !== MESSAGE_TYPE.DEEP_LINKING_RESPONSE) throw invalid('The JWT is not an LtiDeepLinkingResponse.');
    if (payload[CLAIM.VERSION] !== LTI_VERSION) throw invalid('The deep linking response has the wrong LTI version.');
    if (payload[CLAIM.DEPLOYMENT_ID] !== SANDBOX_DEPLOYMENT_ID) throw invalid('The deep linking response names another deployment.');
    const data = payload[CLAIM.DEEP_LINKING_DATA];
    this.dlData.verify(typeof data === 'string' ? data : undefined, this.clock.now());
    await this.useOnce(`dl:${String(data)}`, this.clock.now() + HINT_TTL_MS, () => invalid('This deep linking response was already received.'));

    const items = Array.isArray(payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS]) ? (payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as unknown[]) : [];
    const added: SandboxLink[] = [];
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      for (const raw of items) {
        if (typeof raw !== 'object' || raw === null) continue;
        const item = raw as Record<string, unknown>;
        if (item.type !== 'ltiResourceLink') continue;
        const url = typeof item.url === 'string' ? item.url : this.urls.toolLaunch;
        if (new URL(url).origin !== new URL(this.options.baseUrl).origin) throw invalid('A content item points outside this Courseport.');
        const custom: Record<string, string> = {};
        if (typeof item.custom === 'object' && item.custom !== null) {
          for (const [k, v] of Object.entries(item.custom)) if (typeof v === 'string') custom[k] = v;
        }
        const id = newId('sbl');
        const title = (typeof item.title === 'string' && item.title.trim() ? item.title : 'Untitled').slice(0, 1024);
        let lineItemId: string | null = null;
        const li = item.lineItem as Record<string, unknown> | undefined;
        if (li && typeof li === 'object' && typeof li.scoreMaximum === 'number' && li.scoreMaximum > 0) {
          lineItemId = newId('sbli');
          await trx
            .insertInto('sandbox_line_items')
            .values({
              id: lineItemId,
              label: typeof li.label === 'string' && li.label ? li.label.slice(0, 1024) : title,
              score_maximum: li.scoreMaximum,
              resource_id: typeof li.resourceId === 'string' ? li.resourceId.slice(0, 255) : null,
              resource_link_id: id,
              tag: typeof li.tag === 'string' ? li.tag.slice(0, 255) : null,
              created_at: now,
            })
            .execute();
        }
        const text = typeof item.text === 'string' ? item.text : null;
        await trx.insertInto('sandbox_links').values({ id, title, text, url, custom: JSON.stringify(custom), line_item_id: lineItemId, created_at: now }).execute();
        added.push({ id, title, text, url, custom, lineItemId });
      }
    });
    const msg = payload[CLAIM.DEEP_LINKING_MSG];
    return { added, message: typeof msg === 'string' ? msg.slice(0, 500) : undefined };
  }

  /** Records a one-time value (jti, deep linking data); a second use loses on the primary key. */
  private async useOnce(value: string, expiresAt: number, error: () => AppError): Promise<void> {
    try {
      await this.db.insertInto('sandbox_assertions').values({ jti: value.slice(0, 255), expires_at: expiresAt }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw error();
      throw err;
    }
  }

  // ---- OAuth 2 client credentials (token endpoint) ----

  /** Returns the OAuth answer, or an OAuth error (`error`, status) — never throws for a bad request. */
  async token(form: Readonly<Record<string, unknown>>): Promise<{ status: number; body: Record<string, unknown> }> {
    const oauthError = (status: number, error: string, description: string) => ({ status, body: { error, error_description: description } });
    if (form.grant_type !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return oauthError(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
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
    try {
      await this.useOnce(`jti:${payload.jti}`, (payload.exp ?? 0) * 1000 + 60_000, () => new AppError('SANDBOX_UNAUTHORIZED', 'replayed jti'));
    } catch (err) {
      if (err instanceof AppError) return oauthError(401, 'invalid_client', 'client assertion jti already used');
      throw err;
    }
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

  // ---- AGS ----

  async lineItems(filter: { resourceLinkId?: string | undefined; resourceId?: string | undefined; tag?: string | undefined } = {}): Promise<SandboxLineItem[]> {
    let q = this.db.selectFrom('sandbox_line_items').selectAll();
    if (filter.resourceLinkId) q = q.where('resource_link_id', '=', filter.resourceLinkId);
    if (filter.resourceId) q = q.where('resource_id', '=', filter.resourceId);
    if (filter.tag) q = q.where('tag', '=', filter.tag);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, label: r.label, scoreMaximum: Number(r.score_maximum), resourceId: r.resource_id, resourceLinkId: r.resource_link_id, tag: r.tag }));
  }

  async lineItem(id: string): Promise<SandboxLineItem> {
    const row = await this.db.selectFrom('sandbox_line_items').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `The sandbox has no line item ${id}.`);
    return { id: row.id, label: row.label, scoreMaximum: Number(row.score_maximum), resourceId: row.resource_id, resourceLinkId: row.resource_link_id, tag: row.tag };
  }

  lineItemJson(item: SandboxLineItem): Record<string, unknown> {
    return {
      id: this.lineItemUrl(item.id),
      label: item.label,
      scoreMaximum: item.scoreMaximum,
      ...(item.resourceId ? { resourceId: item.resourceId } : {}),
      ...(item.resourceLinkId ? { resourceLinkId: item.resourceLinkId } : {}),
      ...(item.tag ? { tag: item.tag } : {}),
    };
  }

  async createLineItem(body: unknown): Promise<SandboxLineItem> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof b.label !== 'string' || !b.label.trim() || typeof b.scoreMaximum !== 'number' || !(b.scoreMaximum > 0)) {
      throw invalid('A line item needs a label and a positive scoreMaximum.');
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 255) : null);
    const item = { id: newId('sbli'), label: b.label.slice(0, 1024), score_maximum: b.scoreMaximum, resource_id: str(b.resourceId), resource_link_id: str(b.resourceLinkId), tag: str(b.tag), created_at: this.clock.now() };
    await this.db.insertInto('sandbox_line_items').values(item).execute();
    return this.lineItem(item.id);
  }

  /** AGS Score (§3.4): checked as an LMS would, then kept (every score, in arrival order). */
  async postScore(lineItemId: string, body: unknown): Promise<void> {
    await this.lineItem(lineItemId);
    const s = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const activity = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'];
    const grading = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'];
    const problems = [
      (typeof s.userId !== 'string' || !memberBySub(s.userId)) && 'userId',
      (typeof s.timestamp !== 'string' || Number.isNaN(Date.parse(s.timestamp))) && 'timestamp',
      !activity.includes(s.activityProgress as string) && 'activityProgress',
      !grading.includes(s.gradingProgress as string) && 'gradingProgress',
      s.scoreGiven !== undefined && (typeof s.scoreGiven !== 'number' || s.scoreGiven < 0) && 'scoreGiven',
      s.scoreGiven !== undefined && (typeof s.scoreMaximum !== 'number' || !(s.scoreMaximum > 0)) && 'scoreMaximum',
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length) throw invalid(`The score is invalid: ${problems.join(', ')}.`, { problems });
    await this.db
      .insertInto('sandbox_scores')
      .values({
        id: newId('sbs'),
        line_item_id: lineItemId,
        user_id: s.userId as string,
        score_given: typeof s.scoreGiven === 'number' ? s.scoreGiven : null,
        score_maximum: typeof s.scoreMaximum === 'number' ? s.scoreMaximum : null,
        activity_progress: s.activityProgress as string,
        grading_progress: s.gradingProgress as string,
        comment: typeof s.comment === 'string' ? s.comment.slice(0, 4000) : null,
        timestamp: s.timestamp as string,
        received_at: this.clock.now(),
      })
      .execute();
  }

  /** Every score received, oldest first. */
  async scores(lineItemId?: string): Promise<SandboxScore[]> {
    let q = this.db.selectFrom('sandbox_scores').selectAll();
    if (lineItemId) q = q.where('line_item_id', '=', lineItemId);
    const rows = await q.orderBy('received_at').orderBy('id').execute();
    return rows.map((r) => ({
      lineItemId: r.line_item_id,
      userId: r.user_id,
      scoreGiven: r.score_given === null ? null : Number(r.score_given),
      scoreMaximum: r.score_maximum === null ? null : Number(r.score_maximum),
      activityProgress: r.activity_progress,
      gradingProgress: r.grading_progress,
      comment: r.comment,
      timestamp: r.timestamp,
      receivedAt: Number(r.received_at),
    }));
  }

  /** The gradebook cell of each learner: their latest score (by the score's own timestamp). */
  async latestScores(lineItemId: string): Promise<Map<string, SandboxScore>> {
    const latest = new Map<string, SandboxScore>();
    for (const s of await this.scores(lineItemId)) {
      const prev = latest.get(s.userId);
      if (!prev || Date.parse(s.timestamp) >= Date.parse(prev.timestamp)) latest.set(s.userId, s);
    }
    return latest;
  }

  /** AGS results: the latest fully graded score of each user. */
  async results(lineItemId: string, userId?: string): Promise<Record<string, unknown>[]> {
    const item = await this.lineItem(lineItemId);
    const out: Record<string, unknown>[] = [];
    for (const [user, s] of await this.latestScores(lineItemId)) {
      if (userId && user !== userId) continue;
      if (s.gradingProgress !== 'FullyGraded' || s.scoreGiven === null) continue;
      const max = s.scoreMaximum ?? item.scoreMaximum;
      out.push({
        id: `${this.lineItemUrl(lineItemId)}/results/${encodeURIComponent(user)}`,
        scoreOf: this.lineItemUrl(lineItemId),
        userId: user,
        resultScore: (s.scoreGiven / max) * item.scoreMaximum,
        resultMaximum: item.scoreMaximum,
        ...(s.comment ? { comment: s.comment } : {}),
      });
    }
    return out;
  }

  // ---- NRPS ----

  memberships(): Record<string, unknown> {
    return {
      id: this.urls.memberships,
      context: { id: SANDBOX_COURSE.id, label: SANDBOX_COURSE.label, title: SANDBOX_COURSE.title },
      members: SANDBOX_MEMBERS.map((m) => ({
        status: 'Active',
        user_id: m.sub,
        name: m.name,
        given_name: m.givenName,
        family_name: m.familyName,
        email: m.email,
        roles: rolesOf(m),
      })),
    };
  }
}

function opens(key: Buffer, sealed: string, aad: string): boolean {
  try {
    open(key, sealed, aad);
    return true;
  } catch {
    return false;
  }
}
