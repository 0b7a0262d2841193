import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import send from '@fastify/send';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { ContentStore } from '../../content/content-store.js';
import { PackageFileCache, type CachedFile } from '../../content/file-cache.js';
import type { DispatchService } from '../../dispatch/dispatch-service.js';
import { AppError } from '../../errors/app-error.js';
import type { LaunchTokens } from '../../lti/launch-token.js';
import { familyOf, type Learner, type RuntimeService } from '../../scorm/runtime-service.js';
import { scoEntries } from '../../scorm/player-view.js';
import { listScoRuntime } from '../../store/attempt.repository.js';
import { PREVIEW_PLATFORM_ID } from '../../store/platform.repository.js';
import type { Database } from '../../store/tables.js';
import type { Clock } from '../../util/clock.js';
import { PlayerPage, statusLabel, type PlayerRelay } from '../../web/player-page.js';

export interface PlayRouteDeps {
  readonly db: Kysely<Database>;
  readonly runtime: RuntimeService;
  readonly playTokens: LaunchTokens;
  readonly contentTokens: LaunchTokens;
  readonly content: ContentStore & { localRoot(key: string): string };
  /** Token renewal asks whether a dispatch learner may still play. */
  readonly dispatch: Pick<DispatchService, 'assertStillPlayable'>;
  readonly clock: Clock;
}

const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../public');
const SCORM_AGAIN_DIR = dirname(createRequire(import.meta.url).resolve('scorm-again'));
const STATIC_FILES: Record<string, string> = {
  'player.js': join(PUBLIC_DIR, 'player.js'),
  'picker.js': join(PUBLIC_DIR, 'picker.js'),
  'submit-once.js': join(PUBLIC_DIR, 'submit-once.js'),
  'autosubmit.js': join(PUBLIC_DIR, 'autosubmit.js'),
  'lti-storage.js': join(PUBLIC_DIR, 'lti-storage.js'),
  // admin console (issue 7)
  'admin.js': join(PUBLIC_DIR, 'admin.js'),
  'admin.css': join(PUBLIC_DIR, 'admin.css'),
  // issue 7: dynamic registration and sandbox pages
  'registration.js': join(PUBLIC_DIR, 'registration.js'),
  'sandbox.js': join(PUBLIC_DIR, 'sandbox.js'),
  'scorm-again.min.js': join(SCORM_AGAIN_DIR, 'scorm-again.min.js'),
};

