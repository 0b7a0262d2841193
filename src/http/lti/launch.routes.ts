import type {} from '@fastify/cookie';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LtiError } from '../../errors/app-error.js';
import type { LaunchFlow, LaunchOutcome } from '../../launch/launch-flow.js';
import type { LaunchInput, LaunchService } from '../../launch/launch.service.js';
import { checkVerifiedOrigin, STORAGE_TIMEOUT_MS } from '../../lti/platform-storage.js';
import { LaunchPage } from '../../web/launch-page.js';
import { LaunchResumePage, NewWindowPage, StorageLoginPage } from '../../web/launch-recovery-page.js';
import { PickerPage } from '../../web/picker-page.js';
import { PlayerPage } from '../../web/player-page.js';
import { PAGE } from '../plugins/page-policy.js';
import type { FrameAncestors } from '../plugins/security-headers.js';
import { sendHtml } from '../reply.js';
import { perMinute } from '../route-config.js';

export interface LtiRouteDeps {
  readonly launches: LaunchService;
  readonly flow: LaunchFlow;
  readonly secureCookies: boolean;
  readonly loginStateTtlMs: number;
  /** Logins per client address and minute; 0 turns the limit off. */
  readonly loginRateLimitPerMinute: number;
  /** Launches per client address and minute; 0 turns the limit off. */
  readonly launchRateLimitPerMinute?: number;
  /** A launch from a platform not yet in the LMS pages' frame-ancestors admits it at once. */
  readonly frameAncestors?: Pick<FrameAncestors, 'admit'>;
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

/** Login and launch fields are the platform's, whatever they are: the launch checks read them. */
const LtiForm = Type.Record(Type.String(), Type.Unknown());
const HomeQuery = Type.Object({ lt: Type.Optional(Type.String({ maxLength: 512 })) });

export function ltiRoutes(app: FastifyInstance, deps: LtiRouteDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const cookie = stateCookie(deps.secureCookies, deps.loginStateTtlMs);

  const login = async (request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>) => {
    // cp_window=1: the login re-runs in a top-level window opened from the tier-3 page.
    const topLevel = params.cp_window === '1';
    const result = await deps.launches.startLogin(params, { topLevel });
    // Tier 1, always: the state cookie (it may still come back, e.g. Partitioned over https).
    reply.setCookie(cookie.name(result.state), result.state, cookie.setOptions);
    request.log.info(
      { platform: result.platform.id, issuer: result.platform.issuer, platformStorage: result.storage !== undefined, topLevel },
      'LTI login started',
    );
    if (result.storage) {
      // Tier 2: a page puts the proof in the platform's storage, then goes on to the auth URL.
      return sendHtml(reply, StorageLoginPage({ config: { mode: 'put', ...result.storage, authUrl: result.redirectUrl, timeoutMs: STORAGE_TIMEOUT_MS } }));
    }
    reply.header('cache-control', 'no-store');
    return reply.redirect(result.redirectUrl, 302);
  };
  // Every login stores a state row: a per-address limit keeps a flood from filling the table.
  const loginConfig = { config: { page: PAGE.lms, ...perMinute(deps.loginRateLimitPerMinute) } };
  api.get('/lti/login', { ...loginConfig, schema: { querystring: LtiForm } }, (request, reply) => login(request, reply, request.query));
  api.post('/lti/login', { ...loginConfig, schema: { body: Type.Optional(LtiForm) } }, (request, reply) => login(request, reply, request.body ?? {}));

  const launchOptions = {
    bodyLimit: 256 * 1024,
    config: { page: PAGE.lms, ...perMinute(deps.launchRateLimitPerMinute) },
    schema: { body: Type.Optional(LtiForm) },
  };
  api.post('/lti/launch', launchOptions, async (request, reply) => {
    const body = request.body ?? {};
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
  api.post('/lti/launch/verified', launchOptions, async (request, reply) => {
    checkVerifiedOrigin(request.headers.origin, deps.launches.redirectUri);
    const body = request.body ?? {};
    const value = body.storage_value;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      throw new LtiError('LTI_STORAGE_VALUE_MISMATCH', 'The launch carries no value from the LMS’s storage.', {
        details: { reason: 'missing' },
        hint: 'Open the activity again from the LMS.',
      });
    }
    return finishLaunch(request, reply, {
      idToken: body.id_token,
      state: body.state,
      cookieState: undefined,
      storageValue: value,
      platformError: undefined,
      platformErrorDescription: undefined,
    });
  });

  /**
   * The state cookie did not come back. In order: fetch the proof from platform storage (when the
   * login used it), else re-post once from our own page (same-site, so a Lax cookie set in a
   * top-level window comes along); after that re-post, the new-window page (tier 3).
   */
  async function recoverLaunch(request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>, err: LtiError) {
    const recovery = await deps.launches.launchRecovery(body.state);
    if (!recovery || typeof body.id_token !== 'string' || typeof body.state !== 'string') throw err;
    reply.code(err.status);
    if (body.cp_recover !== 'resubmit') {
      request.log.warn(
        { code: err.code, status: err.status, platformStorage: recovery.storage !== undefined },
        'LTI launch without state cookie: the page tries platform storage or a same-site re-post',
      );
      // Still a refusal of the launch as posted (400, with its code); the page then recovers by itself.
      return sendHtml(
        reply,
        LaunchResumePage({
          idToken: body.id_token,
          state: body.state,
          storage: recovery.storage,
          timeoutMs: STORAGE_TIMEOUT_MS,
          code: err.code,
          requestId: request.id,
        }),
      );
    }
    const storageOutcome = typeof body.cp_storage === 'string' && /^[a-z_]{1,60}$/.test(body.cp_storage) ? body.cp_storage : undefined;
    request.log.warn({ code: err.code, status: err.status, storageOutcome }, `LTI validation failed: ${err.message}`);
    return sendHtml(
      reply,
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
    const outcome = await deps.flow.launch(input);
    const { launch } = outcome;
    request.log.info(
      {
        platform: launch.platform.id,
        deployment: launch.deployment.deployment_id,
        user: launch.userId,
        messageType: launch.claims.messageType,
        launch: launch.launchId,
      },
      'LTI launch validated',
    );
    // A platform registered in another process moments ago may not be in this process's list yet.
    if (deps.frameAncestors) reply.raw.setHeader('content-security-policy', deps.frameAncestors.admit(launch.platform, outcome.launchOrigins));
    return sendHtml(reply, render(outcome));
  }

  api.get('/lti/home', { config: { page: PAGE.lms }, schema: { querystring: HomeQuery } }, async (request, reply) =>
    sendHtml(reply, LaunchPage(await deps.flow.home(request.query.lt))),
  );
}

function render(outcome: LaunchOutcome): string | Promise<string> {
  switch (outcome.kind) {
    case 'play':
      return PlayerPage(outcome.player);
    case 'pick':
      return PickerPage(outcome.picker);
    case 'home':
      return LaunchPage(outcome.home);
  }
}
