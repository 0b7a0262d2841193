import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { toolUrls } from '../../web/admin/settings-page.js';
import { PAGE } from '../plugins/page-policy.js';
import { DocsIndexPage, HomePage, PostOnlyEndpointPage, type DocEntry } from '../../web/home-page.js';

export interface HomeRouteDeps {
  readonly baseUrl: string;
  readonly sandbox: boolean;
  /** The docs/ folder of the installation (tests may point elsewhere). */
  readonly docsDir?: string;
}

const DOCS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs');
const DOC_NAME = /^[a-z0-9][a-z0-9-]{0,60}\.md$/;

/** The Markdown files of docs/ with their first heading as title, by title. */
async function listDocs(dir: string): Promise<DocEntry[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => DOC_NAME.test(f));
  } catch {
    return []; // an installation without its docs folder still has a home page
  }
  const docs = await Promise.all(
    files.map(async (file) => {
      const text = await readFile(join(dir, file), 'utf8');
      const heading = /^#\s+(.+)$/m.exec(text)?.[1]?.trim();
      return { file, title: heading ?? file };
    }),
  );
  return docs.sort((a, b) => a.title.localeCompare(b.title));
}

const html = (reply: FastifyReply, page: JSX.Element) => reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page);

/**
 * `/` (what this server is, where to go), `/docs` (the Markdown documentation as text) and the
 * GET answers of the URLs LMSs only POST to.
 */
export function homeRoutes(app: FastifyInstance, deps: HomeRouteDeps): void {
  const docsDir = deps.docsDir ?? DOCS_DIR;

  app.get('/', async (_request, reply) =>
    html(reply, HomePage({ baseUrl: deps.baseUrl, sandbox: deps.sandbox, urls: toolUrls(deps.baseUrl), docs: await listDocs(docsDir) })),
  );

  app.get('/docs', async (_request, reply) => html(reply, DocsIndexPage({ docs: await listDocs(docsDir) })));

  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get('/docs/:file', { schema: { params: Type.Object({ file: Type.String({ maxLength: 80 }) }) } }, async (request, reply) => {
      const { file } = request.params;
      // Only names listed in the folder: no path ever reaches the file system from the URL.
      if (!DOC_NAME.test(file) || !(await listDocs(docsDir)).some((d) => d.file === file))
        throw new AppError('NOT_FOUND', `No document ${file.slice(0, 80)}.`, { hint: 'See /docs for the list.' });
      return reply
        .header('cache-control', 'no-cache')
        .type('text/plain; charset=utf-8')
        .send(await readFile(join(docsDir, file), 'utf8'));
    });

  // An LMS may show these in its frame when a registration uses GET by mistake: framable, no secret in them.
  app.get('/lti/launch', { config: { page: PAGE.open } }, async (_request, reply) =>
    html(
      reply,
      PostOnlyEndpointPage({
        url: `${deps.baseUrl}/lti/launch`,
        what: 'Courseport’s LTI 1.3 launch URL (redirect URI, target link URI and deep linking URL).',
        usedBy: 'The LMS posts its signed launch (an id_token form) here after the OIDC login at /lti/login; enter it in the LMS exactly as shown.',
      }),
    ),
  );

  app.get('/dispatch/launch', { config: { page: PAGE.open } }, async (_request, reply) =>
    html(
      reply,
      PostOnlyEndpointPage({
        url: `${deps.baseUrl}/dispatch/launch`,
        what: 'the launch URL of Courseport’s content dispatch packages.',
        usedBy:
          'The launcher inside a dispatch package (uploaded to an LMS as a SCORM course) posts the learner’s launch here; nobody needs to enter it anywhere.',
      }),
    ),
  );
}
