import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { courseFiles } from '../helpers/courses.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12, COURSE_12_MULTI } from '../helpers/fixtures.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';
import { multipartBody } from '../helpers/multipart.js';
import { playerConfig, type PlayerConfig } from '../helpers/player.js';

describe.each(DIALECTS)('SCORM packages: import, launch, content, runtime (%s)', (dialect) => {
  let h: Harness;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });
  const upload = (file: Buffer, filename = 'course.zip', fields: Record<string, string> = {}, url = '/api/v1/packages') => {
    const body = multipartBody(fields, { name: 'file', filename, content: file });
    return h.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, ...auth() } });
  };
  const contentDirs = () => {
    const root = join(h.config.dataDir, 'content');
    const list = (d: string) => {
      try {
        return readdirSync(join(root, d));
      } catch {
        return [];
      }
    };
    return { packages: list('packages'), staging: list('staging') };
  };

  beforeAll(async () => {
    h = await createHarness(dialect);
    token = (await h.app.services.adminTokens.create('test')).token;
  });
  afterAll(async () => {
    await h.close();
  });

  it('imports a SCORM 1.2 package uploaded through the API, streamed to disk', async () => {
    const res = await upload(readFileSync(COURSE_12), 'bike-care.zip', { title: 'Bicycle Care' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.title).toBe('Bicycle Care');
    expect(body.version).toMatchObject({ version: 1, scormVersion: '1.2', scoCount: 1, sourceName: 'bike-care.zip' });
    expect(body.version.fileCount).toBe(courseFiles('bike-care-12').length);
    expect(contentDirs().packages).toContain(body.version.id);
    expect(contentDirs().staging).toEqual([]);
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/packages', headers: auth() });
    expect(list.json().packages.map((p: { id: string }) => p.id)).toContain(body.id);
  });

  it('archives and unarchives a package through the API (audited); unknown ids get 404', async () => {
    const imported = await h.app.services.packages.importPackage(COURSE_12, { title: 'Archive me' });
    const id = imported.package.id;
    const archived = await h.app.inject({ method: 'POST', url: `/api/v1/packages/${id}/archive`, headers: auth() });
    expect(archived.statusCode, archived.body).toBe(200);
    expect(archived.json()).toMatchObject({ id, status: 'archived' });
    expect((await h.app.services.packages.get(id)).package.status).toBe('archived');
    const back = await h.app.inject({ method: 'POST', url: `/api/v1/packages/${id}/unarchive`, headers: auth() });
    expect(back.json()).toMatchObject({ id, status: 'active' });
    const actions = (await h.app.services.audit.list({ limit: 5 })).filter((e) => e.target === id).map((e) => e.action);
    expect(actions).toEqual(['package.unarchive', 'package.archive']);
    const missing = await h.app.inject({ method: 'POST', url: '/api/v1/packages/pkg_nope/archive', headers: auth() });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('PACKAGE_NOT_FOUND');
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/packages/${id}/archive` })).statusCode).toBe(401);
  });

  it('refuses hostile or broken uploads with a clear code and stores nothing', async () => {
    const before = contentDirs();
    const count = async () => (await h.app.inject({ method: 'GET', url: '/api/v1/packages', headers: auth() })).json().packages.length;
    const n = await count();
    const notZip = await upload(Buffer.from('this is not a zip file at all'));
    expect(notZip.statusCode).toBe(400);
    expect(notZip.json().error).toBe('PACKAGE_NOT_ZIP');
    const noFile = await h.app.inject({ method: 'POST', url: '/api/v1/packages', payload: { title: 'x' }, headers: auth() });
    expect(noFile.statusCode).toBe(400);
    expect(await count()).toBe(n);
    expect(contentDirs()).toEqual(before);
  });

  it('needs a token to upload', async () => {
    const body = multipartBody({}, { name: 'file', filename: 'x.zip', content: readFileSync(COURSE_12) });
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/packages', payload: body.payload, headers: body.headers });
    expect(res.statusCode).toBe(401);
  });

  describe('played from the LMS', () => {
    let packageId: string;
    let config: PlayerConfig;

    beforeAll(async () => {
      const imported = await h.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care 1.2' });
      packageId = imported.package.id;
      const res = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: packageId }, [CLAIM.RESOURCE_LINK]: { id: 'rl-bike', title: 'Bicycle Care' } } });
      expect(res.statusCode, res.body.slice(0, 400)).toBe(200);
      config = playerConfig(res);
    });

    it('opens the player for a resource link whose custom package_id names a package, and binds the link', async () => {
      expect(config.family).toBe('1.2');
      expect(config.scos).toEqual([expect.objectContaining({ id: 'item_1', launchUrl: 'launch.html' })]);
      expect(config.start).toBe('item_1');
      const rl = await h.store.db.selectFrom('resource_links').selectAll().where('resource_link_id', '=', 'rl-bike').executeTakeFirstOrThrow();
      expect(rl.package_id).toBe(packageId);
      // A later launch without the custom parameter still plays the bound package.
      const again = await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-bike', title: 'Bicycle Care' } } });
      expect(playerConfig(again).scos[0]?.id).toBe('item_1');
    });

    it('serves package files only with a valid content token, with MIME type, ETag and Range', async () => {
      const url = `${config.contentBase}launch.html`;
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['content-security-policy']).toBeUndefined();
      const etag = String(res.headers.etag);
      expect(etag).toBeTruthy();
      expect((await h.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
      const range = await h.app.inject({ method: 'GET', url, headers: { range: 'bytes=0-9' } });
      expect(range.statusCode).toBe(206);
      expect(range.body).toHaveLength(10);
      const img = await h.app.inject({ method: 'GET', url: `${config.contentBase}media/tyres.jpg` });
      expect(img.headers['content-type']).toBe('image/jpeg');

      const tampered = config.contentBase.replace(/\/content\/([^/]+)\//, (_m, t: string) => `/content/${t.slice(0, -2)}zz/`);
      expect((await h.app.inject({ method: 'GET', url: `${tampered}launch.html` })).statusCode).toBe(403);
      expect((await h.app.inject({ method: 'GET', url: '/content/nothing/launch.html' })).statusCode).toBe(403);
      expect((await h.app.inject({ method: 'GET', url: `${config.contentBase}pages/` })).statusCode).toBe(404);
      expect((await h.app.inject({ method: 'GET', url: `${config.contentBase}pages/nope.html` })).statusCode).toBe(404);
      expect((await h.app.inject({ method: 'GET', url: `${config.contentBase}..%2f..%2f..%2fsecret` })).statusCode).toBe(404);
    });

    it('runs the SCORM runtime: load, commit, stale and invalid commits, terminate, resume', async () => {
      const load = await h.app.inject({ method: 'POST', url: `${config.api}/sco/item_1` });
      expect(load.statusCode, load.body).toBe(200);
      const first = load.json() as { session: number; cmi: Record<string, string> };
      expect(first.cmi['cmi.core.student_id']).toBe('learner-1');
      expect(first.cmi['cmi.core.student_name']).toBe('Lovelace, Ada');
      expect(first.cmi['cmi.core.entry']).toBe('ab-initio');
      expect(first.cmi['cmi.core.credit']).toBe('credit');
      const commit = (seq: number, values: Record<string, unknown>, opts: { session?: number; terminate?: boolean; beacon?: boolean } = {}) =>
        h.app.inject({
          method: 'POST',
          url: `${config.api}/sco/item_1/commit?session=${opts.session ?? first.session}`,
          payload: JSON.stringify({ ...values, commitSequence: seq, ...(opts.terminate ? { terminate: true } : {}) }),
          headers: { 'content-type': opts.beacon ? 'text/plain;charset=UTF-8' : 'application/json' },
        });

      const c1 = await commit(1, { 'cmi.core.lesson_status': 'incomplete', 'cmi.core.lesson_location': '3', 'cmi.objectives': {} });
      expect(c1.statusCode, c1.body).toBe(200);
      expect(c1.json()).toMatchObject({ result: true, errorCode: 0 });
      expect(c1.json().attempt.completion).toBe('incomplete');

      const stale = await commit(1, { 'cmi.core.lesson_location': '1' });
      expect(stale.statusCode).toBe(409);
      expect(stale.json().error).toBe('CMI_STALE_COMMIT');

      const invalid = await commit(2, { 'cmi.core.lesson_status': 'done-ish' });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().error).toBe('CMI_INVALID');

      const fin = await commit(
        3,
        {
          'cmi.core.lesson_status': 'incomplete',
          'cmi.core.lesson_location': '5',
          'cmi.core.exit': 'suspend',
          'cmi.core.session_time': '00:01:30',
          'cmi.suspend_data': 'p=5',
        },
        { terminate: true, beacon: true },
      );
      expect(fin.statusCode, fin.body).toBe(200);
      expect(fin.json().attempt.totalTimeMs).toBe(90_000);

      const resume = await h.app.inject({ method: 'POST', url: `${config.api}/sco/item_1` });
      const second = resume.json() as { session: number; cmi: Record<string, string> };
      expect(second.session).toBe(first.session + 1);
      expect(second.cmi['cmi.core.entry']).toBe('resume');
      expect(second.cmi['cmi.core.lesson_location']).toBe('5');
      expect(second.cmi['cmi.suspend_data']).toBe('p=5');
      expect(second.cmi['cmi.core.total_time']).toBe('0000:01:30.00');

      // A late beacon from the first session never overwrites the second session's data.
      expect((await commit(99, { 'cmi.core.lesson_location': '0' })).statusCode).toBe(409);

      const done = await commit(
        1,
        {
          'cmi.core.lesson_status': 'passed',
          'cmi.core.score.raw': '85',
          'cmi.core.score.max': '100',
          'cmi.core.score.min': '0',
          'cmi.core.session_time': '00:00:30',
          'cmi.core.exit': '',
        },
        { session: second.session, terminate: true },
      );
      expect(done.statusCode, done.body).toBe(200);
      const attempt = await h.store.db.selectFrom('attempts').selectAll().where('id', '=', done.json().attempt.id).executeTakeFirstOrThrow();
      expect(attempt).toMatchObject({ completion: 'completed', success: 'passed', score_raw: 85, total_time_ms: 120_000 });
      expect(attempt.score_scaled).toBeCloseTo(0.85);
      expect(attempt.completed_at).not.toBeNull();
    });

    it('keeps existing attempts on their version when the package is re-imported', async () => {
      const before = await h.store.db.selectFrom('attempts').selectAll().execute();
      const v2 = await h.app.services.packages.importPackage(COURSE_12, { packageId });
      expect(v2.version.version).toBe(2);
      const again = await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-bike', title: 'Bicycle Care' } } });
      expect(again.statusCode).toBe(200);
      const after = await h.store.db.selectFrom('attempts').selectAll().execute();
      expect(after.map((a) => a.package_version_id).sort()).toEqual(before.map((a) => a.package_version_id).sort());
      // A learner who never started plays the new version.
      const other = await h.launch({ claims: { sub: 'learner-2', [CLAIM.RESOURCE_LINK]: { id: 'rl-bike', title: 'Bicycle Care' } } });
      expect(other.statusCode).toBe(200);
      const theirs = await h.store.db
        .selectFrom('attempts as a')
        .innerJoin('users as u', 'u.id', 'a.user_id')
        .select('a.package_version_id')
        .where('u.sub', '=', 'learner-2')
        .executeTakeFirstOrThrow();
      expect(theirs.package_version_id).toBe(v2.version.id);
    });

    it('starts a new attempt on the new package when the link is bound to another one', async () => {
      const other = await h.app.services.packages.importPackage(COURSE_12_MULTI);
      const res = await h.launch({
        claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-bike', title: 'Bicycle Care' }, [CLAIM.CUSTOM]: { package_id: other.package.id } },
      });
      expect(playerConfig(res).scos).toHaveLength(9);
      const mine = await h.store.db
        .selectFrom('attempts as a')
        .innerJoin('users as u', 'u.id', 'a.user_id')
        .innerJoin('package_versions as v', 'v.id', 'a.package_version_id')
        .select(['a.number', 'v.package_id'])
        .where('u.sub', '=', 'learner-1')
        .orderBy('a.number')
        .execute();
      expect(mine.map((a) => a.package_id)).toEqual([packageId, other.package.id]);
      // Binding back replays the old package in yet another attempt; nothing of the old ones is lost.
      const back = await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-bike', title: 'Bicycle Care' }, [CLAIM.CUSTOM]: { package_id: packageId } } });
      expect(playerConfig(back).scos).toHaveLength(1);
    });

    it('refuses a launch naming an unknown package and records nothing', async () => {
      const launches = async () => (await h.store.db.selectFrom('launches').selectAll().execute()).length;
      const n = await launches();
      const res = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: 'pkg_missing' } } });
      expect(res.statusCode).toBe(404);
      expect(errorCode(res.body)).toBe('PACKAGE_NOT_FOUND');
      expect(await launches()).toBe(n);
    });

    it('renews its tokens before they expire, so a player open all day keeps committing; an expired token is refused', async () => {
      const started = h.clock.now();
      const ttl = h.app.services.playTokens.ttlMs;
      expect(config.renewEveryMs).toBe(Math.max(60_000, Math.floor(ttl / 4)));
      try {
        h.clock.set(started + ttl - 60_000);
        const renewed = await h.app.inject({ method: 'POST', url: `${config.api}/renew` });
        expect(renewed.statusCode, renewed.body).toBe(200);
        expect(renewed.headers['cache-control']).toBe('no-store');
        const fresh = renewed.json<{ api: string; contentBase: string }>();
        expect(fresh.api).toMatch(/^\/play\/[^/]+$/);
        expect(fresh.contentBase).toMatch(/^\/content\/[^/]+\/$/);

        // Past the first tokens' lifetime: the old ones are refused, the renewed ones work.
        h.clock.set(started + ttl + 60_000);
        const old = await h.app.inject({ method: 'GET', url: `${config.api}/attempt` });
        expect(old.statusCode).toBe(401);
        expect(old.json<{ error: string }>().error).toBe('LAUNCH_TOKEN_EXPIRED');
        expect((await h.app.inject({ method: 'POST', url: `${config.api}/renew` })).statusCode).toBe(401);
        expect((await h.app.inject({ method: 'GET', url: `${config.contentBase}launch.html` })).statusCode).toBe(403);
        const view = await h.app.inject({ method: 'GET', url: `${fresh.api}/attempt` });
        expect(view.statusCode, view.body).toBe(200);
        const file = await h.app.inject({ method: 'GET', url: `${fresh.contentBase}launch.html` });
        expect(file.statusCode).toBe(200);
        const load = await h.app.inject({ method: 'POST', url: `${fresh.api}/sco/item_1` });
        expect(load.statusCode, load.body).toBe(200);
        const commit = await h.app.inject({
          method: 'POST',
          url: `${fresh.api}/sco/item_1/commit?session=${load.json<{ session: number }>().session}`,
          payload: { commitSequence: 1, 'cmi.core.lesson_location': 'page-3' },
        });
        expect(commit.statusCode, commit.body).toBe(200);
      } finally {
        h.clock.set(started);
      }
    });
  });

  it('lists every SCO of a multi-SCO package in the player, in manifest order', async () => {
    const imported = await h.app.services.packages.importPackage(COURSE_12_MULTI);
    const res = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: imported.package.id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-multi' } } });
    const cfg = playerConfig(res);
    expect(cfg.scos).toHaveLength(9);
    expect(res.body).toContain('class="toc"');
  });
});

describe('new attempts after completion', () => {
  async function completedAttempt(h: Harness): Promise<PlayerConfig> {
    const imported = await h.app.services.packages.importPackage(COURSE_12);
    const res = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: imported.package.id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-again' } } });
    const cfg = playerConfig(res);
    const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
    const done = await h.app.inject({
      method: 'POST',
      url: `${cfg.api}/sco/item_1/commit?session=${session}`,
      payload: { 'cmi.core.lesson_status': 'completed', 'cmi.core.session_time': '00:00:05', commitSequence: 1, terminate: true },
    });
    expect(done.json().attempt.completion).toBe('completed');
    return cfg;
  }

  it('lets a learner start attempt 2 once attempt 1 is completed, when allowed', async () => {
    const h = await createHarness('sqlite', { COURSEPORT_NEW_ATTEMPT_AFTER_COMPLETION: 'true' });
    try {
      const cfg = await completedAttempt(h);
      const page = await h.app.inject({ method: 'GET', url: cfg.api });
      expect(page.body).toContain('id="new-attempt"');
      const next = await h.app.inject({ method: 'POST', url: `${cfg.api}/attempts` });
      expect(next.statusCode, next.body).toBe(201);
      const player = await h.app.inject({ method: 'GET', url: next.json().playUrl });
      expect(player.statusCode).toBe(200);
      expect(player.body).toContain('Attempt 2 · Not started');
      // The old attempt's runtime is closed to a second "new attempt" from a stale page.
      expect((await h.app.inject({ method: 'POST', url: `${cfg.api}/attempts` })).statusCode).toBe(409);
      const numbers = (await h.store.db.selectFrom('attempts').select('number').orderBy('number').execute()).map((r) => r.number);
      expect(numbers).toEqual([1, 2]);
    } finally {
      await h.close();
    }
  });

  it('keeps one attempt when new attempts are not allowed (the default)', async () => {
    const h = await createHarness('sqlite');
    try {
      const cfg = await completedAttempt(h);
      expect((await h.app.inject({ method: 'GET', url: cfg.api })).body).not.toContain('id="new-attempt"');
      const next = await h.app.inject({ method: 'POST', url: `${cfg.api}/attempts` });
      expect(next.statusCode).toBe(400);
      expect((await h.store.db.selectFrom('attempts').select('number').execute()).length).toBe(1);
    } finally {
      await h.close();
    }
  });
});
