import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConsoleClient } from '../helpers/admin.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/** In the admin console: The key schedule on the keys page, JWKS health on the platforms page. */
describe.each(DIALECTS)('admin console: key lifecycle (%s)', (dialect) => {
  let h: Harness;
  let admin: ConsoleClient;
  beforeAll(async () => {
    h = await createHarness(dialect, { COURSEPORT_JWKS_CACHE_SECONDS: '60' });
    admin = new ConsoleClient(h.app);
    const setup = await admin.setup();
    expect(setup.statusCode, setup.body.slice(0, 300)).toBeLessThan(400);
  });
  afterAll(async () => {
    await h.close();
  });

  it('marks the console cookies Secure and forbids framing the console', async () => {
    const page = await admin.get('/admin/keys');
    expect(page.statusCode).toBe(200);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    const fresh = new ConsoleClient(h.app);
    const login = await fresh.get('/admin/login');
    for (const c of ([] as string[]).concat(login.headers['set-cookie'] ?? [])) expect(c).toMatch(/; Secure/);
  });

  it('shows the rotation schedule on the keys page, and it follows a rotation', async () => {
    const before = await admin.get('/admin/keys');
    expect(before.body).toContain('id="key-schedule"');
    expect(before.body).toContain('every 90 days; the next key is published 7 days before it signs');
    expect(before.body).toContain('a next key is published at');
    await h.app.services.toolKeys.rotate({ actor: 'cli' });
    const after = await admin.get('/admin/keys');
    expect(after.body).toContain('the next key becomes current at');
    const { next } = await h.app.services.toolKeys.schedule();
    expect(after.body).toContain(`${next?.kid}: published`);
  });

  it("warns on the platform's row while launches use a stale key set", async () => {
    expect((await h.launch()).statusCode).toBe(200);
    await vi.waitFor(async () => expect((await admin.get('/admin/platforms')).body).toMatch(/OK \(HTTP 200\)/));
    h.platform.jwksUp = false;
    h.clock.advance(61_000);
    expect((await h.launch()).statusCode).toBe(200);
    await vi.waitFor(async () => expect((await admin.get('/admin/platforms')).body).toContain('data-jwks-state="stale"'));
    const list = await admin.get('/admin/platforms');
    expect(list.body).toContain('Stale key set: The JWKS endpoint has been failing since');
    const detail = await admin.get(`/admin/platforms/${h.platformId}`);
    expect(detail.body).toContain('data-jwks-state="stale"');
    h.platform.jwksUp = true;
  });
});
