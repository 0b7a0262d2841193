import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Everything Courseport reads from its environment, validated once at start. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  /** Public origin the LMS and browsers reach us at, without a trailing slash. */
  readonly baseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string;
  /** Bounds on waiting for the database (docs/configuration.md, "Databases"). */
  readonly database: {
    /** PostgreSQL: opening a connection, or waiting for a free one of the pool. */
    readonly connectTimeoutMs: number;
    /** PostgreSQL: a statement is cancelled after this (0: never); the client gives up a second later. */
    readonly statementTimeoutMs: number;
    /** PostgreSQL: connections per process. */
    readonly poolSize: number;
  };
  readonly secret: string;
  readonly logLevel: string;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly trustProxy: boolean;
  readonly lti: {
    /** How long a login state (and its nonce) may wait for the platform's answer. */
    readonly loginStateTtlMs: number;
    /** Allowed clock difference with platforms when checking iat/nbf/exp. */
    readonly clockSkewMs: number;
    /** Lifetime of the opaque launch token that replaces cookies inside the LMS frame. */
    readonly launchTokenTtlMs: number;
    /** Logins per client address and minute (0: no limit). */
    readonly loginRateLimitPerMinute: number;
  };
  readonly http: {
    readonly timeoutMs: number;
    readonly maxResponseBytes: number;
    /** Refuse outgoing requests to loopback/private/link-local addresses. */
    readonly blockPrivateNetwork: boolean;
  };
  readonly packages: {
    readonly maxEntries: number;
    readonly maxTotalBytes: number;
    readonly maxCompressionRatio: number;
    /** Largest upload accepted by POST /api/v1/packages. */
    readonly maxUploadBytes: number;
  };
  readonly player: {
    /** Whether a learner may start a new attempt once the previous one is completed. */
    readonly newAttemptAfterCompletion: boolean;
    /** Lifetime of the player's and package files' tokens: a learner's session in one tab. */
    readonly tokenTtlMs: number;
  };
  /** A course roster older than this is refreshed from the LMS when an instructor opens progress. */
  readonly rosterMaxAgeMs: number;
  readonly grades: {
    /** How often the delivery worker looks for due scores. */
    readonly pollMs: number;
    /** Scores still failing after this long are dead-lettered. */
    readonly maxAgeMs: number;
    /** How long a worker holds a claimed score; one that dies mid-delivery leaves it to others after this. */
    readonly leaseMs: number;
    /** The first retry's delay; it doubles per try (up to 30 minutes), with ±50 % jitter. */
    readonly retryBaseMs: number;
  };
  readonly jwks: {
    readonly cacheMaxAgeMs: number;
    readonly cooldownMs: number;
    /** How long the last good key set stays usable while the platform's JWKS endpoint fails. */
    readonly staleLimitMs: number;
  };
  // Key lifecycle and transport security.
  readonly keys: {
    /** How long a key signs before the schedule replaces it (0: no automatic rotation). */
    readonly rotateEveryMs: number;
    /** How long a next key is published before it may sign. */
    readonly publishBeforeUseMs: number;
    /** How long a retired key stays published (longest token lifetime + platform cache time). */
    readonly retiredOverlapMs: number;
    /** How often the background worker checks the schedule. */
    readonly checkEveryMs: number;
    /** `Cache-Control: max-age` of /.well-known/jwks.json. */
    readonly jwksMaxAgeMs: number;
  };
  readonly security: {
    /** Outgoing requests to platforms may use plain http (local LMSs in development). */
    readonly allowHttpPlatforms: boolean;
    /** Extra CSP frame-ancestors sources for LMS-framed pages (e.g. https://*.instructure.com). */
    readonly frameAncestors: readonly string[];
    /** Requests per client address and minute: /lti/launch, /api/v1 (0: no limit). */
    readonly launchRateLimitPerMinute: number;
    readonly apiRateLimitPerMinute: number;
  };
  readonly admin: {
    /** A console session ends after this long without a request. */
    readonly sessionIdleMs: number;
    /** A console session ends this long after sign-in, whatever the activity. */
    readonly sessionMaxMs: number;
    /** Failed sign-ins per account in the window before further attempts are refused. */
    readonly loginMaxFailures: number;
    /** Failed sign-ins per client address in the window before further attempts are refused. */
    readonly loginMaxFailuresPerIp: number;
    readonly loginWindowMs: number;
  };
  // LTI Dynamic Registration and the sandbox LMS
  readonly registration: {
    /** Activate platforms registered through LTI Dynamic Registration at once (default: they wait as `pending`). */
    readonly autoActivate: boolean;
  };
  /** Serve the built-in sandbox LMS at /sandbox (default: on, except in production). */
  readonly sandbox: boolean;
  /** Development-only defaults in force, each a sentence for the start-up warning. */
  readonly devDefaults: readonly string[];
}

