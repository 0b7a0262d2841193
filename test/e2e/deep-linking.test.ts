import { ROLE } from '../../src/lti/roles.js';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM, MESSAGE_TYPE } from '../../src/lti/claims.js';
import { DIALECTS } from '../helpers/dialects.js';
import { COURSE_12, COURSE_12_MULTI, COURSE_2004 } from '../helpers/fixtures.js';
import { createHarness, errorCode, TOOL_BASE_URL, type Harness } from '../helpers/harness.js';

const INSTRUCTOR = { [CLAIM.ROLES]: [ROLE.CONTEXT_INSTRUCTOR] };

function pickerToken(res: LightMyRequestResponse): string {
  const action = /<form method="post" action="\/lti\/deep-link\/([^"]+)"/.exec(res.body)?.[1];
  if (!action) throw new Error(`no picker in: ${res.body.slice(0, 300)}`);
  return decodeURIComponent(action);
}

function returnForm(res: LightMyRequestResponse): { action: string; jwt: string } {
  const action = /<form method="post" action="([^"]+)" id="return-form">/.exec(res.body)?.[1];
  const jwt = /name="JWT" value="([^"]+)"/.exec(res.body)?.[1];
  if (!action || !jwt) throw new Error(`no return form in: ${res.body.slice(0, 300)}`);
  return { action: action.replace(/&amp;/g, '&'), jwt };
}

