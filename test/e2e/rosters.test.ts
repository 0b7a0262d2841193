import { ROLE } from '../../src/lti/roles.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';
import { playerConfig } from '../helpers/player.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesFor } from '../helpers/services.js';

const ROSTER = [
  { user_id: 'learner-1', roles: [ROLE.CONTEXT_LEARNER], status: 'Active', name: 'Ada Lovelace', email: 'ada@example.edu', lis_person_sourcedid: 'sis-1' },
  { user_id: 'learner-2', roles: ['Learner'], status: 'Active', given_name: 'Grace', family_name: 'Hopper' },
  { user_id: 'learner-3', roles: [ROLE.CONTEXT_LEARNER], status: 'Inactive', name: '=HYPERLINK("http://evil")' },
  { user_id: 'teacher-1', roles: [ROLE.CONTEXT_INSTRUCTOR], status: 'Active', name: 'Alan Turing' },
  { user_id: 'ta-1', roles: [ROLE.CONTEXT_TA], status: 'Active', name: 'Tess Assistant' },
];

describe.each(DIALECTS)('rosters (NRPS) and the progress view (%s)', (dialect) => {
  let h: Harness;
  let lms: SimulatedServices;
  let packageId: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    lms = await SimulatedServices.start(servicesFor(h));
    lms.members = ROSTER;
    await h.store.db.updateTable('platforms').set({ token_url: lms.tokenUrl }).where('id', '=', h.platformId).execute();
    packageId = (await h.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care' })).package.id;
  });
  afterAll(async () => {
    await lms.close();
    await h.close();
  });

  const launchAs = (sub: string, roles: string[], options: { nrps?: boolean; link?: string } = {}) =>
    h.launch({
      claims: {
        sub,
        [CLAIM.ROLES]: roles,
        [CLAIM.RESOURCE_LINK]: { id: options.link ?? 'rl-progress', title: 'Bicycle Care activity' },
        [CLAIM.CUSTOM]: { package_id: packageId },
        ...(options.nrps === false ? {} : { [CLAIM.NRPS]: { context_memberships_url: lms.membershipsUrl, service_versions: ['2.0'] } }),
      },
    });
  const progressUrlOf = (body: string) => /id="progress-link"[^>]*href="([^"]+)"|href="([^"]+)" id="progress-link"/.exec(body)?.slice(1).find(Boolean);

  it('shows instructors a progress link in the player, and learners none', async () => {
    const teacher = await launchAs('teacher-1', [ROLE.CONTEXT_INSTRUCTOR]);
    expect(progressUrlOf(teacher.body)).toMatch(/^\/progress\//);
    const learner = await launchAs('learner-1', [ROLE.CONTEXT_LEARNER]);
    expect(progressUrlOf(learner.body)).toBeUndefined();
  });

  it('syncs every page of the roster and lists every learner, including those who never launched', async () => {
    // learner-1 passes the course.
    const cfg = playerConfig(await launchAs('learner-1', [ROLE.CONTEXT_LEARNER]));
    const { session } = (await h.app.inject({ method: 'POST', url: `${cfg.api}/sco/item_1` })).json() as { session: number };
    await h.app.inject({
      method: 'POST',
      url: `${cfg.api}/sco/item_1/commit?session=${session}`,
      payload: { 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '90', 'cmi.core.session_time': '00:12:00', commitSequence: 1, terminate: true },
    });

    const url = progressUrlOf((await launchAs('teacher-1', [ROLE.CONTEXT_INSTRUCTOR])).body)!;
    const reads = lms.rosterReads;
    const first = await h.app.inject({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    // The page never waits for the LMS: a sync started, the page says so.
    expect(first.body).toMatch(/data-roster-state="(syncing|never)"/);
    const ctx = (await h.store.db.selectFrom('rosters').select('context_id').executeTakeFirstOrThrow()).context_id;
    await h.app.services.rosters.sync(ctx).catch(() => undefined);
    await expect.poll(async () => (await h.store.db.selectFrom('rosters').select('synced_at').executeTakeFirstOrThrow()).synced_at).not.toBeNull();
    expect(lms.rosterReads - reads).toBeGreaterThanOrEqual(3); // three pages of two

    const page = await h.app.inject({ method: 'GET', url });
    expect(page.body).toContain('data-roster-state="synced"');
    const learners = [...page.body.matchAll(/data-learner="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(learners).toEqual(['learner-1', 'learner-2', 'learner-3']);
    expect(page.body).toContain('Grace Hopper');
    expect(page.body).toMatch(/data-learner="learner-3"[\s\S]*?Inactive/);
    expect(page.body).toMatch(/data-learner="learner-1"[\s\S]*?Passed[\s\S]*?90 %[\s\S]*?12 min/);
    expect(page.body).toMatch(/data-learner="learner-2"[\s\S]*?Not started/);
    const stored = await h.store.db.selectFrom('memberships').selectAll().where('user_sub', '=', 'learner-1').executeTakeFirstOrThrow();
    expect(JSON.parse(stored.raw).lis_person_sourcedid).toBe('sis-1'); // unknown fields are kept
    expect(
      (await h.store.db.selectFrom('memberships').select(['user_sub', 'role_kind']).orderBy('user_sub').execute()).map((m) => `${m.user_sub}:${m.role_kind}`),
    ).toEqual(['learner-1:learner', 'learner-2:learner', 'learner-3:learner', 'ta-1:teaching-assistant', 'teacher-1:instructor']);

    const byScore = await h.app.inject({ method: 'GET', url: `${url}?sort=score` });
    expect([...byScore.body.matchAll(/data-learner="([^"]+)"/g)][0]?.[1]).toBe('learner-1');

    const csv = await h.app.inject({ method: 'GET', url: `${url}/export.csv` });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^learner id,name,email,status/);
    expect(lines).toHaveLength(4);
    expect(csv.body).toContain(`"'=HYPERLINK(""http://evil"")"`); // a formula is defused
  });

  it('keeps the previous roster visible when the LMS fails, and then applies only the changes', async () => {
    const url = progressUrlOf((await launchAs('teacher-1', [ROLE.CONTEXT_INSTRUCTOR])).body)!;
    lms.failRoster = 500;
    const sync = await h.app.inject({ method: 'POST', url: `${url}/sync` });
    expect(sync.statusCode).toBe(303);
    const page = await h.app.inject({ method: 'GET', url });
    expect(page.body).toContain('data-roster-error');
    expect([...page.body.matchAll(/data-learner="([^"]+)"/g)]).toHaveLength(3);
    lms.failRoster = undefined;

    // The next sync reads the differences link the last full read offered.
    const newcomer = { user_id: 'learner-4', roles: ['Learner'], status: 'Active', name: 'New Student' };
    lms.memberChanges = [newcomer];
    lms.members = [...ROSTER, newcomer];
    await h.app.inject({ method: 'POST', url: `${url}/sync` });
    const after = await h.app.inject({ method: 'GET', url });
    expect(after.body).not.toContain('data-roster-error');
    expect([...after.body.matchAll(/data-learner="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(['learner-1', 'learner-2', 'learner-3', 'learner-4']);
  });

  it('reads the roster of one resource link with rlid', async () => {
    const otherSection = { user_id: 'other-section', roles: ['Learner'], status: 'Active', rlids: ['rl-elsewhere'] };
    const before = lms.members;
    lms.members = [...before, otherSection];
    lms.memberChanges = [otherSection];
    try {
      const link = await h.store.db.selectFrom('resource_links').select('id').where('resource_link_id', '=', 'rl-progress').executeTakeFirstOrThrow();
      const members = await h.app.services.rosters.linkMembers(link.id);
      expect(members.map((m) => m.user_id)).not.toContain('other-section');
      expect(members.map((m) => m.user_id)).toContain('learner-1');
      // The view's sync stores the course roster and the link's: the other section's learner is not listed.
      const url = progressUrlOf((await launchAs('teacher-1', [ROLE.CONTEXT_INSTRUCTOR])).body)!;
      await h.app.inject({ method: 'POST', url: `${url}/sync` });
      expect(await h.store.db.selectFrom('memberships').select('user_sub').where('user_sub', '=', 'other-section').executeTakeFirst()).toBeDefined();
      const page = await h.app.inject({ method: 'GET', url });
      expect(page.body).not.toContain('data-learner="other-section"');
      expect(page.body).toContain('data-learner="learner-1"');
    } finally {
      lms.members = before;
    }
  });

  it('refuses learners with a 403 page', async () => {
    expect((await launchAs('learner-2', [ROLE.CONTEXT_LEARNER])).statusCode).toBe(200);
    // Even holding a valid launch token of their own, a learner cannot open the view.
    const own = await h.store.db
      .selectFrom('launches as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .select('l.id')
      .where('u.sub', '=', 'learner-2')
      .executeTakeFirstOrThrow();
    const res = await h.app.inject({ method: 'GET', url: `/progress/${h.app.services.launchTokens.issue(own.id, h.clock.now())}` });
    expect(res.statusCode).toBe(403);
    expect(errorCode(res.body)).toBe('PROGRESS_FORBIDDEN');
    expect((await h.app.inject({ method: 'GET', url: `/progress/${h.app.services.launchTokens.issue(own.id, h.clock.now())}/export.csv` })).statusCode).toBe(
      403,
    );
  });

  it('says so when the LMS offers no roster service, and lists who launched', async () => {
    await launchAs('solo-learner', [ROLE.CONTEXT_LEARNER], { nrps: false, link: 'rl-no-nrps' });
    await h.store.db.deleteFrom('rosters').execute();
    const url = progressUrlOf((await launchAs('teacher-1', [ROLE.CONTEXT_INSTRUCTOR], { nrps: false, link: 'rl-no-nrps' })).body)!;
    const page = await h.app.inject({ method: 'GET', url });
    expect(page.body).toContain('data-roster-state="none"');
    expect(page.body).toContain('offers no roster service');
    expect(page.body).toContain('data-learner="solo-learner"');
  });
});
