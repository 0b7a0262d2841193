import { ROLE } from '../../src/lti/roles.js';
import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { LtiError, type ErrorCode } from '../../src/errors/app-error.js';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from '../../src/lti/claims.js';
import { checkIssuerAndAudience, checkMessageClaims, checkTimes } from '../../src/lti/id-token-claims.js';
import { fixedClock } from '../../src/util/clock.js';

const ISSUER = 'https://lms.example.edu';
const CLIENT_ID = 'client-123';
const EXPECTED = { issuer: ISSUER, clientId: CLIENT_ID } as const;

/** Runs `fn` and returns the LtiError it throws; fails the test when it throws nothing or something else. */
function ltiErrorOf(fn: () => unknown): LtiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LtiError);
    return err as LtiError;
  }
  throw new Error('expected an LtiError, but nothing was thrown');
}

function expectLtiError(fn: () => unknown, code: ErrorCode, claim?: string): LtiError {
  const err = ltiErrorOf(fn);
  expect(err.code).toBe(code);
  if (claim !== undefined) expect(err.details?.claim).toBe(claim);
  return err;
}

describe('checkIssuerAndAudience', () => {
  it('accepts a token for this issuer and client id (aud as a string)', () => {
    expect(() => checkIssuerAndAudience({ iss: ISSUER, aud: CLIENT_ID }, EXPECTED)).not.toThrow();
  });

  it('accepts aud as a one-element array without azp', () => {
    expect(() => checkIssuerAndAudience({ iss: ISSUER, aud: [CLIENT_ID] }, EXPECTED)).not.toThrow();
  });

  it('refuses another issuer and names both in details', () => {
    const err = expectLtiError(() => checkIssuerAndAudience({ iss: 'https://evil.example', aud: CLIENT_ID }, EXPECTED), 'LTI_INVALID_ISSUER');
    expect(err.details).toEqual({ expected: ISSUER, actual: 'https://evil.example' });
    expect(err.status).toBe(401);
  });

  it('refuses a missing issuer, reporting it as null', () => {
    const err = expectLtiError(() => checkIssuerAndAudience({ aud: CLIENT_ID }, EXPECTED), 'LTI_INVALID_ISSUER');
    expect(err.details?.actual).toBeNull();
  });

  it('compares the issuer exactly (no trailing-slash or case folding)', () => {
    expectLtiError(() => checkIssuerAndAudience({ iss: `${ISSUER}/`, aud: CLIENT_ID }, EXPECTED), 'LTI_INVALID_ISSUER');
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER.toUpperCase(), aud: CLIENT_ID }, EXPECTED), 'LTI_INVALID_ISSUER');
  });

  it('refuses an aud string that is another client id', () => {
    const err = expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: 'other-client' }, EXPECTED), 'LTI_INVALID_AUDIENCE');
    expect(err.details).toEqual({ clientId: CLIENT_ID });
  });

  it('refuses an aud array that does not contain the client id', () => {
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: ['a', 'b'], azp: 'a' }, EXPECTED), 'LTI_INVALID_AUDIENCE');
  });

  it('refuses a token with no aud at all', () => {
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER }, EXPECTED), 'LTI_INVALID_AUDIENCE');
  });

  it('refuses audiences besides the client id, whatever azp says (OIDC Core 3.1.3.7: untrusted audiences)', () => {
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: [CLIENT_ID, 'other'] }, EXPECTED), 'LTI_INVALID_AUDIENCE');
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: ['other', CLIENT_ID], azp: CLIENT_ID }, EXPECTED), 'LTI_INVALID_AUDIENCE');
  });

  it('refuses several audiences without azp', () => {
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: [CLIENT_ID, CLIENT_ID] }, EXPECTED), 'LTI_INVALID_AZP');
  });

  it('refuses an azp that is not the client id', () => {
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: CLIENT_ID, azp: 'other' }, EXPECTED), 'LTI_INVALID_AZP');
    expectLtiError(() => checkIssuerAndAudience({ iss: ISSUER, aud: [CLIENT_ID], azp: 'other' }, EXPECTED), 'LTI_INVALID_AZP');
  });

  it('accepts an azp equal to the client id', () => {
    expect(() => checkIssuerAndAudience({ iss: ISSUER, aud: [CLIENT_ID], azp: CLIENT_ID }, EXPECTED)).not.toThrow();
  });
});

