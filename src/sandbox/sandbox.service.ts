import type { JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.service.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';
import type { PlatformService } from '../platforms/platform.service.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { SandboxAgs } from './sandbox-ags.js';
import { SandboxDeepLinking } from './sandbox-deep-linking.js';
import { latestScores } from './sandbox-gradebook.js';
import { SandboxKeys } from './sandbox-keys.js';
import { SandboxLaunch } from './sandbox-launch.js';
import { sandboxMemberships } from './sandbox-nrps.js';
import { SandboxOAuth } from './sandbox-oauth.js';
import { SandboxUrls } from './sandbox-platform.js';
import { registerSandbox } from './sandbox-registration.js';
import { listScores, type SandboxLineItem, type SandboxLink, type SandboxScore } from './sandbox.repository.js';

// The HTTP adapter imports the score type from here.

/*
 * The sandbox LMS: a real LTI 1.3 platform inside Courseport, at /sandbox. It has its own RSA
 * key (encrypted at rest like the tool's keys), registers itself as a platform like any LMS,
 * and speaks the protocol over HTTP: OIDC auth (form_post id_token), deep linking return
 * (verified against the tool's JWKS), OAuth client credentials (client assertions verified
 * against the tool's JWKS, jti single use), AGS line items/scores/results and NRPS.
 * Nothing is shortcut: the tool validates the sandbox's launches exactly like those of every other LMS.
 *
 * This class assembles the LMS from its parts, one file per role: sandbox-registration,
 * sandbox-keys, sandbox-launch (login and OIDC auth), sandbox-deep-linking, sandbox-oauth,
 * sandbox-ags, sandbox-nrps, sandbox-gradebook.
 */

export interface SandboxOptions {
  readonly baseUrl: string;
  readonly secret: string;
}

export class SandboxService {
  readonly issuer: string;
  readonly urls: SandboxUrls;
  private readonly keys: SandboxKeys;
  private readonly launch: SandboxLaunch;
  private readonly deepLinking: SandboxDeepLinking;
  private readonly oauth: SandboxOAuth;
  private readonly ags: SandboxAgs;

  constructor(
    private readonly db: Kysely<Database>,
    toolKeys: ToolKeyService,
    private readonly platforms: PlatformService,
    private readonly audit: AuditLog,
    clock: Clock,
    options: SandboxOptions,
  ) {
    this.urls = new SandboxUrls(options.baseUrl);
    this.issuer = this.urls.issuer;
    this.keys = new SandboxKeys(db, clock, options.secret);
    this.deepLinking = new SandboxDeepLinking(db, toolKeys, clock, this.urls, options.secret);
    this.launch = new SandboxLaunch(db, this.keys, this.deepLinking, clock, this.urls, options.secret);
    this.oauth = new SandboxOAuth(db, toolKeys, clock, this.urls, options.secret);
    this.ags = new SandboxAgs(db, clock, this.urls);
  }

  lineItemUrl(id: string): string {
    return this.urls.lineItem(id);
  }

  /** At start: the sandbox's key exists and the sandbox is registered as a platform (active) with its deployment. */
  async ensureReady(): Promise<{ platformId: string; created: boolean }> {
    await this.keys.signingKey();
    return registerSandbox({ db: this.db, platforms: this.platforms, audit: this.audit, urls: this.urls });
  }

  // ---- keys ----

  reencryptKeys(oldSecret: string, db: Kysely<Database> = this.db): Promise<{ reencrypted: string[]; unchanged: string[] }> {
    return this.keys.reencrypt(oldSecret, db);
  }

  jwks(): Promise<{ keys: JWK[] }> {
    return this.keys.jwks();
  }

  // ---- the course and launching ----

  links(): Promise<SandboxLink[]> {
    return this.launch.links();
  }

  link(id: unknown): Promise<SandboxLink> {
    return this.launch.link(id);
  }

  loginForm(input: { user: unknown; link?: unknown; deepLink: boolean }): Promise<Record<string, string>> {
    return this.launch.loginForm(input);
  }

  authenticate(q: Readonly<Record<string, unknown>>): Promise<{ redirectUri: string; idToken: string; state: string }> {
    return this.launch.authenticate(q);
  }

  receiveDeepLinkingResponse(jwt: unknown): Promise<{ added: SandboxLink[]; message: string | undefined }> {
    return this.deepLinking.receive(jwt);
  }

  // ---- OAuth 2 client credentials ----

  token(form: Readonly<Record<string, unknown>>): Promise<{ status: number; body: Record<string, unknown> }> {
    return this.oauth.token(form);
  }

  authorize(authorization: string | undefined, anyOf: readonly string[]): void {
    this.oauth.authorize(authorization, anyOf);
  }

  // ---- AGS ----

  lineItems(filter: { resourceLinkId?: string | undefined; resourceId?: string | undefined; tag?: string | undefined } = {}): Promise<SandboxLineItem[]> {
    return this.ags.lineItems(filter);
  }

  lineItem(id: string): Promise<SandboxLineItem> {
    return this.ags.lineItem(id);
  }

  lineItemJson(item: SandboxLineItem): Record<string, unknown> {
    return this.ags.lineItemJson(item);
  }

  createLineItem(body: unknown): Promise<SandboxLineItem> {
    return this.ags.createLineItem(body);
  }

  postScore(lineItemId: string, body: unknown): Promise<void> {
    return this.ags.postScore(lineItemId, body);
  }

  results(lineItemId: string, userId?: string): Promise<Record<string, unknown>[]> {
    return this.ags.results(lineItemId, userId);
  }

  // ---- NRPS ----

  memberships(): Record<string, unknown> {
    return sandboxMemberships(this.urls);
  }

  // ---- gradebook ----

  /** Every score received, oldest first. */
  scores(lineItemId?: string): Promise<SandboxScore[]> {
    return listScores(this.db, lineItemId);
  }

  latestScores(lineItemId: string): Promise<Map<string, SandboxScore>> {
    return latestScores(this.db, lineItemId);
  }
}
