import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DeepLinkingAnswer } from '../../launch/deep-linking-answer.js';
import { PickerPage, ReturnToPlatformPage } from '../../web/picker-page.js';
import { PAGE, withSecret, withWayBack } from '../plugins/page-policy.js';
import { sendHtml } from '../reply.js';

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) });
const SearchQuery = Type.Object({ q: Type.Optional(Type.String()) });
const AnswerBody = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 20 })),
  package: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 500 })])),
});

/** The content picker of a deep linking launch and the answer it posts back to the LMS. */
export function deepLinkingRoutes(app: FastifyInstance, deps: { readonly deepLinking: DeepLinkingAnswer }): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { page: withWayBack(withSecret(PAGE.lms, 'token'), 'picker'), invalidCode: 'DEEP_LINKING_INVALID_SELECTION' as const };

  api.get('/lti/deep-link/:token', { config, schema: { params: TokenParams, querystring: SearchQuery } }, async (request, reply) => {
    const { token } = request.params;
    const launchId = deps.deepLinking.launchOf(token);
    return sendHtml(reply, PickerPage(await deps.deepLinking.picker(launchId, token, (request.query.q ?? '').slice(0, 200))));
  });

  api.post('/lti/deep-link/:token', { config, schema: { params: TokenParams, body: AnswerBody } }, async (request, reply) => {
    const launchId = deps.deepLinking.launchOf(request.params.token);
    const body = request.body;
    const packageIds = body.package === undefined ? [] : ([] as string[]).concat(body.package);
    const answer = await deps.deepLinking.answer(launchId, { cancel: body.action === 'cancel', packageIds });
    // The return URL may carry an LMS session key: only its origin is logged.
    request.log.info({ items: answer.items, cancel: body.action === 'cancel', returnTo: new URL(answer.returnUrl).origin }, 'deep linking response');
    reply.header('referrer-policy', 'strict-origin');
    return sendHtml(reply, ReturnToPlatformPage({ returnUrl: answer.returnUrl, jwt: answer.jwt, summary: answer.summary }));
  });
}