describe('checkTimes', () => {
  // A whole second, so that seconds-based claims line up exactly with the frozen clock.
  const clock = fixedClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  const now = clock.now();
  const nowSec = now / 1000;
  const skewMs = 60_000;
  const skew = skewMs / 1000;
  const at = { now, skewMs };

  it('accepts a fresh token', () => {
    expect(() => checkTimes({ iat: nowSec, exp: nowSec + 300 }, at)).not.toThrow();
  });

  it('refuses a token whose exp is past by more than the skew', () => {
    const err = expectLtiError(() => checkTimes({ iat: nowSec - 600, exp: nowSec - skew - 1 }, at), 'LTI_TOKEN_EXPIRED');
    expect(err.details?.exp).toBe(nowSec - skew - 1);
  });

  it('refuses a token whose exp is exactly now minus the skew', () => {
    expectLtiError(() => checkTimes({ iat: nowSec - 600, exp: nowSec - skew }, at), 'LTI_TOKEN_EXPIRED');
  });

  it('accepts a token expired by less than the skew', () => {
    expect(() => checkTimes({ iat: nowSec - 600, exp: nowSec - skew + 1 }, at)).not.toThrow();
    expect(() => checkTimes({ iat: nowSec - 600, exp: nowSec - 1 }, at)).not.toThrow();
  });

  it('with no skew, refuses a token whose exp is now', () => {
    expectLtiError(() => checkTimes({ iat: nowSec - 10, exp: nowSec }, { now, skewMs: 0 }), 'LTI_TOKEN_EXPIRED');
  });

  it('refuses iat further in the future than the skew', () => {
    const err = expectLtiError(() => checkTimes({ iat: nowSec + skew + 1, exp: nowSec + 600 }, at), 'LTI_TOKEN_ISSUED_IN_FUTURE');
    expect(err.details?.iat).toBe(nowSec + skew + 1);
  });

  it('accepts iat in the future within the skew (inclusive)', () => {
    expect(() => checkTimes({ iat: nowSec + skew, exp: nowSec + 600 }, at)).not.toThrow();
  });

  it('refuses nbf further in the future than the skew, accepts it within', () => {
    const err = expectLtiError(() => checkTimes({ iat: nowSec, nbf: nowSec + skew + 1, exp: nowSec + 600 }, at), 'LTI_TOKEN_NOT_YET_VALID');
    expect(err.details?.nbf).toBe(nowSec + skew + 1);
    expect(() => checkTimes({ iat: nowSec, nbf: nowSec + skew, exp: nowSec + 600 }, at)).not.toThrow();
    expect(() => checkTimes({ iat: nowSec, nbf: nowSec - 5, exp: nowSec + 600 }, at)).not.toThrow();
  });

  it('requires exp and iat, as numbers', () => {
    expectLtiError(() => checkTimes({ iat: nowSec }, at), 'LTI_MISSING_CLAIM', 'exp');
    expectLtiError(() => checkTimes({ exp: nowSec + 60 }, at), 'LTI_MISSING_CLAIM', 'iat');
    const stringExp = { iat: nowSec, exp: String(nowSec + 60) } as unknown as JWTPayload;
    expectLtiError(() => checkTimes(stringExp, at), 'LTI_MISSING_CLAIM', 'exp');
  });

  it('follows the clock: the same token expires once the clock moves past exp + skew', () => {
    const c = fixedClock(now);
    const token = { iat: nowSec, exp: nowSec + 300 };
    expect(() => checkTimes(token, { now: c.now(), skewMs })).not.toThrow();
    c.advance(300_000 + skewMs - 1000);
    expect(() => checkTimes(token, { now: c.now(), skewMs })).not.toThrow();
    c.advance(1000);
    expectLtiError(() => checkTimes(token, { now: c.now(), skewMs }), 'LTI_TOKEN_EXPIRED');
  });
});

