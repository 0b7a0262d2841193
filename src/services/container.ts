import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { LocalContentStore } from '../content/content-store.js';
import { AppError } from '../errors/app-error.js';
import { deriveKey } from '../keys/secret-box.js';
import { ToolKeyService } from '../keys/tool-keys.js';
import { LaunchService } from '../lti/launch-service.js';
import { LaunchTokens } from '../lti/launch-token.js';
import { PlatformKeys } from '../lti/platform-keys.js';
import { AgsClient } from '../lti/ags.js';
import { ServiceTokens } from '../oauth/service-tokens.js';
import { RosterService } from '../rosters/roster-service.js';
import { PackageService } from '../scorm/package-service.js';
import { PackageAdmin } from '../packages/package-admin.js';
import { RuntimeService } from '../scorm/runtime-service.js';
// issue 10: content dispatch
import { DispatchService } from '../dispatch/dispatch-service.js';
import type { Store } from '../store/database.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createSafeFetch, type SafeFetch } from '../util/safe-fetch.js';
import { AdminTokenService } from './admin-tokens.js';
import { AdminAccounts } from './admin-accounts.js';
import { AuditLog } from './audit-log.js';
import { PlatformService } from './platforms.js';
import { RegistrationService } from './registration.js';
import { SandboxService } from '../sandbox/sandbox-service.js';
import { PlatformKeyStatusService } from './platform-key-status.js';

/*
 * The services of Courseport, wired once. Shared by the HTTP app and the CLI; nothing here
 * imports the HTTP framework, so the CLI stays light.
 */

/** How long an administrator has to confirm a dynamic registration. */
const REGISTRATION_SESSION_TTL_MS = 30 * 60 * 1000;

export const USER_AGENT = 'Courseport/0.1 (LTI 1.3 tool; +https://github.com/courseport)';

export interface Services {
  readonly toolKeys: ToolKeyService;
  readonly serviceTokens: ServiceTokens;
  readonly ags: AgsClient;
  readonly rosters: RosterService;
  readonly platformKeys: PlatformKeys;
  /** Issue 8: health of the platforms' JWKS endpoints (the platforms page, API, CLI). */
  readonly platformKeyStatus: PlatformKeyStatusService;
  readonly platforms: PlatformService;
  readonly adminTokens: AdminTokenService;
  readonly audit: AuditLog;
  readonly launches: LaunchService;
  readonly launchTokens: LaunchTokens;
  readonly playTokens: LaunchTokens;
  readonly contentTokens: LaunchTokens;
  readonly pickerTokens: LaunchTokens;
  readonly content: LocalContentStore;
  readonly packages: PackageService;
  /** Rename, delete and preview packages (console, API, CLI). */
  readonly packageAdmin: PackageAdmin;
  readonly runtime: RuntimeService;
  /** issue 10: content dispatch. */
  readonly dispatch: DispatchService;
  readonly fetch: SafeFetch;
  /** Admin console (issue 7): administrators, sessions, sign-in throttle. */
  readonly admins: AdminAccounts;
  // issue 7: LTI Dynamic Registration
  readonly registration: RegistrationService;
  // issue 7: the sandbox LMS (its routes are served only when config.sandbox is on)
  readonly sandbox: SandboxService;
}

