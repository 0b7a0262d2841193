import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl, type Config } from '../../src/config/config.js';

const SECRET = 'config-test-secret-0123456789abcdef-XYZ';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'courseport-config-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env, cwd);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    // Every problem is also in the message, one per line.
    for (const p of problems) expect((err as ConfigError).message).toContain(p);
    return problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

function production(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({ NODE_ENV: 'production', COURSEPORT_BASE_URL: 'https://tool.example.com', COURSEPORT_SECRET: SECRET, ...env }, cwd);
}

describe('loadConfig: defaults', () => {
  it('fills every value in development', () => {
    const c = loadConfig({ COURSEPORT_SECRET: SECRET }, cwd);
    expect(c.env).toBe('development');
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.baseUrl).toBe('http://localhost:3000');
    expect(c.dataDir).toBe(join(cwd, 'data'));
    expect(c.databaseUrl).toBe(`sqlite:${join(cwd, 'data', 'courseport.db')}`);
    expect(c.secret).toBe(SECRET);
    expect(c.logLevel).toBe('info');
    expect(c.tls).toBeUndefined();
    expect(c.trustProxy).toBe(false);
    expect(c.lti).toEqual({ loginStateTtlMs: 600_000, clockSkewMs: 60_000, launchTokenTtlMs: 4 * 3600_000, loginRateLimitPerMinute: 3000 });
    expect(c.http).toEqual({ timeoutMs: 10_000, maxResponseBytes: 5 * 1024 * 1024, blockPrivateNetwork: false });
    expect(c.jwks).toEqual({ cacheMaxAgeMs: 600_000, cooldownMs: 30_000, staleLimitMs: 86_400_000 });
    expect(c.grades).toEqual({ pollMs: 1000, maxAgeMs: 168 * 3600_000, leaseMs: 60_000, retryBaseMs: 5000 });
    expect(c.database).toEqual({ connectTimeoutMs: 5000, statementTimeoutMs: 10_000, poolSize: 10 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('is silent in tests and guarded in production by default', () => {
    expect(loadConfig({ NODE_ENV: 'test', COURSEPORT_SECRET: SECRET }, cwd).logLevel).toBe('silent');
    const p = production();
    expect(p.env).toBe('production');
    expect(p.http.blockPrivateNetwork).toBe(true);
    expect(p.devDefaults).toEqual([]);
    expect(p.logLevel).toBe('info');
  });

  it('reads explicit values', () => {
    const c = loadConfig(
      {
        COURSEPORT_SECRET: SECRET,
        COURSEPORT_BASE_URL: 'https://tool.example.com:8443/',
        COURSEPORT_PORT: ' 8080 ',
        COURSEPORT_HOST: '127.0.0.1',
        COURSEPORT_DATA_DIR: 'var/cp',
        COURSEPORT_DATABASE_URL: 'postgres://cp:pw@db/cp',
        COURSEPORT_TRUST_PROXY: 'YES',
        COURSEPORT_ALLOW_PRIVATE_NETWORK: 'off',
        COURSEPORT_CLOCK_SKEW_SECONDS: '0',
        COURSEPORT_LOGIN_STATE_TTL_SECONDS: '30',
        COURSEPORT_LOG_LEVEL: 'debug',
      },
      cwd,
    );
    expect(c.baseUrl).toBe('https://tool.example.com:8443');
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.dataDir).toBe(join(cwd, 'var', 'cp'));
    expect(c.databaseUrl).toBe('postgres://cp:pw@db/cp');
    expect(c.trustProxy).toBe(true);
    expect(c.http.blockPrivateNetwork).toBe(true);
    expect(c.lti.clockSkewMs).toBe(0);
    expect(c.lti.loginStateTtlMs).toBe(30_000);
    expect(c.logLevel).toBe('debug');
  });

  it('resolves TLS files against cwd and uses https for the default base URL', () => {
    const c = loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_TLS_CERT: 'tls/cert.pem', COURSEPORT_TLS_KEY: '/etc/key.pem' }, cwd);
    expect(c.tls).toEqual({ certFile: join(cwd, 'tls', 'cert.pem'), keyFile: '/etc/key.pem' });
    expect(c.baseUrl).toBe('https://localhost:3000');
  });
});