describe('checkMessageClaims', () => {
  function resourceLinkPayload(overrides: Record<string, unknown> = {}): JWTPayload {
    return {
      iss: ISSUER,
      aud: CLIENT_ID,
      sub: 'user-42',
      nonce: 'n-1',
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      email: 'ada@example.edu',
      picture: 'https://lms.example.edu/ada.png',
      [CLAIM.VERSION]: LTI_VERSION,
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.RESOURCE_LINK,
      [CLAIM.DEPLOYMENT_ID]: 'dep-1',
      [CLAIM.TARGET_LINK_URI]: 'https://courseport.test/lti/launch',
      [CLAIM.ROLES]: [ROLE.CONTEXT_LEARNER],
      [CLAIM.RESOURCE_LINK]: { id: 'rl-1', title: 'Unit 1', description: 'First unit' },
      [CLAIM.CONTEXT]: { id: 'ctx-1', label: 'CS101', title: 'Intro to CS', type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering', 7] },
      ...overrides,
    };
  }

  function deepLinkingPayload(overrides: Record<string, unknown> = {}): JWTPayload {
    const p = resourceLinkPayload({
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.DEEP_LINKING,
      [CLAIM.ROLES]: [ROLE.CONTEXT_INSTRUCTOR],
      [CLAIM.DEEP_LINKING_SETTINGS]: { deep_link_return_url: 'https://lms.example.edu/deep_links', accept_types: ['ltiResourceLink'] },
      ...overrides,
    });
    if (!(CLAIM.RESOURCE_LINK in overrides)) delete p[CLAIM.RESOURCE_LINK];
    return p;
  }

  it('keeps string custom parameters and drops other values', () => {
    const result = checkMessageClaims(resourceLinkPayload({ [CLAIM.CUSTOM]: { package_id: 'pkg_1', n: 5, nested: { a: 'b' }, empty: '' } }));
    expect(result.custom).toEqual({ package_id: 'pkg_1', empty: '' });
    expect(checkMessageClaims(resourceLinkPayload({ [CLAIM.CUSTOM]: 'package_id=1' })).custom).toEqual({});
  });

  it('returns the typed fields of a valid resource link launch', () => {
    const result = checkMessageClaims(resourceLinkPayload());
    expect(result).toEqual({
      subject: 'user-42',
      messageType: MESSAGE_TYPE.RESOURCE_LINK,
      deploymentId: 'dep-1',
      targetLinkUri: 'https://courseport.test/lti/launch',
      roles: [ROLE.CONTEXT_LEARNER],
      resourceLink: { id: 'rl-1', title: 'Unit 1', description: 'First unit' },
      // Non-string context types are dropped.
      context: { id: 'ctx-1', label: 'CS101', title: 'Intro to CS', type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'] },
      name: 'Ada Lovelace',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@example.edu',
      picture: 'https://lms.example.edu/ada.png',
      custom: {},
    });
  });

  it('leaves optional fields undefined when absent, empty or not strings', () => {
    const p = resourceLinkPayload({ [CLAIM.RESOURCE_LINK]: { id: 'rl-1', title: '', description: 5 }, [CLAIM.CONTEXT]: undefined, email: '', picture: 3 });
    delete p.name;
    const result = checkMessageClaims(p);
    expect(result.resourceLink).toEqual({ id: 'rl-1', title: undefined, description: undefined });
    expect(result.context).toBeUndefined();
    expect(result.name).toBeUndefined();
    expect(result.email).toBeUndefined();
    expect(result.picture).toBeUndefined();
  });

  it('accepts an empty roles array (anonymous roles are allowed, anonymous users are not)', () => {
    expect(checkMessageClaims(resourceLinkPayload({ [CLAIM.ROLES]: [] })).roles).toEqual([]);
  });

  it('refuses any version other than 1.3.0', () => {
    for (const version of ['1.1', '1.3', '1.3.1', 1.3, undefined]) {
      expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.VERSION]: version })), 'LTI_INVALID_VERSION', CLAIM.VERSION);
    }
  });

  it('refuses unsupported or missing message types, listing the supported ones', () => {
    for (const type of [MESSAGE_TYPE.DEEP_LINKING_RESPONSE, 'LtiSubmissionReviewRequest', 'ltiresourcelinkrequest', undefined, 3]) {
      const err = expectLtiError(
        () => checkMessageClaims(resourceLinkPayload({ [CLAIM.MESSAGE_TYPE]: type })),
        'LTI_UNSUPPORTED_MESSAGE_TYPE',
        CLAIM.MESSAGE_TYPE,
      );
      expect(err.details?.supported).toEqual([MESSAGE_TYPE.RESOURCE_LINK, MESSAGE_TYPE.DEEP_LINKING]);
    }
  });

  it('refuses a missing, empty, non-string or over-long sub', () => {
    const noSub = resourceLinkPayload();
    delete noSub.sub;
    expectLtiError(() => checkMessageClaims(noSub), 'LTI_MISSING_CLAIM', 'sub');
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ sub: '' })), 'LTI_MISSING_CLAIM', 'sub');
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ sub: 42 })), 'LTI_MISSING_CLAIM', 'sub');
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ sub: 'x'.repeat(256) })), 'LTI_MISSING_CLAIM', 'sub');
    expect(checkMessageClaims(resourceLinkPayload({ sub: 'x'.repeat(255) })).subject).toHaveLength(255);
  });

  it('requires a deployment id of 1 to 255 characters', () => {
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.DEPLOYMENT_ID]: undefined })), 'LTI_MISSING_CLAIM', CLAIM.DEPLOYMENT_ID);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.DEPLOYMENT_ID]: '' })), 'LTI_MISSING_CLAIM', CLAIM.DEPLOYMENT_ID);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.DEPLOYMENT_ID]: 17 })), 'LTI_MISSING_CLAIM', CLAIM.DEPLOYMENT_ID);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.DEPLOYMENT_ID]: 'd'.repeat(256) })), 'LTI_INVALID_CLAIM', CLAIM.DEPLOYMENT_ID);
    expect(checkMessageClaims(resourceLinkPayload({ [CLAIM.DEPLOYMENT_ID]: 'd'.repeat(255) })).deploymentId).toHaveLength(255);
  });

  it('requires a target_link_uri of at most 4096 characters', () => {
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.TARGET_LINK_URI]: undefined })), 'LTI_MISSING_CLAIM', CLAIM.TARGET_LINK_URI);
    const long = `https://courseport.test/${'a'.repeat(4096)}`;
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.TARGET_LINK_URI]: long })), 'LTI_INVALID_CLAIM', CLAIM.TARGET_LINK_URI);
  });

  it('requires roles, as an array of strings', () => {
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.ROLES]: undefined })), 'LTI_MISSING_CLAIM', CLAIM.ROLES);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.ROLES]: ROLE.CONTEXT_LEARNER })), 'LTI_INVALID_CLAIM', CLAIM.ROLES);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.ROLES]: { 0: ROLE.CONTEXT_LEARNER } })), 'LTI_INVALID_CLAIM', CLAIM.ROLES);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.ROLES]: [ROLE.CONTEXT_LEARNER, 7] })), 'LTI_INVALID_CLAIM', CLAIM.ROLES);
    expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.ROLES]: [null] })), 'LTI_INVALID_CLAIM', CLAIM.ROLES);
  });

  it('requires the resource link claim for LtiResourceLinkRequest', () => {
    for (const rl of [undefined, null, 'rl-1', ['rl-1']]) {
      expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.RESOURCE_LINK]: rl })), 'LTI_MISSING_CLAIM', CLAIM.RESOURCE_LINK);
    }
  });

  it('requires a resource link id of 1 to 255 characters', () => {
    const idClaim = `${CLAIM.RESOURCE_LINK}.id`;
    for (const id of [undefined, '', 12, 'r'.repeat(256)]) {
      expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.RESOURCE_LINK]: { id, title: 'x' } })), 'LTI_MISSING_CLAIM', idClaim);
    }
    expect(checkMessageClaims(resourceLinkPayload({ [CLAIM.RESOURCE_LINK]: { id: 'r'.repeat(255) } })).resourceLink?.id).toHaveLength(255);
  });

  it('accepts a deep linking request without a resource link, returning none', () => {
    const result = checkMessageClaims(deepLinkingPayload());
    expect(result.messageType).toBe(MESSAGE_TYPE.DEEP_LINKING);
    expect(result.resourceLink).toBeUndefined();
    expect(result.roles).toEqual([ROLE.CONTEXT_INSTRUCTOR]);
  });

  it('requires deep linking settings with an http(s) deep_link_return_url', () => {
    expectLtiError(
      () => checkMessageClaims(deepLinkingPayload({ [CLAIM.DEEP_LINKING_SETTINGS]: undefined })),
      'LTI_MISSING_CLAIM',
      CLAIM.DEEP_LINKING_SETTINGS,
    );
    const urlClaim = `${CLAIM.DEEP_LINKING_SETTINGS}.deep_link_return_url`;
    for (const url of [undefined, '', 'not a url', 'javascript:alert(1)', 'ftp://lms.example.edu/x', 42]) {
      expectLtiError(
        () => checkMessageClaims(deepLinkingPayload({ [CLAIM.DEEP_LINKING_SETTINGS]: { deep_link_return_url: url } })),
        'LTI_MISSING_CLAIM',
        urlClaim,
      );
    }
    expect(() => checkMessageClaims(deepLinkingPayload({ [CLAIM.DEEP_LINKING_SETTINGS]: { deep_link_return_url: 'http://lms.local/dl' } }))).not.toThrow();
  });

  it('does not require deep linking settings on a resource link launch', () => {
    expect(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.DEEP_LINKING_SETTINGS]: undefined }))).not.toThrow();
  });

  it('validates the context claim when present', () => {
    for (const ctx of [null, 'ctx-1', ['ctx-1'], {}, { id: '' }, { id: 5 }, { id: 'c'.repeat(256) }]) {
      expectLtiError(() => checkMessageClaims(resourceLinkPayload({ [CLAIM.CONTEXT]: ctx })), 'LTI_INVALID_CLAIM', CLAIM.CONTEXT);
    }
    const minimal = checkMessageClaims(resourceLinkPayload({ [CLAIM.CONTEXT]: { id: 'c'.repeat(255) } }));
    expect(minimal.context).toEqual({ id: 'c'.repeat(255), label: undefined, title: undefined, type: undefined });
  });
});
