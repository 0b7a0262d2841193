import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/app.js';
import { DEFAULT_GRADE_WORKER, GradeWorker } from '../../src/grades/grade-worker.js';
import { SANDBOX_CLIENT_ID, SANDBOX_DEPLOYMENT_ID } from '../../src/sandbox/sandbox-platform.js';
import { SandboxService } from '../../src/sandbox/sandbox.service.js';
import { findDeployment, findPlatform } from '../../src/platforms/platform.repository.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12, COURSE_2004 } from '../helpers/fixtures.js';
import { createHarness, errorCode } from '../helpers/harness.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The hidden-field form of a page (an auto-submitting LMS or tool form), attribute values unescaped. */
function formOf(html: string): { action: string; fields: Record<string, string> } {
  const unescapeHtml = (s: string) =>
    s
      .replace(/&#34;|&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in: ${html.slice(0, 400)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) fields[m[1]!] = unescapeHtml(m[2]!);
  return { action: unescapeHtml(action), fields };
}

describe.each(DIALECTS)('the sandbox LMS over real HTTP (%s)', (dialect) => {
  let tool: LiveServer;
  let packageId: string;
  let scoredPackageId: string;
  let platformId: string;

  beforeAll(async () => {
    tool = await startLiveServer(dialect);
    ({ platformId } = await tool.app.services.sandbox.ensureReady());
    packageId = (await tool.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care' })).package.id;
    scoredPackageId = (await tool.app.services.packages.importPackage(COURSE_2004, { title: 'Bicycle Care Advanced' })).package.id;
  });
  afterAll(async () => {
    await tool?.close();
  });

  const url = (path: string) => `${tool.baseUrl}${path}`;
  const post = (action: string, fields: Record<string, string>, cookie?: string) =>
    fetch(new URL(action, tool.baseUrl), {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(cookie ? { cookie } : {}) },
      redirect: 'manual',
    });

  /** What a browser does from the sandbox's frame: login form → tool login → sandbox auth → tool launch. */
  async function launch(query: Record<string, string>): Promise<{ status: number; html: string }> {
    const start = await fetch(url(`/sandbox/start?${new URLSearchParams(query).toString()}`), { headers: { accept: 'text/html' } });
    expect(start.status).toBe(200);
    const login = formOf(await start.text());
    expect(login.action).toBe(url('/lti/login'));
    expect(login.fields).toMatchObject({ iss: url('/sandbox'), client_id: SANDBOX_CLIENT_ID, lti_deployment_id: SANDBOX_DEPLOYMENT_ID });
    const toAuth = await post(login.action, login.fields);
    expect(toAuth.status).toBe(302);
    const cookie = String(toAuth.headers.get('set-cookie') ?? '').split(';')[0]!;
    const auth = await fetch(String(toAuth.headers.get('location')), { headers: { accept: 'text/html' } });
    const authHtml = await auth.text();
    expect(auth.status, authHtml.slice(0, 400)).toBe(200);
    const answer = formOf(authHtml);
    expect(answer.action).toBe(url('/lti/launch'));
    const res = await post(answer.action, answer.fields, cookie);
    return { status: res.status, html: await res.text() };
  }

  it('registers itself at start like any platform, once, with a key that survives a restart', async () => {
    const platform = await findPlatform(tool.store.db, url('/sandbox'), SANDBOX_CLIENT_ID);
    expect(platform).toMatchObject({
      id: platformId,
      status: 'active',
      auth_url: url('/sandbox/auth'),
      token_url: url('/sandbox/token'),
      jwks_url: url('/sandbox/jwks'),
    });
    expect(await findDeployment(tool.store.db, platformId, SANDBOX_DEPLOYMENT_ID)).toBeDefined();
    expect(await tool.app.services.sandbox.ensureReady()).toEqual({ platformId, created: false });
    const jwks = (await (await fetch(url('/sandbox/jwks'))).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]!.d).toBeUndefined();
    const row = await tool.store.db.selectFrom('sandbox_keys').selectAll().executeTakeFirstOrThrow();
    expect(row.private_jwk_enc).toMatch(/^v1\./);
    expect(row.private_jwk_enc).not.toContain('"d"');
    // A second process (or a restart) on the same database publishes the same key.
    const again = await build({ config: tool.config, store: tool.store, logStream: { write: () => undefined } });
    try {
      await again.services.sandbox.ensureReady();
      expect((await again.inject({ method: 'GET', url: '/sandbox/jwks' })).json()).toEqual(jwks);
      expect(await tool.store.db.selectFrom('platforms').select('id').where('issuer', '=', url('/sandbox')).execute()).toHaveLength(1);
    } finally {
      await again.close();
    }
  });

  it('adds content through deep linking, launches it as a learner, and the score arrives in the gradebook', async () => {
    const course = await fetch(url('/sandbox'), { headers: { accept: 'text/html' } });
    expect(await course.text()).toContain('id="sandbox-no-links"');

    // "Add content": a deep linking launch as the instructor, into the real picker.
    const picker = await launch({ deeplink: '1' });
    expect(picker.status, picker.html.slice(0, 400)).toBe(200);
    const pickerAction = /<form method="post" action="([^"]+)" id="picker-form"/.exec(picker.html)?.[1];
    expect(pickerAction).toMatch(/^\/lti\/deep-link\//);
    const chosen = await fetch(new URL(pickerAction!, tool.baseUrl), {
      method: 'POST',
      body: `package=${packageId}&package=${scoredPackageId}&action=add`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(chosen.status).toBe(200);
    const back = formOf(await chosen.text());
    expect(back.action).toBe(url('/sandbox/deep-link-return'));
    const received = await post(back.action, back.fields);
    const receivedHtml = await received.text();
    expect(received.status, receivedHtml.slice(0, 400)).toBe(200);
    expect(receivedHtml).toContain('data-added="2"');
    // The same response twice is refused (its data value is single use).
    const replay = await post(back.action, back.fields);
    expect(replay.status).toBe(400);
    expect(errorCode(await replay.text())).toBe('SANDBOX_INVALID_REQUEST');

    const links = await tool.app.services.sandbox.links();
    const link = links.find((l) => l.title === 'Bicycle Care');
    expect(link).toMatchObject({ url: url('/lti/launch'), custom: { package_id: packageId } });
    // This package reports no mastery score: the tool asks for no grade column, so there is none yet.
    expect(link!.lineItemId).toBeNull();
    // The scored one came with a lineItem: the sandbox created its grade column, as an LMS does.
    const scored = links.find((l) => l.title === 'Bicycle Care Advanced');
    expect(scored).toMatchObject({ custom: { package_id: scoredPackageId } });
    expect(await tool.app.services.sandbox.lineItems()).toEqual([
      { id: scored!.lineItemId, label: 'Bicycle Care Advanced', scoreMaximum: 100, resourceId: scoredPackageId, resourceLinkId: scored!.id, tag: 'courseport' },
    ]);

    // Launch as a learner: the player, with the AGS claim naming the line item deep linking created.
    const played = await launch({ link: link!.id, user: 'sandbox-alice' });
    expect(played.status, played.html.slice(0, 400)).toBe(200);
    const cfg = JSON.parse(/<script type="application\/json" id="player-config">(.*?)<\/script>/s.exec(played.html)![1]!) as { api: string };
    const { session } = (await (await fetch(url(`${cfg.api}/sco/item_1`), { method: 'POST' })).json()) as { session: number };
    const commit = await fetch(url(`${cfg.api}/sco/item_1/commit?session=${session}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '85', 'cmi.core.score.max': '100', commitSequence: 1, terminate: true }),
    });
    expect(commit.status, await commit.clone().text()).toBe(200);

    // The server's grade worker sends it (one round driven here), through the sandbox's token and score endpoints.
    const worker = new GradeWorker(tool.store.db, tool.store.dialect, tool.app.services.ags, { now: () => Date.now() }, silent, DEFAULT_GRADE_WORKER);
    await worker.runOnce();
    // The tool created the grade column through the line item container (AGS), for this link.
    const [lineItem] = await tool.app.services.sandbox.lineItems({ resourceLinkId: link!.id });
    expect(lineItem).toMatchObject({ label: 'Bicycle Care', scoreMaximum: 100, resourceId: packageId, tag: 'courseport' });
    const scores = await tool.app.services.sandbox.scores(lineItem!.id);
    expect(scores).toEqual([
      expect.objectContaining({ userId: 'sandbox-alice', scoreGiven: 85, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded' }),
    ]);
    const outbox = await tool.store.db.selectFrom('grade_outbox').select(['state', 'last_error']).execute();
    expect(outbox).toEqual([{ state: 'sent', last_error: null }]);
    const gradebook = await (await fetch(url('/sandbox/gradebook'), { headers: { accept: 'text/html' } })).text();
    const aliceRow = /<tr data-user="sandbox-alice">(.*?)<\/tr>/s.exec(gradebook)?.[1] ?? '';
    expect(aliceRow).toContain(`<td data-line-item="${lineItem!.id}" class="text">85% · Completed · FullyGraded</td>`);
    expect(aliceRow).toContain(`<td data-line-item="${scored!.lineItemId}" class="text">—</td>`);

    // The results endpoint reports it back (as the tool's grade policies read it).
    const tokenPlatform = { id: platformId, clientId: SANDBOX_CLIENT_ID, tokenUrl: url('/sandbox/token'), tokenAudience: null };
    expect(await tool.app.services.ags.result(tokenPlatform, tool.app.services.sandbox.lineItemUrl(lineItem!.id), 'sandbox-alice')).toMatchObject({
      userId: 'sandbox-alice',
      resultScore: 85,
      resultMaximum: 100,
    });

    // The roster (NRPS) the launch pointed at: the fake course's four people.
    const context = await tool.store.db.selectFrom('contexts').select('id').where('context_id', '=', 'sandbox-course').executeTakeFirstOrThrow();
    await tool.app.services.rosters.sync(context.id);
    const members = await tool.store.db
      .selectFrom('memberships')
      .select(['user_sub', 'role_kind'])
      .where('context_id', '=', context.id)
      .orderBy('user_sub')
      .execute();
    expect(members.map((m) => m.user_sub)).toEqual(['sandbox-alice', 'sandbox-bob', 'sandbox-chloe', 'sandbox-instructor']);

    // An instructor launch of the same link: the player with the progress view, which lists the sandbox's learners.
    const instructor = await launch({ link: link!.id, user: 'sandbox-instructor' });
    expect(instructor.status).toBe(200);
    expect(played.html).not.toContain('id="progress-link"');
    const progressHref = /<a href="([^"]+)" id="progress-link"/.exec(instructor.html)?.[1];
    expect(progressHref).toMatch(/^\/progress\//);
    const progress = await (await fetch(url(progressHref!), { headers: { accept: 'text/html' } })).text();
    for (const name of ['Alice Learner', 'Bob Learner', 'Chloe Learner']) expect(progress).toContain(name);

    // Started again on another base URL (another port), the sandbox points its links at the new one.
    const s = tool.app.services;
    const moved = new SandboxService(
      tool.store.db,
      s.toolKeys,
      s.platforms,
      s.audit,
      { now: () => Date.now() },
      { baseUrl: 'http://127.0.0.1:9', secret: tool.config.secret },
    );
    expect(await moved.loginForm({ user: 'sandbox-bob', link: link!.id, deepLink: false })).toMatchObject({
      iss: 'http://127.0.0.1:9/sandbox',
      target_link_uri: 'http://127.0.0.1:9/lti/launch',
    });
  });

  it('verifies what it is sent: forged hints, foreign client assertions, replayed jtis, missing tokens', async () => {
    const auth = await fetch(
      url(
        `/sandbox/auth?scope=openid&response_type=id_token&response_mode=form_post&prompt=none&client_id=courseport-sandbox&redirect_uri=${encodeURIComponent(url('/lti/launch'))}&login_hint=sandbox-alice&state=s&nonce=n&lti_message_hint=forged.hint.value`,
      ),
      { headers: { accept: 'text/html' } },
    );
    expect(auth.status).toBe(400);
    expect(errorCode(await auth.text())).toBe('SANDBOX_INVALID_REQUEST');

    // A client assertion signed with a key that is not in the tool's JWKS.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = (await tool.app.services.toolKeys.jwks()).keys[0]!.kid!;
    void (await exportJWK(publicKey));
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(SANDBOX_CLIENT_ID)
      .setSubject(SANDBOX_CLIENT_ID)
      .setAudience(url('/sandbox/token'))
      .setJti('forged-1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const form = {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
    };
    const refused = await post(url('/sandbox/token'), { ...form, client_assertion: forged });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });

    // A genuine assertion works once; the same jti again is refused.
    const tokenPlatform = { id: platformId, clientId: SANDBOX_CLIENT_ID, tokenUrl: url('/sandbox/token'), tokenAudience: null };
    const assertion = await tool.app.services.serviceTokens.clientAssertion(tokenPlatform);
    const ok = await post(url('/sandbox/token'), { ...form, client_assertion: assertion });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', scope: form.scope });
    const replayed = await post(url('/sandbox/token'), { ...form, client_assertion: assertion });
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_client', error_description: expect.stringContaining('jti') });

    const noToken = await fetch(url('/sandbox/memberships'));
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ error: 'SANDBOX_UNAUTHORIZED' });

    const forgedReturn = await post(url('/sandbox/deep-link-return'), { JWT: forged });
    expect(forgedReturn.status).toBe(400);
    expect(errorCode(await forgedReturn.text())).toBe('SANDBOX_INVALID_REQUEST');
  });
});

describe('the sandbox switch', () => {
  it('is on by default outside production, off in production unless COURSEPORT_SANDBOX=on', async () => {
    const production = { NODE_ENV: 'production', COURSEPORT_JWKS_COOLDOWN_SECONDS: '5', COURSEPORT_JWKS_CACHE_SECONDS: '60' };
    for (const [env, status] of [
      [{}, 200],
      [{ COURSEPORT_SANDBOX: 'off' }, 404],
      [production, 404],
      [{ ...production, COURSEPORT_SANDBOX: 'on' }, 200],
    ] as const) {
      const h = await createHarness('sqlite', env, { registerPlatform: false });
      try {
        if (h.config.sandbox) await h.app.services.sandbox.ensureReady();
        const res = await h.app.inject({ method: 'GET', url: '/sandbox', headers: { accept: 'text/html' } });
        expect(res.statusCode, JSON.stringify(env)).toBe(status);
        expect((await h.app.inject({ method: 'GET', url: '/sandbox/jwks' })).statusCode).toBe(status);
      } finally {
        await h.close();
      }
    }
  });
});
