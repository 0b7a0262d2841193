import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { roleKinds } from '../../lti/claims.js';
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
  readonly clock: Clock;
  readonly secureCookies: boolean;
  readonly loginStateTtlMs: number;
}

const STATE_COOKIE_PREFIX = 'cp_lti_state_';
/** The cookie name carries part of the state so that parallel launches in several tabs do not collide. */
const stateCookieName = (state: string) => `${STATE_COOKIE_PREFIX}${state.slice(0, 24)}`;

export function ltiRoutes(app: FastifyInstance, deps: LtiRouteDeps): void {
  const login = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = (request.method === 'POST' ? request.body : request.query) as Record<string, unknown> | undefined;
    const result = await deps.launches.startLogin(params ?? {});
    reply.setCookie(stateCookieName(result.state), result.state, {
      path: '/lti/',
      httpOnly: true,
      // A framed launch completes with a cross-site form POST: only SameSite=None cookies
      // come back, and browsers accept those only with Secure (https).
      secure: deps.secureCookies,
      sameSite: deps.secureCookies ? 'none' : 'lax',
      maxAge: Math.floor(deps.loginStateTtlMs / 1000),
    });
    request.log.info({ platform: result.platform.id, issuer: result.platform.issuer }, 'LTI login started');
    return reply.header('cache-control', 'no-store').redirect(result.redirectUrl, 302);
  };
  app.get('/lti/login', login);
  app.post('/lti/login', login);

  app.post('/lti/launch', { bodyLimit: 256 * 1024 }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const state = typeof body.state === 'string' ? body.state : undefined;
    const cookieState = state ? request.cookies[stateCookieName(state)] : undefined;
    const result = await deps.launches.completeLaunch({
      idToken: body.id_token,
      state: body.state,
      cookieState,
      platformError: body.error,
      platformErrorDescription: body.error_description,
    });
    if (state) reply.clearCookie(stateCookieName(state), { path: '/lti/', secure: deps.secureCookies, sameSite: deps.secureCookies ? 'none' : 'lax' });
    request.log.info(
      { platform: result.platform.id, deployment: result.deployment.deployment_id, user: result.userId, messageType: result.claims.messageType, launch: result.launchId },
      'LTI launch validated',
    );
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
