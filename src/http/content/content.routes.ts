import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import send from '@fastify/send';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContentStore } from '../../content/content-store.js';
import { PackageFileCache, type CachedFile } from '../../content/file-cache.js';
import { AppError } from '../../errors/app-error.js';
import type { Clock } from '../../util/clock.js';
import type { SignedTokens } from '../../util/signed-tokens.js';
import { PAGE, withSecret } from '../plugins/page-policy.js';

export interface ContentRouteDeps {
  readonly contentTokens: SignedTokens;
  readonly content: ContentStore & { localRoot(key: string): string };
  readonly clock: Clock;
}

const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../public');
const SCORM_AGAIN_DIR = dirname(createRequire(import.meta.url).resolve('scorm-again'));
/** The browser assets Courseport's pages load from /static. */
const STATIC_FILES: Record<string, string> = {
  'player.js': join(PUBLIC_DIR, 'player.js'),
  'picker.js': join(PUBLIC_DIR, 'picker.js'),
  'submit-once.js': join(PUBLIC_DIR, 'submit-once.js'),
  'autosubmit.js': join(PUBLIC_DIR, 'autosubmit.js'),
  'lti-storage.js': join(PUBLIC_DIR, 'lti-storage.js'),
  'admin.js': join(PUBLIC_DIR, 'admin.js'),
  'admin.css': join(PUBLIC_DIR, 'admin.css'),
  'registration.js': join(PUBLIC_DIR, 'registration.js'),
  'sandbox.js': join(PUBLIC_DIR, 'sandbox.js'),
  'scorm-again.min.js': join(SCORM_AGAIN_DIR, 'scorm-again.min.js'),
};

const CONTENT_MAX_AGE_MS = 3600_000;

const ContentParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }), '*': Type.String() });
const StaticParams = Type.Object({ file: Type.String({ minLength: 1, maxLength: 64 }) });

/** Package files behind short-lived content tokens, and Courseport's own static assets. */
export function contentRoutes(app: FastifyInstance, deps: ContentRouteDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const fileCache = new PackageFileCache();

  api.get('/content/:token/*', { config: { page: withSecret(PAGE.content, 'token') }, schema: { params: ContentParams } }, async (request, reply) => {
    const { token } = request.params;
    let versionId: string;
    try {
      versionId = deps.contentTokens.verify(token, deps.clock.now());
    } catch {
      throw new AppError('CONTENT_TOKEN_INVALID', 'This content link is invalid or has expired.', { hint: 'Reload the activity from the LMS.' });
    }
    const path = request.url.slice(`/content/${token}`.length).split('?')[0] ?? '/';
    const root = deps.content.localRoot(versionId);
    // Whole-file requests for small files come from memory; ranges and large files stream.
    if (request.headers.range === undefined) {
      const file = await cachedFile(fileCache, root, path);
      if (file) return sendCached(request, reply, file);
    }
    return sendFile(request, reply, root, path, { maxAgeMs: CONTENT_MAX_AGE_MS, packageContent: true });
  });

  api.get('/static/:file', { config: { page: PAGE.self }, schema: { params: StaticParams } }, async (request, reply) => {
    const file = STATIC_FILES[request.params.file];
    if (!file) throw new AppError('NOT_FOUND', 'No such static file.');
    return sendFile(request, reply, dirname(file), `/${file.slice(dirname(file).length + 1)}`, { maxAgeMs: 300_000, packageContent: false });
  });
}

/** The cached file for a URL path inside a package version, if it is a small regular file. */
async function cachedFile(cache: PackageFileCache, root: string, urlPath: string) {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.endsWith('/')) return undefined;
  const file = resolve(root, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  if (!file.startsWith(`${root}/`)) return undefined;
  return cache.get(file);
}

function sendCached(request: FastifyRequest, reply: FastifyReply, file: CachedFile) {
  reply.raw.removeHeader('content-security-policy');
  reply
    .header('etag', file.etag)
    .header('last-modified', file.lastModified)
    .header('accept-ranges', 'bytes')
    .header('cache-control', `private, max-age=${CONTENT_MAX_AGE_MS / 1000}`);
  const match = request.headers['if-none-match'];
  if (match?.split(',').some((t) => t.trim() === file.etag || t.trim() === '*')) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

/**
 * Serves one file with @fastify/send: MIME type, ETag, Last-Modified, Range and
 * conditional requests; directories and dot-segments answer 404 (no listings).
 */
async function sendFile(request: FastifyRequest, reply: FastifyReply, root: string, urlPath: string, options: { maxAgeMs: number; packageContent: boolean }) {
  const result = await send(request.raw, urlPath, {
    root,
    index: false,
    dotfiles: 'allow',
    etag: true,
    lastModified: true,
    maxAge: options.maxAgeMs,
    acceptRanges: true,
  });
  if (result.type === 'error' || result.type === 'directory' || result.statusCode >= 400) {
    if ('stream' in result && result.stream && typeof (result.stream as { destroy?: () => void }).destroy === 'function')
      (result.stream as { destroy: () => void }).destroy();
    throw new AppError('NOT_FOUND', 'No such file in this package.');
  }
  reply.code(result.statusCode);
  for (const [k, v] of Object.entries(result.headers)) if (v !== undefined) reply.header(k, v);
  reply.header('cache-control', `private, max-age=${Math.floor(options.maxAgeMs / 1000)}`);
  // Package pages run their own inline scripts: our page CSP does not apply to them.
  if (options.packageContent) reply.raw.removeHeader('content-security-policy');
  return reply.send(result.stream);
}