/** Wires the services; shared by the HTTP app and the CLI. */
export function createServices(config: Config, store: Store, clock: Clock = systemClock, fetchImpl?: SafeFetch): Services {
  const fetch =
    fetchImpl ??
    createSafeFetch({
      timeoutMs: config.http.timeoutMs,
      maxResponseBytes: config.http.maxResponseBytes,
      blockPrivateNetwork: config.http.blockPrivateNetwork,
      userAgent: USER_AGENT,
      requireHttps: !config.security.allowHttpPlatforms,
    });
  const content = new LocalContentStore(join(config.dataDir, 'content'));
  const packages = new PackageService(store.db, content, clock, {
    maxEntries: config.packages.maxEntries,
    maxTotalBytes: config.packages.maxTotalBytes,
    maxCompressionRatio: config.packages.maxCompressionRatio,
  });
  // Issue 8: platform key sets keep their last good keys while the endpoint fails, and record their health.
  const platformKeyStatus = new PlatformKeyStatusService(store.db, clock, config.jwks.staleLimitMs);
  const platformKeys = new PlatformKeys({
    fetch,
    timeoutMs: config.http.timeoutMs,
    cacheMaxAgeMs: config.jwks.cacheMaxAgeMs,
    cooldownMs: config.jwks.cooldownMs,
    staleLimitMs: config.jwks.staleLimitMs,
    clock,
    statusSink: platformKeyStatus.record,
  });
  const audit = new AuditLog(store.db, clock);
  // Issue 8: the key schedule from config; rotations are audited in their own transaction.
  const toolKeys = new ToolKeyService(
    store.db,
    config.secret,
    clock,
    { rotateEveryMs: config.keys.rotateEveryMs, publishBeforeUseMs: config.keys.publishBeforeUseMs, retiredOverlapMs: config.keys.retiredOverlapMs },
    { dialect: store.dialect, audit },
  );
  const serviceTokens = new ServiceTokens(toolKeys, fetch, clock);
  const platforms = new PlatformService(store.db, clock, { requireHttps: !config.security.allowHttpPlatforms });
  const runtime = new RuntimeService(store.db, packages, clock, { newAttemptAfterCompletion: config.player.newAttemptAfterCompletion });
  return {
    fetch,
    platformKeys,
    platformKeyStatus,
    toolKeys,
    serviceTokens,
    ags: new AgsClient(fetch, serviceTokens, () => clock.now()),
    rosters: new RosterService(store.db, fetch, serviceTokens, clock),
    platforms,
    adminTokens: new AdminTokenService(store.db, clock),
    audit,
    // issue 7: LTI Dynamic Registration
    registration: new RegistrationService(store.db, fetch, platforms, audit, clock, {
      baseUrl: config.baseUrl,
      requireHttps: !config.security.allowHttpPlatforms,
      autoActivate: config.registration.autoActivate,
      sessionTtlMs: REGISTRATION_SESSION_TTL_MS,
      sealKey: deriveKey(config.secret, 'registration-token'),
      tool: { name: 'Courseport', description: 'SCORM courses from Courseport, launched and graded through LTI 1.3.' },
    }),
    sandbox: new SandboxService(store.db, toolKeys, platforms, audit, clock, { baseUrl: config.baseUrl, secret: config.secret }),
    launches: new LaunchService(store.db, platformKeys, clock, {
      baseUrl: config.baseUrl,
      loginStateTtlMs: config.lti.loginStateTtlMs,
      clockSkewMs: config.lti.clockSkewMs,
      launchTtlMs: config.lti.launchTokenTtlMs,
    }),
    launchTokens: new LaunchTokens(deriveKey(config.secret, 'launch-token'), config.lti.launchTokenTtlMs),
    playTokens: new LaunchTokens(deriveKey(config.secret, 'play-token'), config.player.tokenTtlMs),
    contentTokens: new LaunchTokens(deriveKey(config.secret, 'content-token'), config.player.tokenTtlMs, {
      invalid: () => new AppError('CONTENT_TOKEN_INVALID', 'This content link is invalid.'),
      expired: () => new AppError('CONTENT_TOKEN_INVALID', 'This content link has expired.', { hint: 'Reload the activity from the LMS.' }),
    }),
    pickerTokens: new LaunchTokens(deriveKey(config.secret, 'picker-token'), config.lti.launchTokenTtlMs),
    content,
    packages,
    packageAdmin: new PackageAdmin(store.db, store.dialect, content, clock),
    runtime,
    // issue 10: content dispatch
    dispatch: new DispatchService(store.db, runtime, packages, clock, deriveKey(config.secret, 'dispatch-secret')),
    // admin console (issue 7)
    admins: new AdminAccounts(store.db, store.dialect, clock, config.admin),
  };
}

/** Builds the Fastify instance; never listens (server.ts does, tests use inject). */