describe('loadConfig: production', () => {
  it('accepts an https base URL with a secret', () => {
    expect(production().baseUrl).toBe('https://tool.example.com');
  });

  it('requires a base URL', () => {
    const problems = problemsOf({ NODE_ENV: 'production', COURSEPORT_SECRET: SECRET });
    expect(problems.some((p) => p.includes('COURSEPORT_BASE_URL is required in production'))).toBe(true);
  });

  it('requires https', () => {
    const problems = problemsOf({ NODE_ENV: 'production', COURSEPORT_BASE_URL: 'http://tool.example.com', COURSEPORT_SECRET: SECRET });
    expect(problems).toEqual(['COURSEPORT_BASE_URL must be https in production']);
  });

  it('requires a secret and never generates one', () => {
    const problems = problemsOf({ NODE_ENV: 'production', COURSEPORT_BASE_URL: 'https://tool.example.com' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('COURSEPORT_SECRET is required in production');
    expect(existsSync(join(cwd, 'data', 'secret'))).toBe(false);
  });

  // One message per bad variable: a missing secret must be reported alongside the other problems,
  // not only once they are fixed.
  it('reports the missing secret together with other problems', () => {
    const problems = problemsOf({ NODE_ENV: 'production', COURSEPORT_BASE_URL: 'http://tool.example.com' });
    expect(problems.some((p) => p.includes('COURSEPORT_BASE_URL must be https'))).toBe(true);
    expect(problems.some((p) => p.includes('COURSEPORT_SECRET'))).toBe(true);
  });
});

describe('loadConfig: validation', () => {
  it('refuses a secret shorter than 32 characters, accepts 32', () => {
    const problems = problemsOf({ COURSEPORT_SECRET: 'x'.repeat(31) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/COURSEPORT_SECRET must be at least 32 characters/);
    expect(loadConfig({ COURSEPORT_SECRET: 'x'.repeat(32) }, cwd).secret).toBe('x'.repeat(32));
  });

  it('names each bad integer variable', () => {
    const cases: [string, string][] = [
      ['COURSEPORT_PORT', 'abc'],
      ['COURSEPORT_PORT', '65536'],
      ['COURSEPORT_PORT', '-1'],
      ['COURSEPORT_PORT', '80.5'],
      ['COURSEPORT_LOGIN_STATE_TTL_SECONDS', '29'],
      ['COURSEPORT_CLOCK_SKEW_SECONDS', '601'],
      ['COURSEPORT_LAUNCH_TOKEN_TTL_SECONDS', '1e9'],
      ['COURSEPORT_HTTP_TIMEOUT_MS', '99'],
      ['COURSEPORT_HTTP_MAX_RESPONSE_BYTES', '1023'],
      ['COURSEPORT_JWKS_CACHE_SECONDS', 'ten'],
      ['COURSEPORT_JWKS_COOLDOWN_SECONDS', '3601'],
    ];
    for (const [name, value] of cases) {
      const problems = problemsOf({ COURSEPORT_SECRET: SECRET, [name]: value });
      expect(problems, `${name}=${value}`).toHaveLength(1);
      expect(problems[0]).toContain(name);
      expect(problems[0]).toContain(JSON.stringify(value));
    }
  });

  it('names each bad boolean variable', () => {
    for (const name of ['COURSEPORT_TRUST_PROXY', 'COURSEPORT_ALLOW_PRIVATE_NETWORK']) {
      const problems = problemsOf({ COURSEPORT_SECRET: SECRET, [name]: 'maybe' });
      expect(problems).toEqual([`${name} must be true or false, got "maybe"`]);
    }
  });

  it('refuses an unknown log level with the list of levels, instead of failing later in the logger', () => {
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_LOG_LEVEL: 'loud' })).toEqual([
      'COURSEPORT_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
    expect(loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_LOG_LEVEL: 'debug' }, cwd).logLevel).toBe('debug');
  });

  it('collects every problem at once', () => {
    const problems = problemsOf({
      COURSEPORT_SECRET: 'short',
      COURSEPORT_PORT: 'x',
      COURSEPORT_TRUST_PROXY: '2',
      COURSEPORT_HTTP_TIMEOUT_MS: '0',
      COURSEPORT_DATABASE_URL: 'mysql://u:hunter2@db/x',
    });
    expect(problems).toHaveLength(5);
    for (const name of ['COURSEPORT_SECRET', 'COURSEPORT_PORT', 'COURSEPORT_TRUST_PROXY', 'COURSEPORT_HTTP_TIMEOUT_MS', 'COURSEPORT_DATABASE_URL']) {
      expect(
        problems.some((p) => p.includes(name)),
        name,
      ).toBe(true);
    }
    // The database password is not repeated in the message.
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('refuses a base URL with a path, query or fragment, or that is not http(s)', () => {
    for (const url of ['https://tool.example.com/courseport', 'https://tool.example.com/?a=1', 'https://tool.example.com/#x']) {
      const problems = problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_BASE_URL: url });
      expect(problems).toEqual([`COURSEPORT_BASE_URL must be an origin without path, query or fragment, got ${url}`]);
    }
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_BASE_URL: 'ftp://tool.example.com' })[0]).toMatch(/must be an http\(s\) URL/);
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_BASE_URL: 'not a url' })[0]).toMatch(/is not a URL/);
  });

  it('requires TLS cert and key together', () => {
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_TLS_CERT: 'c.pem' })).toEqual([
      'COURSEPORT_TLS_CERT and COURSEPORT_TLS_KEY must be set together',
    ]);
  });
});

