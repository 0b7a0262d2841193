import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.service.js';
import { AppError } from '../errors/app-error.js';
import { findDeployment, findPlatform } from '../platforms/platform.repository.js';
import type { PlatformService } from '../platforms/platform.service.js';
import type { Database } from '../store/tables.js';
import { SANDBOX_CLIENT_ID, SANDBOX_DEPLOYMENT_ID, type SandboxUrls } from './sandbox-platform.js';

/**
 * The sandbox registers itself at the tool like any LMS (an active platform with its
 * deployment), through the same PlatformService an administrator uses.
 */
export async function registerSandbox(deps: {
  db: Kysely<Database>;
  platforms: PlatformService;
  audit: AuditLog;
  urls: SandboxUrls;
}): Promise<{ platformId: string; created: boolean }> {
  const { db, platforms, audit, urls } = deps;
  const existing = await findPlatform(db, urls.issuer, SANDBOX_CLIENT_ID);
  if (existing) {
    if (!(await findDeployment(db, existing.id, SANDBOX_DEPLOYMENT_ID))) await platforms.addDeployment(existing.id, SANDBOX_DEPLOYMENT_ID);
    return { platformId: existing.id, created: false };
  }
  try {
    const { platform } = await platforms.register({
      issuer: urls.issuer,
      clientId: SANDBOX_CLIENT_ID,
      authUrl: urls.auth,
      tokenUrl: urls.token,
      jwksUrl: urls.jwks,
      name: 'Courseport sandbox',
      deployments: [SANDBOX_DEPLOYMENT_ID],
    });
    await audit.record({
      actor: 'system',
      action: 'platform.register',
      target: platform.id,
      details: { method: 'sandbox', issuer: platform.issuer, clientId: platform.client_id },
    });
    return { platformId: platform.id, created: true };
  } catch (err) {
    // Another process registered it at the same moment.
    if (err instanceof AppError && err.code === 'PLATFORM_EXISTS') {
      const again = await findPlatform(db, urls.issuer, SANDBOX_CLIENT_ID);
      if (again) return { platformId: again.id, created: false };
    }
    throw err;
  }
}