/** Renders the player for an attempt (after a launch, or when the player page is reloaded). */
export async function renderPlayer(deps: PlayRouteDeps, reply: FastifyReply, attemptId: string, extras: { progressUrl?: string | undefined; relay?: PlayerRelay | undefined } = {}): Promise<FastifyReply> {
  const { attempt, version, manifest } = await deps.runtime.attemptWithVersion(attemptId);
  const user = await deps.db.selectFrom('users').select(['name', 'sub', 'platform_id']).where('id', '=', attempt.user_id).executeTakeFirstOrThrow();
  const runtime = new Map((await listScoRuntime(deps.db, attemptId)).map((r) => [r.sco_id, r]));
  const now = deps.clock.now();
  const playToken = deps.playTokens.issue(attempt.id, now);
  const entries = scoEntries(manifest);
  const firstOpen = entries.find((e) => runtime.get(e.item.identifier)?.completion !== 'completed');
  const start = attempt.current_sco && entries.some((e) => e.item.identifier === attempt.current_sco) ? attempt.current_sco : (firstOpen ?? entries[0])?.item.identifier;
  if (!start) throw new AppError('PACKAGE_UNSUPPORTED', 'This package has nothing to launch.');
  const html = PlayerPage({
    title: version.title,
    learnerName: user.name ?? user.sub,
    attemptNumber: attempt.number,
    completion: attempt.completion,
    success: attempt.success,
    // A dispatch player relays one attempt to the launcher: it does not offer a new one (see docs/dispatch.md).
    canStartNewAttempt: !extras.relay && deps.runtime.canStartNewAttempt(attempt),
    progressUrl: extras.progressUrl,
    scoreScaled: attempt.score_scaled,
    preview: user.platform_id === PREVIEW_PLATFORM_ID,
    config: {
      family: familyOf(manifest),
      api: `/play/${playToken}`,
      contentBase: `/content/${deps.contentTokens.issue(version.id, now)}/`,
      renewEveryMs: renewInterval(deps),
      start,
      scos: entries.map(({ item, depth }) => ({
        id: item.identifier,
        title: item.title,
        launchUrl: item.launchUrl ?? '',
        depth,
        completion: runtime.get(item.identifier)?.completion ?? 'not attempted',
        success: runtime.get(item.identifier)?.success ?? 'unknown',
      })),
      ...(extras.relay ? { relay: extras.relay } : {}),
    },
  });
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** A quarter of the token lifetime (at least a minute): a few missed renewals still leave a valid token. */
function renewInterval(deps: PlayRouteDeps): number {
  return Math.max(60_000, Math.floor(Math.min(deps.playTokens.ttlMs, deps.contentTokens.ttlMs) / 4));
}

const CONTENT_MAX_AGE_MS = 3600_000;
const fileCache = new PackageFileCache();

/** The cached file for a URL path inside a package version, if it is a small regular file. */
async function cachedFile(root: string, urlPath: string) {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.endsWith('/')) return undefined;
  const file = resolve(root, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  if (!file.startsWith(`${root}/`)) return undefined;
  return fileCache.get(file);
}

function sendCached(request: FastifyRequest, reply: FastifyReply, file: CachedFile) {
  reply.raw.removeHeader('content-security-policy');
  reply
    .header('etag', file.etag)
    .header('last-modified', file.lastModified)
    .header('accept-ranges', 'bytes')
    .header('cache-control', `private, max-age=${CONTENT_MAX_AGE_MS / 1000}`);
  const match = request.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim() === file.etag || t.trim() === '*')) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