describe.each(DIALECTS)('Deep Linking 2.0 (%s)', (dialect) => {
  let h: Harness;
  let course12: string;
  let course2004: string;
  let multi: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    course12 = (await h.app.services.packages.importPackage(COURSE_12, { title: 'Bicycle Care Basics' })).package.id;
    course2004 = (await h.app.services.packages.importPackage(COURSE_2004, { title: 'Bicycle Care Advanced' })).package.id;
    multi = (await h.app.services.packages.importPackage(COURSE_12_MULTI, { title: 'Bicycle Workshop (9 SCOs)' })).package.id;
  });
  afterAll(async () => {
    await h.close();
  });

  const deepLink = (claims: Record<string, unknown> = {}, options: Parameters<Harness['platform']['deepLinkingClaims']>[0] = {}) =>
    h.launch({ claims: { ...h.platform.deepLinkingClaims(options), ...INSTRUCTOR, ...claims } });

  const choose = (token: string, form: string) =>
    h.app.inject({
      method: 'POST',
      url: `/lti/deep-link/${encodeURIComponent(token)}`,
      payload: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  async function verify(jwt: string): Promise<{ payload: JWTPayload; kid: string | undefined }> {
    const jwks = (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet;
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
      issuer: h.platform.clientId,
      audience: h.platform.issuer,
      algorithms: ['RS256'],
      currentDate: new Date(h.clock.now()),
    });
    return { payload, kid: decodeProtectedHeader(jwt).kid };
  }

  it('opens the picker with the catalogue for an instructor', async () => {
    const res = await deepLink();
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    for (const title of ['Bicycle Care Basics', 'Bicycle Care Advanced', 'Bicycle Workshop (9 SCOs)']) expect(res.body).toContain(title);
    expect(res.body).toContain('SCORM 2004 3rd ed.');
    expect(res.body).toContain('type="checkbox"');
  });

  it('searches the catalogue by title', async () => {
    const token = pickerToken(await deepLink());
    const res = await h.app.inject({ method: 'GET', url: `/lti/deep-link/${encodeURIComponent(token)}?q=advanced` });
    expect(res.body).toContain('Bicycle Care Advanced');
    expect(res.body).not.toContain('Bicycle Care Basics');
    const none = await h.app.inject({ method: 'GET', url: `/lti/deep-link/${encodeURIComponent(token)}?q=chemistry` });
    expect(none.body).toContain('No package title contains');
  });

  it('returns a signed LtiDeepLinkingResponse with every claim, a line item for scored packages, and the data echoed', async () => {
    const token = pickerToken(await deepLink({}, { data: { opaque: ['x', 1] } }));
    const res = await choose(token, `package=${course2004}&package=${multi}&action=add`);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const form = returnForm(res);
    expect(form.action).toBe(`${h.platform.origin}/deep-link-return`);
    expect(res.body).toContain('Continue to the LMS');
    const { payload, kid } = await verify(form.jwt);
    expect(kid).toBe((await h.app.services.toolKeys.signingKey()).kid);
    expect(payload.iss).toBe(h.platform.clientId);
    expect(payload.aud).toBe(h.platform.issuer);
    expect(typeof payload.nonce).toBe('string');
    expect(payload.iat).toBe(Math.floor(h.clock.now() / 1000));
    expect(payload.exp).toBeGreaterThan(payload.iat!);
    expect(payload[CLAIM.MESSAGE_TYPE]).toBe(MESSAGE_TYPE.DEEP_LINKING_RESPONSE);
    expect(payload[CLAIM.VERSION]).toBe('1.3.0');
    expect(payload[CLAIM.DEPLOYMENT_ID]).toBe(h.platform.deploymentId);
    expect(payload[CLAIM.DEEP_LINKING_DATA]).toEqual({ opaque: ['x', 1] });
    expect(payload[CLAIM.DEEP_LINKING_MSG]).toContain('2 items');
    const items = payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as Record<string, unknown>[];
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual({
      type: 'ltiResourceLink',
      title: 'Bicycle Care Advanced',
      url: `${TOOL_BASE_URL}/lti/launch`,
      custom: { package_id: course2004 },
      iframe: { width: 1024, height: 768 },
      lineItem: { scoreMaximum: 100, label: 'Bicycle Care Advanced', resourceId: course2004, tag: 'courseport' },
    });
    // The 9-SCO package sets no score: no grade column.
    expect(items[1]).toMatchObject({ title: 'Bicycle Workshop (9 SCOs)', custom: { package_id: multi } });
    expect(items[1]).not.toHaveProperty('lineItem');
  });

  it('answers each request once: a double submit is refused instead of duplicating the items', async () => {
    const token = pickerToken(await deepLink());
    const first = await choose(token, `package=${course12}`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['referrer-policy']).toBe('strict-origin');
    const second = await choose(token, `package=${course12}`);
    expect(second.statusCode).toBe(409);
    expect(errorCode(second.body)).toBe('DEEP_LINKING_ALREADY_ANSWERED');
  });

  it('leaves out line items when the platform says accept_lineitem=false', async () => {
    const token = pickerToken(await deepLink({}, { acceptLineItem: false }));
    const { payload } = await verify(returnForm(await choose(token, `package=${course2004}`)).jwt);
    expect((payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as Record<string, unknown>[])[0]).not.toHaveProperty('lineItem');
  });

  it('answers Cancel with an empty content_items and a message', async () => {
    const token = pickerToken(await deepLink());
    const { payload } = await verify(returnForm(await choose(token, 'action=cancel')).jwt);
    expect(payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS]).toEqual([]);
    expect(payload[CLAIM.DEEP_LINKING_MSG]).toBe('No content was added.');
    expect(payload[CLAIM.DEEP_LINKING_DATA]).toBe('csrf-opaque-7f3a');
  });

  it('offers single selection and refuses two items when accept_multiple is false', async () => {
    const res = await deepLink({}, { multiple: false });
    expect(res.body).toContain('type="radio"');
    const two = await choose(pickerToken(res), `package=${course12}&package=${course2004}`);
    expect(two.statusCode).toBe(400);
    expect(errorCode(two.body)).toBe('DEEP_LINKING_INVALID_SELECTION');
    const one = await choose(pickerToken(res), `package=${course12}`);
    expect(one.statusCode).toBe(200);
  });

  it('refuses an empty selection and unknown packages', async () => {
    const token = pickerToken(await deepLink());
    expect(errorCode((await choose(token, 'action=add')).body)).toBe('DEEP_LINKING_INVALID_SELECTION');
    expect(errorCode((await choose(token, 'package=pkg_nope')).body)).toBe('DEEP_LINKING_INVALID_SELECTION');
  });

  it('gives a learner a 403 page and records nothing', async () => {
    const before = (await h.store.db.selectFrom('launches').selectAll().execute()).length;
    const res = await deepLink({ [CLAIM.ROLES]: [ROLE.CONTEXT_LEARNER] });
    expect(res.statusCode).toBe(403);
    expect(errorCode(res.body)).toBe('LTI_DEEP_LINKING_FORBIDDEN');
    expect((await h.store.db.selectFrom('launches').selectAll().execute()).length).toBe(before);
  });

  it('accepts the short and institution forms of privileged roles', async () => {
    expect((await deepLink({ [CLAIM.ROLES]: ['Instructor'] })).statusCode).toBe(200);
    expect((await deepLink({ [CLAIM.ROLES]: [ROLE.CONTEXT_CONTENT_DEVELOPER] })).statusCode).toBe(200);
    expect((await deepLink({ [CLAIM.ROLES]: [ROLE.SYSTEM_ADMINISTRATOR] })).statusCode).toBe(200);
    expect((await deepLink({ [CLAIM.ROLES]: [ROLE.CONTEXT_TA] })).statusCode).toBe(403);
  });

  it('refuses a request without deep_link_return_url', async () => {
    const claims = h.platform.deepLinkingClaims();
    const settings = { ...(claims[CLAIM.DEEP_LINKING_SETTINGS] as Record<string, unknown>) };
    delete settings.deep_link_return_url;
    const res = await h.launch({ claims: { ...claims, ...INSTRUCTOR, [CLAIM.DEEP_LINKING_SETTINGS]: settings } });
    expect(res.statusCode).toBe(400);
    expect(errorCode(res.body)).toBe('LTI_MISSING_CLAIM');
  });

  it('refuses cleanly when the platform accepts no LTI resource link', async () => {
    const res = await deepLink({}, { acceptTypes: ['file', 'html'] });
    expect(res.statusCode).toBe(400);
    expect(errorCode(res.body)).toBe('LTI_DEEP_LINKING_UNSUPPORTED');
  });

  it('plays the chosen package when the LMS launches the created link, and follows a course copy', async () => {
    const token = pickerToken(await deepLink());
    const { payload } = await verify(returnForm(await choose(token, `package=${course12}`)).jwt);
    const item = (payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as { custom: Record<string, string> }[])[0]!;
    for (const link of ['rl-created', 'rl-copied-course']) {
      const res = await h.launch({ claims: { [CLAIM.RESOURCE_LINK]: { id: link }, [CLAIM.CUSTOM]: item.custom } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('id="player-config"');
      const rl = await h.store.db.selectFrom('resource_links').select('package_id').where('resource_link_id', '=', link).executeTakeFirstOrThrow();
      expect(rl.package_id).toBe(course12);
    }
  });
});
