import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { packageUsage } from '../../src/packages/package.repository.js';
import { PREVIEW_PLATFORM_ID } from '../../src/platforms/platform.repository.js';
import { ConsoleClient } from '../helpers/admin.js';
import { buildButtonCourse, buttonCourseManifest } from '../helpers/button-course.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';
import { multipartBody } from '../helpers/multipart.js';
import { playerConfig } from '../helpers/player.js';
import { buildZip, tempDir } from '../helpers/zip-builder.js';

/** The value of an input or textarea by id, as the page shows it. */
function fieldValue(html: string, id: string): string | undefined {
  const input = new RegExp(`<input id="${id}"[^>]*?value="([^"]*)"`).exec(html)?.[1];
  return input?.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
}

describe.each(DIALECTS)('admin console: the things a new administrator missed (%s)', (dialect) => {
  let h: Harness;
  let c: ConsoleClient;
  let csrf: string;

  beforeAll(async () => {
    h = await createHarness(dialect, { COURSEPORT_SANDBOX: 'true' });
    await h.app.services.sandbox.ensureReady();
    c = new ConsoleClient(h.app);
    expect((await c.setup()).statusCode).toBe(303);
    csrf = await c.csrf();
  });
  afterAll(async () => {
    await h?.close();
  });

  const importButtonCourse = async (title: string) => (await h.app.services.packages.importPackage(await buildButtonCourse(), { title })).package;
  const actions = async (action: string) => (await h.app.services.audit.list({ action })).map((e) => ({ target: e.target, details: e.details }));

  it('shows unknown pages and unknown ids inside the console, with its navigation, as 404s', async () => {
    for (const url of ['/admin/nothing-here', '/admin/packages/pkg_nope', '/admin/platforms/plt_nope', '/admin/dispatch/dsp_nope']) {
      const r = await c.get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.body, url).toContain('<nav aria-label="Console">');
      expect(r.body, url).toContain('id="console-error"');
      expect(r.body, url).toContain('id="logout"');
    }
    expect(errorCode((await c.get('/admin/packages/pkg_nope')).body)).toBe('PACKAGE_NOT_FOUND');
    // The section of the path stays marked in the navigation.
    expect((await c.get('/admin/packages/pkg_nope')).body).toContain('href="/admin/packages" aria-current="page"');
    // An action on an unknown id too (after the anti-forgery check, which still comes first).
    const post = await c.post('/admin/packages/pkg_nope/archive', { _csrf: csrf });
    expect(post.statusCode).toBe(404);
    expect(post.body).toContain('<nav aria-label="Console">');
    const forged = await c.post('/admin/packages/pkg_nope/archive', { _csrf: 'forged' });
    expect(errorCode(forged.body)).toBe('ADMIN_CSRF_INVALID');
  });

  it('puts logout on the right as a button, apart from the sections, and links the sandbox both ways', async () => {
    const page = (await c.get('/admin/settings')).body;
    const nav = /<nav aria-label="Console">([\s\S]*?)<\/nav>/.exec(page)![1]!;
    expect(nav).not.toContain('logout');
    expect(page).toMatch(
      /<div class="admin-session">[\s\S]*?<a href="\/sandbox" id="sandbox-link"[\s\S]*?<button type="submit" class="secondary" id="logout">/,
    );
    const sandbox = await h.app.inject({ method: 'GET', url: '/sandbox' });
    expect(sandbox.body).toContain('<a href="/admin" id="sandbox-console-link">');
    // Without the sandbox, the console does not link to it.
    const off = await createHarness(dialect, { COURSEPORT_SANDBOX: 'false' });
    try {
      const other = new ConsoleClient(off.app);
      await other.setup();
      expect((await other.get('/admin/settings')).body).not.toContain('id="sandbox-link"');
    } finally {
      await off.close();
    }
  });

  it('offers "Add a platform" as a button and fills the form from an LMS preset', async () => {
    expect((await c.get('/admin/platforms')).body).toMatch(/<a href="\/admin\/platforms\/new" id="add-platform" class="button primary">/);
    const moodle = await c.get('/admin/platforms/new?lms=moodle&site=moodle.example.edu%2F&clientId=abc123');
    expect(moodle.statusCode).toBe(200);
    expect(fieldValue(moodle.body, 'pf-issuer')).toBe('https://moodle.example.edu');
    expect(fieldValue(moodle.body, 'pf-clientId')).toBe('abc123');
    expect(fieldValue(moodle.body, 'pf-authUrl')).toBe('https://moodle.example.edu/mod/lti/auth.php');
    expect(fieldValue(moodle.body, 'pf-tokenUrl')).toBe('https://moodle.example.edu/mod/lti/token.php');
    expect(fieldValue(moodle.body, 'pf-jwksUrl')).toBe('https://moodle.example.edu/mod/lti/certs.php');
    expect(moodle.body).toContain('id="preset-note"');
    const canvas = await c.get('/admin/platforms/new?lms=canvas&site=');
    expect(fieldValue(canvas.body, 'pf-issuer')).toBe('https://canvas.instructure.com');
    expect(fieldValue(canvas.body, 'pf-authUrl')).toBe('https://sso.canvaslms.com/api/lti/authorize_redirect');
    const blackboard = await c.get('/admin/platforms/new?lms=blackboard&clientId=app-1');
    expect(fieldValue(blackboard.body, 'pf-jwksUrl')).toBe('https://developer.blackboard.com/api/v1/management/applications/app-1/jwks.json');
    const d2l = await c.get('/admin/platforms/new?lms=brightspace&site=https%3A%2F%2Fschool.brightspace.com%2Fd2l%2Fhome');
    expect(fieldValue(d2l.body, 'pf-issuer')).toBe('https://school.brightspace.com');
    expect(fieldValue(d2l.body, 'pf-jwksUrl')).toBe('https://school.brightspace.com/d2l/.well-known/jwks');
    expect(fieldValue(d2l.body, 'pf-tokenAudience')).toBe('https://api.brightspace.com/auth/token');
    // A preset that needs the LMS's address says so on that field.
    const noSite = await c.get('/admin/platforms/new?lms=moodle');
    expect(noSite.body).toMatch(/<input id="preset-site"[^>]*aria-invalid="true"[^>]*aria-describedby="preset-site-error"/);
    expect(noSite.body).toContain('Enter the LMS address');
  });

  it('marks the fields at fault (aria-invalid and a message next to them) as well as listing the problems', async () => {
    const r = await c.post('/admin/platforms/new', {
      _csrf: csrf,
      name: 'Half done',
      issuer: 'https://lms.example.edu',
      clientId: '',
      authUrl: 'https://lms.example.edu/auth',
      tokenUrl: 'not-a-url',
      jwksUrl: '',
      gradePolicy: 'overwrite',
      deployments: '',
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('id="form-problems"');
    for (const [id, words] of [
      ['pf-clientId', 'client id is required'],
      ['pf-tokenUrl', 'token URL is not a URL: not-a-url'],
      ['pf-jwksUrl', 'a JWKS URL (or a static public key) is required'],
    ] as const) {
      expect(r.body, id).toMatch(new RegExp(`<input id="${id}"[^>]*aria-invalid="true" aria-describedby="${id}-error"`));
      expect(r.body, id).toMatch(new RegExp(`<p class="field-error" id="${id}-error">[^<]*${words.replace(/[()]/g, '\\$&')}`));
    }
    expect(r.body).toMatch(/<input id="pf-issuer"(?![^>]*aria-invalid)[^>]*>/);
    expect(fieldValue(r.body, 'pf-authUrl')).toBe('https://lms.example.edu/auth');
  });

  it('shows the built-in sandbox registration read-only and refuses every change to it', async () => {
    const sandbox = (await h.app.services.platforms.list()).find((p) => p.platform.client_id === 'courseport-sandbox')!.platform;
    const before = await h.app.services.platforms.get(sandbox.id);
    const list = await c.get('/admin/platforms');
    expect(list.body).toMatch(new RegExp(`data-id="${sandbox.id}"[\\s\\S]*?built-in`));
    const page = await c.get(`/admin/platforms/${sandbox.id}`);
    expect(page.body).toContain('id="built-in-note"');
    expect(page.body).toContain('COURSEPORT_SANDBOX=false');
    expect(page.body).toContain('id="registration-read-only"');
    for (const absent of ['id="platform-form"', 'id="deployment-form"', `action="/admin/platforms/${sandbox.id}/status"`])
      expect(page.body).not.toContain(absent);
    const dep = before.deployments[0]!;
    for (const [url, fields] of [
      [
        `/admin/platforms/${sandbox.id}`,
        {
          issuer: 'https://evil.example',
          clientId: 'x',
          authUrl: 'https://evil.example/a',
          tokenUrl: 'https://evil.example/t',
          jwksUrl: 'https://evil.example/j',
          gradePolicy: 'overwrite',
        },
      ],
      [`/admin/platforms/${sandbox.id}/status`, { status: 'disabled' }],
      [`/admin/platforms/${sandbox.id}/deployments`, { deploymentId: 'extra' }],
      [`/admin/platforms/${sandbox.id}/deployments/${dep.id}/status`, { status: 'disabled' }],
    ] as const) {
      const r = await c.post(url, { _csrf: csrf, ...fields });
      expect(r.statusCode, url).toBe(409);
      expect(errorCode(r.body), url).toBe('PLATFORM_BUILT_IN');
      expect(r.body, url).toContain('<nav aria-label="Console">');
    }
    expect(await h.app.services.platforms.get(sandbox.id)).toEqual(before);
    expect((await h.app.services.audit.list()).filter((e) => e.target === sandbox.id && e.actor.startsWith('admin:'))).toEqual([]);
    // Other registrations stay editable.
    const other = await c.get(`/admin/platforms/${h.platformId}`);
    expect(other.body).toContain('id="platform-form"');
  });

  it('filters the audit log with a list of the actions it holds', async () => {
    const page = await c.get('/admin/audit');
    expect(page.body).toMatch(/<select id="audit-action" name="action">/);
    const options = [...page.body.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(options[0]).toBe('');
    expect(options).toContain('admin.setup');
    expect(options).toContain('platform.register');
    expect(options).toEqual([...new Set(options)]);
    const filtered = await c.get('/admin/audit?action=admin.setup');
    expect(filtered.body).toContain('<option value="admin.setup" selected>');
    expect([...filtered.body.matchAll(/<tr data-action="([^"]+)"/g)].map((m) => m[1])).toEqual(['admin.setup']);
  });

  it('renames a package (audited), refusing a title over the limit with the input kept', async () => {
    const pkg = await importButtonCourse('Old name');
    const ok = await c.post(`/admin/packages/${pkg.id}/rename`, { _csrf: csrf, title: '  Putting basics  ' });
    expect(ok.statusCode).toBe(303);
    expect((await h.app.services.packages.get(pkg.id)).package.title).toBe('Putting basics');
    expect(await actions('package.rename')).toEqual([{ target: pkg.id, details: { from: 'Old name', to: 'Putting basics' } }]);
    const long = 'x'.repeat(201);
    const refused = await c.post(`/admin/packages/${pkg.id}/rename`, { _csrf: csrf, title: long });
    expect(refused.statusCode).toBe(400);
    expect(errorCode(refused.body)).toBe('VALIDATION_FAILED');
    expect(refused.body).toContain('must be at most 200 characters (it has 201)');
    expect(fieldValue(refused.body, 'rename-title')).toBe(long);
    expect((await h.app.services.packages.get(pkg.id)).package.title).toBe('Putting basics');
    // The upload form and the API hold the same limit.
    const up = multipartBody({ _csrf: csrf, title: long }, { name: 'file', filename: 'c.zip', content: readFileSync(await buildButtonCourse()) });
    const upload = await h.app.inject({
      method: 'POST',
      url: '/admin/packages/upload',
      payload: up.payload,
      headers: { ...up.headers, cookie: c.jar.header() },
    });
    expect(upload.statusCode).toBe(400);
    expect(upload.body).toContain('must be at most 200 characters');
    // A manifest's own overlong title is shortened, not refused (nobody can fix it at upload).
    const imported = await h.app.services.packages.importPackage(await buildButtonCourse({ manifest: buttonCourseManifest('M'.repeat(600)) }));
    expect([...imported.package.title]).toHaveLength(200);
    expect(imported.package.title.endsWith('…')).toBe(true);
  });

  it('deletes an unused package with its files (audited) and refuses while an LMS link or a dispatch uses it', async () => {
    const unused = await importButtonCourse('Unused');
    const version = (await h.app.services.packages.get(unused.id)).versions[0]!;
    const files = h.app.services.content.localRoot(version.storage_key);
    expect(existsSync(files)).toBe(true);
    const gone = await c.post(`/admin/packages/${unused.id}/delete`, { _csrf: csrf });
    expect(gone.statusCode).toBe(303);
    expect(gone.headers.location).toBe('/admin/packages');
    expect(await h.store.db.selectFrom('packages').select('id').where('id', '=', unused.id).execute()).toEqual([]);
    expect(await h.store.db.selectFrom('package_versions').select('id').where('package_id', '=', unused.id).execute()).toEqual([]);
    expect(existsSync(files)).toBe(false);
    expect(await actions('package.delete')).toEqual([{ target: unused.id, details: { title: 'Unused', versions: 1 } }]);

    // Bound to an LMS link by a launch: refused, with the reason and the way out, and nothing changes.
    const linked = await importButtonCourse('Linked');
    const launch = await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: 'rl-delete' }, [CLAIM.CUSTOM]: { package_id: linked.id } } });
    expect(launch.statusCode).toBe(200);
    const refused = await c.post(`/admin/packages/${linked.id}/delete`, { _csrf: csrf });
    expect(refused.statusCode).toBe(409);
    expect(errorCode(refused.body)).toBe('PACKAGE_IN_USE');
    expect(refused.body).toContain('1 LMS link(s) use it');
    expect(refused.body).toContain('Archive it instead');
    expect((await h.app.services.packages.get(linked.id)).versions).toHaveLength(1);

    const dispatched = await importButtonCourse('Dispatched');
    const destination = await h.app.services.dispatch.createDestination({ name: 'Acme' });
    await h.app.services.dispatch.createDispatch({ destinationId: destination.id, packageId: dispatched.id });
    const api = await h.app.services.adminTokens.create('t');
    const viaApi = await h.app.inject({ method: 'DELETE', url: `/api/v1/packages/${dispatched.id}`, headers: { authorization: `Bearer ${api.token}` } });
    expect(viaApi.statusCode).toBe(409);
    expect(viaApi.json()).toMatchObject({ error: 'PACKAGE_IN_USE', details: { dispatches: 1, links: 1 } });
    expect(await actions('package.delete')).toHaveLength(1);
  });

  it('previews a package in the player without an LMS: a fresh attempt each time, never counted as a link, gone with the package', async () => {
    const pkg = await importButtonCourse('Preview me');
    const open = await c.post(`/admin/packages/${pkg.id}/preview`, { _csrf: csrf });
    expect(open.statusCode).toBe(303);
    const playUrl = String(open.headers.location);
    expect(playUrl).toMatch(/^\/play\/[^/]+$/);
    expect((await c.get(`/admin/packages/${pkg.id}`)).body).toMatch(/<form method="post" action="\/admin\/packages\/[^"]+\/preview" target="_blank"/);
    const player = await h.app.inject({ method: 'GET', url: playUrl });
    expect(player.statusCode).toBe(200);
    expect(player.body).toContain('id="preview-banner"');
    const cfg = playerConfig(player);
    const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
    const commit = await h.app.inject({
      method: 'POST',
      url: `${cfg.api}/sco/item_1/commit?session=${session}`,
      payload: { 'cmi.core.lesson_status': 'passed', commitSequence: 1, terminate: true },
    });
    expect(commit.statusCode, commit.body).toBe(200);
    expect(commit.json()).toMatchObject({ attempt: { completion: 'completed' } });
    // A second preview starts over; the first attempt is gone. Nothing is queued for a gradebook.
    await c.post(`/admin/packages/${pkg.id}/preview`, { _csrf: csrf });
    const attempts = await h.store.db
      .selectFrom('attempts as a')
      .innerJoin('resource_links as r', 'r.id', 'a.resource_link_id')
      .select(['a.completion', 'r.platform_id'])
      .where('r.package_id', '=', pkg.id)
      .execute();
    expect(attempts).toEqual([{ completion: 'not attempted', platform_id: PREVIEW_PLATFORM_ID }]);
    expect(await h.store.db.selectFrom('grade_outbox').select('id').execute()).toEqual([]);
    expect(await actions('package.preview')).toEqual([
      { target: pkg.id, details: null },
      { target: pkg.id, details: null },
    ]);
    // The catalogue counts no link; the preview platform is listed nowhere; the package can still be deleted.
    expect((await packageUsage(h.store.db)).get(pkg.id)).toEqual({ versions: 1, links: 0 });
    expect((await h.app.services.platforms.list()).map((p) => p.platform.id)).not.toContain(PREVIEW_PLATFORM_ID);
    expect((await c.get(`/admin/platforms/${PREVIEW_PLATFORM_ID}`)).statusCode).toBe(404);
    expect((await c.post(`/admin/packages/${pkg.id}/delete`, { _csrf: csrf })).statusCode).toBe(303);
    expect(
      await h.store.db.selectFrom('resource_links').select('id').where('platform_id', '=', PREVIEW_PLATFORM_ID).where('package_id', '=', pkg.id).execute(),
    ).toEqual([]);
  });

  it('says what is wrong with a broken manifest in words, with the line, not parser internals', async () => {
    const dir = await tempDir();
    const zip = await buildZip(`${dir}/broken.zip`, [
      { name: 'imsmanifest.xml', data: '<?xml version="1.0"?>\n<manifest identifier="x">\n  <organizations>\n    <broken>\n' },
      { name: 'index.html', data: '<p>hi</p>' },
    ]);
    const body = multipartBody({ _csrf: csrf }, { name: 'file', filename: 'broken.zip', content: readFileSync(zip) });
    const r = await h.app.inject({
      method: 'POST',
      url: '/admin/packages/upload',
      payload: body.payload,
      headers: { ...body.headers, cookie: c.jar.header() },
    });
    expect(r.statusCode).toBe(400);
    expect(errorCode(r.body)).toBe('PACKAGE_INVALID_MANIFEST');
    expect(r.body).toContain(
      'imsmanifest.xml is not well-formed XML: line 4: the file ends at line 4 while &lt;manifest> → &lt;organizations> → &lt;broken> are still open',
    );
    expect(r.body).not.toContain('Invalid &#39;[');
    expect(r.body).not.toContain("Invalid '[");
  });

  it('lists destinations before dispatches, says where packages play from, and refuses an expiry in the past', async () => {
    const pkg = await importButtonCourse('Dispatch me');
    const overview = (await c.get('/admin/dispatch')).body;
    expect(overview.indexOf('id="destinations-card"')).toBeGreaterThan(0);
    expect(overview.indexOf('id="destinations-card"')).toBeLessThan(overview.indexOf('id="dispatches-card"'));
    const destination = await h.app.services.dispatch.createDestination({ name: 'Initech' });
    const past = await c.post('/admin/dispatch/dispatches', {
      _csrf: csrf,
      destinationId: destination.id,
      packageId: pkg.id,
      enabled: 'on',
      allowNewRegistrations: 'on',
      registrationCap: '0',
      expires: '2026-11-25',
      scormVersion: '1.2',
    });
    expect(past.statusCode).toBe(400);
    expect(errorCode(past.body)).toBe('VALIDATION_FAILED');
    expect(past.body).toContain('the expiry 2026-11-25 is in the past (today is 2026-11-26): the new dispatch would refuse every launch');
    expect(await h.app.services.dispatch.listDispatches({ destinationId: destination.id })).toEqual([]);
    // Today still counts (a date means the end of that day).
    const created = await c.post('/admin/dispatch/dispatches', {
      _csrf: csrf,
      destinationId: destination.id,
      packageId: pkg.id,
      enabled: 'on',
      allowNewRegistrations: 'on',
      registrationCap: '0',
      expires: '2026-11-26',
      scormVersion: '1.2',
    });
    expect(created.statusCode).toBe(303);
    const id = /\/admin\/dispatch\/(dsp_[^/?]+)/.exec(String(created.headers.location))![1]!;
    const detail = (await c.get(`/admin/dispatch/${id}`)).body;
    expect(detail).toContain('A package downloaded now plays the course from <code>https://courseport.test</code>');
    expect(detail).not.toContain('id="launch-origin-warning"');
    // A running licence may still be ended by a date in the past (it stops at once, like disabling it).
    const ended = await c.post(`/admin/dispatch/${id}/licence`, {
      _csrf: csrf,
      title: 'Dispatch me',
      enabled: 'on',
      registrationCap: '0',
      expires: '2026-11-20',
      scormVersion: '1.2',
    });
    expect(ended.statusCode).toBe(303);
    // The API refuses a new dispatch that would be expired too.
    const token = (await h.app.services.adminTokens.create('expiry')).token;
    const viaApi = await h.app.inject({
      method: 'POST',
      url: '/api/v1/dispatches',
      headers: { authorization: `Bearer ${token}` },
      payload: { destinationId: destination.id, packageId: pkg.id, expiresAt: '2020-01-01' },
    });
    expect(viaApi.statusCode).toBe(400);
    expect(viaApi.json()).toMatchObject({ error: 'VALIDATION_FAILED' });
  });

  it('warns on the dispatch page when the base URL is a loopback address', async () => {
    const local = await createHarness(dialect, { COURSEPORT_BASE_URL: 'http://localhost:3000' });
    try {
      const cc = new ConsoleClient(local.app);
      await cc.setup();
      const pkg = (await local.app.services.packages.importPackage(await buildButtonCourse())).package;
      const destination = await local.app.services.dispatch.createDestination({ name: 'Acme' });
      const d = await local.app.services.dispatch.createDispatch({ destinationId: destination.id, packageId: pkg.id });
      const page = (await cc.get(`/admin/dispatch/${d.id}`)).body;
      expect(page).toContain('id="launch-origin-warning"');
      expect(page).toContain('http://localhost:3000 will not work for a customer — it is a loopback address (this machine only)');
    } finally {
      await local.close();
    }
  });
});
