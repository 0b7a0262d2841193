import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { listCatalogue } from '../../src/packages/package.repository.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ConsoleClient } from '../helpers/admin.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';
import { multipartBody } from '../helpers/multipart.js';

const NEW_PLATFORM = {
  name: 'Moodle North',
  issuer: 'https://moodle.north.example',
  clientId: 'north-client',
  authUrl: 'https://moodle.north.example/mod/lti/auth.php',
  tokenUrl: 'https://moodle.north.example/mod/lti/token.php',
  jwksUrl: 'https://moodle.north.example/mod/lti/certs.php',
  publicKey: '',
  tokenAudience: '',
  gradePolicy: 'overwrite',
  deployments: '7\n8',
};

describe.each(DIALECTS)('admin console pages (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function signedIn(): Promise<{ c: ConsoleClient; csrf: string }> {
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const c = new ConsoleClient(h.app);
    expect((await c.login()).statusCode).toBe(303);
    return { c, csrf: await c.csrf() };
  }
  const platformCount = async () => (await h.store.db.selectFrom('platforms').select('id').execute()).length;
  const actions = async () => (await h.app.services.audit.list()).map((e) => e.action);

  it('refuses every state-changing form without the session token (or from another origin) and changes nothing', async () => {
    h = await createHarness(dialect);
    const { c, csrf } = await signedIn();
    const before = await platformCount();
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['missing', { ...NEW_PLATFORM }, {}],
      ['wrong', { ...NEW_PLATFORM, _csrf: 'A'.repeat(43) }, {}],
      ['wrong header', { ...NEW_PLATFORM }, { 'x-csrf-token': 'B'.repeat(43) }],
      ['foreign origin', { ...NEW_PLATFORM, _csrf: csrf }, { origin: 'https://evil.example' }],
    ];
    for (const [why, fields, headers] of attempts) {
      const r = await c.post('/admin/platforms/new', fields, headers);
      expect(r.statusCode, why).toBe(403);
      expect(errorCode(r.body), why).toBe('ADMIN_CSRF_INVALID');
      expect(r.body, why).toContain('Nothing was changed');
    }
    expect(await platformCount()).toBe(before);
    expect(h.logs.filter((l) => l.code === 'ADMIN_CSRF_INVALID')).toHaveLength(4);

    // Another session's token is not this session's.
    const other = new ConsoleClient(h.app);
    await other.login();
    const otherCsrf = await other.csrf();
    expect((await c.post('/admin/keys/rotate-now', { _csrf: otherCsrf })).statusCode).toBe(403);
    expect((await h.app.services.toolKeys.list()).length).toBe(1);

    // Uploads: the token is checked before the file is stored.
    const body = multipartBody({ _csrf: 'C'.repeat(43) }, { name: 'file', filename: 'bike-care.zip', content: readFileSync(COURSE_12) });
    const upload = await h.app.inject({
      method: 'POST',
      url: '/admin/packages/upload',
      payload: body.payload,
      headers: { ...body.headers, cookie: c.jar.header() },
    });
    expect(upload.statusCode).toBe(403);
    expect(errorCode(upload.body)).toBe('ADMIN_CSRF_INVALID');
    expect(await h.app.services.packages.list()).toEqual([]);
    const uploads = join(h.config.dataDir, 'uploads');
    expect(existsSync(uploads) ? readdirSync(uploads) : []).toEqual([]);

    // The session is still fine, and with its token the same form works.
    const ok = await c.post('/admin/platforms/new', { ...NEW_PLATFORM, _csrf: csrf });
    expect(ok.statusCode).toBe(303);
    expect(await platformCount()).toBe(before + 1);
  });

  it('registers, edits, disables, activates platforms and their deployments, with the CLI/API validation', async () => {
    h = await createHarness(dialect);
    const { c, csrf } = await signedIn();

    const bad = await c.post('/admin/platforms/new', { ...NEW_PLATFORM, issuer: 'not a url', authUrl: 'ftp://x.example/auth', jwksUrl: '', _csrf: csrf });
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad.body)).toBe('VALIDATION_FAILED');
    expect(bad.body).toContain('issuer is not a URL: not a url');
    expect(bad.body).toContain('auth URL must be an http(s) URL');
    expect(bad.body).toContain('a JWKS URL (or a static public key) is required');
    expect(bad.body).toContain('value="north-client"'); // the input is kept
    expect(bad.body).toContain('7\n8');
    expect(await platformCount()).toBe(1);

    const created = await c.post('/admin/platforms/new', { ...NEW_PLATFORM, _csrf: csrf });
    expect(created.statusCode).toBe(303);
    const id = /\/admin\/platforms\/(plt_[\w-]+)$/.exec(String(created.headers.location))![1]!;
    const stored = await h.app.services.platforms.get(id);
    expect(stored.platform).toMatchObject({ name: 'Moodle North', issuer: NEW_PLATFORM.issuer, client_id: 'north-client', status: 'active' });
    expect(stored.deployments.map((d) => d.deployment_id).sort()).toEqual(['7', '8']);
    const list = await c.get('/admin/platforms');
    expect(list.body).toContain('Moodle North');
    expect(list.body).toContain('north-client');

    // What an LMS administrator typed is shown as text, never as markup.
    const xss = await c.post('/admin/platforms/new', { ...NEW_PLATFORM, clientId: 'xss', name: '<img src=x onerror=alert(1)>', _csrf: csrf });
    expect(xss.statusCode).toBe(303);
    const escaped = await c.get('/admin/platforms');
    expect(escaped.body).toContain('&lt;img src=x onerror=alert(1)');
    expect(escaped.body).not.toContain('<img src=x');

    const dup = await c.post('/admin/platforms/new', { ...NEW_PLATFORM, _csrf: csrf });
    expect(dup.statusCode).toBe(409);
    expect(errorCode(dup.body)).toBe('PLATFORM_EXISTS');

    // Edit: refused with the problems shown, then saved.
    const badEdit = await c.post(`/admin/platforms/${id}`, { ...NEW_PLATFORM, tokenUrl: 'nope', _csrf: csrf });
    expect(badEdit.statusCode).toBe(400);
    expect(badEdit.body).toContain('token URL is not a URL: nope');
    expect((await h.app.services.platforms.get(id)).platform.token_url).toBe(NEW_PLATFORM.tokenUrl);
    const edit = await c.post(`/admin/platforms/${id}`, { ...NEW_PLATFORM, name: 'Moodle North (prod)', _csrf: csrf });
    expect(edit.statusCode).toBe(303);
    expect((await h.app.services.platforms.get(id)).platform.name).toBe('Moodle North (prod)');
    expect((await c.get(`/admin/platforms/${id}`)).body).toMatch(/id="platform-missing-kid">refused</);
    // The exception for an LMS that omits kid: a checkbox, off unless ticked on each save.
    expect((await c.post(`/admin/platforms/${id}`, { ...NEW_PLATFORM, allowMissingKid: 'on', _csrf: csrf })).statusCode).toBe(303);
    expect((await h.app.services.platforms.get(id)).platform.allow_missing_kid).toBe(1);
    const lenient = await c.get(`/admin/platforms/${id}`);
    expect(lenient.body).toMatch(/id="platform-missing-kid">accepted</);
    expect(lenient.body).toMatch(/id="pf-allowMissingKid"[^>]*checked/);
    expect((await c.post(`/admin/platforms/${id}`, { ...NEW_PLATFORM, _csrf: csrf })).statusCode).toBe(303);
    expect((await h.app.services.platforms.get(id)).platform.allow_missing_kid).toBe(0);

    // Deployments: add, duplicate refused in place, disable.
    expect((await c.post(`/admin/platforms/${id}/deployments`, { deploymentId: '9', _csrf: csrf })).statusCode).toBe(303);
    const dupDep = await c.post(`/admin/platforms/${id}/deployments`, { deploymentId: '9', _csrf: csrf });
    expect(dupDep.statusCode).toBe(409);
    expect(errorCode(dupDep.body)).toBe('DEPLOYMENT_EXISTS');
    expect(dupDep.body).toContain('id="deployment-id" name="deploymentId" required value="9"');

    // The harness's own platform: disabling a deployment refuses its launches.
    const dep = (await h.app.services.platforms.get(h.platformId)).deployments[0]!;
    expect((await c.post(`/admin/platforms/${h.platformId}/deployments/${dep.id}/status`, { status: 'disabled', _csrf: csrf })).statusCode).toBe(303);
    const refusedLogin = await h.app.inject({
      method: 'GET',
      url: '/lti/login',
      query: {
        iss: h.platform.issuer,
        login_hint: 'x',
        target_link_uri: 'https://courseport.test/lti/launch',
        client_id: h.platform.clientId,
        lti_deployment_id: h.platform.deploymentId,
      },
    });
    expect(errorCode(refusedLogin.body)).toBe('LTI_DEPLOYMENT_DISABLED');
    expect((await c.post(`/admin/platforms/${h.platformId}/deployments/${dep.id}/status`, { status: 'active', _csrf: csrf })).statusCode).toBe(303);
    expect((await h.launch()).statusCode).toBe(200);

    // Disable the registration: launches refused; enable again.
    expect((await c.post(`/admin/platforms/${h.platformId}/status`, { status: 'disabled', _csrf: csrf })).statusCode).toBe(303);
    await expect(h.login()).rejects.toThrow(/LTI_PLATFORM_DISABLED|403/);
    expect((await c.post(`/admin/platforms/${h.platformId}/status`, { status: 'active', _csrf: csrf })).statusCode).toBe(303);

    // A pending registration (dynamic registration) shows Activate and becomes active.
    await h.app.services.platforms.setStatus(id, 'pending');
    const pendingList = await c.get('/admin/platforms');
    expect(pendingList.body).toMatch(new RegExp(`data-id="${id}" data-status="pending"[\\s\\S]*?data-action="activate"`));
    expect((await c.post(`/admin/platforms/${id}/status`, { status: 'active', back: 'list', _csrf: csrf })).headers.location).toBe('/admin/platforms');
    expect((await h.app.services.platforms.get(id)).platform.status).toBe('active');
    expect((await c.post(`/admin/platforms/${id}/status`, { status: 'deleted', _csrf: csrf })).statusCode).toBe(400);

    const done = await actions();
    for (const a of [
      'platform.register',
      'platform.update',
      'deployment.add',
      'deployment.disable',
      'deployment.enable',
      'platform.disable',
      'platform.enable',
      'platform.activate',
    ]) {
      expect(done, a).toContain(a);
    }
    const entry = (await h.app.services.audit.list({ action: 'platform.register' })).find((e) => e.target === id)!;
    expect(entry.actor).toBe(`admin:${ADMIN_EMAIL}`);
    expect(entry.details).toMatchObject({ issuer: NEW_PLATFORM.issuer, clientId: 'north-client' });
  });

  it('shows the last launch, the last error and the JWKS status of a registration', async () => {
    h = await createHarness(dialect);
    const { c, csrf } = await signedIn();
    expect((await h.launch()).statusCode).toBe(200);
    let p = (await h.app.services.platforms.get(h.platformId)).platform;
    expect(p.last_launch_at).toBe(h.clock.now());
    expect(p.last_error).toBeNull();

    // Within a minute a launch does not write the time again; after it, it does.
    h.clock.advance(30_000);
    await h.launch();
    expect((await h.app.services.platforms.get(h.platformId)).platform.last_launch_at).toBe(h.clock.now() - 30_000);
    h.clock.advance(31_000);
    await h.launch();
    expect((await h.app.services.platforms.get(h.platformId)).platform.last_launch_at).toBe(h.clock.now());

    const refused = await h.launch({ claims: { aud: 'someone-else' } });
    expect(refused.statusCode).toBe(401);
    p = (await h.app.services.platforms.get(h.platformId)).platform;
    expect(p.last_error).toMatch(/^LTI_INVALID_AUDIENCE: /);
    expect(p.last_error_at).toBe(h.clock.now());

    const page = await c.get('/admin/platforms');
    expect(page.body).toContain('LTI_INVALID_AUDIENCE');
    expect(page.body).toContain(new Date(p.last_launch_at!).toISOString().slice(0, 16).replace('T', ' '));
    expect(page.body).toMatch(/OK \(HTTP 200\)/); // the launches fetched the simulated LMS's JWKS

    const check = await c.post(`/admin/platforms/${h.platformId}/jwks-check`, { _csrf: csrf });
    expect(check.statusCode).toBe(200);
    expect(check.body).toContain('1 key(s) published.');
    expect(check.body).toContain(h.platform.signingKey.kid);
  });

  it('uploads a package, lists it, archives it out of the picker and back, and archived packages cannot be newly bound', async () => {
    h = await createHarness(dialect);
    const { c, csrf } = await signedIn();
    const body = multipartBody(
      { _csrf: csrf, title: 'Bicycle Care from the console' },
      { name: 'file', filename: 'bike-care.zip', content: readFileSync(COURSE_12) },
    );
    const up = await h.app.inject({
      method: 'POST',
      url: '/admin/packages/upload',
      payload: body.payload,
      headers: { ...body.headers, cookie: c.jar.header() },
    });
    expect(up.statusCode, up.body.slice(0, 300)).toBe(303);
    const id = /\/admin\/packages\/(pkg_[\w-]+)$/.exec(String(up.headers.location))![1]!;
    const list = await c.get('/admin/packages');
    expect(list.body).toContain('Bicycle Care from the console');
    const detail = await c.get(`/admin/packages/${id}`);
    expect(detail.body).toContain('bike-care.zip');
    expect(detail.body).toContain('SCORM 1.2');
    const entry = (await h.app.services.audit.list({ action: 'package.import' }))[0]!;
    expect(entry).toMatchObject({ actor: `admin:${ADMIN_EMAIL}`, target: id });

    // A new version through the header token (as the XHR upload sends it).
    const v2 = multipartBody({}, { name: 'file', filename: 'bike-care-v2.zip', content: readFileSync(COURSE_12) });
    const up2 = await h.app.inject({
      method: 'POST',
      url: `/admin/packages/${id}/upload`,
      payload: v2.payload,
      headers: { ...v2.headers, cookie: c.jar.header(), 'x-csrf-token': csrf },
    });
    expect(up2.statusCode).toBe(303);
    expect((await h.app.services.packages.get(id)).versions.map((v) => v.version)).toEqual([2, 1]);

    // A link bound before archiving keeps playing.
    const bound = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-before' } } });
    expect(bound.statusCode).toBe(200);

    expect((await c.post(`/admin/packages/${id}/archive`, { _csrf: csrf })).statusCode).toBe(303);
    expect((await h.app.services.packages.get(id)).package.status).toBe('archived');
    expect(await listCatalogue(h.store.db)).toEqual([]);
    expect((await c.get('/admin/packages')).body).not.toContain(`data-id="${id}"`);
    expect((await c.get('/admin/packages?archived=1')).body).toContain(`data-id="${id}" data-status="archived"`);

    const again = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-before' } } });
    expect(again.statusCode).toBe(200);
    const fresh = await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-after' } } });
    expect(fresh.statusCode).toBe(409);
    expect(errorCode(fresh.body)).toBe('PACKAGE_ARCHIVED');
    const rl = await h.store.db.selectFrom('resource_links').select('package_id').where('resource_link_id', '=', 'rl-after').executeTakeFirst();
    expect(rl).toBeUndefined(); // the refused launch recorded nothing

    expect((await c.post(`/admin/packages/${id}/unarchive`, { _csrf: csrf, back: 'list' })).headers.location).toBe('/admin/packages');
    expect((await listCatalogue(h.store.db)).map((p) => p.id)).toEqual([id]);
    expect((await h.launch({ claims: { [CLAIM.CUSTOM]: { package_id: id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-after' } } })).statusCode).toBe(200);
    expect(await actions()).toEqual(expect.arrayContaining(['package.archive', 'package.unarchive']));
  });

  it('shows grade delivery and retries one score or all dead ones', async () => {
    h = await createHarness(dialect);
    const { c, csrf } = await signedIn();
    const pkg = await h.app.services.packages.importPackage(COURSE_12);
    // Three learners: each row below is one learner's newest score (an older one would be superseded on retry).
    for (const sub of ['learner-g1', 'learner-g2', 'learner-g3']) {
      expect((await h.launch({ claims: { sub, [CLAIM.CUSTOM]: { package_id: pkg.package.id }, [CLAIM.RESOURCE_LINK]: { id: 'rl-g' } } })).statusCode).toBe(200);
    }
    const attempts = await h.store.db.selectFrom('attempts').selectAll().orderBy('id').execute();
    const now = h.clock.now();
    let learner = 0;
    const row = (id: string, state: 'dead' | 'pending', error: string) => {
      const attempt = attempts[learner++]!;
      return {
        id,
        attempt_id: attempt.id,
        resource_link_id: attempt.resource_link_id,
        user_id: attempt.user_id,
        platform_id: h.platformId,
        score: '{}',
        state,
        tries: 7,
        next_try_at: now,
        lease_until: null,
        last_error: error,
        created_at: now,
        updated_at: now,
        sent_at: null,
        seq: now,
      };
    };
    await h.store.db
      .insertInto('grade_outbox')
      .values([row('go_dead1', 'dead', 'SERVICE_CALL_FAILED: 403 Forbidden'), row('go_dead2', 'dead', 'token refused'), row('go_pend', 'pending', 'HTTP 503')])
      .execute();
    const page = await c.get('/admin/grades');
    expect(page.body).toContain('SERVICE_CALL_FAILED: 403 Forbidden');
    expect(page.body).toContain('HTTP 503');
    expect(page.body).toMatch(/data-state="dead">2</);

    expect((await c.post('/admin/grades/go_dead1/retry', { _csrf: csrf })).statusCode).toBe(303);
    const state = async (id: string) => await h.store.db.selectFrom('grade_outbox').select(['state', 'tries']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(await state('go_dead1')).toEqual({ state: 'pending', tries: 0 });
    expect((await state('go_dead2')).state).toBe('dead');
    expect((await c.post('/admin/grades/retry-dead', { _csrf: csrf })).statusCode).toBe(303);
    expect((await state('go_dead2')).state).toBe('pending');
    expect((await c.post('/admin/grades/go_unknown/retry', { _csrf: csrf })).statusCode).toBe(404);
    expect((await h.app.services.audit.list({ action: 'grades.retry' })).length).toBe(2);
  });

  it('rotates keys (publish next, then promote now) with audit entries', async () => {
    h = await createHarness(dialect);
    const { c, csrf } = await signedIn();
    const [current] = await h.app.services.toolKeys.list();
    expect((await c.get('/admin/keys')).body).toContain(current!.kid);
    const published = await c.post('/admin/keys/rotate', { _csrf: csrf });
    expect(published.statusCode).toBe(303);
    const next = (await h.app.services.toolKeys.list()).find((k) => k.state === 'next')!;
    expect(next).toBeDefined();
    expect((await c.get('/admin/keys')).body).toContain(`is published as next`);
    expect((await c.post('/admin/keys/rotate-now', { _csrf: csrf })).statusCode).toBe(303);
    const keys = await h.app.services.toolKeys.list();
    expect(keys.find((k) => k.kid === next.kid)!.state).toBe('current');
    expect(keys.find((k) => k.kid === current!.kid)!.state).toBe('retired');
    const entries = await h.app.services.audit.list({ action: 'key.rotate' });
    expect(entries.map((e) => e.details?.result)).toEqual(['promoted', 'published-next']);
  });

  it('pages through the audit log', async () => {
    h = await createHarness(dialect);
    const { c } = await signedIn();
    for (let i = 0; i < 110; i++) {
      h.clock.advance(1000);
      await h.app.services.audit.record({ actor: 'cli', action: 'test.entry', target: `t${i}` });
    }
    const first = await c.get('/admin/audit?action=test.entry');
    const rowsOf = (html: string) => [...html.matchAll(/<tr data-action="test\.entry">[\s\S]*?<td[^>]*>(t\d+)<\/td>/g)].map((m) => m[1]);
    expect(rowsOf(first.body)).toHaveLength(50);
    expect(rowsOf(first.body)[0]).toBe('t109');
    const older = /id="audit-older" rel="next"|href="([^"]+)" id="audit-older"/.exec(first.body);
    const href = /href="([^"]+)" id="audit-older"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    expect(older).not.toBeNull();
    const second = await c.get(href);
    expect(rowsOf(second.body)[0]).toBe('t59');
    const third = await c.get(/href="([^"]+)" id="audit-older"/.exec(second.body)![1]!.replace(/&amp;/g, '&'));
    expect(rowsOf(third.body)).toHaveLength(10);
    expect(third.body).not.toContain('id="audit-older"');
    // Sign-in itself is in the log, newest first on the unfiltered page.
    expect((await c.get('/admin/audit')).body).toContain('admin.login');
  });

  it('shows audit details as wrapping key/value lines, not a raw JSON object', async () => {
    h = await createHarness(dialect);
    const { c } = await signedIn();
    await h.app.services.audit.record({
      actor: 'cli',
      action: 'test.details',
      target: 't1',
      details: { issuer: 'https://lms.example.edu/<b>', count: 3, kids: ['k1', 'k2'], none: [], licence: { cap: 5, expires: null } },
    });
    const body = (await c.get('/admin/audit?action=test.details')).body;
    const cell = /<ul class="audit-details">([\s\S]*?)<\/ul>/.exec(body)?.[1];
    expect(cell).toBeDefined();
    expect(cell).toContain('<span class="muted">issuer</span> <code>https://lms.example.edu/&lt;b></code>');
    expect(cell).toContain('<span class="muted">count</span> <code>3</code>');
    expect(cell).toContain('<span class="muted">kids</span> <code>k1, k2</code>');
    expect(cell).toContain('<span class="muted">none</span> <code>–</code>');
    expect(cell).toContain('<span class="muted">licence</span> <code>cap: 5, expires: null</code>');
    expect(body).not.toContain('{&#34;issuer');
    expect(body).not.toContain('{&quot;issuer');
  });

  it('shows the LTI configuration with every URL and its copy button', async () => {
    h = await createHarness(dialect);
    const { c } = await signedIn();
    const page = await c.get('/admin/settings');
    for (const path of ['/.well-known/jwks.json', '/lti/login', '/lti/launch', '/lti/register', '/lti/config/canvas.json']) {
      expect(page.body).toContain(`https://courseport.test${path}`);
    }
    expect(page.body.match(/data-copy="url-/g)).toHaveLength(6);
    expect(page.body).toContain(h.platform.clientId);
    expect(page.body).toContain('Register LTI 1.3/Advantage Tool');
    expect(page.body).toContain('Manage Extensibility');
  });
});

describe.each(DIALECTS)('admin console account page (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('changes the password after checking the current one, and signs out the other sessions', async () => {
    h = await createHarness(dialect, { COURSEPORT_ADMIN_LOGIN_MAX_FAILURES: '3' });
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    await h.app.services.admins.create('second@example.edu', 'second admin password');
    const c = new ConsoleClient(h.app);
    await c.login();
    const other = new ConsoleClient(h.app);
    await other.login();
    const page = await c.get('/admin/account');
    expect(page.body).toContain(`${ADMIN_EMAIL} (you)`);
    expect(page.body).toContain('second@example.edu');
    const csrf = await c.csrf('/admin/account');
    const NEW = 'a brand new passphrase';

    const wrong = await c.post('/admin/account/password', { _csrf: csrf, current: 'not my password', password: NEW, confirm: NEW });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('the current password is wrong');
    const weak = await c.post('/admin/account/password', { _csrf: csrf, current: ADMIN_PASSWORD, password: 'short', confirm: 'short' });
    expect(weak.body).toContain('at least 12 characters');

    const ok = await c.post('/admin/account/password', { _csrf: csrf, current: ADMIN_PASSWORD, password: NEW, confirm: NEW });
    expect(ok.statusCode).toBe(303);
    expect((await c.get('/admin/settings')).statusCode).toBe(200); // this session stays
    expect((await other.get('/admin/settings')).headers.location).toMatch(/^\/admin\/login/); // the other one ended
    expect((await new ConsoleClient(h.app).login(ADMIN_EMAIL, ADMIN_PASSWORD)).statusCode).toBe(401);
    expect((await new ConsoleClient(h.app).login(ADMIN_EMAIL, NEW)).statusCode).toBe(303);
    expect(await h.app.services.audit.list({ action: 'admin.password' })).toHaveLength(1);

    // Guessing the current password from a session is throttled like sign-in.
    for (let i = 0; i < 3; i++)
      expect(
        (await c.post('/admin/account/password', { _csrf: csrf, current: `guess ${i} guess`, password: 'whatever password 1', confirm: 'whatever password 1' }))
          .statusCode,
      ).toBe(400);
    const throttled = await c.post('/admin/account/password', { _csrf: csrf, current: NEW, password: 'whatever password 1', confirm: 'whatever password 1' });
    expect(throttled.statusCode).toBe(429);
    expect(errorCode(throttled.body)).toBe('ADMIN_LOGIN_THROTTLED');
  });
});
