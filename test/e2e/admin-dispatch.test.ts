import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ConsoleClient, csrfOf } from '../helpers/admin.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';

describe.each(DIALECTS)('admin console: content dispatch pages (%s)', (dialect) => {
  let h: Harness;
  let c: ConsoleClient;
  let packageId: string;
  let dir: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    packageId = (await h.app.services.packages.importPackage(COURSE_12)).package.id;
    c = new ConsoleClient(h.app);
    expect((await c.setup()).statusCode).toBe(303);
    dir = mkdtempSync(join(tmpdir(), 'courseport-admin-dispatch-'));
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adds a destination and a dispatch, edits the licence, downloads the package and the report', async () => {
    const page = await c.get('/admin/dispatch');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('href="/admin/dispatch" aria-current="page"');
    const csrf = csrfOf(page.body);

    const added = await c.post('/admin/dispatch/destinations', { _csrf: csrf, name: 'Initech <LMS>', notes: 'Blackboard' });
    expect(added.statusCode).toBe(303);
    const destinationId = /\/admin\/dispatch\/destinations\/(dst_[^/?]+)/.exec(added.headers.location as string)?.[1];
    expect(destinationId).toBeDefined();
    const destPage = await c.get(added.headers.location as string);
    expect(destPage.body).toContain('Destination “Initech &lt;LMS>” added.');
    expect(destPage.body).toContain('<h1>Initech &lt;LMS></h1>');

    // A refused form keeps what was typed and says why.
    const bad = await c.post('/admin/dispatch/dispatches', {
      _csrf: csrf,
      destinationId: destinationId!,
      packageId,
      registrationCap: '-1',
      expires: 'tomorrow',
      enabled: 'on',
    });
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad.body)).toBe('VALIDATION_FAILED');
    expect(bad.body).toContain('the registration cap must be a whole number');
    expect(bad.body).toContain('Invalid expiry date');
    expect(await h.store.db.selectFrom('dispatches').select('id').execute()).toEqual([]);

    const created = await c.post('/admin/dispatch/dispatches', {
      _csrf: csrf,
      destinationId: destinationId!,
      packageId,
      title: 'Bicycle Care for Initech',
      enabled: 'on',
      allowNewRegistrations: 'on',
      registrationCap: '25',
      expires: '2027-03-31',
      launchCap: '',
      scormVersion: '1.2',
    });
    expect(created.statusCode, created.body).toBe(303);
    const dispatchId = /\/admin\/dispatch\/(dsp_[^/?]+)/.exec(created.headers.location as string)?.[1] ?? '';
    expect(dispatchId).not.toBe('');
    const detail = await c.get(`/admin/dispatch/${dispatchId}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain('Bicycle Care for Initech');
    expect(detail.body).toMatch(/id="count-registrations">0 of 25</);
    expect(detail.body).toContain('value="2027-03-31"');

    const saved = await c.post(`/admin/dispatch/${dispatchId}/licence`, {
      _csrf: csrf,
      title: 'Bicycle Care for Initech',
      allowNewRegistrations: 'on',
      registrationCap: '0',
      expires: '',
      launchCap: '500',
      scormVersion: '2004',
    });
    expect(saved.statusCode).toBe(303);
    expect(await h.app.services.dispatch.getDispatch(dispatchId)).toMatchObject({
      enabled: 0,
      registration_cap: 0,
      expires_at: null,
      launch_cap: 500,
      scorm_version: '2004',
    });

    // The download buttons give a package Courseport's own importer accepts.
    const zip = await c.get(`/admin/dispatch/${dispatchId}/package?scorm=1.2`);
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toBe(`attachment; filename="bicycle-care-for-initech-${dispatchId}-scorm12.zip"`);
    // The 2004 package of the same dispatch is another file: another name.
    const zip2004 = await c.get(`/admin/dispatch/${dispatchId}/package?scorm=2004`);
    expect(zip2004.headers['content-disposition']).toBe(`attachment; filename="bicycle-care-for-initech-${dispatchId}-scorm2004.zip"`);
    const file = join(dir, 'console.zip');
    writeFileSync(file, zip.rawPayload);
    expect((await h.app.services.packages.importPackage(file)).version).toMatchObject({ scorm_version: '1.2', title: 'Bicycle Care for Initech' });

    // A refused launch shows in the counts and the report's refusals; the CSV downloads.
    const secret = h.app.services.dispatch.secretOf(await h.app.services.dispatch.getDispatch(dispatchId));
    const launch = await h.app.inject({
      method: 'POST',
      url: '/dispatch/launch',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: new URLSearchParams({ dispatch: dispatchId, secret, learner_id: 'u-1', nonce: 'n'.repeat(20) }).toString(),
    });
    expect(errorCode(launch.body)).toBe('DISPATCH_DISABLED');
    const after = await c.get(`/admin/dispatch/${dispatchId}`);
    expect(after.body).toMatch(/id="count-refused">1</);
    expect(after.body).toContain('<code>DISPATCH_DISABLED</code>');
    const csv = await c.get(`/admin/dispatch/${dispatchId}/report.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe('learner,hashed,name,status,completion,success,score %,attempt,time (minutes),launches,first launch,last launch');

    const rotated = await c.post(`/admin/dispatch/${dispatchId}/rotate-secret`, { _csrf: csrf });
    expect(rotated.statusCode).toBe(303);
    expect(h.app.services.dispatch.secretOf(await h.app.services.dispatch.getDispatch(dispatchId))).not.toBe(secret);

    const actions = (await h.app.services.audit.list({ limit: 100 }))
      .filter((e) => e.target === dispatchId || e.target === destinationId)
      .map((e) => [e.action, e.actor]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['dispatch.destination.create', `admin:${ADMIN_EMAIL}`],
        ['dispatch.create', `admin:${ADMIN_EMAIL}`],
        ['dispatch.update', `admin:${ADMIN_EMAIL}`],
        ['dispatch.export', `admin:${ADMIN_EMAIL}`],
        ['dispatch.rotate-secret', `admin:${ADMIN_EMAIL}`],
      ]),
    );

    const deleted = await c.post(`/admin/dispatch/${dispatchId}/delete`, { _csrf: csrf });
    expect(deleted.statusCode).toBe(303);
    expect((await c.get(`/admin/dispatch/${dispatchId}`)).statusCode).toBe(404);
  });

  it('refuses dispatch forms without the anti-forgery token and changes nothing', async () => {
    const before = await h.store.db.selectFrom('dispatch_destinations').select('id').execute();
    const r = await c.post('/admin/dispatch/destinations', { name: 'Forged' });
    expect(r.statusCode).toBe(403);
    expect(errorCode(r.body)).toBe('ADMIN_CSRF_INVALID');
    expect(await h.store.db.selectFrom('dispatch_destinations').select('id').execute()).toEqual(before);
  });
});
