import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RuntimeService } from '../../attempts/runtime.service.js';
import { AppError } from '../../errors/app-error.js';
import type { Player } from '../../play/player.js';
import { PlayerPage, statusLabel } from '../../web/player-page.js';
import { PAGE, withSecret } from '../plugins/page-policy.js';
import { sendHtml } from '../reply.js';

export interface PlayRouteDeps {
  readonly player: Player;
  readonly runtime: RuntimeService;
}

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) });
const ScoParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }), sco: Type.String({ minLength: 1, maxLength: 512 }) });
const CommitQuery = Type.Object({ session: Type.String({ pattern: '^[0-9]{1,15}$' }) });
const CommitBody = Type.Object(
  {
    commitSequence: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]{1,15}$' })]),
    terminate: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false')])),
  },
  // The rest of the body is CMI data, validated element by element by the runtime.
  { additionalProperties: true },
);

/** The player page and the runtime API its scripts call (commit, load, renew, new attempt). */
export function playRoutes(app: FastifyInstance, deps: PlayRouteDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const page = { config: { page: withSecret(PAGE.lms, 'token') } };
  const script = { config: { page: withSecret(PAGE.lmsScript, 'token') } };

  api.get('/play/:token', { ...page, schema: { params: TokenParams } }, async (request, reply) =>
    sendHtml(reply, PlayerPage(await deps.player.view(deps.player.attemptOf(request.params.token)))),
  );

  api.get('/play/:token/attempt', { ...script, schema: { params: TokenParams } }, async (request, reply) => {
    const view = await deps.runtime.view(deps.player.attemptOf(request.params.token));
    return reply.header('cache-control', 'no-store').send({ ...view, label: statusLabel(view.completion, view.success) });
  });

  api.post('/play/:token/attempts', { ...script, schema: { params: TokenParams } }, async (request, reply) => {
    const next = await deps.player.startNewAttempt(deps.player.attemptOf(request.params.token));
    return reply.code(201).send({ attempt: next.attemptId, playUrl: next.playUrl });
  });

  api.post('/play/:token/renew', { ...script, schema: { params: TokenParams } }, async (request, reply) =>
    reply.header('cache-control', 'no-store').send(await deps.player.renew(deps.player.attemptOf(request.params.token))),
  );

  api.post('/play/:token/sco/:sco', { ...script, schema: { params: ScoParams } }, async (request, reply) => {
    const attemptId = deps.player.attemptOf(request.params.token);
    const load = await deps.runtime.loadSco(attemptId, request.params.sco, await deps.player.learner(attemptId));
    return reply.header('cache-control', 'no-store').send(load);
  });

  app.register(async (scope) => {
    // sendBeacon posts text/plain; the body is the same JSON as a regular commit.
    scope.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AppError('CMI_INVALID', 'The commit body is not JSON.'));
      }
    });
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/play/:token/sco/:sco/commit',
      {
        bodyLimit: 1024 * 1024,
        config: { ...script.config, invalidCode: 'CMI_INVALID' },
        schema: { params: ScoParams, querystring: CommitQuery, body: CommitBody },
      },
      async (request, reply) => {
        const attemptId = deps.player.attemptOf(request.params.token);
        const { commitSequence, terminate, ...values } = request.body;
        const view = await deps.runtime.commit(attemptId, request.params.sco, {
          session: Number(request.query.session),
          seq: Number(commitSequence),
          terminate: terminate === true || terminate === 'true',
          values,
        });
        return reply.header('cache-control', 'no-store').send({ result: true, errorCode: 0, attempt: view });
      },
    );
  });
}