const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const SECRET_MIN_LENGTH = 32;
const DAY_MS = 24 * 3600_000;
/** The longest-lived JWT Courseport signs (deep linking responses, client assertions): 10 minutes covers both. */
export const MAX_SIGNED_TOKEN_LIFETIME_MS = 10 * 60_000;

/**
 * Reads and validates the environment. Nothing else in Courseport reads process.env.
 * In development a missing secret is generated into the data directory (mode 0600) and
 * reported as a development default.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const devDefaults: string[] = [];

  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const production = nodeEnv === 'production';

  const port = intVar(env, 'COURSEPORT_PORT', 3000, problems, 0, 65535);
  const host = env.COURSEPORT_HOST?.trim() || '0.0.0.0';
  const dataDir = resolvePath(env.COURSEPORT_DATA_DIR?.trim() || './data', cwd);

  const tlsCert = env.COURSEPORT_TLS_CERT?.trim();
  const tlsKey = env.COURSEPORT_TLS_KEY?.trim();
  let tls: Config['tls'];
  if (tlsCert || tlsKey) {
    if (!tlsCert || !tlsKey) problems.push('COURSEPORT_TLS_CERT and COURSEPORT_TLS_KEY must be set together');
    else tls = { certFile: resolvePath(tlsCert, cwd), keyFile: resolvePath(tlsKey, cwd) };
  }

  let baseUrl = env.COURSEPORT_BASE_URL?.trim();
  if (!baseUrl) {
    if (production) problems.push('COURSEPORT_BASE_URL is required in production (the public https origin)');
    baseUrl = `${tls ? 'https' : 'http'}://localhost:${port}`;
    devDefaults.push(`COURSEPORT_BASE_URL is not set: using ${baseUrl}, which an LMS on another machine cannot reach`);
  }
  let parsedBase: URL | undefined;
  try {
    parsedBase = new URL(baseUrl);
    if (parsedBase.protocol !== 'https:' && parsedBase.protocol !== 'http:') {
      problems.push(`COURSEPORT_BASE_URL must be an http(s) URL, got ${baseUrl}`);
    } else if (parsedBase.pathname !== '/' || parsedBase.search || parsedBase.hash) {
      problems.push(`COURSEPORT_BASE_URL must be an origin without path, query or fragment, got ${baseUrl}`);
    } else if (parsedBase.protocol === 'http:') {
      if (production) problems.push('COURSEPORT_BASE_URL must be https in production');
      else devDefaults.push('plain http: LMSs require https in production, and browsers drop cross-site cookies without it');
    }
  } catch {
    problems.push(`COURSEPORT_BASE_URL is not a URL: ${baseUrl}`);
  }
  baseUrl = parsedBase ? parsedBase.origin : baseUrl;

  const databaseUrl = env.COURSEPORT_DATABASE_URL?.trim() || `sqlite:${join(dataDir, 'courseport.db')}`;
  if (!/^sqlite:/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`COURSEPORT_DATABASE_URL must start with sqlite: or postgres://, got ${redactUrl(databaseUrl)}`);
  }

  let secret = env.COURSEPORT_SECRET ?? '';
  if (secret && secret.length < SECRET_MIN_LENGTH) {
    problems.push(`COURSEPORT_SECRET must be at least ${SECRET_MIN_LENGTH} characters (use: openssl rand -base64 48)`);
  }
  const secretFile = join(dataDir, 'secret');
  if (!secret && production) {
    problems.push('COURSEPORT_SECRET is required in production (it encrypts the tool private keys at rest)');
  } else if (!secret && problems.length === 0) {
    secret = readOrCreateDevSecret(secretFile);
    if (secret.length < SECRET_MIN_LENGTH) {
      problems.push(
        `the development secret in ${secretFile} is shorter than ${SECRET_MIN_LENGTH} characters: delete the file to generate a new one, or set COURSEPORT_SECRET`,
      );
    }
    devDefaults.push(`COURSEPORT_SECRET is not set: using a generated development secret from ${secretFile}; you MUST set your own in production`);
  }

  const trustProxy = boolVar(env, 'COURSEPORT_TRUST_PROXY', false, problems);
  const blockPrivateNetwork = !boolVar(env, 'COURSEPORT_ALLOW_PRIVATE_NETWORK', !production, problems);
  if (!blockPrivateNetwork) {
    devDefaults.push('outgoing requests may reach private and loopback addresses (COURSEPORT_ALLOW_PRIVATE_NETWORK), as a local LMS needs');
  }

  // Key schedule and transport security.
  const jwksCacheSeconds = intVar(env, 'COURSEPORT_JWKS_CACHE_SECONDS', 600, problems, production ? 60 : 0, 86400);
  const keys = {
    rotateEveryMs: intVar(env, 'COURSEPORT_KEY_ROTATION_DAYS', 90, problems, 0, 3650) * DAY_MS,
    publishBeforeUseMs: intVar(env, 'COURSEPORT_KEY_PUBLISH_DAYS', 7, problems, 0, 365) * DAY_MS,
    retiredOverlapMs: intVar(env, 'COURSEPORT_KEY_RETIRED_OVERLAP_HOURS', 48, problems, 1, 24 * 365) * 3600_000,
    checkEveryMs: intVar(env, 'COURSEPORT_KEY_CHECK_SECONDS', 3600, problems, 1, 86400) * 1000,
    jwksMaxAgeMs: intVar(env, 'COURSEPORT_JWKS_MAX_AGE_SECONDS', 3600, problems, 0, 7 * 86400) * 1000,
  };
  if (keys.rotateEveryMs > 0 && keys.publishBeforeUseMs >= keys.rotateEveryMs) {
    problems.push('COURSEPORT_KEY_PUBLISH_DAYS must be shorter than COURSEPORT_KEY_ROTATION_DAYS');
  }
  if (keys.jwksMaxAgeMs >= keys.publishBeforeUseMs && keys.publishBeforeUseMs > 0) {
    problems.push('COURSEPORT_JWKS_MAX_AGE_SECONDS must be shorter than the publication window (COURSEPORT_KEY_PUBLISH_DAYS), or platforms miss the next key');
  }
  if (keys.retiredOverlapMs < keys.jwksMaxAgeMs + MAX_SIGNED_TOKEN_LIFETIME_MS) {
    problems.push('COURSEPORT_KEY_RETIRED_OVERLAP_HOURS must cover the JWKS cache time plus the longest token lifetime');
  }
  const allowHttpPlatforms = boolVar(env, 'COURSEPORT_ALLOW_HTTP_PLATFORMS', !production, problems);
  if (allowHttpPlatforms) devDefaults.push('platform URLs may use plain http (COURSEPORT_ALLOW_HTTP_PLATFORMS), as a local LMS needs');
  const frameAncestors = (env.COURSEPORT_FRAME_ANCESTORS ?? '').split(/[\s,]+/).filter(Boolean);
  for (const f of frameAncestors) {
    if (!/^(https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?|https?:)$/i.test(f))
      problems.push(`COURSEPORT_FRAME_ANCESTORS: ${JSON.stringify(f)} is not an origin (https://lms.example.edu or https://*.example.edu)`);
  }
  const security = {
    allowHttpPlatforms,
    frameAncestors,
    launchRateLimitPerMinute: intVar(env, 'COURSEPORT_LAUNCH_RATE_LIMIT', 3000, problems, 0, 1_000_000),
    apiRateLimitPerMinute: intVar(env, 'COURSEPORT_API_RATE_LIMIT', 600, problems, 0, 1_000_000),
  };

  // A misspelt level made pino stop the start with "default level:… must be included in custom levels".
  const logLevel = env.COURSEPORT_LOG_LEVEL?.trim() || (nodeEnv === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`COURSEPORT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);

  const config: Config = {
    env: nodeEnv,
    baseUrl,
    host,
    port,
    dataDir,
    databaseUrl,
    database: {
      connectTimeoutMs: intVar(env, 'COURSEPORT_DB_CONNECT_TIMEOUT_MS', 5000, problems, 100, 120_000),
      statementTimeoutMs: intVar(env, 'COURSEPORT_DB_STATEMENT_TIMEOUT_MS', 10_000, problems, 0, 3_600_000),
      poolSize: intVar(env, 'COURSEPORT_DB_POOL_SIZE', 10, problems, 1, 1000),
    },
    secret,
    logLevel,
    tls,
    trustProxy,
    lti: {
      loginStateTtlMs: intVar(env, 'COURSEPORT_LOGIN_STATE_TTL_SECONDS', 600, problems, 30, 3600) * 1000,
      clockSkewMs: intVar(env, 'COURSEPORT_CLOCK_SKEW_SECONDS', 60, problems, 0, 600) * 1000,
      launchTokenTtlMs: intVar(env, 'COURSEPORT_LAUNCH_TOKEN_TTL_SECONDS', 4 * 3600, problems, 60, 86400) * 1000,
      loginRateLimitPerMinute: intVar(env, 'COURSEPORT_LOGIN_RATE_LIMIT', 3000, problems, 0, 1_000_000),
    },
    http: {
      timeoutMs: intVar(env, 'COURSEPORT_HTTP_TIMEOUT_MS', 10_000, problems, 100, 120_000),
      maxResponseBytes: intVar(env, 'COURSEPORT_HTTP_MAX_RESPONSE_BYTES', 5 * 1024 * 1024, problems, 1024, 1024 ** 3),
      blockPrivateNetwork,
    },
    packages: {
      maxEntries: intVar(env, 'COURSEPORT_PACKAGE_MAX_ENTRIES', 20_000, problems, 1, 1_000_000),
      maxTotalBytes: intVar(env, 'COURSEPORT_PACKAGE_MAX_BYTES', 2 * 1024 ** 3, problems, 1024, 64 * 1024 ** 3),
      maxCompressionRatio: intVar(env, 'COURSEPORT_PACKAGE_MAX_RATIO', 200, problems, 2, 100_000),
      maxUploadBytes: intVar(env, 'COURSEPORT_UPLOAD_MAX_BYTES', 2 * 1024 ** 3, problems, 1024, 64 * 1024 ** 3),
    },
    player: {
      newAttemptAfterCompletion: boolVar(env, 'COURSEPORT_NEW_ATTEMPT_AFTER_COMPLETION', false, problems),
      tokenTtlMs: intVar(env, 'COURSEPORT_PLAYER_TOKEN_TTL_SECONDS', 12 * 3600, problems, 300, 7 * 86400) * 1000,
    },
    rosterMaxAgeMs: intVar(env, 'COURSEPORT_ROSTER_MAX_AGE_SECONDS', 3600, problems, 0, 7 * 86400) * 1000,
    grades: {
      pollMs: intVar(env, 'COURSEPORT_GRADES_POLL_MS', 1000, problems, 50, 600_000),
      maxAgeMs: intVar(env, 'COURSEPORT_GRADES_MAX_AGE_HOURS', 168, problems, 1, 24 * 365) * 3600_000,
      leaseMs: intVar(env, 'COURSEPORT_GRADES_LEASE_SECONDS', 60, problems, 1, 3600) * 1000,
      retryBaseMs: intVar(env, 'COURSEPORT_GRADES_RETRY_BASE_MS', 5000, problems, 100, 3_600_000),
    },
    jwks: {
      // Production keeps a floor so that forged kids cannot turn Courseport against an LMS.
      cacheMaxAgeMs: jwksCacheSeconds * 1000,
      cooldownMs: intVar(env, 'COURSEPORT_JWKS_COOLDOWN_SECONDS', 30, problems, production ? 5 : 0, 3600) * 1000,
      // How long the last good key set is used while the platform's JWKS endpoint fails.
      staleLimitMs: intVar(env, 'COURSEPORT_JWKS_STALE_LIMIT_SECONDS', 86400, problems, 0, 30 * 86400) * 1000,
    },
    keys,
    security,
    admin: {
      sessionIdleMs: intVar(env, 'COURSEPORT_ADMIN_SESSION_IDLE_MINUTES', 30, problems, 1, 24 * 60) * 60_000,
      sessionMaxMs: intVar(env, 'COURSEPORT_ADMIN_SESSION_MAX_HOURS', 12, problems, 1, 30 * 24) * 3600_000,
      loginMaxFailures: intVar(env, 'COURSEPORT_ADMIN_LOGIN_MAX_FAILURES', 5, problems, 1, 1000),
      loginMaxFailuresPerIp: intVar(env, 'COURSEPORT_ADMIN_LOGIN_MAX_FAILURES_PER_IP', 20, problems, 1, 100_000),
      loginWindowMs: intVar(env, 'COURSEPORT_ADMIN_LOGIN_WINDOW_SECONDS', 900, problems, 10, 86400) * 1000,
    },
    // LTI Dynamic Registration and the sandbox LMS
    registration: {
      autoActivate: boolVar(env, 'COURSEPORT_REGISTRATION_AUTO_ACTIVATE', false, problems),
    },
    sandbox: boolVar(env, 'COURSEPORT_SANDBOX', !production, problems),
    devDefaults,
  };
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(config);
}

function readOrCreateDevSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(join(file, '..'), { recursive: true });
  const value = randomBytes(48).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return value;
}

function resolvePath(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

function intVar(env: Env, name: string, dflt: number, problems: string[], min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return dflt;
  }
  return n;
}

function boolVar(env: Env, name: string, dflt: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return dflt;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`);
  return dflt;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}