describe('loadConfig: development secret', () => {
  it('generates a secret into the data dir with mode 0600 and reuses it', () => {
    const dataDir = join(cwd, 'nested', 'data');
    const first = loadConfig({ COURSEPORT_DATA_DIR: dataDir }, cwd);
    const file = join(dataDir, 'secret');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(file, 'utf8')).toBe(`${first.secret}\n`);

    const second = loadConfig({ COURSEPORT_DATA_DIR: dataDir }, cwd);
    expect(second.secret).toBe(first.secret);
  });

  it('generates a different secret in another data dir', () => {
    const a = loadConfig({ COURSEPORT_DATA_DIR: 'a' }, cwd);
    const b = loadConfig({ COURSEPORT_DATA_DIR: 'b' }, cwd);
    expect(a.secret).not.toBe(b.secret);
  });

  it('serves the sandbox LMS outside production unless turned off, and in production only when turned on', () => {
    const dev = loadConfig({ COURSEPORT_SECRET: SECRET }, cwd);
    expect(dev.sandbox).toBe(true);
    expect(dev.registration).toEqual({ autoActivate: false });
    expect(loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_SANDBOX: 'off' }, cwd).sandbox).toBe(false);
    expect(production().sandbox).toBe(false);
    expect(production({ COURSEPORT_SANDBOX: 'on' }).sandbox).toBe(true);
    expect(loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_REGISTRATION_AUTO_ACTIVATE: 'yes' }, cwd).registration.autoActivate).toBe(true);
    expect(() => loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_SANDBOX: 'maybe' }, cwd)).toThrow(/COURSEPORT_SANDBOX must be true or false/);
  });

  it('says loudly which development defaults are in force', () => {
    const c = loadConfig({ COURSEPORT_DATA_DIR: 'd' }, cwd);
    const secretFile = join(cwd, 'd', 'secret');
    expect(c.devDefaults.some((d) => d.includes('COURSEPORT_SECRET') && d.includes(secretFile) && d.includes('MUST'))).toBe(true);
    expect(c.devDefaults.some((d) => d.includes('plain http'))).toBe(true);
    expect(c.devDefaults.some((d) => d.includes('COURSEPORT_BASE_URL is not set'))).toBe(true);
    expect(c.devDefaults.some((d) => d.includes('COURSEPORT_ALLOW_PRIVATE_NETWORK'))).toBe(true);
  });

  it('does not mention a generated secret when one is given, nor http with an https base URL', () => {
    const c = loadConfig(
      {
        COURSEPORT_SECRET: SECRET,
        COURSEPORT_BASE_URL: 'https://tool.example.com',
        COURSEPORT_ALLOW_PRIVATE_NETWORK: 'false',
        COURSEPORT_ALLOW_HTTP_PLATFORMS: 'false',
      },
      cwd,
    );
    expect(c.devDefaults).toEqual([]);
    expect(existsSync(join(cwd, 'data', 'secret'))).toBe(false);
  });

  it('does not create a secret file when the configuration is invalid anyway', () => {
    problemsOf({ COURSEPORT_BASE_URL: 'https://tool.example.com/path' });
    expect(existsSync(join(cwd, 'data', 'secret'))).toBe(false);
  });

  // The minimum length applies to the secret actually used, wherever it comes from.
  it('refuses a secret file that is empty or too short', () => {
    mkdirSync(join(cwd, 'data'), { recursive: true });
    writeFileSync(join(cwd, 'data', 'secret'), '\n', { mode: 0o600 });
    const problems = problemsOf({});
    expect(problems.some((p) => p.includes('secret'))).toBe(true);
  });
});

