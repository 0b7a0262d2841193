import type { SandboxScore } from '../../sandbox/sandbox.repository.js';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import { AGS_MEDIA, AGS_SCOPE } from '../../lti/ags.js';
import { NRPS_MEDIA, NRPS_SCOPE } from '../../lti/nrps.js';
import { listCatalogue } from '../../packages/package.repository.js';
import type { Database } from '../../store/tables.js';
import { SandboxCoursePage, SandboxDeepLinkResultPage, SandboxFramePage, SandboxGradebookPage, SandboxPostPage } from '../../web/sandbox/sandbox-pages.js';
import type { SandboxService } from '../../sandbox/sandbox.service.js';
import { defaultPagePolicy, PAGE } from '../plugins/page-policy.js';

export interface SandboxRouteDeps {
  readonly db: Kysely<Database>;
  readonly sandbox: SandboxService;
}

function html(reply: FastifyReply, page: JSX.Element): FastifyReply {
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page);
}

/** Query and form fields of the sandbox's pages and endpoints: short strings, checked by the sandbox. */
const Fields = Type.Record(Type.String(), Type.String({ maxLength: 256 }));
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const DeepLinkReturn = Type.Object({ JWT: Type.Optional(Type.String({ maxLength: 200_000 })) });
const Json = Type.Unknown();

/**
 * The sandbox LMS at /sandbox (docs/sandbox.md). Registered in its own plugin scope: the
 * AGS media types are parsed as JSON here only.
 */
