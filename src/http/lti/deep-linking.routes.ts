import type { FastifyInstance, FastifyReply } from 'fastify';
import { SignJWT, type JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../../errors/app-error.js';
import type { ToolKeyService } from '../../keys/tool-keys.service.js';
import { buildDeepLinkingResponse, parseDeepLinkingSettings, type ChosenPackage } from '../../lti/deep-linking.js';
import type { LaunchTokens } from '../../util/signed-tokens.js';
import { listCatalogue } from '../../packages/package.repository.js';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { randomToken } from '../../util/ids.js';
import { PickerPage, ReturnToPlatformPage } from '../../web/picker-page.js';

export interface DeepLinkingDeps {
  readonly db: Kysely<Database>;
  readonly pickerTokens: LaunchTokens;
  readonly toolKeys: ToolKeyService;
  readonly clock: Clock;
  readonly baseUrl: string;
}

/** Deep linking responses live for a few minutes: the platform reads them at once. */
const RESPONSE_TTL_SECONDS = 300;

async function launchOf(deps: DeepLinkingDeps, launchId: string) {
  const row = await deps.db
    .selectFrom('launches as l')
    .innerJoin('platforms as p', 'p.id', 'l.platform_id')
    .innerJoin('deployments as d', 'd.id', 'l.deployment_id')
    .leftJoin('contexts as c', 'c.id', 'l.context_id')
    .select(['l.claims as claims', 'p.client_id as clientId', 'p.issuer as issuer', 'p.status as status', 'd.deployment_id as deploymentId', 'c.title as courseTitle'])
    .where('l.id', '=', launchId)
    .executeTakeFirst();
  if (!row) throw new AppError('LAUNCH_TOKEN_INVALID', 'This content picker is no longer valid.', { hint: 'Open the content selection again from the LMS.' });
  return { ...row, settings: parseDeepLinkingSettings(JSON.parse(row.claims) as JWTPayload) };
}

/** The picker for a validated deep linking launch (right after the launch, or after a search). */
export async function renderPicker(deps: DeepLinkingDeps, reply: FastifyReply, launchId: string, token: string, query = ''): Promise<FastifyReply> {
  const launch = await launchOf(deps, launchId);
  const all = await listCatalogue(deps.db);
  const q = query.trim().toLowerCase();
  const html = PickerPage({
    token,
    query: query.trim(),
    packages: q ? all.filter((p) => p.title.toLowerCase().includes(q)) : all,
    total: all.length,
    multiple: launch.settings.acceptMultiple,
    courseTitle: launch.courseTitle,
  });
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

export function deepLinkingRoutes(app: FastifyInstance, deps: DeepLinkingDeps): void {
  const launchIdOf = (token: string | undefined) => deps.pickerTokens.verify(token, deps.clock.now());

  app.get('/lti/deep-link/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const q = (request.query as { q?: unknown }).q;
    return renderPicker(deps, reply, launchIdOf(token), token, typeof q === 'string' ? q.slice(0, 200) : '');
  });

  app.post('/lti/deep-link/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const launchId = launchIdOf(token);
    const launch = await launchOf(deps, launchId);
    if (launch.status !== 'active') throw new AppError('LTI_PLATFORM_DISABLED', 'Launches from this LMS are disabled in Courseport.');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const cancel = body.action === 'cancel';
    const requested = ([] as unknown[]).concat(body.package ?? []).filter((v): v is string => typeof v === 'string');
    let chosen: ChosenPackage[] = [];
    if (!cancel) {
      if (requested.length === 0) throw new AppError('DEEP_LINKING_INVALID_SELECTION', 'Choose at least one package, or Cancel.');
      const catalogue = new Map((await listCatalogue(deps.db)).map((p) => [p.id, p]));
      chosen = [...new Set(requested)].map((id) => {
        const p = catalogue.get(id);
        if (!p) throw new AppError('DEEP_LINKING_INVALID_SELECTION', `Package ${id} is not in the catalogue.`);
        return { id: p.id, title: p.title, description: p.description, scored: p.scored };
      });
    }
    const message = cancel ? 'No content was added.' : `Added ${chosen.length === 1 ? `“${chosen[0]!.title}”` : `${chosen.length} items`} from Courseport.`;
    const claims = buildDeepLinkingResponse(
      launch.settings,
      chosen,
      { clientId: launch.clientId, issuer: launch.issuer, deploymentId: launch.deploymentId, launchUrl: `${deps.baseUrl}/lti/launch`, nonce: randomToken(16) },
      message,
    );
    const key = await deps.toolKeys.signingKey();
    const nowSec = Math.floor(deps.clock.now() / 1000);
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + RESPONSE_TTL_SECONDS)
      .sign(key.key);
    // One answer per request (marked only once it is ready to go): a double submit would make the LMS create the items twice.
    const answered = await deps.db.updateTable('launches').set({ responded_at: deps.clock.now() }).where('id', '=', launchId).where('responded_at', 'is', null).executeTakeFirst();
    if (Number(answered.numUpdatedRows) !== 1) {
      throw new AppError('DEEP_LINKING_ALREADY_ANSWERED', 'This selection has already been sent to your LMS.', { hint: 'Open the content selection again from the LMS to add more.' });
    }
    // The return URL may carry an LMS session key: only its origin is logged.
    request.log.info({ items: chosen.map((c) => c.id), cancel, returnTo: new URL(launch.settings.returnUrl).origin }, 'deep linking response');
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'strict-origin')
      .type('text/html; charset=utf-8')
      .send(ReturnToPlatformPage({ returnUrl: launch.settings.returnUrl, jwt, summary: message }));
  });
}
