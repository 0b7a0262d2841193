import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';
import { DIALECTS } from '../helpers/dialects.js';

/** The server side of the platform-storage and new-window tiers, over inject. */
describe.each(DIALECTS)('launch without the state cookie (%s)', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });

  const launchCount = async () =>
    Number(
      (
        await h.store.db
          .selectFrom('launches')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  const loginParams = (extra: Record<string, string> = {}) => ({
    iss: h.platform.issuer,
    login_hint: 'learner-1',
    target_link_uri: `${TOOL_BASE_URL}/lti/launch`,
    lti_message_hint: 'msg-hint-1',
    client_id: h.platform.clientId,
    lti_deployment_id: h.platform.deploymentId,
    ...extra,
  });

  /** A login that offers platform storage: the page's JSON config says what to put where. */
  async function storageLogin() {
    const res = await h.app.inject({ method: 'GET', url: '/lti/login', query: loginParams({ lti_storage_target: '_parent' }) });
    expect(res.statusCode).toBe(200);
    const json = /<script type="application\/json" id="lti-storage-config">([^<]*)<\/script>/.exec(res.body)?.[1];
    const config = JSON.parse(json ?? '{}') as { mode: string; target: string; origin: string; key: string; value: string; authUrl: string };
    const auth = new URL(config.authUrl);
    return { res, config, state: auth.searchParams.get('state') ?? '', nonce: auth.searchParams.get('nonce') ?? '' };
  }

  const verified = (form: Record<string, string>, origin: string | null = TOOL_BASE_URL) =>
    h.app.inject({
      method: 'POST',
      url: '/lti/launch/verified',
      payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(origin ? { origin } : {}) },
    });

  const token = (nonce: string) => h.platform.mint(h.platform.resourceLinkClaims(nonce, `${TOOL_BASE_URL}/lti/launch`));

  it('answers a login with lti_storage_target with a page that puts the proof in the platform frame', async () => {
    const { res, config, state } = await storageLogin();
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).not.toMatch(/<script>(?!<)/); // no inline script: CSP default-src 'self'
    expect(res.body).toContain('src="/static/lti-storage.js"');
    expect(config).toMatchObject({ mode: 'put', target: '_parent', origin: new URL(h.platform.authUrl).origin, key: `cp_state_${state}` });
    expect(config.value).toMatch(/^[\w-]{40,}$/);
    expect(config.authUrl.startsWith(h.platform.authUrl)).toBe(true);
    // The state cookie is still set (tier 1 stays first).
    expect(String(res.headers['set-cookie'])).toContain('cp_lti_state_');
    const row = await h.store.db.selectFrom('login_states').selectAll().where('state', '=', state).executeTakeFirstOrThrow();
    expect(row.storage_target).toBe('_parent');
    expect(row.storage_proof).toBe(config.value);
  });

  it('ignores lti_storage_target when the login re-runs in a new window, or when it is not a frame name', async () => {
    for (const extra of [{ lti_storage_target: '_parent', cp_window: '1' }, { lti_storage_target: 'bad name<' }] as Record<string, string>[]) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/lti/login',
        payload: new URLSearchParams(loginParams(extra)).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.statusCode).toBe(302);
    }
  });

  it('without the cookie, answers the launch with a page that fetches the proof from platform storage', async () => {
    const { state, nonce } = await storageLogin();
    const res = await h.launch({ login: { state, nonce } as never, cookie: null, idToken: await token(nonce) });
    expect(res.statusCode).toBe(400);
    expect(errorCode(res.body)).toBe('LTI_STATE_COOKIE_MISSING');
    const config = JSON.parse(/id="lti-storage-config">([^<]*)</.exec(res.body)?.[1] ?? '{}') as Record<string, unknown>;
    expect(config).toMatchObject({ mode: 'get', target: '_parent', key: `cp_state_${state}` });
    expect(config.value).toBeUndefined();
    expect(res.body).toContain('action="/lti/launch/verified"');
  });

  it('completes the launch with the right value from platform storage, once', async () => {
    const { config, state, nonce } = await storageLogin();
    const before = await launchCount();
    const idToken = await token(nonce);
    const res = await verified({ id_token: idToken, state, storage_value: config.value });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.body).toContain('Ada Lovelace');
    expect(await launchCount()).toBe(before + 1);
    const again = await verified({ id_token: idToken, state, storage_value: config.value });
    expect(errorCode(again.body)).toBe('LTI_STATE_USED');
    expect(await launchCount()).toBe(before + 1);
  });

  it('refuses a wrong, missing or foreign value, and a post from another origin, recording nothing', async () => {
    const { config, state, nonce } = await storageLogin();
    const idToken = await token(nonce);
    const before = await launchCount();
    const cases: [Record<string, string>, string | null, string, number][] = [
      [{ id_token: idToken, state, storage_value: 'forged-value' }, TOOL_BASE_URL, 'LTI_STORAGE_VALUE_MISMATCH', 401],
      [{ id_token: idToken, state }, TOOL_BASE_URL, 'LTI_STORAGE_VALUE_MISMATCH', 401],
      [{ id_token: idToken, state, storage_value: config.value }, 'https://evil.example', 'LTI_STORAGE_WRONG_ORIGIN', 403],
      [{ id_token: idToken, state, storage_value: config.value }, 'null', 'LTI_STORAGE_WRONG_ORIGIN', 403],
      [{ id_token: idToken, state, storage_value: config.value }, null, 'LTI_STORAGE_WRONG_ORIGIN', 403],
    ];
    for (const [form, origin, code, status] of cases) {
      const res = await verified(form, origin);
      expect(errorCode(res.body), `${code} ${origin} ${res.statusCode} ${res.body.slice(0, 200)}`).toBe(code);
      expect(res.statusCode).toBe(status);
    }
    // Another login's proof does not open this one; a login without platform storage has none.
    const other = await storageLogin();
    expect(errorCode((await verified({ id_token: idToken, state, storage_value: other.config.value })).body)).toBe('LTI_STORAGE_VALUE_MISMATCH');
    const plain = await h.login();
    const plainRes = await verified({ id_token: await token(plain.nonce), state: plain.state, storage_value: config.value });
    expect(errorCode(plainRes.body)).toBe('LTI_STORAGE_VALUE_MISMATCH');
    expect(await launchCount()).toBe(before);
    // The state was not consumed by the refusals: the genuine value still completes it.
    expect((await verified({ id_token: idToken, state, storage_value: config.value })).statusCode).toBe(200);
  });

  it('keeps every other check: a bad id_token with the right value is refused', async () => {
    const { config, state, nonce } = await storageLogin();
    const before = await launchCount();
    const bad = await h.platform.mint(h.platform.resourceLinkClaims(nonce, `${TOOL_BASE_URL}/lti/launch`), { claims: { aud: 'someone-else' } });
    expect(errorCode((await verified({ id_token: bad, state, storage_value: config.value })).body)).toBe('LTI_INVALID_AUDIENCE');
    const wrongNonce = await token('not-the-nonce');
    expect(errorCode((await verified({ id_token: wrongNonce, state, storage_value: config.value })).body)).toBe('LTI_NONCE_MISMATCH');
    expect(await launchCount()).toBe(before);
  });

  it('without the cookie or storage: one same-site re-post, then the new-window page with the login to resume', async () => {
    const l = await h.login();
    const idToken = await token(l.nonce);
    const first = await h.launch({ login: l, cookie: null, idToken });
    expect(first.statusCode).toBe(400);
    expect(first.body).toContain('"mode":"resubmit"');
    expect(first.body).toContain('name="cp_recover" value="resubmit"');
    const second = await h.launch({ login: l, cookie: null, idToken, form: { cp_recover: 'resubmit', cp_storage: 'timeout' } });
    expect(errorCode(second.body)).toBe('LTI_STATE_COOKIE_MISSING');
    expect(second.statusCode).toBe(400);
    expect(second.body).toContain('Open in a new window');
    expect(second.body).toMatch(/<form method="post" action="\/lti\/login" target="_blank"/);
    expect(second.body).toContain(`name="iss" value="${h.platform.issuer}"`);
    expect(second.body).toContain('name="lti_message_hint" value="msg-hint-1"');
    expect(second.body).toContain('name="cp_window" value="1"');
    expect(second.body).toContain('Third-party cookies');
    expect(second.body).toContain('Prevent cross-site tracking');
    // The re-post with the cookie (what the browser does in the top-level window) completes the launch.
    const third = await h.launch({ login: l, idToken, form: { cp_recover: 'resubmit' } });
    expect(third.statusCode).toBe(200);
  });
});