export async function sandboxRoutes(app: FastifyInstance, deps: SandboxRouteDeps): Promise<void> {
  const { sandbox } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // Its pages frame each other; its LMS service endpoints (JWKS, token, AGS, NRPS) answer JSON.
  defaultPagePolicy(app, PAGE.self);
  const service = { config: { page: PAGE.api } };
  app.addContentTypeParser(/^application\/vnd\.ims\.[a-z0-9.-]+\+json/, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(Object.assign(err as Error, { statusCode: 400 }), undefined);
    }
  });

  app.get('/sandbox', async (_request, reply) => {
    const [links, catalogue] = await Promise.all([sandbox.links(), listCatalogue(deps.db)]);
    return html(reply, SandboxCoursePage({ links, packageCount: catalogue.length }));
  });

  api.get('/sandbox/launch', { schema: { querystring: Fields } }, async (request, reply) => {
    const q = request.query;
    const deepLink = q.deeplink === '1';
    const link = deepLink ? undefined : await sandbox.link(q.link);
    // Checked here already so that a bad request fails on this page, not inside the frame.
    await sandbox.loginForm({ user: q.user, link: link?.id, deepLink });
    const start = new URLSearchParams(link ? { link: link.id, user: q.user ?? '' } : { deeplink: '1' });
    return html(reply, SandboxFramePage({ title: link ? link.title : 'Add content', start: `/sandbox/start?${start.toString()}` }));
  });

  // Third-party initiated login: the LMS posts iss, login_hint, target_link_uri… to the tool.
  api.get('/sandbox/start', { schema: { querystring: Fields } }, async (request, reply) => {
    const q = request.query;
    const fields = await sandbox.loginForm({ user: q.user, link: q.link, deepLink: q.deeplink === '1' });
    request.log.info({ user: fields.login_hint, deepLink: q.deeplink === '1' }, 'sandbox: launching the tool');
    return html(reply, SandboxPostPage({ action: sandbox.urls.toolLogin, fields, label: 'Continue to Courseport' }));
  });

  // The OIDC authorization endpoint: answers the tool's authentication request with a form_post id_token.
  api.get('/sandbox/auth', { schema: { querystring: Type.Record(Type.String(), Type.String({ maxLength: 4096 })) } }, async (request, reply) => {
    const { redirectUri, idToken, state } = await sandbox.authenticate(request.query);
    return html(reply, SandboxPostPage({ action: redirectUri, fields: { id_token: idToken, state }, label: 'Continue' }));
  });

  api.post('/sandbox/deep-link-return', { bodyLimit: 256 * 1024, schema: { body: DeepLinkReturn } }, async (request, reply) => {
    const result = await sandbox.receiveDeepLinkingResponse(request.body.JWT);
    request.log.info({ added: result.added.map((l) => l.id) }, 'sandbox: deep linking response received');
    return html(reply, SandboxDeepLinkResultPage(result));
  });

  app.get('/sandbox/jwks', service, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(await sandbox.jwks()));

  api.post('/sandbox/token', { ...service, schema: { body: Type.Record(Type.String(), Type.String({ maxLength: 8192 })) } }, async (request, reply) => {
    const result = await sandbox.token(request.body);
    if (result.status !== 200) request.log.warn({ error: result.body.error, description: result.body.error_description }, 'sandbox: token request refused');
    return reply.code(result.status).header('cache-control', 'no-store').send(result.body);
  });

  api.get('/sandbox/lineitems', { ...service, schema: { querystring: Fields } }, async (request, reply) => {
    sandbox.authorize(request.headers.authorization, [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY]);
    const q = request.query;
    const items = await sandbox.lineItems({ resourceLinkId: q.resource_link_id, resourceId: q.resource_id, tag: q.tag });
    return reply.type(AGS_MEDIA.LINEITEM_CONTAINER).send(JSON.stringify(items.map((i) => sandbox.lineItemJson(i))));
  });

  api.post('/sandbox/lineitems', { ...service, schema: { body: Json } }, async (request, reply) => {
    sandbox.authorize(request.headers.authorization, [AGS_SCOPE.LINEITEM]);
    const item = await sandbox.createLineItem(request.body);
    request.log.info({ lineItem: item.id }, 'sandbox: line item created');
    return reply
      .code(201)
      .type(AGS_MEDIA.LINEITEM)
      .send(JSON.stringify(sandbox.lineItemJson(item)));
  });

  api.get('/sandbox/lineitems/:id', { ...service, schema: { params: IdParams } }, async (request, reply) => {
    sandbox.authorize(request.headers.authorization, [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY]);
    const item = await sandbox.lineItem(request.params.id);
    return reply.type(AGS_MEDIA.LINEITEM).send(JSON.stringify(sandbox.lineItemJson(item)));
  });

  api.post(
    '/sandbox/lineitems/:id/scores',
    { ...service, schema: { params: IdParams, body: Type.Record(Type.String(), Type.Unknown()) } },
    async (request, reply) => {
      sandbox.authorize(request.headers.authorization, [AGS_SCOPE.SCORE]);
      const id = request.params.id;
      await sandbox.postScore(id, request.body);
      const b = request.body;
      request.log.info(
        { lineItem: id, user: b.userId, scoreGiven: b.scoreGiven, activityProgress: b.activityProgress, gradingProgress: b.gradingProgress },
        'sandbox: score received',
      );
      return reply.code(204).send();
    },
  );

  api.get('/sandbox/lineitems/:id/results', { ...service, schema: { params: IdParams, querystring: Fields } }, async (request, reply) => {
    sandbox.authorize(request.headers.authorization, [AGS_SCOPE.RESULT_READONLY]);
    const results = await sandbox.results(request.params.id, request.query.user_id);
    return reply.type(AGS_MEDIA.RESULT_CONTAINER).send(JSON.stringify(results));
  });

  app.get('/sandbox/memberships', service, async (request, reply) => {
    sandbox.authorize(request.headers.authorization, [NRPS_SCOPE]);
    return reply.type(NRPS_MEDIA).send(JSON.stringify(sandbox.memberships()));
  });

  app.get('/sandbox/gradebook', async (_request, reply) => {
    const items = await sandbox.lineItems();
    const latest = new Map<string, Map<string, SandboxScore>>();
    for (const i of items) latest.set(i.id, await sandbox.latestScores(i.id));
    const received = (await sandbox.scores()).length;
    return html(reply, SandboxGradebookPage({ items, latest, received }));
  });
}
