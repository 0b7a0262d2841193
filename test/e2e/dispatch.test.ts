import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LauncherConfig } from '../../src/dispatch/package-export.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';
import { playerConfig } from '../helpers/player.js';

interface DispatchJson {
  id: string;
  title: string;
  destinationId: string;
  packageId: string;
  scormVersion: string;
  hashLearnerIds: boolean;
  licence: { enabled: boolean; allowNewRegistrations: boolean; registrationCap: number; expiresAt: string | null; launchCap: number | null };
  counts: { registrations: number; launches: number; refused: number };
}

const LMS_ORIGIN = 'https://lms.customer.example';
const NONCE = 'f'.repeat(32);

describe.each(DIALECTS)('content dispatch over HTTP (%s)', (dialect) => {
  let h: Harness;
  let token: string;
  let packageId: string;
  let dir: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    token = (await h.app.services.adminTokens.create('ops')).token;
    packageId = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
    dir = mkdtempSync(join(tmpdir(), 'courseport-dispatch-'));
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    });

  const newDispatch = async (body: Record<string, unknown> = {}): Promise<DispatchJson> => {
    const dest = await api('POST', '/api/v1/dispatch/destinations', { name: 'Acme Learning', notes: 'Moodle 4.3' });
    expect(dest.statusCode, dest.body).toBe(201);
    const res = await api('POST', '/api/v1/dispatches', { destinationId: dest.json<{ id: string }>().id, packageId, ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<DispatchJson>();
  };

  /** Exports the dispatch's package through the API and imports it with Courseport's own importer. */
  const exportAndImport = async (id: string, query = '') => {
    const res = await h.app.inject({ method: 'GET', url: `/api/v1/dispatches/${id}/package${query}`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toMatch(new RegExp(`attachment; filename=".*-${id}-scorm(12|2004)\\.zip"`));
    const file = join(dir, `${id}${query ? '-2004' : ''}.zip`);
    writeFileSync(file, res.rawPayload);
    const imported = await h.app.services.packages.importPackage(file);
    const root = h.app.services.content.localRoot(imported.version.id);
    const html = readFileSync(join(root, 'index.html'), 'utf8');
    const json = /<script type="application\/json" id="courseport-dispatch">(.*?)<\/script>/s.exec(html)?.[1];
    return { imported, html, config: JSON.parse(json ?? 'null') as LauncherConfig, launcherJs: readFileSync(join(root, 'courseport-dispatch.js'), 'utf8') };
  };

  const launchForm = (fields: Record<string, string>, origin: string | null = LMS_ORIGIN) =>
    h.app.inject({
      method: 'POST',
      url: '/dispatch/launch',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(origin ? { origin } : {}) },
      payload: new URLSearchParams(fields).toString(),
    });

  const launchOf = async (d: DispatchJson, learner: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> => {
    const { config } = await exportAndImport(d.id);
    return launchForm({ dispatch: d.id, secret: config.secret, learner_id: learner, learner_name: `Learner ${learner}`, hashed: '0', nonce: NONCE, ...extra });
  };

  it('manages destinations and dispatches through the API, with audit entries', async () => {
    const dest = await api('POST', '/api/v1/dispatch/destinations', { name: 'Globex' });
    expect(dest.statusCode).toBe(201);
    const destId = dest.json<{ id: string }>().id;
    const created = await api('POST', '/api/v1/dispatches', {
      destinationId: destId,
      packageId,
      registrationCap: 5,
      expiresAt: '2027-01-31',
      title: 'Bicycle Care for Globex',
    });
    expect(created.statusCode, created.body).toBe(201);
    const d = created.json<DispatchJson>();
    expect(d).toMatchObject({
      title: 'Bicycle Care for Globex',
      scormVersion: '1.2',
      licence: { enabled: true, allowNewRegistrations: true, registrationCap: 5, expiresAt: '2027-01-31T23:59:59.999Z', launchCap: null },
      counts: { registrations: 0, launches: 0, refused: 0 },
    });
    expect(JSON.stringify(d)).not.toMatch(/secret|seed|salt/i);
    const patched = await api('PATCH', `/api/v1/dispatches/${d.id}`, { allowNewRegistrations: false, launchCap: 100, expiresAt: null });
    expect(patched.json<DispatchJson>().licence).toMatchObject({ allowNewRegistrations: false, launchCap: 100, expiresAt: null });
    expect((await api('PATCH', `/api/v1/dispatches/${d.id}`, { registrationCap: -1 })).statusCode).toBe(400);
    expect((await api('PATCH', `/api/v1/dispatches/${d.id}`, { expiresAt: 'someday' })).json<{ error: string }>().error).toBe('VALIDATION_FAILED');
    expect((await api('GET', `/api/v1/dispatches?destination=${destId}`)).json<{ dispatches: DispatchJson[] }>().dispatches.map((x) => x.id)).toEqual([d.id]);
    const shown = await api('GET', `/api/v1/dispatch/destinations/${destId}`);
    expect(shown.json<{ name: string; dispatches: unknown[] }>()).toMatchObject({ name: 'Globex', dispatches: [{ id: d.id }] });
    expect((await api('PATCH', `/api/v1/dispatch/destinations/${destId}`, { enabled: false })).json<{ enabled: boolean }>().enabled).toBe(false);
    expect((await api('GET', '/api/v1/dispatches/dsp_missing')).json<{ error: string }>().error).toBe('DISPATCH_NOT_FOUND');
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/dispatches' })).statusCode).toBe(401);

    const audit = await h.app.services.audit.list({ limit: 50 });
    const mine = audit.filter((e) => e.target === d.id || e.target === destId).map((e) => [e.action, e.actor]);
    expect(mine).toEqual(
      expect.arrayContaining([
        ['dispatch.destination.create', 'api-token:ops'],
        ['dispatch.create', 'api-token:ops'],
        ['dispatch.update', 'api-token:ops'],
        ['dispatch.destination.update', 'api-token:ops'],
      ]),
    );
  });

  it('exports a SCORM 1.2 (or 2004 3rd edition) package that the importer accepts, titled and pointing at Courseport', async () => {
    const d = await newDispatch({ title: 'Bicycle Care <Explained> & more' });
    const v12 = await exportAndImport(d.id);
    expect(v12.imported.version).toMatchObject({ scorm_version: '1.2', title: 'Bicycle Care <Explained> & more', sco_count: 1 });
    expect(v12.config).toMatchObject({
      v: 1,
      origin: TOOL_BASE_URL,
      launchUrl: `${TOOL_BASE_URL}/dispatch/launch`,
      dispatch: d.id,
      scormVersion: '1.2',
      hashLearnerIds: false,
    });
    expect(v12.config.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(v12.html).toContain('<title>Bicycle Care &lt;Explained&gt; &amp; more</title>');
    // Static HTML + JS, nothing LMS-specific: the launcher looks for both SCORM APIs.
    expect(v12.launcherJs).toContain("'API'");
    expect(v12.launcherJs).toContain("'API_1484_11'");
    const v2004 = await exportAndImport(d.id, '?scorm=2004');
    expect(v2004.imported.version).toMatchObject({ scorm_version: '2004-3rd', title: 'Bicycle Care <Explained> & more', sco_count: 1 });
    expect(v2004.config.scormVersion).toBe('2004');
    expect(v2004.config.secret).toBe(v12.config.secret);
    const audit = await h.app.services.audit.list({ action: 'dispatch.export' });
    expect(audit.filter((e) => e.target === d.id)).toHaveLength(2);
  });

  it('admits a launch into the player with the relay bound to the nonce and the launcher origin', async () => {
    const d = await newDispatch();
    const res = await launchOf(d, 'moodle-42');
    expect(res.statusCode, res.body).toBe(200);
    const cfg = playerConfig(res) as ReturnType<typeof playerConfig> & { relay?: { nonce: string; expectedOrigin: string | null; baseTimeMs: number } };
    expect(cfg.relay).toEqual({ nonce: NONCE, expectedOrigin: LMS_ORIGIN, baseTimeMs: 0 });
    expect(cfg.contentBase).toMatch(/^\/content\/[^/]+\/$/);
    // The content token works: the package is served.
    const file = await h.app.inject({ method: 'GET', url: `${cfg.contentBase}${cfg.scos[0]!.launchUrl}` });
    expect(file.statusCode).toBe(200);
    // The SCO sees the LMS learner id.
    const load = await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/${encodeURIComponent(cfg.scos[0]!.id)}` });
    expect(load.json<{ cmi: Record<string, string> }>().cmi['cmi.core.student_id']).toBe('moodle-42');
    expect(load.json<{ cmi: Record<string, string> }>().cmi['cmi.core.student_name']).toBe('Learner moodle-42');
    // Without an Origin header the player learns the launcher's origin from the nonce-bound handshake only.
    const noOrigin = await launchForm({ dispatch: d.id, secret: (await exportAndImport(d.id)).config.secret, learner_id: 'moodle-42', nonce: NONCE }, null);
    expect((playerConfig(noOrigin) as { relay?: { expectedOrigin: string | null } }).relay?.expectedOrigin).toBeNull();
    expect((await api('GET', `/api/v1/dispatches/${d.id}`)).json<DispatchJson>().counts).toEqual({ registrations: 1, launches: 2, refused: 0 });
  });

  it("renews an open player's tokens only while the dispatch may still be played", async () => {
    const d = await newDispatch();
    const cfg = playerConfig(await launchOf(d, 'renewer'));
    const renew = () => h.app.inject({ method: 'POST', url: `${cfg.api}/renew` });
    expect((await renew()).statusCode).toBe(200);
    await api('PATCH', `/api/v1/dispatches/${d.id}`, { enabled: false });
    const disabled = await renew();
    expect(disabled.statusCode).toBe(403);
    expect(disabled.json<{ error: string }>().error).toBe('DISPATCH_DISABLED');
    await api('PATCH', `/api/v1/dispatches/${d.id}`, { enabled: true, expiresAt: '2020-01-01' });
    expect((await renew()).json<{ error: string }>().error).toBe('DISPATCH_EXPIRED');
    await api('PATCH', `/api/v1/dispatches/${d.id}`, { expiresAt: null });
    expect((await renew()).statusCode).toBe(200);
  });

  it('shows a refusal in the course frame, serves no content, and counts it for the admin', async () => {
    const d = await newDispatch();
    const { config } = await exportAndImport(d.id);
    const form = { dispatch: d.id, secret: config.secret, learner_id: 'learner-r', nonce: NONCE };

    expect((await api('PATCH', `/api/v1/dispatches/${d.id}`, { enabled: false })).statusCode).toBe(200);
    const disabled = await launchForm(form);
    expect(disabled.statusCode).toBe(403);
    expect(disabled.headers['content-type']).toContain('text/html');
    expect(errorCode(disabled.body)).toBe('DISPATCH_DISABLED');
    expect(disabled.body).toContain('This course is not available at the moment.');
    expect(disabled.body).not.toContain('/content/');
    expect(disabled.body).not.toContain('player-config');
    await api('PATCH', `/api/v1/dispatches/${d.id}`, { enabled: true });

    const tampered = await launchForm({ ...form, secret: `${config.secret.slice(0, -2)}xx` });
    expect(tampered.statusCode).toBe(403);
    expect(errorCode(tampered.body)).toBe('DISPATCH_SECRET_INVALID');

    await api('PATCH', `/api/v1/dispatches/${d.id}`, { expiresAt: '2020-01-01' });
    expect(errorCode((await launchForm(form)).body)).toBe('DISPATCH_EXPIRED');
    await api('PATCH', `/api/v1/dispatches/${d.id}`, { expiresAt: null, registrationCap: 1 });
    expect((await launchForm(form)).statusCode).toBe(200);
    const capped = await launchForm({ ...form, learner_id: 'learner-s' });
    expect(errorCode(capped.body)).toBe('DISPATCH_REGISTRATION_CAP');
    expect((await launchForm(form)).statusCode).toBe(200);

    const noNonce = await launchForm({ ...form, nonce: '' });
    expect(noNonce.statusCode).toBe(400);
    expect(errorCode(noNonce.body)).toBe('DISPATCH_LAUNCH_INVALID');

    const report = await api('GET', `/api/v1/dispatches/${d.id}/report`);
    const body = report.json<{
      dispatch: DispatchJson;
      registrations: { learnerId: string; launches: number }[];
      refusals: { code: string; learnerId: string }[];
    }>();
    expect(body.dispatch.counts).toEqual({ registrations: 1, launches: 2, refused: 4 });
    expect(body.registrations).toMatchObject([{ learnerId: 'learner-r', launches: 2 }]);
    expect(body.refusals.map((r) => r.code).sort()).toEqual(['DISPATCH_DISABLED', 'DISPATCH_EXPIRED', 'DISPATCH_REGISTRATION_CAP', 'DISPATCH_SECRET_INVALID']);
  });

  it('keeps the internal dispatch platform out of LTI logins and out of reach of the platform API', async () => {
    await newDispatch();
    const row = await h.store.db.selectFrom('platforms').selectAll().where('id', '=', 'plt_courseport_dispatch').executeTakeFirstOrThrow();
    expect(row.status).toBe('disabled');
    // An LMS (or anyone) naming the internal issuer and client id is refused before any redirect.
    const login = await h.app.inject({
      method: 'GET',
      url: '/lti/login',
      query: { iss: row.issuer, client_id: row.client_id, login_hint: 'x', target_link_uri: `${TOOL_BASE_URL}/lti/launch` },
    });
    expect(login.statusCode).toBe(403);
    expect(errorCode(login.body)).toBe('LTI_PLATFORM_DISABLED');
    // The admin API cannot see, enable or extend it.
    expect((await api('GET', '/api/v1/platforms/plt_courseport_dispatch')).statusCode).toBe(404);
    expect((await api('POST', '/api/v1/platforms/plt_courseport_dispatch/enable')).statusCode).toBe(404);
    expect((await api('POST', '/api/v1/platforms/plt_courseport_dispatch/deployments', { deploymentId: 'x' })).statusCode).toBe(404);
    expect((await api('GET', '/api/v1/platforms')).json<{ platforms: { id: string }[] }>().platforms.map((p) => p.id)).not.toContain('plt_courseport_dispatch');
    expect((await h.store.db.selectFrom('platforms').select('status').where('id', '=', 'plt_courseport_dispatch').executeTakeFirstOrThrow()).status).toBe(
      'disabled',
    );
  });

  it('stops every copy of the package once the dispatch is deleted or its secret rotated', async () => {
    const d = await newDispatch();
    const { config } = await exportAndImport(d.id);
    const form = { dispatch: d.id, secret: config.secret, learner_id: 'learner-x', nonce: NONCE };
    expect((await launchForm(form)).statusCode).toBe(200);
    expect((await api('POST', `/api/v1/dispatches/${d.id}/rotate-secret`)).statusCode).toBe(200);
    expect(errorCode((await launchForm(form)).body)).toBe('DISPATCH_SECRET_INVALID');
    const fresh = await exportAndImport(d.id);
    expect(fresh.config.secret).not.toBe(config.secret);
    expect((await launchForm({ ...form, secret: fresh.config.secret })).statusCode).toBe(200);
    expect((await api('DELETE', `/api/v1/dispatches/${d.id}`)).statusCode).toBe(200);
    const gone = await launchForm({ ...form, secret: fresh.config.secret });
    expect(gone.statusCode).toBe(404);
    expect(errorCode(gone.body)).toBe('DISPATCH_NOT_FOUND');
  });

  it('exports the report as CSV with formula cells defused', async () => {
    const d = await newDispatch();
    expect((await launchOf(d, '=cmd|"/c calc"!A1', { learner_name: '@SUM(1,2)' })).statusCode).toBe(200);
    const res = await api('GET', `/api/v1/dispatches/${d.id}/report.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const [header, line] = res.body.split('\r\n');
    expect(header).toBe('learner,hashed,name,status,completion,success,score %,attempt,time (minutes),launches,first launch,last launch');
    expect(line).toMatch(/^"'=cmd\|""\/c calc""!A1",no,"'@SUM\(1,2\)",not attempted,not attempted,unknown,,1,0,1,/);
  });
});
