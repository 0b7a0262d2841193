import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { PlatformKeys } from '../../src/lti/platform-keys.js';
import { deploymentJson, PlatformService, platformJson, type PlatformInput } from '../../src/platforms/platform.service.js';
import { fixedClock } from '../../src/util/clock.js';
import type { SafeFetch } from '../../src/util/safe-fetch.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/dialects.js';

const START = Date.UTC(2026, 8, 1, 12, 0, 0);

interface PlatformKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
  readonly pem: string;
}

async function rsaKeyPair(): Promise<PlatformKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey), pem: await exportSPKI(publicKey) };
}

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const err = await errorOf(promise);
  expect(err.code).toBe('VALIDATION_FAILED');
  expect(err.status).toBe(400);
  const problems = err.details?.problems;
  expect(Array.isArray(problems)).toBe(true);
  return problems as string[];
}

const noNetwork: SafeFetch = () => Promise.reject(new Error('no network in this test'));

describe.each(DIALECTS)('PlatformService (%s)', (dialect) => {
  let store: TestStore;
  let keys: PlatformKeyPair;
  const clock = fixedClock(START);
  let service: PlatformService;
  let httpsService: PlatformService;
  let n = 0;

  beforeAll(async () => {
    store = await openTestStore(dialect);
    keys = await rsaKeyPair();
    service = new PlatformService(store.db, clock, { requireHttps: false });
    httpsService = new PlatformService(store.db, clock, { requireHttps: true });
  });
  afterAll(async () => {
    await store.dispose();
  });
  beforeEach(() => {
    clock.set(START);
  });

  /** A valid registration with an issuer no other test uses. */
  function input(overrides: Partial<PlatformInput> = {}): PlatformInput {
    n += 1;
    const issuer = `https://lms${n}.example.edu`;
    return {
      issuer,
      clientId: `client-${n}`,
      authUrl: `${issuer}/auth`,
      tokenUrl: `${issuer}/token`,
      jwksUrl: `${issuer}/jwks`,
      ...overrides,
    };
  }

  describe('register', () => {
    it('stores a platform with its deployments', async () => {
      const i = input({ deployments: [' dep-1 ', 'dep-2', 'dep-1'], tokenAudience: 'https://lms.example.edu/oauth2/token' });
      const { platform, deployments } = await service.register(i);
      expect(platform).toMatchObject({
        name: new URL(i.issuer).host,
        issuer: i.issuer,
        client_id: i.clientId,
        auth_url: i.authUrl,
        token_url: i.tokenUrl,
        jwks_url: i.jwksUrl,
        token_audience: 'https://lms.example.edu/oauth2/token',
        public_jwk: null,
        status: 'active',
        created_at: START,
        updated_at: START,
      });
      expect(platform.id).toMatch(/^plt_[A-Za-z0-9_-]{16}$/);
      // Trimmed and de-duplicated.
      expect(deployments.map((d) => d.deployment_id)).toEqual(['dep-1', 'dep-2']);
      expect(deployments.every((d) => d.platform_id === platform.id && d.id.startsWith('dep_'))).toBe(true);

      const stored = await service.get(platform.id);
      expect(stored.platform).toEqual(platform);
      expect(stored.deployments.map((d) => d.deployment_id).sort()).toEqual(['dep-1', 'dep-2']);
    });

    it('trims the values and keeps an explicit name', async () => {
      const i = input();
      const { platform } = await service.register({ ...i, issuer: `  ${i.issuer} `, clientId: ` ${i.clientId}\t`, name: '  Our Moodle ' });
      expect(platform.issuer).toBe(i.issuer);
      expect(platform.client_id).toBe(i.clientId);
      expect(platform.name).toBe('Our Moodle');
    });

    it('lists every missing field', async () => {
      const problems = await problemsOf(service.register({ issuer: '', clientId: ' ', authUrl: '', tokenUrl: '' }));
      expect(problems).toEqual(
        expect.arrayContaining([
          'issuer is required',
          'client id is required',
          'auth URL is required',
          'token URL is required',
          'a JWKS URL (or a static public key) is required to verify launches',
        ]),
      );
      expect(problems).toHaveLength(5);
    });

    it('refuses values that are not http(s) URLs, or carry credentials', async () => {
      const problems = await problemsOf(
        service.register(
          input({ issuer: 'lms.example.edu', authUrl: 'not a url', tokenUrl: 'ftp://lms.example.edu/token', jwksUrl: 'https://user:pw@lms.example.edu/jwks' }),
        ),
      );
      expect(problems).toEqual([
        'issuer is not a URL: lms.example.edu',
        'auth URL is not a URL: not a url',
        'token URL must be an http(s) URL',
        'JWKS URL must not carry credentials',
      ]);
    });

    it('refuses over-long values and bad deployment ids', async () => {
      const problems = await problemsOf(service.register(input({ clientId: 'c'.repeat(256), deployments: ['ok', '  ', 'd'.repeat(256)] })));
      expect(problems).toContain('client id must be at most 255 characters');
      expect(problems).toContain('deployment id "" must be 1 to 255 characters');
      expect(problems).toContain(`deployment id "${'d'.repeat(256)}" must be 1 to 255 characters`);
    });

    it('requires a JWKS URL or a static key, not both', async () => {
      expect(await problemsOf(service.register(input({ jwksUrl: undefined })))).toEqual(['a JWKS URL (or a static public key) is required to verify launches']);
      expect(await problemsOf(service.register(input({ publicKey: JSON.stringify(keys.publicJwk) })))).toEqual([
        'give either a JWKS URL or a static public key, not both',
      ]);
    });

    it('requires https for every URL when the policy says so', async () => {
      const i = input();
      const http = (u: string): string => u.replace('https://', 'http://');
      const problems = await problemsOf(
        httpsService.register({ ...i, issuer: http(i.issuer), authUrl: http(i.authUrl), tokenUrl: http(i.tokenUrl), jwksUrl: http(i.jwksUrl ?? '') }),
      );
      expect(problems).toEqual(['issuer must use https', 'auth URL must use https', 'token URL must use https', 'JWKS URL must use https']);
      // Without the policy (development), http is accepted.
      const { platform } = await service.register({
        ...i,
        issuer: http(i.issuer),
        authUrl: http(i.authUrl),
        tokenUrl: http(i.tokenUrl),
        jwksUrl: http(i.jwksUrl ?? ''),
      });
      expect(platform.auth_url.startsWith('http://')).toBe(true);
      expect((await httpsService.register(input())).platform.status).toBe('active');
    });

    it('accepts a public JWK as the static key', async () => {
      const jwk = { ...keys.publicJwk, kid: 'lms-key-1', alg: 'RS256' };
      const { platform } = await service.register(input({ jwksUrl: undefined, publicKey: JSON.stringify(jwk) }));
      expect(platform.jwks_url).toBeNull();
      expect(JSON.parse(platform.public_jwk ?? 'null')).toEqual(jwk);
    });

    it('refuses private or symmetric key material as the static key', async () => {
      const priv = await problemsOf(service.register(input({ jwksUrl: undefined, publicKey: JSON.stringify(keys.privateJwk) })));
      expect(priv).toEqual(['the static key must be a public key; it contains private or symmetric key material']);
      const oct = await problemsOf(service.register(input({ jwksUrl: undefined, publicKey: JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) })));
      expect(oct).toEqual(['the static key must be a public key; it contains private or symmetric key material']);
    });

    it('refuses static keys it cannot read', async () => {
      const bad = await problemsOf(service.register(input({ jwksUrl: undefined, publicKey: '{not json' })));
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatch(/^the static key cannot be read: /);
      const other = await problemsOf(service.register(input({ jwksUrl: undefined, publicKey: 'ssh-rsa AAAA...' })));
      expect(other).toEqual(['the static key must be a public JWK (JSON) or a PEM public key (BEGIN PUBLIC KEY)']);
      const broken = await problemsOf(service.register(input({ jwksUrl: undefined, publicKey: JSON.stringify({ kty: 'RSA', n: 'AQAB' }) })));
      expect(broken[0]).toMatch(/^the static key cannot be read: /);
    });

    it('accepts a PEM public key and stores it as a JWK', async () => {
      const { platform } = await service.register(input({ jwksUrl: undefined, publicKey: `\n${keys.pem}\n` }));
      const stored = JSON.parse(platform.public_jwk ?? 'null') as JWK;
      expect(stored).toMatchObject({ kty: 'RSA', n: keys.publicJwk.n, e: keys.publicJwk.e, alg: 'RS256', use: 'sig' });
      expect(stored).not.toHaveProperty('d');
    });

    // LMSs put a kid in every id_token header (and LTI requires it). A key registered as PEM has
    // no kid of its own, and jose's local key set only matches a JWK without kid when the token
    // has no kid either, so every launch from such a platform would fail with LTI_UNKNOWN_KID.
    it('registers a PEM key that verifies launches signed with a kid header', async () => {
      const { platform } = await service.register(input({ jwksUrl: undefined, publicKey: keys.pem }));
      const jwt = await new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'RS256', kid: 'lms-key-2026' }).sign(keys.privateKey);
      const platformKeys = new PlatformKeys({ fetch: noNetwork, timeoutMs: 1000, cacheMaxAgeMs: 60_000, cooldownMs: 0 });
      const payload = await platformKeys.verify(jwt, { id: platform.id, jwksUrl: platform.jwks_url, publicJwk: platform.public_jwk });
      expect(payload.sub).toBe('user-1');
    });

    it('refuses launches without kid unless the registration explicitly accepts them', async () => {
      const strict = await service.register(input());
      expect(strict.platform.allow_missing_kid).toBe(0);
      expect((await service.get(strict.platform.id)).platform.allow_missing_kid).toBe(0);
      expect(platformJson(strict).allowMissingKid).toBe(false);

      const i = input({ allowMissingKid: true });
      const lenient = await service.register(i);
      expect((await service.get(lenient.platform.id)).platform.allow_missing_kid).toBe(1);
      expect(platformJson(await service.get(lenient.platform.id)).allowMissingKid).toBe(true);
      // An update replaces every field: without the flag the exception ends.
      const { allowMissingKid: _flag, deployments: _d, ...rest } = i;
      await service.update(lenient.platform.id, rest);
      expect((await service.get(lenient.platform.id)).platform.allow_missing_kid).toBe(0);

      expect(await problemsOf(service.register(input({ allowMissingKid: 'yes' as unknown as boolean })))).toEqual(['allow missing kid must be true or false']);
    });

    it('refuses a second registration of the same issuer and client id', async () => {
      const i = input();
      await service.register(i);
      const err = await errorOf(service.register({ ...i, name: 'again', deployments: ['x'] }));
      expect(err.code).toBe('PLATFORM_EXISTS');
      expect(err.status).toBe(409);
      const rows = await store.db.selectFrom('platforms').selectAll().where('issuer', '=', i.issuer).execute();
      expect(rows).toHaveLength(1);
    });

    // Two admins (or a retried API call) registering at once: the loser must get the typed
    // PLATFORM_EXISTS error, not the database's unique-constraint error (a 500).
    it('answers PLATFORM_EXISTS to the loser of two concurrent identical registrations', async () => {
      const i = input();
      const results = await Promise.allSettled([service.register(i), service.register(i)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(AppError);
      expect((rejected?.reason as AppError | undefined)?.code).toBe('PLATFORM_EXISTS');
    });

    it('allows the same issuer with another client id (one Canvas, several developer keys)', async () => {
      const i = input({ issuer: 'https://canvas.instructure.com', authUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect' });
      const a = await service.register(i);
      const b = await service.register({ ...i, clientId: `${i.clientId}-second` });
      expect(a.platform.id).not.toBe(b.platform.id);
      expect(a.platform.issuer).toBe(b.platform.issuer);
    });
  });

  describe('deployments, status and listing', () => {
    it('adds deployments, refusing duplicates and bad ids', async () => {
      const { platform } = await service.register(input({ deployments: ['dep-1'] }));
      clock.advance(1000);
      const d = await service.addDeployment(platform.id, ' dep-2 ', '  Second  ');
      expect(d).toMatchObject({ platform_id: platform.id, deployment_id: 'dep-2', name: 'Second', created_at: START + 1000 });
      expect((await service.addDeployment(platform.id, 'dep-3', '  ')).name).toBeNull();

      const dup = await errorOf(service.addDeployment(platform.id, 'dep-1'));
      expect(dup.code).toBe('DEPLOYMENT_EXISTS');
      expect(dup.status).toBe(409);
      expect((await errorOf(service.addDeployment(platform.id, ' dep-2'))).code).toBe('DEPLOYMENT_EXISTS');
      expect(await problemsOf(service.addDeployment(platform.id, '   '))).toEqual(['deployment id "   " must be 1 to 255 characters']);
      expect((await problemsOf(service.addDeployment(platform.id, 'x'.repeat(256))))[0]).toMatch(/must be 1 to 255 characters/);

      expect((await service.listDeployments(platform.id)).map((x) => x.deployment_id)).toEqual(['dep-1', 'dep-2', 'dep-3']);
    });

    it('allows the same deployment id on another platform', async () => {
      const a = await service.register(input({ deployments: ['1'] }));
      const b = await service.register(input());
      const d = await service.addDeployment(b.platform.id, '1');
      expect(d.platform_id).toBe(b.platform.id);
      expect((await service.listDeployments(a.platform.id)).map((x) => x.deployment_id)).toEqual(['1']);
    });

    it('answers PLATFORM_NOT_FOUND for an unknown platform', async () => {
      for (const op of [
        () => service.get('plt_nope'),
        () => service.addDeployment('plt_nope', 'dep-1'),
        () => service.setStatus('plt_nope', 'disabled'),
        () => service.listDeployments('plt_nope'),
      ]) {
        const err = await errorOf(op());
        expect(err.code).toBe('PLATFORM_NOT_FOUND');
        expect(err.status).toBe(404);
      }
      expect(await store.db.selectFrom('deployments').selectAll().where('platform_id', '=', 'plt_nope').execute()).toEqual([]);
    });

    it('disables and re-enables a platform, recording when', async () => {
      const { platform } = await service.register(input());
      clock.advance(5000);
      const disabled = await service.setStatus(platform.id, 'disabled');
      expect(disabled.platform).toMatchObject({ status: 'disabled', created_at: START, updated_at: START + 5000 });
      expect((await service.get(platform.id)).platform.status).toBe('disabled');
      clock.advance(5000);
      expect((await service.setStatus(platform.id, 'active')).platform).toMatchObject({ status: 'active', updated_at: START + 10_000 });
    });

    it('lists platforms with their deployments', async () => {
      const a = await service.register(input({ deployments: ['a1', 'a2'] }));
      const all = await service.list();
      const found = all.find((p) => p.platform.id === a.platform.id);
      expect(found?.deployments.map((d) => d.deployment_id).sort()).toEqual(['a1', 'a2']);
      expect(all.length).toBeGreaterThan(1);
    });
  });

  describe('platformJson', () => {
    it('shows the registration without the key material or raw column names', async () => {
      const registered = await service.register(input({ jwksUrl: undefined, publicKey: keys.pem, deployments: ['dep-1'], name: 'Moodle' }));
      const json = platformJson(registered);
      expect(Object.keys(json).sort()).toEqual(
        [
          'id',
          'name',
          'issuer',
          'clientId',
          'authUrl',
          'tokenUrl',
          'tokenAudience',
          'jwksUrl',
          'hasStaticKey',
          'status',
          'gradePolicy',
          'allowMissingKid',
          'createdAt',
          'updatedAt',
          'deployments',
        ].sort(),
      );
      expect(json).toMatchObject({
        id: registered.platform.id,
        name: 'Moodle',
        hasStaticKey: true,
        jwksUrl: null,
        status: 'active',
        createdAt: new Date(START).toISOString(),
        updatedAt: new Date(START).toISOString(),
      });
      expect(json.deployments).toEqual(registered.deployments.map(deploymentJson));
      const text = JSON.stringify(json);
      expect(text).not.toContain('public_jwk');
      expect(text).not.toContain('publicJwk');
      expect(text).not.toContain(keys.publicJwk.n ?? 'unreachable');
    });

    it('says hasStaticKey false for a JWKS registration', async () => {
      const registered = await service.register(input());
      expect(platformJson(registered)).toMatchObject({ hasStaticKey: false, jwksUrl: registered.platform.jwks_url });
    });

    it('formats deployments', async () => {
      const registered = await service.register(input({ deployments: ['dep-9'] }));
      const [d] = registered.deployments;
      if (!d) throw new Error('no deployment');
      expect(deploymentJson(d)).toEqual({ id: d.id, deploymentId: 'dep-9', name: null, createdAt: new Date(START).toISOString() });
    });
  });
});
