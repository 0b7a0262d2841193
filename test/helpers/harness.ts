import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { build, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Dialect, OpenOptions } from '../../src/store/database.js';
import { fixedClock } from '../../src/util/clock.js';
import { SimulatedPlatform, type MintOptions } from '../platform/simulated-platform.js';
import { openTestStore, type TestStore } from './dialects.js';

export const TOOL_BASE_URL = 'https://courseport.test';
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(join(tmpdir(), 'courseport-data-'));
  return loadConfig({
    NODE_ENV: 'test',
    COURSEPORT_BASE_URL: TOOL_BASE_URL,
    COURSEPORT_SECRET: TEST_SECRET,
    COURSEPORT_DATA_DIR: dataDir,
    COURSEPORT_LOG_LEVEL: 'info',
    COURSEPORT_JWKS_COOLDOWN_SECONDS: '0',
    ...env,
  });
}

export interface LogLine {
  level: number;
  msg: string;
  code?: string;
  [k: string]: unknown;
}

export interface LoginResult {
  readonly response: LightMyRequestResponse;
  readonly location: URL;
  readonly state: string;
  readonly nonce: string;
  /** `name=value` of the state cookie, ready for a Cookie header. */
  readonly cookie: string;
  readonly setCookie: string;
}

export interface LaunchOptions extends MintOptions {
  /** Use this login instead of starting a new one. */
  readonly login?: LoginResult;
  /** Replace the nonce put in the token (defaults to the login's). */
  readonly nonce?: string;
  /** Replace the form fields sent to /lti/launch. */
  readonly form?: Record<string, string | undefined>;
  /** Cookie header to send; null sends none. Defaults to the login's state cookie. */
  readonly cookie?: string | null;
  /** A ready id_token instead of minting one. */
  readonly idToken?: string;
}

export interface Harness {
  readonly app: App;
  readonly store: TestStore;
  readonly platform: SimulatedPlatform;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly config: Config;
  readonly platformId: string;
  readonly logs: LogLine[];
  login(params?: Record<string, string | undefined>): Promise<LoginResult>;
  launch(options?: LaunchOptions): Promise<LightMyRequestResponse & { idToken: string; login: LoginResult }>;
  launchClaims(login: LoginResult): Record<string, unknown>;
  close(): Promise<void>;
}

/** A Courseport app on a fresh database with one simulated platform registered. */
export async function createHarness(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { registerPlatform?: boolean; log?: OpenOptions['log']; store?: TestStore } = {},
): Promise<Harness> {
  // A migrated store of the caller's (a database on a particular disk) is disposed of by the harness like its own.
  const store = options.store ?? (await openTestStore(dialect, options.log ? { log: options.log } : {}));
  const platform = await SimulatedPlatform.start();
  const clock = fixedClock(Date.UTC(2026, 10, 26, 12, 0, 0));
  platform.nowSec = () => Math.floor(clock.now() / 1000);
  const config = testConfig(env);
  const logs: LogLine[] = [];
  const app = await build({
    config,
    store,
    clock,
    logStream: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });
  await app.services.toolKeys.ensureCurrentKey();
  // registerPlatform: false leaves the simulated LMS unregistered (dynamic registration tests register it).
  const registered = options.registerPlatform === false ? { id: '' } : (await app.services.platforms.register(platform.registration())).platform;

  const login = async (params: Record<string, string | undefined> = {}): Promise<LoginResult> => {
    const query: Record<string, string> = {};
    const all = {
      iss: platform.issuer,
      login_hint: 'learner-1',
      target_link_uri: `${TOOL_BASE_URL}/lti/launch`,
      lti_message_hint: 'msg-hint-1',
      client_id: platform.clientId,
      lti_deployment_id: platform.deploymentId,
      ...params,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) query[k] = v;
    const response = await app.inject({ method: 'GET', url: '/lti/login', query });
    if (response.statusCode !== 302) {
      throw new Error(`login failed: ${response.statusCode} ${response.body.slice(0, 500)}`);
    }
    const location = new URL(String(response.headers.location));
    const setCookie = String(([] as string[]).concat(response.headers['set-cookie'] ?? [])[0] ?? '');
    return {
      response,
      location,
      state: location.searchParams.get('state') ?? '',
      nonce: location.searchParams.get('nonce') ?? '',
      cookie: setCookie.split(';')[0] ?? '',
      setCookie,
    };
  };

  const launchClaims = (l: LoginResult) => platform.resourceLinkClaims(l.nonce, `${TOOL_BASE_URL}/lti/launch`);

  const launch = async (options: LaunchOptions = {}) => {
    const l = options.login ?? (await login());
    const base = launchClaims(l);
    if (options.nonce !== undefined) base.nonce = options.nonce;
    const idToken = options.idToken ?? (await platform.mint(base, options));
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries({ id_token: idToken, state: l.state, ...options.form })) if (v !== undefined) form[k] = v;
    const cookie = options.cookie === undefined ? l.cookie : options.cookie;
    const response = await app.inject({
      method: 'POST',
      url: '/lti/launch',
      payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(cookie ? { cookie } : {}) },
    });
    return Object.assign(response, { idToken, login: l });
  };

  return {
    app,
    store,
    platform,
    clock,
    config,
    platformId: registered.id,
    logs,
    login,
    launch,
    launchClaims,
    close: async () => {
      await app.close();
      await platform.close();
      await store.dispose();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** The stable error code shown on an HTML error page. */
export function errorCode(body: string): string | undefined {
  return /data-error-code[^>]*>([A-Z_]+)</.exec(body)?.[1];
}
