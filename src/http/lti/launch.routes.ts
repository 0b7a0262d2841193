import { rosterKind } from '../../lti/roles.js';
import { canChooseContent, roleKinds } from '../../lti/roles.js';
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLAIM, MESSAGE_TYPE } from '../../lti/claims.js';
import { checkCanAnswer, parseDeepLinkingSettings } from '../../lti/deep-linking.js';
import { LtiError } from '../../errors/app-error.js';
import { renderPicker, type DeepLinkingDeps } from './deep-linking.routes.js';
import { progressUrl } from '../progress/progress.routes.js';
import { recordRosterEndpoint } from '../../rosters/roster.service.js';
import { renderPlayer, type PlayRouteDeps } from '../play/play.routes.js';
import { displayName } from '../../lti/id-token-claims.js';
import type { LaunchInput, LaunchService } from '../../launch/launch.service.js';
import { checkVerifiedOrigin, STORAGE_TIMEOUT_MS } from '../../lti/platform-storage.js';
import { LaunchResumePage, NewWindowPage, StorageLoginPage } from '../../web/launch-recovery-page.js';
import type { LaunchTokens } from '../../util/signed-tokens.js';
import { findLaunchView } from '../../launch/launch.repository.js';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { LaunchPage, type LaunchPageProps } from '../../web/launch-page.js';
import type { Kysely } from 'kysely';
import { AppError } from '../../errors/app-error.js';
import { originOf } from '../plugins/security-headers.js';

export interface LtiRouteDeps {
  readonly db: Kysely<Database>;
  readonly launches: LaunchService;
  readonly launchTokens: LaunchTokens;
  readonly play: PlayRouteDeps;
  readonly deepLinking: DeepLinkingDeps;
  readonly clock: Clock;
  readonly secureCookies: boolean;
  readonly loginStateTtlMs: number;
  /** Logins per client address and minute; 0 turns the limit off. */
  readonly loginRateLimitPerMinute: number;
  /** Issue 8: launches per client address and minute; 0 turns the limit off. */
  readonly launchRateLimitPerMinute?: number;
  /** Issue 8: a launch from a platform not yet in the LMS pages' frame-ancestors admits it at once. */
  readonly frameAncestors?: { admit(platform: { issuer: string; auth_url: string }, launchOrigins?: readonly string[]): string };
}

/**
 * The state cookie. Its name carries part of the state so that parallel launches in several
 * tabs do not collide; over https it is `__Secure-` prefixed (no other site or port can plant
 * it), `SameSite=None` (it must survive the platform's cross-site form post) and
 * `Partitioned` (CHIPS: browsers that block third-party cookies still keep it for the LMS
 * frame). Over plain http browsers refuse SameSite=None, so it is Lax (same-site LMS only).
 */
function stateCookie(secure: boolean, ttlMs: number) {
  const prefix = secure ? '__Secure-cp_lti_state_' : 'cp_lti_state_';
  const options = {
    path: '/lti/',
    httpOnly: true,
    secure,
    sameSite: secure ? ('none' as const) : ('lax' as const),
    ...(secure ? { partitioned: true } : {}),
  };
  return {
    name: (state: string) => `${prefix}${state.slice(0, 24)}`,
    setOptions: { ...options, maxAge: Math.floor(ttlMs / 1000) },
    clearOptions: options,
  };
}

