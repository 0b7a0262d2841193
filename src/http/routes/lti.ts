import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canChooseContent, MESSAGE_TYPE, roleKinds } from '../../lti/claims.js';
import { checkCanAnswer, parseDeepLinkingSettings } from '../../lti/deep-linking.js';
import { LtiError } from '../../errors/app-error.js';
import { renderPicker, type DeepLinkingDeps } from './deep-linking.js';
import { renderPlayer, type PlayRouteDeps } from './play.js';
import { displayName } from '../../lti/id-token-claims.js';
import type { LaunchService } from '../../lti/launch-service.js';
import type { LaunchTokens } from '../../lti/launch-token.js';
import { findLaunchView } from '../../store/launch.repository.js';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { LaunchPage, type LaunchPageProps } from '../../web/launch-page.js';
import type { Kysely } from 'kysely';
import { AppError } from '../../errors/app-error.js';

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
    const result = await deps.launches.startLogin(params ?? {});
    reply.setCookie(cookie.name(result.state), result.state, cookie.setOptions);
    request.log.info({ platform: result.platform.id, issuer: result.platform.issuer }, 'LTI login started');
    return reply.header('cache-control', 'no-store').redirect(result.redirectUrl, 302);
  };
  // Every login stores a state row: a per-address limit keeps a flood from filling the table.
  const loginOptions = deps.loginRateLimitPerMinute > 0 ? { config: { rateLimit: { max: deps.loginRateLimitPerMinute, timeWindow: 60_000 } } } : {};
  app.get('/lti/login', loginOptions, login);
  app.post('/lti/login', loginOptions, login);

  app.post('/lti/launch', { bodyLimit: 256 * 1024 }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const state = typeof body.state === 'string' ? body.state : undefined;
    const cookieState = state ? request.cookies[cookie.name(state)] : undefined;
    // The cookie has done its job whether or not the launch validates.
    if (cookieState !== undefined && state) reply.clearCookie(cookie.name(state), cookie.clearOptions);
    const result = await deps.launches.completeLaunch(
      {
        idToken: body.id_token,
        state: body.state,
        cookieState,
        platformError: body.error,
        platformErrorDescription: body.error_description,
      },
      // Inside the launch transaction, so that a refusal records nothing: a resource link bound to a
      // package opens its attempt; a deep linking request must come from someone who may choose content.
      async (trx, launch) => {
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
          ? await deps.play.runtime.openAttempt(trx, { resourceLinkId: launch.resourceLinkId, userId: launch.userId, customPackageId: launch.claims.custom.package_id })
          : undefined;
        return attempt ? { kind: 'play' as const, attemptId: attempt.id } : undefined;
      },
    );
    request.log.info(
      { platform: result.platform.id, deployment: result.deployment.deployment_id, user: result.userId, messageType: result.claims.messageType, launch: result.launchId },
      'LTI launch validated',
    );
    if (result.extension?.kind === 'play') return renderPlayer(deps.play, reply, result.extension.attemptId);
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
  });

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
