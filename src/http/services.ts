import type { AdminAccounts } from '../admin/admin-accounts.service.js';
import type { AdminTokenService } from '../admin/admin-tokens.service.js';
import type { AgsClient } from '../lti/ags.js';
import type { AuditLog } from '../audit/audit-log.service.js';
import type { DeepLinkingAnswer } from '../launch/deep-linking-answer.js';
import type { DispatchService } from '../dispatch/dispatch.service.js';
import type { LaunchFlow } from '../launch/launch-flow.js';
import type { LaunchService } from '../launch/launch.service.js';
import type { SignedTokens } from '../util/signed-tokens.js';
import type { LocalContentStore } from '../content/content-store.js';
import type { PackageService } from '../packages/package.service.js';
import type { PackageAdmin } from '../packages/package-admin.js';
import type { PlatformKeyStatusService } from '../platforms/platform-key-status.service.js';
import type { PlatformKeys } from '../lti/platform-keys.js';
import type { PlatformService } from '../platforms/platform.service.js';
import type { Player } from '../play/player.js';
import type { ProgressService } from '../rosters/progress.service.js';
import type { RegistrationService } from '../platforms/registration.service.js';
import type { RosterService } from '../rosters/roster.service.js';
import type { RuntimeService } from '../attempts/runtime.service.js';
import type { SafeFetch } from '../util/safe-fetch.js';
import type { SandboxService } from '../sandbox/sandbox.service.js';
import type { ServiceTokens } from '../oauth/service-tokens.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';

/**
 * The services the HTTP adapters and the CLI are given, wired once by src/container.ts. Declared
 * here, below the composition root, so that adapters can name it without importing the root.
 */
export interface Services {
  readonly toolKeys: ToolKeyService;
  readonly serviceTokens: ServiceTokens;
  readonly ags: AgsClient;
  readonly rosters: RosterService;
  readonly progress: ProgressService;
  readonly platformKeys: PlatformKeys;
  /** Health of the platforms' JWKS endpoints (the platforms page, API, CLI). */
  readonly platformKeyStatus: PlatformKeyStatusService;
  readonly platforms: PlatformService;
  readonly adminTokens: AdminTokenService;
  readonly audit: AuditLog;
  readonly launches: LaunchService;
  readonly launchTokens: SignedTokens;
  readonly playTokens: SignedTokens;
  readonly contentTokens: SignedTokens;
  readonly pickerTokens: SignedTokens;
  readonly content: LocalContentStore;
  readonly packages: PackageService;
  /** Rename, delete and preview packages (console, API, CLI). */
  readonly packageAdmin: PackageAdmin;
  readonly runtime: RuntimeService;
  readonly dispatch: DispatchService;
  readonly fetch: SafeFetch;
  /** Administrators, sessions, sign-in throttle. */
  readonly admins: AdminAccounts;
  readonly registration: RegistrationService;
  /** The sandbox LMS (its routes are served only when config.sandbox is on). */
  readonly sandbox: SandboxService;
  /** The player use case (player page, learner, token renewal). */
  readonly player: Player;
  /** The deep linking use case (picker, signed answer). */
  readonly deepLinking: DeepLinkingAnswer;
  /** The launch use case: LTI checks, then player, picker or launch page. */
  readonly launchFlow: LaunchFlow;
}