export function ltiRoutes(app: FastifyInstance, deps: LtiRouteDeps): void {
  const cookie = stateCookie(deps.secureCookies, deps.loginStateTtlMs);
  const login = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = (request.method === 'POST' ? request.body : request.query) as Record<string, unknown> | undefined;
    // cp_window=1: the login re-runs in a top-level window opened from the tier-3 page.
    const topLevel = params?.cp_window === '1';
    const result = await deps.launches.startLogin(params ?? {}, { topLevel });
    // Tier 1, always: the state cookie (it may still come back, e.g. Partitioned over https).
    reply.setCookie(cookie.name(result.state), result.state, cookie.setOptions);
    request.log.info({ platform: result.platform.id, issuer: result.platform.issuer, platformStorage: result.storage !== undefined, topLevel }, 'LTI login started');
    reply.header('cache-control', 'no-store');
    if (result.storage) {
      // Tier 2: a page puts the proof in the platform's storage, then goes on to the auth URL.
      return reply.type('text/html; charset=utf-8').send(
        StorageLoginPage({ config: { mode: 'put', ...result.storage, authUrl: result.redirectUrl, timeoutMs: STORAGE_TIMEOUT_MS } }),
      );
    }
    return reply.redirect(result.redirectUrl, 302);
  };
  // Every login stores a state row: a per-address limit keeps a flood from filling the table.
  const loginOptions = deps.loginRateLimitPerMinute > 0 ? { config: { rateLimit: { max: deps.loginRateLimitPerMinute, timeWindow: 60_000 } } } : {};
  app.get('/lti/login', loginOptions, login);
  app.post('/lti/login', loginOptions, login);

  const launchLimit = deps.launchRateLimitPerMinute ? { rateLimit: { max: deps.launchRateLimitPerMinute, timeWindow: 60_000 } } : undefined;
  const launchOptions = { bodyLimit: 256 * 1024, ...(launchLimit ? { config: launchLimit } : {}) };
  app.post('/lti/launch', launchOptions, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const state = typeof body.state === 'string' ? body.state : undefined;
    const cookieState = state ? request.cookies[cookie.name(state)] : undefined;
    // The cookie has done its job whether or not the launch validates.
    if (cookieState !== undefined && state) reply.clearCookie(cookie.name(state), cookie.clearOptions);
    const input = { idToken: body.id_token, state: body.state, cookieState, platformError: body.error, platformErrorDescription: body.error_description };
    try {
      return await finishLaunch(request, reply, input);
    } catch (err) {
      if (!(err instanceof LtiError) || err.code !== 'LTI_STATE_COOKIE_MISSING') throw err;
      return recoverLaunch(request, reply, body, err);
    }
  });

  // Tier 2, second half: the proof retrieved from platform storage replaces the cookie.
  app.post('/lti/launch/verified', launchOptions, async (request, reply) => {
    checkVerifiedOrigin(request.headers.origin, deps.launches.redirectUri);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const value = body.storage_value;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      throw new LtiError('LTI_STORAGE_VALUE_MISMATCH', 'The launch carries no value from the LMS’s storage.', { details: { reason: 'missing' }, hint: 'Open the activity again from the LMS.' });
    }
    return finishLaunch(request, reply, { idToken: body.id_token, state: body.state, cookieState: undefined, storageValue: value, platformError: undefined, platformErrorDescription: undefined });
  });

  /**
   * The state cookie did not come back. In order: fetch the proof from platform storage (when the
   * login used it), else re-post once from our own page (same-site, so a Lax cookie set in a
   * top-level window comes along); after that re-post, the new-window page (tier 3).
   */
  async function recoverLaunch(request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>, err: LtiError) {
    const recovery = await deps.launches.launchRecovery(body.state);
    if (!recovery || typeof body.id_token !== 'string' || typeof body.state !== 'string') throw err;
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
    if (body.cp_recover !== 'resubmit') {
      request.log.warn({ code: err.code, status: err.status, platformStorage: recovery.storage !== undefined }, 'LTI launch without state cookie: the page tries platform storage or a same-site re-post');
      // Still a refusal of the launch as posted (400, with its code); the page then recovers by itself.
      return reply
        .code(err.status)
        .send(LaunchResumePage({ idToken: body.id_token, state: body.state, storage: recovery.storage, timeoutMs: STORAGE_TIMEOUT_MS, code: err.code, requestId: request.id }));
    }
    const storageOutcome = typeof body.cp_storage === 'string' && /^[a-z_]{1,60}$/.test(body.cp_storage) ? body.cp_storage : undefined;
    request.log.warn({ code: err.code, status: err.status, storageOutcome }, `LTI validation failed: ${err.message}`);
    return reply.code(err.status).send(
      NewWindowPage({
        status: err.status,
        code: err.code,
        title: err.title,
        message: err.message,
        hint: err.hint,
        requestId: request.id,
        resumeParams: recovery.resumeParams,
        storageOutcome,
      }),
    );
  }

  async function finishLaunch(request: FastifyRequest, reply: FastifyReply, input: LaunchInput) {
    const result = await deps.launches.completeLaunch(
      input,
      // Inside the launch transaction, so that a refusal records nothing: a resource link bound to a
      // package opens its attempt; a deep linking request must come from someone who may choose content.
      async (trx, launch) => {
        // Where the course roster can be read (NRPS claim), for the instructors' progress view.
        if (launch.contextId) {
          await recordRosterEndpoint(trx, { contextId: launch.contextId, platformId: launch.platform.id, claim: launch.claims.raw[CLAIM.NRPS], now: deps.clock.now() });
        }
        if (launch.claims.messageType === MESSAGE_TYPE.DEEP_LINKING) {
          if (!canChooseContent(launch.claims.roles)) {
            throw new LtiError('LTI_DEEP_LINKING_FORBIDDEN', 'Only instructors, content developers and administrators can choose content for a course.', {
              hint: 'Ask your instructor to add the content.',
            });
          }
          checkCanAnswer(parseDeepLinkingSettings(launch.claims.raw));
          return { kind: 'pick' as const };
        }
        const attempt = launch.resourceLinkId
          ? await deps.play.runtime.openAttempt(trx, {
              resourceLinkId: launch.resourceLinkId,
              userId: launch.userId,
              customPackageId: launch.claims.custom.package_id,
              platformId: launch.platform.id,
              agsClaim: launch.claims.raw[CLAIM.AGS_ENDPOINT],
              roleKind: rosterKind(launch.claims.roles),
            })
          : undefined;
        return attempt ? { kind: 'play' as const, attemptId: attempt.id } : undefined;
      },
    );
    request.log.info(
      { platform: result.platform.id, deployment: result.deployment.deployment_id, user: result.userId, messageType: result.claims.messageType, launch: result.launchId },
      'LTI launch validated',
    );
    // A platform registered in another process moments ago may not be in this process's list yet.
    if (deps.frameAncestors) {
      const raw = result.claims.raw;
      const presentation = raw[CLAIM.LAUNCH_PRESENTATION] as { return_url?: unknown } | undefined;
      const deepLinking = raw[CLAIM.DEEP_LINKING_SETTINGS] as { deep_link_return_url?: unknown } | undefined;
      const returnOrigin = originOf(presentation?.return_url);
      const deepLinkOrigin = originOf(deepLinking?.deep_link_return_url);
      const launchOrigins: string[] = [];
      if (returnOrigin !== undefined) launchOrigins.push(returnOrigin);
      if (deepLinkOrigin !== undefined && deepLinkOrigin !== returnOrigin) launchOrigins.push(deepLinkOrigin);
      reply.raw.setHeader('content-security-policy', deps.frameAncestors.admit(result.platform, launchOrigins));
    }
    if (result.extension?.kind === 'play') {
      return renderPlayer(deps.play, reply, result.extension.attemptId, { progressUrl: progressUrl(deps, result.launchId, result.claims.roles) });
    }
    if (result.extension?.kind === 'pick') {
      return renderPicker(deps.deepLinking, reply, result.launchId, deps.deepLinking.pickerTokens.issue(result.launchId, deps.clock.now()));
    }
    const token = deps.launchTokens.issue(result.launchId, deps.clock.now());
    const { claims } = result;
    // Rendered from the validated launch in hand: no second read of what was just written.
    return sendLaunchPage(reply, {
      platformName: result.platform.name,
      userName: displayName(claims),
      userEmail: claims.email ?? null,
      userSub: claims.subject,
      contextTitle: claims.context?.title ?? null,
      contextLabel: claims.context?.label ?? null,
      resourceLinkTitle: claims.resourceLink?.title ?? null,
      resourceLinkId: claims.resourceLink?.id ?? null,
      roles: claims.roles,
      roleKinds: roleKinds(claims.roles),
      messageType: claims.messageType,
      launchToken: token,
    });
  }

  app.get('/lti/home', async (request, reply) => {
    const lt = (request.query as Record<string, unknown>).lt;
    const launchId = deps.launchTokens.verify(typeof lt === 'string' ? lt : undefined, deps.clock.now());
    return renderLaunch(deps, reply, launchId, lt as string);
  });
}

async function renderLaunch(deps: LtiRouteDeps, reply: FastifyReply, launchId: string, token: string) {
  const view = await findLaunchView(deps.db, launchId);
  if (!view) throw new AppError('LAUNCH_TOKEN_INVALID', 'This launch is no longer known to Courseport.', { hint: 'Open the activity again from your course in the LMS.' });
  const roles = JSON.parse(view.launch.roles) as string[];
  return sendLaunchPage(reply, {
    platformName: view.platformName,
    userName: view.userName,
    userEmail: view.userEmail,
    userSub: view.userSub,
    contextTitle: view.contextTitle,
    contextLabel: view.contextLabel,
    resourceLinkTitle: view.resourceLinkTitle,
    resourceLinkId: view.resourceLinkExternalId,
    roles,
    roleKinds: roleKinds(roles),
    messageType: view.launch.message_type,
    launchToken: token,
  });
}

function sendLaunchPage(reply: FastifyReply, props: LaunchPageProps) {
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(LaunchPage(props));
}
