import { ROLE } from '../../src/lti/roles.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { SimulatedPlatform } from '../platform/simulated-platform.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesForLive } from '../helpers/services.js';

describe('the instructor progress view in Chromium', () => {
  let tool: LiveServer;
  let lms: SimulatedPlatform;
  let services: SimulatedServices;
  let browser: Browser;
  let packageId: string;

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    lms = await SimulatedPlatform.start({ hostname: 'localhost' });
    lms.tool = { loginUrl: `${tool.baseUrl}/lti/login`, targetLinkUri: `${tool.baseUrl}/lti/launch` };
    services = await SimulatedServices.start(servicesForLive(tool.baseUrl, lms.clientId));
    services.members = [
      { user_id: 'learner-1', roles: [ROLE.CONTEXT_LEARNER], status: 'Active', name: 'Ada Lovelace' },
      { user_id: 'learner-2', roles: [ROLE.CONTEXT_LEARNER], status: 'Active', name: 'Grace Hopper' },
      { user_id: 'learner-3', roles: [ROLE.CONTEXT_LEARNER], status: 'Inactive', name: 'Katherine Johnson' },
      { user_id: 'teacher-1', roles: [ROLE.CONTEXT_INSTRUCTOR], status: 'Active', name: 'Alan Turing' },
    ];
    await tool.app.services.platforms.register({ ...lms.registration(), tokenUrl: services.tokenUrl });
    lms.nrpsClaim = { context_memberships_url: services.membershipsUrl, service_versions: ['2.0'] };
    packageId = (await tool.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care' })).package.id;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await services?.close();
    await lms?.close();
    await tool?.close();
  });

  it('opens from the instructor launch, lists every learner after the roster sync, and sorts', { timeout: 45_000 }, async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${lms.origin}/course?link=rl-progress&package=${packageId}&role=instructor&user=teacher-1`);
      const player = page.frameLocator('iframe[name="tool"]');
      const [view] = await Promise.all([context.waitForEvent('page', { timeout: 15_000 }), player.locator('#progress-link').click({ timeout: 15_000 })]);
      await expect.poll(async () => view.locator('[data-roster-state]').getAttribute('data-roster-state', { timeout: 10_000 })).toMatch(/syncing|never|synced/);
      // The page does not wait for the LMS; reloading shows the synced roster.
      await expect
        .poll(
          async () => {
            await view.reload();
            return view.locator('tbody tr').count();
          },
          { timeout: 15_000 },
        )
        .toBe(3);
      expect(await view.locator('[data-roster-state]').getAttribute('data-roster-state')).toBe('synced');
      expect(await view.locator('tr[data-learner="learner-3"] [data-col="status"]').textContent()).toBe('Inactive');
      expect(await view.locator('tr[data-learner="learner-2"] [data-col="progress"]').textContent()).toBe('Not started');
      await view.getByRole('link', { name: 'Learner' }).click();
      await expect.poll(() => view.locator('tbody tr').first().getAttribute('data-learner')).toBe('learner-1');
      const csv = await view.request.get(`${view.url().split('?')[0]}/export.csv`);
      expect((await csv.text()).split('\r\n')[0]).toMatch(/^learner id,name/);
    } finally {
      await context.close();
    }
  });
});
