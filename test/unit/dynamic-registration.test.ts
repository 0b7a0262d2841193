import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { AGS_SCOPE } from '../../src/lti/ags.js';
import {
  buildClientRegistration,
  DR,
  parseRegistrationRequest,
  parseRegistrationResponse,
  validatePlatformConfiguration,
} from '../../src/lti/dynamic-registration.js';
import { NRPS_SCOPE } from '../../src/lti/nrps.js';

const CONFIG_URL = 'https://lms.example.edu/.well-known/openid-configuration';
const PROD = { requireHttps: true };
const DEV = { requireHttps: false };

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = {
    issuer: 'https://lms.example.edu',
    authorization_endpoint: 'https://lms.example.edu/auth',
    token_endpoint: 'https://lms.example.edu/token',
    jwks_uri: 'https://lms.example.edu/jwks',
    registration_endpoint: 'https://lms.example.edu/register',
    scopes_supported: ['openid', AGS_SCOPE.SCORE, NRPS_SCOPE, 'https://example.com/other'],
    id_token_signing_alg_values_supported: ['RS256'],
    [DR.PLATFORM_CONFIGURATION]: {
      product_family_code: 'brightspace',
      version: '20.24',
      messages_supported: [{ type: 'LtiDeepLinkingRequest', placements: ['ContentArea', 'RichTextEditor'] }],
    },
    ...overrides,
  };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete c[k];
  return c;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-an-AppError';
  }
  return undefined;
}

describe('LTI Dynamic Registration protocol', () => {
  it('reads the initiation request; the token is optional; production wants https', () => {
    expect(parseRegistrationRequest({ openid_configuration: CONFIG_URL, registration_token: 'rt' }, PROD)).toEqual({
      openidConfigurationUrl: CONFIG_URL,
      registrationToken: 'rt',
    });
    expect(parseRegistrationRequest({ openid_configuration: CONFIG_URL }, PROD).registrationToken).toBeUndefined();
    expect(codeOf(() => parseRegistrationRequest({ openid_configuration: 'http://lms.example.edu/c' }, PROD))).toBe('REGISTRATION_INVALID_REQUEST');
    expect(parseRegistrationRequest({ openid_configuration: 'http://127.0.0.1:8080/c' }, DEV).openidConfigurationUrl).toBe('http://127.0.0.1:8080/c');
    expect(codeOf(() => parseRegistrationRequest({ openid_configuration: 'file:///etc/passwd' }, DEV))).toBe('REGISTRATION_INVALID_REQUEST');
    expect(codeOf(() => parseRegistrationRequest({ openid_configuration: 'https://user:pw@lms.example.edu/c' }, DEV))).toBe('REGISTRATION_INVALID_REQUEST');
    expect(codeOf(() => parseRegistrationRequest({ openid_configuration: CONFIG_URL, registration_token: ['a', 'b'] }, DEV))).toBe(
      'REGISTRATION_INVALID_REQUEST',
    );
  });

  it('accepts a complete configuration and reads what Courseport uses', () => {
    const c = validatePlatformConfiguration(config({ authorization_server: 'https://auth.example.edu/token' }), CONFIG_URL, PROD);
    expect(c).toMatchObject({
      issuer: 'https://lms.example.edu',
      productFamilyCode: 'brightspace',
      version: '20.24',
      authorizationServer: 'https://auth.example.edu/token',
    });
    expect(c.messagesSupported).toEqual([{ type: 'LtiDeepLinkingRequest', placements: ['ContentArea', 'RichTextEditor'] }]);
  });

  it('reads the LTI claim of Moodle releases that publish its name with a trailing space', () => {
    const moodle = config({
      [DR.PLATFORM_CONFIGURATION]: undefined,
      [`${DR.PLATFORM_CONFIGURATION} `]: { product_family_code: 'moodle', messages_supported: ['LtiResourceLinkRequest'] },
    });
    expect(validatePlatformConfiguration(moodle, CONFIG_URL, PROD)).toMatchObject({
      productFamilyCode: 'moodle',
      messagesSupported: [{ type: 'LtiResourceLinkRequest', placements: [] }],
    });
  });

  it('refuses http endpoints in production, an issuer on another host, and missing pieces', () => {
    expect(codeOf(() => validatePlatformConfiguration(config({ token_endpoint: 'http://lms.example.edu/token' }), CONFIG_URL, PROD))).toBe(
      'REGISTRATION_CONFIG_INVALID',
    );
    expect(codeOf(() => validatePlatformConfiguration(config({ token_endpoint: 'http://lms.example.edu/token' }), CONFIG_URL, DEV))).toBeUndefined();
    expect(codeOf(() => validatePlatformConfiguration(config({ issuer: 'https://evil.example.com' }), CONFIG_URL, PROD))).toBe('REGISTRATION_ISSUER_MISMATCH');
    // The spec compares domains: another port of the same host is the same platform.
    expect(codeOf(() => validatePlatformConfiguration(config({ issuer: 'https://lms.example.edu:8443' }), CONFIG_URL, PROD))).toBeUndefined();
    for (const missing of [
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'registration_endpoint',
      'scopes_supported',
      'id_token_signing_alg_values_supported',
      DR.PLATFORM_CONFIGURATION,
    ]) {
      expect(
        codeOf(() => validatePlatformConfiguration(config({ [missing]: undefined }), CONFIG_URL, PROD)),
        missing,
      ).toBe('REGISTRATION_CONFIG_INVALID');
    }
    expect(codeOf(() => validatePlatformConfiguration(config({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }), CONFIG_URL, PROD))).toBe(
      'REGISTRATION_CONFIG_INVALID',
    );
    expect(codeOf(() => validatePlatformConfiguration([], CONFIG_URL, PROD))).toBe('REGISTRATION_CONFIG_INVALID');
  });

  it('asks only for the scopes the platform supports, and only placements it lists', () => {
    const c = validatePlatformConfiguration(config(), CONFIG_URL, PROD);
    const reg = buildClientRegistration(c, {
      baseUrl: 'https://courses.example.com',
      name: 'Courseport',
      description: 'd',
      logoUri: 'https://courses.example.com/logo.png',
    });
    expect(reg.scope).toBe(`${AGS_SCOPE.SCORE} ${NRPS_SCOPE}`);
    expect(reg.logo_uri).toBe('https://courses.example.com/logo.png');
    const tc = reg[DR.TOOL_CONFIGURATION] as { domain: string; messages: { type: string; placements?: string[] }[] };
    expect(tc.domain).toBe('courses.example.com');
    // Only deep linking is listed by this platform: no resource link message is announced.
    expect(tc.messages).toEqual([expect.objectContaining({ type: 'LtiDeepLinkingRequest', placements: ['ContentArea'] })]);
  });

  it('reads the registration answer: client id (string or number) and deployment id when given', () => {
    expect(parseRegistrationResponse({ client_id: 'abc', [DR.TOOL_CONFIGURATION]: { deployment_id: '7' } })).toEqual({ clientId: 'abc', deploymentId: '7' });
    expect(parseRegistrationResponse({ client_id: 10000000000042, [DR.TOOL_CONFIGURATION]: { deployment_id: 3 } })).toEqual({
      clientId: '10000000000042',
      deploymentId: '3',
    });
    expect(parseRegistrationResponse({ client_id: 'abc' })).toEqual({ clientId: 'abc', deploymentId: undefined });
    expect(codeOf(() => parseRegistrationResponse({ error: 'nope' }))).toBe('REGISTRATION_RESPONSE_INVALID');
    expect(codeOf(() => parseRegistrationResponse('abc'))).toBe('REGISTRATION_RESPONSE_INVALID');
  });
});
