import { join } from 'node:path';
import type { Config } from './config/config.js';
import { LocalContentStore } from './content/content-store.js';
import { AppError } from './errors/app-error.js';
import { deriveKey } from './keys/secret-box.js';
import { ToolKeyService } from './keys/tool-keys.service.js';
import { LaunchService } from './launch/launch.service.js';
import { SignedTokens } from './util/signed-tokens.js';
import { PlatformKeys } from './lti/platform-keys.js';
import { AgsClient } from './lti/ags.js';
import { ServiceTokens } from './oauth/service-tokens.js';
import { RosterService } from './rosters/roster.service.js';
import { ProgressService } from './rosters/progress.service.js';
import { PackageService } from './packages/package.service.js';
import { PackageAdmin } from './packages/package-admin.js';
import { RuntimeService } from './attempts/runtime.service.js';
import { DispatchService } from './dispatch/dispatch.service.js';
import type { Store } from './store/database.js';
import { systemClock, type Clock } from './util/clock.js';
import { createSafeFetch, type SafeFetch } from './util/safe-fetch.js';
import { AdminTokenService } from './admin/admin-tokens.service.js';
import { AdminAccounts } from './admin/admin-accounts.service.js';
import { AuditLog } from './audit/audit-log.service.js';
import { PlatformService } from './platforms/platform.service.js';
import { RegistrationService } from './platforms/registration.service.js';
import { SandboxService } from './sandbox/sandbox.service.js';
import { PlatformKeyStatusService } from './platforms/platform-key-status.service.js';
import { Player } from './play/player.js';
import { DeepLinkingAnswer } from './launch/deep-linking-answer.js';
import { LaunchFlow } from './launch/launch-flow.js';
import type { Services } from './http/services.js';

export type { Services } from './http/services.js';

/*
 * The services of Courseport, wired once. Shared by the HTTP app and the CLI; nothing here
 * imports the HTTP framework, so the CLI stays light.
 */

/** How long an administrator has to confirm a dynamic registration. */
const REGISTRATION_SESSION_TTL_MS = 30 * 60 * 1000;

export const USER_AGENT = 'Courseport/0.1 (LTI 1.3 tool; +https://github.com/courseport)';

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
  // Platform key sets keep their last good keys while the endpoint fails, and record their health.
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
  // The key schedule from config; rotations are audited in their own transaction.
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
  const rosters = new RosterService(store.db, fetch, serviceTokens, clock);
  const launches = new LaunchService(store.db, platformKeys, clock, {
    baseUrl: config.baseUrl,
    loginStateTtlMs: config.lti.loginStateTtlMs,
    clockSkewMs: config.lti.clockSkewMs,
    launchTtlMs: config.lti.launchTokenTtlMs,
  });
  const launchTokens = new SignedTokens(deriveKey(config.secret, 'launch-token'), config.lti.launchTokenTtlMs);
  const playTokens = new SignedTokens(deriveKey(config.secret, 'play-token'), config.player.tokenTtlMs);
  const contentTokens = new SignedTokens(deriveKey(config.secret, 'content-token'), config.player.tokenTtlMs, {
    invalid: () => new AppError('CONTENT_TOKEN_INVALID', 'This content link is invalid.'),
    expired: () => new AppError('CONTENT_TOKEN_INVALID', 'This content link has expired.', { hint: 'Reload the activity from the LMS.' }),
  });
  const pickerTokens = new SignedTokens(deriveKey(config.secret, 'picker-token'), config.lti.launchTokenTtlMs);
  const dispatch = new DispatchService(store.db, runtime, packages, clock, deriveKey(config.secret, 'dispatch-secret'));
  const player = new Player({ db: store.db, runtime, playTokens, contentTokens, dispatch, clock });
  const deepLinking = new DeepLinkingAnswer({ db: store.db, pickerTokens, toolKeys, clock, baseUrl: config.baseUrl });
  return {
    fetch,
    platformKeys,
    platformKeyStatus,
    toolKeys,
    serviceTokens,
    ags: new AgsClient(fetch, serviceTokens, () => clock.now()),
    rosters,
    progress: new ProgressService({ db: store.db, launchTokens, rosters, clock, rosterMaxAgeMs: config.rosterMaxAgeMs }),
    platforms,
    adminTokens: new AdminTokenService(store.db, clock),
    audit,
    registration: new RegistrationService(store.db, fetch, platforms, audit, clock, {
      baseUrl: config.baseUrl,
      requireHttps: !config.security.allowHttpPlatforms,
      autoActivate: config.registration.autoActivate,
      sessionTtlMs: REGISTRATION_SESSION_TTL_MS,
      sealKey: deriveKey(config.secret, 'registration-token'),
      tool: { name: 'Courseport', description: 'SCORM courses from Courseport, launched and graded through LTI 1.3.' },
    }),
    sandbox: new SandboxService(store.db, toolKeys, platforms, audit, clock, { baseUrl: config.baseUrl, secret: config.secret }),
    launches,
    launchTokens,
    playTokens,
    contentTokens,
    pickerTokens,
    player,
    deepLinking,
    launchFlow: new LaunchFlow({ launches, runtime, player, deepLinking, launchTokens, db: store.db, clock }),
    content,
    packages,
    packageAdmin: new PackageAdmin(store.db, store.dialect, content, clock),
    runtime,
    dispatch: new DispatchService(store.db, runtime, packages, clock, deriveKey(config.secret, 'dispatch-secret')),
    admins: new AdminAccounts(store.db, store.dialect, clock, config.admin),
  };
}

/** Builds the Fastify instance; never listens (server.ts does, tests use inject). */
