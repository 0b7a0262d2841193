import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ConsoleClient, csrfOf } from '../helpers/admin.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, type Harness } from '../helpers/harness.js';

const SESSION = '__Secure-cp_admin_session'; // the harness's base URL is https

describe.each(DIALECTS)('admin console accounts and sessions (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const audit = async (action: string) => (await h.app.services.audit.list({ action })).map((e) => ({ actor: e.actor, target: e.target }));

  it('asks an empty Courseport for its first administrator, then signs them in', async () => {
    h = await createHarness(dialect);
    const c = new ConsoleClient(h.app);
    expect((await c.get('/admin')).headers.location).toBe('/admin/setup');
    expect((await c.get('/admin/platforms')).headers.location).toBe('/admin/setup');
    expect((await c.get('/admin/login')).headers.location).toBe('/admin/setup');

    // Problems are shown on the form, which keeps the email; nothing is stored.
    const page = await c.get('/admin/setup');
    const weak = await c.post('/admin/setup', { _csrf: csrfOf(page.body), email: ADMIN_EMAIL, password: 'short', confirm: 'shorter' });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('at least 12 characters');
    expect(weak.body).toContain('the two passwords differ');
    expect(weak.body).toContain(`value="${ADMIN_EMAIL}"`);
    expect(errorCode(weak.body)).toBe('VALIDATION_FAILED');
    expect(await h.app.services.admins.count()).toBe(0);

    const done = await c.setup();
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/admin/settings');
    const setCookie = ([] as string[]).concat(done.headers['set-cookie'] ?? []).find((l) => l.startsWith(`${SESSION}=`))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/Path=\/admin/);
    const settings = await c.get('/admin/settings');
    expect(settings.statusCode).toBe(200);
    expect(settings.body).toContain(ADMIN_EMAIL);
    expect(settings.headers['cache-control']).toBe('no-store');
    expect(settings.headers['x-frame-options']).toBe('DENY');
    expect(settings.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    // The session id is stored only hashed; the password only as scrypt.
    const sessionId = c.jar.cookies.get(SESSION)!;
    const rows = await h.store.db.selectFrom('admin_sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).not.toBe(sessionId);
    expect(rows[0]!.id_hash).toMatch(/^[0-9a-f]{64}$/);
    const admin = await h.store.db.selectFrom('admins').selectAll().executeTakeFirstOrThrow();
    expect(admin.password_hash).toMatch(/^scrypt\$/);
    expect(await audit('admin.setup')).toEqual([{ actor: `admin:${ADMIN_EMAIL}`, target: admin.id }]);
    expect(await audit('admin.login')).toHaveLength(1);
    // The setup sign-in is the account's last sign-in too (the account page showed "–").
    expect(admin.last_login_at).toBe(h.clock.now());

    // Once an administrator exists, the setup form is gone and posting it is refused.
    const stranger = new ConsoleClient(h.app);
    expect((await stranger.get('/admin/setup')).headers.location).toBe('/admin/login');
    const loginPage = await stranger.get('/admin/login');
    const again = await stranger.post('/admin/setup', {
      _csrf: csrfOf(loginPage.body),
      email: 'mallory@example.com',
      password: 'mallory-password-1',
      confirm: 'mallory-password-1',
    });
    expect(again.statusCode).toBe(409);
    expect(errorCode(again.body)).toBe('ADMIN_SETUP_DONE');
    expect(await h.app.services.admins.count()).toBe(1);
  });

  it('signs in and out; the session is gone after logout', async () => {
    h = await createHarness(dialect);
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const c = new ConsoleClient(h.app);
    expect((await c.get('/admin/keys')).headers.location).toBe(`/admin/login?next=${encodeURIComponent('/admin/keys')}`);

    const wrong = await c.login(ADMIN_EMAIL, 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(errorCode(wrong.body)).toBe('ADMIN_LOGIN_FAILED');
    expect(wrong.body).toContain('Wrong email or password');
    expect(c.jar.cookies.has(SESSION)).toBe(false);
    const unknown = await c.login('nobody@example.edu', ADMIN_PASSWORD);
    expect(errorCode(unknown.body)).toBe('ADMIN_LOGIN_FAILED');
    expect(await audit('admin.login.failed')).toEqual([
      { actor: 'admin:nobody@example.edu', target: undefined },
      { actor: `admin:${ADMIN_EMAIL}`, target: undefined },
    ]);
    expect(h.logs.some((l) => l.code === 'ADMIN_LOGIN_FAILED')).toBe(true);

    const page = await c.get('/admin/login?next=/admin/keys');
    const ok = await c.post('/admin/login', { _csrf: csrfOf(page.body), email: ' Admin@Example.EDU ', password: ADMIN_PASSWORD, next: '/admin/keys' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/admin/keys');
    expect((await c.get('/admin/keys')).statusCode).toBe(200);
    // A signed-in visit to the login page goes to the console.
    expect((await c.get('/admin/login')).headers.location).toBe('/admin');

    const oldCookie = c.jar.header();
    const csrf = await c.csrf();
    const out = await c.post('/admin/logout', { _csrf: csrf });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/admin/login');
    expect(c.jar.cookies.has(SESSION)).toBe(false);
    expect(await h.store.db.selectFrom('admin_sessions').selectAll().execute()).toEqual([]);
    expect(await audit('admin.logout')).toHaveLength(1);
    // The old cookie no longer opens anything.
    const replay = await h.app.inject({ method: 'GET', url: '/admin/settings', headers: { cookie: oldCookie } });
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toMatch(/^\/admin\/login/);
  });

  it('never redirects a sign-in elsewhere than the console', async () => {
    h = await createHarness(dialect);
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const next of [
      'https://evil.example/',
      '//evil.example/admin',
      '/lti/launch',
      '/administrator',
      '/admin/../lti/launch',
      '/admin\\@evil.example',
      '/admin//evil.example',
    ]) {
      const c = new ConsoleClient(h.app);
      const page = await c.get('/admin/login');
      const r = await c.post('/admin/login', { _csrf: csrfOf(page.body), email: ADMIN_EMAIL, password: ADMIN_PASSWORD, next });
      expect(r.headers.location).toBe('/admin');
    }
    // A `next` that is no valid Location header (control or non-ASCII characters) must not turn
    // a correct sign-in into a bare 500 with a session whose cookie never reached the browser.
    for (const next of ['/admin/\r\nSet-Cookie: x=1', '/admin/\tx', '/admin/caf\u00e9', '/admin/\u2028x']) {
      const c = new ConsoleClient(h.app);
      const page = await c.get('/admin/login');
      const r = await c.post('/admin/login', { _csrf: csrfOf(page.body), email: ADMIN_EMAIL, password: ADMIN_PASSWORD, next });
      expect(r.statusCode, JSON.stringify(next)).toBe(303);
      expect(r.headers.location).toBe('/admin');
      expect(r.headers['set-cookie']).toBeDefined();
    }
  });

  it('requires a session on every console route: GET redirects to sign-in, POST is refused', async () => {
    h = await createHarness(dialect);
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const routes = h.app.adminRouteList;
    expect(routes.length).toBeGreaterThan(10);
    // Package rename, deletion and preview are console routes like the others (checked below).
    for (const url of ['/admin/packages/:id/rename', '/admin/packages/:id/delete', '/admin/packages/:id/preview'])
      expect(routes).toContainEqual({ method: 'POST', url });
    for (const { method, url } of routes) {
      const concrete = url.replace(/:[a-zA-Z]+/g, 'x');
      const r = await h.app.inject({
        method,
        url: concrete,
        ...(method === 'POST' ? { payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
      });
      if (method === 'GET') {
        expect(r.statusCode, `${method} ${url}`).toBe(303);
        expect(r.headers.location, `${method} ${url}`).toMatch(/^\/admin\/login\?next=/);
      } else {
        expect(r.statusCode, `${method} ${url}`).toBe(401);
        expect(errorCode(r.body), `${method} ${url}`).toBe('ADMIN_LOGIN_REQUIRED');
      }
      expect(r.headers['cache-control'], `${method} ${url}`).toBe('no-store');
    }
    // Unknown console paths reveal nothing before sign-in either.
    expect((await h.app.inject({ method: 'GET', url: '/admin/nothing-here' })).headers.location).toMatch(/^\/admin\/login/);
    expect((await h.app.inject({ method: 'POST', url: '/admin/nothing-here' })).statusCode).toBe(401);
    // A forged session cookie is no session.
    const forged = await h.app.inject({ method: 'GET', url: '/admin/settings', headers: { cookie: `${SESSION}=${'A'.repeat(43)}` } });
    expect(forged.statusCode).toBe(303);
  });

  it('serves console pages only as pages: a script or frame of the same origin is refused, and windows are isolated', async () => {
    h = await createHarness(dialect);
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const c = new ConsoleClient(h.app);
    await c.login();
    const asPage = await h.app.inject({
      method: 'GET',
      url: '/admin/settings',
      headers: { cookie: c.jar.header(), 'sec-fetch-dest': 'document', 'sec-fetch-site': 'same-origin' },
    });
    expect(asPage.statusCode).toBe(200);
    expect(asPage.headers['cross-origin-opener-policy']).toBe('same-origin');
    for (const dest of ['empty', 'iframe', 'script', 'image']) {
      const r = await h.app.inject({
        method: 'GET',
        url: '/admin/settings',
        headers: { cookie: c.jar.header(), 'sec-fetch-dest': dest, 'sec-fetch-site': 'same-origin' },
      });
      expect(r.statusCode, dest).toBe(403);
      expect(r.body, dest).not.toContain('name="_csrf"');
    }
    // Clients that send no fetch metadata (curl, older browsers) are served as before.
    expect((await c.get('/admin/settings')).statusCode).toBe(200);
  });

  it('ends sessions after the idle limit and after the absolute limit', async () => {
    h = await createHarness(dialect, { COURSEPORT_ADMIN_SESSION_IDLE_MINUTES: '30', COURSEPORT_ADMIN_SESSION_MAX_HOURS: '2' });
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const idle = new ConsoleClient(h.app);
    await idle.login();
    const csrf = await idle.csrf();
    h.clock.advance(29 * 60_000);
    expect((await idle.get('/admin/settings')).statusCode).toBe(200);
    h.clock.advance(31 * 60_000);
    expect((await idle.get('/admin/settings')).headers.location).toMatch(/^\/admin\/login/);
    const post = await idle.post('/admin/logout', { _csrf: csrf });
    expect(post.statusCode).toBe(401);
    expect(errorCode(post.body)).toBe('ADMIN_LOGIN_REQUIRED');
    expect(await h.store.db.selectFrom('admin_sessions').selectAll().execute()).toEqual([]);

    const busy = new ConsoleClient(h.app);
    await busy.login();
    for (let i = 0; i < 5; i++) {
      h.clock.advance(20 * 60_000); // active every 20 minutes: never idle
      expect((await busy.get('/admin/settings')).statusCode, `after ${(i + 1) * 20} minutes`).toBe(200);
    }
    h.clock.advance(21 * 60_000); // 2 h 1 min after sign-in
    expect((await busy.get('/admin/settings')).headers.location).toMatch(/^\/admin\/login/);

    // The cleanup job removes sessions that ended without being seen again.
    const forgotten = new ConsoleClient(h.app);
    await forgotten.login();
    expect(await h.store.db.selectFrom('admin_sessions').selectAll().execute()).toHaveLength(1);
    h.clock.advance(31 * 60_000);
    expect(await h.app.services.admins.cleanup()).toBeGreaterThanOrEqual(1);
    expect(await h.store.db.selectFrom('admin_sessions').selectAll().execute()).toEqual([]);
  });

  it('throttles failed sign-ins per account and per address, with a clear 429 page', async () => {
    h = await createHarness(dialect, {
      COURSEPORT_ADMIN_LOGIN_MAX_FAILURES: '3',
      COURSEPORT_ADMIN_LOGIN_MAX_FAILURES_PER_IP: '5',
      COURSEPORT_ADMIN_LOGIN_WINDOW_SECONDS: '600',
    });
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const attacker = new ConsoleClient(h.app);
    for (let i = 0; i < 3; i++) expect((await attacker.login(ADMIN_EMAIL, `guess number ${i}!`)).statusCode).toBe(401);
    // Over the account limit: refused even with the right password, from anywhere.
    const blocked = await attacker.login();
    expect(blocked.statusCode).toBe(429);
    expect(errorCode(blocked.body)).toBe('ADMIN_LOGIN_THROTTLED');
    expect(blocked.headers['retry-after']).toBe('600');
    const elsewhere = new ConsoleClient(h.app);
    const page = await elsewhere.get('/admin/login');
    const fromOtherIp = elsewhere.jar.take(
      await h.app.inject({
        method: 'POST',
        url: '/admin/login',
        remoteAddress: '203.0.113.9',
        payload: new URLSearchParams({ _csrf: csrfOf(page.body), email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: elsewhere.jar.header() },
      }),
    );
    expect(fromOtherIp.statusCode).toBe(429);
    expect(await audit('admin.login.throttled')).toHaveLength(2);
    expect(await h.store.db.selectFrom('admin_sessions').selectAll().execute()).toEqual([]);

    // Per address: failures against several accounts add up.
    h.clock.advance(601_000);
    const sprayer = new ConsoleClient(h.app);
    for (let i = 0; i < 5; i++) expect((await sprayer.login(`user${i}@example.edu`, 'wrong password!!')).statusCode).toBe(401);
    expect((await sprayer.login()).statusCode).toBe(429);

    // After the window, the right password works again, and a success clears the account's count.
    h.clock.advance(601_000);
    const owner = new ConsoleClient(h.app);
    expect((await owner.login()).statusCode).toBe(303);
    const row = await h.store.db.selectFrom('admin_login_throttle').selectAll().where('key', '=', `account:${ADMIN_EMAIL}`).executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('caps sign-in posts per address before any password work, with a 429 page', async () => {
    h = await createHarness(dialect);
    await h.app.services.admins.create(ADMIN_EMAIL, ADMIN_PASSWORD);
    const c = new ConsoleClient(h.app);
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await c.post('/admin/login', { _csrf: 'x', email: ADMIN_EMAIL, password: 'whatever' })).statusCode);
    expect(statuses.slice(0, 30).every((s) => s === 403)).toBe(true);
    const limited = await c.post('/admin/login', { _csrf: 'x', email: ADMIN_EMAIL, password: 'whatever' });
    expect(limited.statusCode).toBe(429);
    expect(errorCode(limited.body)).toBe('RATE_LIMITED');
    expect(statuses[30]).toBe(429);
  });

  it('refuses sign-in and setup posts without their anti-forgery token', async () => {
    h = await createHarness(dialect);
    const c = new ConsoleClient(h.app);
    const noCookie = await c.post('/admin/setup', { _csrf: 'x'.repeat(43), email: ADMIN_EMAIL, password: ADMIN_PASSWORD, confirm: ADMIN_PASSWORD });
    expect(noCookie.statusCode).toBe(403);
    expect(errorCode(noCookie.body)).toBe('ADMIN_CSRF_INVALID');
    await c.get('/admin/setup');
    const wrong = await c.post('/admin/setup', { _csrf: 'x'.repeat(43), email: ADMIN_EMAIL, password: ADMIN_PASSWORD, confirm: ADMIN_PASSWORD });
    expect(wrong.statusCode).toBe(403);
    expect(await h.app.services.admins.count()).toBe(0);
    const page = await c.get('/admin/setup');
    const foreign = await c.post(
      '/admin/setup',
      { _csrf: csrfOf(page.body), email: ADMIN_EMAIL, password: ADMIN_PASSWORD, confirm: ADMIN_PASSWORD },
      { origin: 'https://evil.example' },
    );
    expect(foreign.statusCode).toBe(403);
    expect(await h.app.services.admins.count()).toBe(0);
  });
});
