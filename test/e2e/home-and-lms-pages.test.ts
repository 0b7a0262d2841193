import { ROLE } from '../../src/lti/roles.js';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { buildButtonCourse } from '../helpers/button-course.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';
import { playerConfig } from '../helpers/player.js';
import { servicesFor } from '../helpers/services.js';
import { SimulatedServices } from '../platform/simulated-services.js';

const INSTRUCTOR = { [CLAIM.ROLES]: [ROLE.CONTEXT_INSTRUCTOR] };

describe.each(DIALECTS)('what a new user meets first: home page, docs, endpoint pages, ways back (%s)', (dialect) => {
  let h: Harness;
  let packageId: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    packageId = (await h.app.services.packages.importPackage(await buildButtonCourse(), { title: 'Button course' })).package.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...headers } });

  it('serves a home page at / that says what this is and links the console, docs, API docs and the LTI URLs', async () => {
    const home = await get('/');
    expect(home.statusCode).toBe(200);
    expect(home.headers['content-type']).toMatch(/^text\/html/);
    expect(home.body).toContain('LTI 1.3 tool server for SCORM courses');
    for (const href of ['/admin', '/docs', '/api/docs']) expect(home.body).toContain(`href="${href}"`);
    for (const path of ['/.well-known/jwks.json', '/lti/login', '/lti/launch', '/lti/register', '/lti/config/canvas.json'])
      expect(home.body).toContain(`${TOOL_BASE_URL}${path}`);
    // The harness runs as NODE_ENV=test with the default sandbox setting: the link follows the setting.
    expect(home.body.includes('href="/sandbox"')).toBe(h.config.sandbox);
    // The docs of the repository are listed by title and served as text.
    expect(home.body).toContain('href="/docs/lti.md"');
    const doc = await get('/docs/lti.md');
    expect(doc.statusCode).toBe(200);
    expect(doc.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(doc.body).toMatch(/^# LTI 1.3 launch/);
    expect((await get('/docs')).body).toContain('href="/docs/admin-console.md"');
    for (const bad of ['/docs/..%2Fpackage.json', '/docs/nope.md', '/docs/README', '/docs/.env']) expect((await get(bad)).statusCode, bad).toBe(404);
  });

  it('shows the sandbox on the home page only when it is served', async () => {
    const on = await createHarness(dialect, { COURSEPORT_SANDBOX: 'true' });
    const off = await createHarness(dialect, { COURSEPORT_SANDBOX: 'false' });
    try {
      expect((await on.app.inject({ method: 'GET', url: '/' })).body).toContain('href="/sandbox"');
      expect((await off.app.inject({ method: 'GET', url: '/' })).body).not.toContain('href="/sandbox"');
    } finally {
      await on.close();
      await off.close();
    }
  });

  it('answers a browser GET of /lti/launch and /dispatch/launch with a page saying the URL is right (POST is for the LMS)', async () => {
    for (const [path, words] of [
      ['/lti/launch', 'LTI 1.3 launch URL'],
      ['/dispatch/launch', 'dispatch packages'],
    ] as const) {
      const res = await get(path);
      expect(res.statusCode, path).toBe(200);
      expect(res.body).toContain('This address is correct');
      expect(res.body).toContain(`${TOOL_BASE_URL}${path}`);
      expect(res.body).toContain(words);
      expect(res.body).not.toContain('Nothing at GET');
    }
    // POST still launches (and refuses an empty launch as before).
    const post = await h.app.inject({
      method: 'POST',
      url: '/lti/launch',
      payload: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(post.statusCode).toBe(400);
  });

  it('groups the admin API documentation by area, with a description of every area', async () => {
    const spec = (await h.app.inject({ method: 'GET', url: '/api/docs/json' })).json() as {
      info: { description: string };
      tags: { name: string; description: string }[];
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const areas = ['platforms', 'deployments', 'packages', 'grades', 'dispatch', 'keys', 'audit'];
    expect(spec.tags.map((t) => t.name)).toEqual(areas);
    for (const word of ['registrations', 'packages', 'grade', 'dispatch', 'keys', 'audit log']) expect(spec.info.description).toContain(word);
    const operations = Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, tags: op.tags ?? [] })));
    expect(operations.length).toBeGreaterThan(25);
    for (const op of operations) expect(op.tags, `${op.method} ${op.path}`).toHaveLength(1);
    const tagOf = (path: string, method: string) => operations.find((o) => o.path === path && o.method === method)?.tags[0];
    expect(tagOf('/api/v1/platforms/{id}/deployments', 'post')).toBe('deployments');
    expect(tagOf('/api/v1/platforms', 'get')).toBe('platforms');
    expect(tagOf('/api/v1/packages/{id}', 'delete')).toBe('packages');
    expect(tagOf('/api/v1/dispatches/{id}/package', 'get')).toBe('dispatch');
    expect(tagOf('/api/v1/audit', 'get')).toBe('audit');
    expect(operations.some((o) => o.tags.includes('default'))).toBe(false);
  });

  const pickerToken = (res: LightMyRequestResponse) => decodeURIComponent(/<form method="post" action="\/lti\/deep-link\/([^"]+)"/.exec(res.body)![1]!);

  it('keeps "Add selected" disabled until a package is ticked, and an empty selection leads back to the picker', async () => {
    const picker = await h.launch({ claims: { ...h.platform.deepLinkingClaims(), ...INSTRUCTOR } });
    expect(picker.statusCode).toBe(200);
    // The script that disables the button, and the button it finds.
    expect(picker.body).toContain('<script src="/static/picker.js"></script>');
    expect(picker.body).toMatch(/<button type="submit" name="action" value="add" class="primary" id="picker-add">/);
    const token = pickerToken(picker);
    // Without scripts the form can still be sent empty: the refusal page offers the picker again (a GET, not Back).
    const empty = await h.app.inject({
      method: 'POST',
      url: `/lti/deep-link/${encodeURIComponent(token)}`,
      payload: 'action=add',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(empty.statusCode).toBe(400);
    expect(errorCode(empty.body)).toBe('DEEP_LINKING_INVALID_SELECTION');
    const back = /<a class="button primary" href="([^"]+)" id="way-back-link">Back to the content picker<\/a>/.exec(empty.body)?.[1];
    expect(back).toBe(`/lti/deep-link/${encodeURIComponent(token)}`);
    const again = await get(back!.replace(/&amp;/g, '&'));
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain(packageId);
    // After the answer went to the LMS, the way back is the LMS itself (the picker cannot answer twice).
    await h.app.inject({
      method: 'POST',
      url: `/lti/deep-link/${encodeURIComponent(token)}`,
      payload: `action=add&package=${packageId}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const twice = await h.app.inject({
      method: 'POST',
      url: `/lti/deep-link/${encodeURIComponent(token)}`,
      payload: `action=add&package=${packageId}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(errorCode(twice.body)).toBe('DEEP_LINKING_ALREADY_ANSWERED');
    expect(twice.body).toContain('id="way-back"');
    expect(twice.body).not.toContain('id="way-back-link"');
    expect(twice.body).toContain('use the LMS’s own navigation');
  });

  it('gives launch, player and progress error pages in the LMS frame a way back; other error pages stay as they were', async () => {
    const launch = await h.app.inject({
      method: 'POST',
      url: '/lti/launch',
      payload: 'state=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(launch.body).toContain('id="way-back"');
    const player = await get('/play/not-a-token');
    expect(errorCode(player.body)).toBe('LAUNCH_TOKEN_INVALID');
    expect(player.body).toContain('id="way-back"');
    const admin = await get('/nothing-here');
    expect(admin.statusCode).toBe(404);
    expect(admin.body).not.toContain('id="way-back"');
  });

  it('shows instructors a summary, sort state (aria-sort) kept across a roster update, second-precision times and a CSV named after the course', async () => {
    const link = 'rl-summary';
    // A roster service (loopback), so that the page offers "Update roster now"; it lists nobody.
    const lms = await SimulatedServices.start(servicesFor(h));
    lms.members = [];
    await h.store.db.updateTable('platforms').set({ token_url: lms.tokenUrl }).where('id', '=', h.platformId).execute();
    const nrps = { [CLAIM.NRPS]: { context_memberships_url: lms.membershipsUrl, service_versions: ['2.0'] } };
    const launchAs = (sub: string, roles: string[]) =>
      h.launch({
        claims: {
          sub,
          name: sub,
          [CLAIM.ROLES]: roles,
          [CLAIM.RESOURCE_LINK]: { id: link, title: 'Week 1: Putting' },
          [CLAIM.CUSTOM]: { package_id: packageId },
          ...nrps,
        },
      });
    const play = async (sub: string, values: Record<string, string>) => {
      const cfg = playerConfig(await launchAs(sub, [ROLE.CONTEXT_LEARNER]));
      const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
      const r = await h.app.inject({
        method: 'POST',
        url: `${cfg.api}/sco/item_1/commit?session=${session}`,
        payload: { ...values, commitSequence: 1, terminate: true },
      });
      expect(r.statusCode, r.body).toBe(200);
    };
    await play('learner-a', { 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '90', 'cmi.core.session_time': '00:00:14' });
    await play('learner-b', { 'cmi.core.lesson_status': 'incomplete', 'cmi.core.session_time': '00:03:20' });
    await launchAs('learner-c', [ROLE.CONTEXT_LEARNER]);
    const teacher = await launchAs('teacher-1', [ROLE.CONTEXT_INSTRUCTOR]);
    const url = /href="(\/progress\/[^"]+)" id="progress-link"|id="progress-link"[^>]*href="([^"]+)"/.exec(teacher.body)!.slice(1).find(Boolean)!;

    const page = await get(`${url}?sort=time`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('3 learners: 2 started, 1 completed, 1 passed, 1 not started.');
    // 14 seconds of play is "14 s", not "0 min"; three minutes twenty is not rounded away either.
    expect(page.body).toMatch(/data-learner="learner-a"[\s\S]*?data-col="time"[^>]*>14 s</);
    expect(page.body).toMatch(/data-learner="learner-b"[\s\S]*?data-col="time"[^>]*>3 min 20 s</);
    // The sorted column says so (on the header cell), the others say none.
    expect(page.body).toMatch(/<th aria-sort="descending" data-sort-key="time">/);
    expect(page.body).toMatch(/<th aria-sort="none" data-sort-key="name">/);
    expect([...page.body.matchAll(/data-learner="([^"]+)"/g)].map((m) => m[1])).toEqual(['learner-b', 'learner-a', 'learner-c']);
    const byName = await get(url);
    expect(byName.body).toMatch(/<th aria-sort="ascending" data-sort-key="name">/);

    // "Update roster now" comes back to the same sort.
    expect(page.body).toContain(`action="${url}/sync?sort=time"`);
    const sync = await h.app.inject({ method: 'POST', url: `${url}/sync?sort=time` });
    expect(sync.statusCode).toBe(303);
    expect(sync.headers.location).toBe(`${url}?sort=time`);
    expect((await h.app.inject({ method: 'POST', url: `${url}/sync` })).headers.location).toBe(url);

    const csv = await get(`${url}/export.csv`);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="progress-introduction-to-golf-week-1-putting.csv"');
    await lms.close();
  });
});
