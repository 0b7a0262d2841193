import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/lti/claims.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';

describe.each(DIALECTS)('LTI 1.3 launch, happy path (%s)', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers the OIDC login with a redirect carrying every required parameter', async () => {
    const l = await h.login();
    expect(l.response.statusCode).toBe(302);
    expect(`${l.location.origin}${l.location.pathname}`).toBe(h.platform.authUrl);
    const q = l.location.searchParams;
    expect(q.get('scope')).toBe('openid');
    expect(q.get('response_type')).toBe('id_token');
    expect(q.get('response_mode')).toBe('form_post');
    expect(q.get('prompt')).toBe('none');
    expect(q.get('client_id')).toBe(h.platform.clientId);
    expect(q.get('redirect_uri')).toBe(`${TOOL_BASE_URL}/lti/launch`);
    expect(q.get('login_hint')).toBe('learner-1');
    expect(q.get('lti_message_hint')).toBe('msg-hint-1');
    // ≥128 bits: 32 random bytes in base64url are 43 characters.
    expect(l.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(l.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(l.nonce).not.toBe(l.state);
    expect(l.setCookie).toContain(`=${l.state}`);
    expect(l.setCookie).toMatch(/HttpOnly/i);
    expect(l.setCookie).toMatch(/Secure/i);
    expect(l.setCookie).toMatch(/SameSite=None/i);
    expect(l.setCookie).toMatch(/Partitioned/i);
    expect(l.setCookie).toMatch(/^__Secure-/);
    const row = await h.store.db.selectFrom('login_states').selectAll().where('state', '=', l.state).executeTakeFirstOrThrow();
    expect(row.nonce).toBe(l.nonce);
    expect(row.platform_id).toBe(h.platformId);
    expect(row.expires_at).toBe(h.clock.now() + h.config.lti.loginStateTtlMs);
  });

  it('accepts login initiation by POST as well as GET', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/lti/login',
      payload: new URLSearchParams({
        iss: h.platform.issuer,
        login_hint: 'u',
        target_link_uri: `${TOOL_BASE_URL}/lti/launch`,
        client_id: h.platform.clientId,
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toContain(h.platform.authUrl);
  });

  it('validates a resource link launch, records it, and shows who launched', async () => {
    const res = await h.launch();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('Ada Lovelace');
    expect(res.body).toContain('Introduction to Golf (GOLF101)');
    expect(res.body).toContain('rl-1');
    expect(res.body).toContain('Learner');
    const db = h.store.db;
    const user = await db.selectFrom('users').selectAll().where('sub', '=', 'learner-1').executeTakeFirstOrThrow();
    expect(user.email).toBe('ada@example.edu');
    const ctx = await db.selectFrom('contexts').selectAll().where('context_id', '=', 'course-42').executeTakeFirstOrThrow();
    expect(ctx.title).toBe('Introduction to Golf');
    const rl = await db.selectFrom('resource_links').selectAll().where('resource_link_id', '=', 'rl-1').executeTakeFirstOrThrow();
    expect(rl.context_id).toBe(ctx.id);
    const launch = await db.selectFrom('launches').selectAll().where('user_id', '=', user.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(launch.resource_link_id).toBe(rl.id);
    expect(JSON.parse(launch.claims)[CLAIM.DEPLOYMENT_ID]).toBe(h.platform.deploymentId);
    const state = await db.selectFrom('login_states').selectAll().where('state', '=', res.login.state).executeTakeFirstOrThrow();
    expect(state.consumed_at).toBe(h.clock.now());
    expect(h.logs.some((l) => l.msg === 'LTI launch validated')).toBe(true);
  });

  it('keeps working inside the LMS frame without any cookie, through the launch token', async () => {
    const res = await h.launch();
    const token = /data-launch-token="([^"]+)"/.exec(res.body)?.[1];
    expect(token).toBeTruthy();
    const again = await h.app.inject({ method: 'GET', url: `/lti/home?lt=${encodeURIComponent(token!)}` });
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('Ada Lovelace');

    const tampered = await h.app.inject({ method: 'GET', url: `/lti/home?lt=${encodeURIComponent(`${token!.slice(0, -2)}xx`)}` });
    expect(tampered.statusCode).toBe(401);
    expect(errorCode(tampered.body)).toBe('LAUNCH_TOKEN_INVALID');

    h.clock.advance(h.config.lti.launchTokenTtlMs + 1000);
    try {
      const expired = await h.app.inject({ method: 'GET', url: `/lti/home?lt=${encodeURIComponent(token!)}` });
      expect(expired.statusCode).toBe(401);
      expect(errorCode(expired.body)).toBe('LAUNCH_TOKEN_EXPIRED');
    } finally {
      h.clock.advance(-(h.config.lti.launchTokenTtlMs + 1000));
    }
  });

  it('updates the same user, context and resource link on a second launch', async () => {
    await h.launch();
    const before = await h.store.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const l = await h.login();
    const claims = { ...h.launchClaims(l), name: 'Ada King' };
    const res = await h.launch({ login: l, idToken: await h.platform.mint(claims) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Ada King');
    const after = await h.store.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    const rls = await h.store.db.selectFrom('resource_links').selectAll().execute();
    expect(rls).toHaveLength(1);
  });
});