export function playRoutes(app: FastifyInstance, deps: PlayRouteDeps): void {
  const attemptOf = (request: FastifyRequest) => deps.playTokens.verify((request.params as { token?: string }).token, deps.clock.now());

  const learnerOf = async (attemptId: string): Promise<Learner> => {
    const row = await deps.db
      .selectFrom('attempts as a')
      .innerJoin('users as u', 'u.id', 'a.user_id')
      // A content-dispatch learner: the SCO sees the LMS's learner id (or its hash), not the internal user.
      .leftJoin('dispatch_registrations as dr', 'dr.user_id', 'u.id')
      .select(['u.id as id', 'u.sub as sub', 'u.name as name', 'u.given_name as givenName', 'u.family_name as familyName', 'dr.learner_id as dispatchLearner'])
      .where('a.id', '=', attemptId)
      .executeTakeFirst();
    if (!row) throw new AppError('LAUNCH_TOKEN_INVALID', 'This attempt no longer exists.');
    const { dispatchLearner, ...learner } = row;
    return dispatchLearner ? { ...learner, sub: dispatchLearner } : learner;
  };

  app.get('/play/:token', async (request, reply) => renderPlayer(deps, reply, attemptOf(request)));

  app.get('/play/:token/attempt', async (request, reply) => {
    const view = await deps.runtime.view(attemptOf(request));
    return reply.header('cache-control', 'no-store').send({ ...view, label: statusLabel(view.completion, view.success) });
  });

  app.post('/play/:token/attempts', async (request, reply) => {
    const next = await deps.runtime.startNewAttempt(attemptOf(request));
    return reply.code(201).send({ attempt: next.id, playUrl: `/play/${deps.playTokens.issue(next.id, deps.clock.now())}` });
  });

  // A player open longer than a token lives trades its still-valid tokens for fresh ones; an
  // expired token gets LAUNCH_TOKEN_EXPIRED like every other call (relaunch from the LMS).
  app.post('/play/:token/renew', async (request, reply) => {
    const attemptId = attemptOf(request);
    const { attempt, version } = await deps.runtime.attemptWithVersion(attemptId);
    const now = deps.clock.now();
    await deps.dispatch.assertStillPlayable(attempt.user_id, now);
    return reply
      .header('cache-control', 'no-store')
      .send({ api: `/play/${deps.playTokens.issue(attemptId, now)}`, contentBase: `/content/${deps.contentTokens.issue(version.id, now)}/` });
  });

  app.post('/play/:token/sco/:sco', async (request, reply) => {
    const attemptId = attemptOf(request);
    const { sco } = request.params as { sco: string };
    const load = await deps.runtime.loadSco(attemptId, sco, await learnerOf(attemptId));
    return reply.header('cache-control', 'no-store').send(load);
  });

  app.register(async (scope) => {
    // sendBeacon posts text/plain; the body is the same JSON as a regular commit.
    scope.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/play/:token/sco/:sco/commit', { bodyLimit: 1024 * 1024 }, async (request, reply) => {
      const attemptId = attemptOf(request);
      const { sco } = request.params as { sco: string };
      const session = Number((request.query as { session?: string }).session);
      let body: unknown = request.body;
      if (typeof body === 'string') {
        try {
          body = JSON.parse(body);
        } catch {
          throw new AppError('CMI_INVALID', 'The commit body is not JSON.');
        }
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('CMI_INVALID', 'The commit must be a JSON object.');
      const { commitSequence, terminate, ...values } = body as Record<string, unknown>;
      const seq = Number(commitSequence);
      if (!Number.isInteger(session) || !Number.isInteger(seq) || seq < 0) {
        throw new AppError('CMI_INVALID', 'The commit needs a session (query) and a commitSequence.');
      }
      const view = await deps.runtime.commit(attemptId, sco, { session, seq, terminate: terminate === true || terminate === 'true', values });
      return reply.header('cache-control', 'no-store').send({ result: true, errorCode: 0, attempt: view });
    });
  });

  app.get('/content/:token/*', async (request, reply) => {
    const { token } = request.params as { token: string; '*': string };
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
      const file = await cachedFile(root, path);
      if (file) return sendCached(request, reply, file);
    }
    return sendFile(request, reply, root, path, { maxAgeMs: CONTENT_MAX_AGE_MS, packageContent: true });
  });

  app.get('/static/:file', async (request, reply) => {
    const file = STATIC_FILES[(request.params as { file: string }).file];
    if (!file) throw new AppError('NOT_FOUND', 'No such static file.');
    return sendFile(request, reply, dirname(file), `/${file.slice(dirname(file).length + 1)}`, { maxAgeMs: 300_000, packageContent: false });
  });
}

/**
 * Serves one file with @fastify/send: MIME type, ETag, Last-Modified, Range and
 * conditional requests; directories and dot-segments answer 404 (no listings).
 */
async function sendFile(request: FastifyRequest, reply: FastifyReply, root: string, urlPath: string, options: { maxAgeMs: number; packageContent: boolean }) {
  const result = await send(request.raw, urlPath, { root, index: false, dotfiles: 'allow', etag: true, lastModified: true, maxAge: options.maxAgeMs, acceptRanges: true });
  if (result.type === 'error' || result.type === 'directory' || result.statusCode >= 400) {
    if ('stream' in result && result.stream && typeof (result.stream as { destroy?: () => void }).destroy === 'function') (result.stream as { destroy: () => void }).destroy();
    throw new AppError('NOT_FOUND', 'No such file in this package.');
  }
  reply.code(result.statusCode);
  for (const [k, v] of Object.entries(result.headers)) if (v !== undefined) reply.header(k, v);
  reply.header('cache-control', `private, max-age=${Math.floor(options.maxAgeMs / 1000)}`);
  // Package pages run their own inline scripts: our page CSP does not apply to them.
  if (options.packageContent) reply.raw.removeHeader('content-security-policy');
  return reply.send(result.stream);
}