// Key schedule and transport security settings.
describe('loadConfig: key lifecycle and transport security', () => {
  it('defaults to a 90-day schedule, a 7-day publication window and a 48-hour overlap', () => {
    const c = loadConfig({ COURSEPORT_SECRET: SECRET }, cwd);
    expect(c.keys).toEqual({
      rotateEveryMs: 90 * 86_400_000,
      publishBeforeUseMs: 7 * 86_400_000,
      retiredOverlapMs: 48 * 3600_000,
      checkEveryMs: 3600_000,
      jwksMaxAgeMs: 3600_000,
    });
    expect(c.jwks.staleLimitMs).toBe(86_400_000);
    expect(c.security).toEqual({ allowHttpPlatforms: true, frameAncestors: [], launchRateLimitPerMinute: 3000, apiRateLimitPerMinute: 600 });
    expect(c.devDefaults.some((d) => d.includes('COURSEPORT_ALLOW_HTTP_PLATFORMS'))).toBe(true);
  });

  it('refuses plain-http platforms in production unless allowed, and says so when allowed', () => {
    expect(production().security.allowHttpPlatforms).toBe(false);
    const allowed = production({ COURSEPORT_ALLOW_HTTP_PLATFORMS: 'true' });
    expect(allowed.security.allowHttpPlatforms).toBe(true);
    expect(allowed.devDefaults.some((d) => d.includes('COURSEPORT_ALLOW_HTTP_PLATFORMS'))).toBe(true);
  });

  it('refuses a schedule that could sign with a key platforms have not seen, or drop one too early', () => {
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_KEY_ROTATION_DAYS: '7', COURSEPORT_KEY_PUBLISH_DAYS: '7' })).toEqual([
      'COURSEPORT_KEY_PUBLISH_DAYS must be shorter than COURSEPORT_KEY_ROTATION_DAYS',
    ]);
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_KEY_PUBLISH_DAYS: '1', COURSEPORT_JWKS_MAX_AGE_SECONDS: '86400' })[0]).toContain(
      'COURSEPORT_JWKS_MAX_AGE_SECONDS must be shorter',
    );
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_KEY_RETIRED_OVERLAP_HOURS: '1' })[0]).toContain(
      'COURSEPORT_KEY_RETIRED_OVERLAP_HOURS must cover',
    );
    expect(loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_KEY_ROTATION_DAYS: '0' }, cwd).keys.rotateEveryMs).toBe(0);
  });

  it('reads extra frame ancestors and refuses what is not an origin', () => {
    expect(
      loadConfig({ COURSEPORT_SECRET: SECRET, COURSEPORT_FRAME_ANCESTORS: 'https://*.instructure.com, https://lms.example.edu' }, cwd).security.frameAncestors,
    ).toEqual(['https://*.instructure.com', 'https://lms.example.edu']);
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_FRAME_ANCESTORS: "'unsafe-inline'" })[0]).toContain('COURSEPORT_FRAME_ANCESTORS');
    expect(problemsOf({ COURSEPORT_SECRET: SECRET, COURSEPORT_FRAME_ANCESTORS: 'https://lms.example.edu/path' })[0]).toContain('COURSEPORT_FRAME_ANCESTORS');
  });
});

describe('redactUrl', () => {
  it('hides the password of a URL, keeps the rest', () => {
    expect(redactUrl('postgres://cp:s3cret@db:5432/cp')).toBe('postgres://cp:***@db:5432/cp');
    expect(redactUrl('postgres://db/cp')).toBe('postgres://db/cp');
  });
});
