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

/*
 * The services of Courseport, wired once. Shared by the HTTP app and the CLI; nothing here
 * imports the HTTP framework, so the CLI stays light.
 */

export const USER_AGENT = 'Courseport/0.1 (LTI 1.3 tool; +https://github.com/courseport)';

export interface Services {
  readonly toolKeys: ToolKeyService;
  readonly serviceTokens: ServiceTokens;
  readonly ags: AgsClient;
  readonly rosters: RosterService;
  readonly platformKeys: PlatformKeys;
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
  readonly runtime: RuntimeService;
  /** issue 10: content dispatch. */
  readonly dispatch: DispatchService;
  readonly fetch: SafeFetch;
  /** Admin console (issue 7): administrators, sessions, sign-in throttle. */
  readonly admins: AdminAccounts;
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
    });
  const content = new LocalContentStore(join(config.dataDir, 'content'));
  const packages = new PackageService(store.db, content, clock, {
    maxEntries: config.packages.maxEntries,
    maxTotalBytes: config.packages.maxTotalBytes,
    maxCompressionRatio: config.packages.maxCompressionRatio,
  });
  const platformKeys = new PlatformKeys({ fetch, timeoutMs: config.http.timeoutMs, cacheMaxAgeMs: config.jwks.cacheMaxAgeMs, cooldownMs: config.jwks.cooldownMs });
  const toolKeys = new ToolKeyService(store.db, config.secret, clock);
  const serviceTokens = new ServiceTokens(toolKeys, fetch, clock);
  const runtime = new RuntimeService(store.db, packages, clock, { newAttemptAfterCompletion: config.player.newAttemptAfterCompletion });
  return {
    fetch,
    platformKeys,
    toolKeys,
    serviceTokens,
    ags: new AgsClient(fetch, serviceTokens, () => clock.now()),
    rosters: new RosterService(store.db, fetch, serviceTokens, clock),
    platforms: new PlatformService(store.db, clock, { requireHttps: config.env === 'production' }),
    adminTokens: new AdminTokenService(store.db, clock),
    audit: new AuditLog(store.db, clock),
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
    runtime,
    // issue 10: content dispatch
    dispatch: new DispatchService(store.db, runtime, packages, clock, deriveKey(config.secret, 'dispatch-secret')),
    // admin console (issue 7)
    admins: new AdminAccounts(store.db, store.dialect, clock, config.admin),
  };
}

/** Builds the Fastify instance; never listens (server.ts does, tests use inject). */
