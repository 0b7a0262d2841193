import { importSPKI, exportJWK, importJWK, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import {
  findDeployment,
  findPlatform,
  findPlatformById,
  insertDeployment,
  insertPlatform,
  listDeployments,
  listPlatforms,
  setDeploymentStatus,
  updatePlatform,
} from './platform.repository.js';
import { isUniqueViolation } from '../store/database.js';
import type { Database, Deployment, Platform } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';

/** A platform registration as an administrator types it (CLI, API, admin pages). */
export interface PlatformInput {
  readonly issuer: string;
  readonly clientId: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly jwksUrl?: string | undefined;
  /** A static public key: JWK JSON or PEM (SPKI). */
  readonly publicKey?: string | undefined;
  readonly tokenAudience?: string | undefined;
  readonly name?: string | undefined;
  readonly deployments?: readonly string[] | undefined;
  /** When the LMS gradebook holds a grade Courseport did not send: overwrite it, only raise it, or leave it. */
  readonly gradePolicy?: Platform['grade_policy'] | undefined;
  /**
   * Accept launch id_tokens that name no signing key (`kid`). Off by default: key selection is by
   * kid (1EdTech Security Framework §6), and the certification suite sends a token without one
   * as a bad payload. Only for an LMS known to omit it.
   */
  readonly allowMissingKid?: boolean | undefined;
}

export const GRADE_POLICIES: readonly Platform['grade_policy'][] = ['overwrite', 'raise', 'preserve'];
export const PLATFORM_STATUSES: readonly Platform['status'][] = ['active', 'disabled', 'pending'];

/** A registration's checked and normalised columns, and its deployment ids. */
export type ValidRegistration = Pick<
  Platform,
  'name' | 'issuer' | 'client_id' | 'auth_url' | 'token_url' | 'token_audience' | 'jwks_url' | 'public_jwk' | 'grade_policy' | 'allow_missing_kid'
> & {
  readonly deploymentIds: string[];
};

export interface RegistrationPolicy {
  /** Production refuses platform URLs that are not https. */
  readonly requireHttps: boolean;
}

export interface PlatformWithDeployments {
  readonly platform: Platform;
  readonly deployments: readonly Deployment[];
}

export class PlatformService {
  /** Told about every change (the frame-ancestors list of LMS pages follows the registrations). */
  private readonly listeners: (() => void)[] = [];

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly policy: RegistrationPolicy,
  ) {}

  /**
   * Every problem of a registration at once (CLI, API and console forms show the same list).
   * Throws VALIDATION_FAILED with `details.problems`, and `details.fields`: the problems of each
   * PlatformInput field (forms mark those fields).
   */
  async validate(input: PlatformInput): Promise<ValidRegistration> {
    const problems: string[] = [];
    const fields: Partial<Record<keyof PlatformInput, string[]>> = {};
    /** Runs a field's checks; what they add to `problems` is that field's. */
    const on = async <T>(field: keyof PlatformInput | readonly (keyof PlatformInput)[], check: () => T | Promise<T>): Promise<T> => {
      const before = problems.length;
      const result = await check();
      if (problems.length > before) {
        for (const f of typeof field === 'string' ? [field] : field) {
          const list = fields[f] ?? [];
          list.push(...problems.slice(before));
          fields[f] = list;
        }
      }
      return result;
    };
    const issuer = await on('issuer', () => {
      const v = text(input.issuer, 'issuer', 1024, problems);
      if (v) url(v, 'issuer', this.policy, problems);
      return v;
    });
    const clientId = await on('clientId', () => text(input.clientId, 'client id', 255, problems));
    const authUrl = await on('authUrl', () => url(input.authUrl, 'auth URL', this.policy, problems));
    const tokenUrl = await on('tokenUrl', () => url(input.tokenUrl, 'token URL', this.policy, problems));
    const jwksUrl = await on('jwksUrl', () => (input.jwksUrl ? url(input.jwksUrl, 'JWKS URL', this.policy, problems) : undefined));
    const tokenAudience = await on('tokenAudience', () => (input.tokenAudience ? text(input.tokenAudience, 'token audience', 2048, problems) : undefined));
    await on(['jwksUrl', 'publicKey'], () => {
      if (!input.jwksUrl && !input.publicKey) problems.push('a JWKS URL (or a static public key) is required to verify launches');
      if (input.jwksUrl && input.publicKey) problems.push('give either a JWKS URL or a static public key, not both');
    });
    const deploymentIds = [...new Set((input.deployments ?? []).map((d) => d.trim()))];
    await on('deployments', () => {
      for (const d of deploymentIds) if (!d || d.length > 255) problems.push(`deployment id ${JSON.stringify(d)} must be 1 to 255 characters`);
    });
    const publicJwk = await on('publicKey', () => (input.publicKey ? parsePublicKey(input.publicKey, problems) : undefined));
    const name = input.name?.trim() || (issuer ? hostOf(issuer) : '');
    await on('name', () => {
      if (name.length > 255) problems.push('name must be at most 255 characters');
    });
    await on('gradePolicy', () => {
      if (input.gradePolicy !== undefined && !GRADE_POLICIES.includes(input.gradePolicy))
        problems.push(`grade policy must be one of ${GRADE_POLICIES.join(', ')}`);
    });
    await on('allowMissingKid', () => {
      if (input.allowMissingKid !== undefined && typeof input.allowMissingKid !== 'boolean') problems.push('allow missing kid must be true or false');
    });
    if (problems.length) throw validationError(problems, fields);
    return {
      name,
      issuer,
      client_id: clientId,
      auth_url: authUrl,
      token_url: tokenUrl,
      token_audience: tokenAudience ?? null,
      jwks_url: jwksUrl ?? null,
      public_jwk: publicJwk ? JSON.stringify(publicJwk) : null,
      grade_policy: input.gradePolicy ?? 'overwrite',
      allow_missing_kid: input.allowMissingKid === true ? 1 : 0,
      deploymentIds,
    };
  }

  async register(input: PlatformInput, options: { status?: Platform['status'] } = {}): Promise<PlatformWithDeployments> {
    const { deploymentIds, ...fields } = await this.validate(input);
    const { issuer, client_id: clientId } = fields;
    if (await findPlatform(this.db, issuer, clientId)) {
      throw new AppError('PLATFORM_EXISTS', `A platform with issuer ${issuer} and client id ${clientId} is already registered.`);
    }
    const t = this.clock.now();
    const platform: Platform = {
      id: newId('plt'),
      ...fields,
      status: options.status ?? 'active',
      created_at: t,
      updated_at: t,
      last_launch_at: null,
      last_error: null,
      last_error_at: null,
    };
    const deployments: Deployment[] = deploymentIds.map((d) => ({
      id: newId('dep'),
      platform_id: platform.id,
      deployment_id: d,
      name: null,
      created_at: t,
      status: 'active',
    }));
    try {
      await this.db.transaction().execute(async (trx) => {
        await insertPlatform(trx, platform);
        for (const d of deployments) await insertDeployment(trx, d);
      });
    } catch (err) {
      // The check above can lose a race with a concurrent registration; the constraint decides.
      if (isUniqueViolation(err)) throw new AppError('PLATFORM_EXISTS', `A platform with issuer ${issuer} and client id ${clientId} is already registered.`);
      throw err;
    }
    this.changed();
    return { platform, deployments };
  }

  /**
   * Changes a registration's fields (not its status or deployments), with the same checks as
   * `register`. A static key and a JWKS URL replace each other. Answers the updated registration.
   */
  async update(id: string, input: Omit<PlatformInput, 'deployments'>): Promise<PlatformWithDeployments> {
    const current = await this.get(id);
    const { deploymentIds: _ignored, ...fields } = await this.validate({ ...input, deployments: [] });
    const other = await findPlatform(this.db, fields.issuer, fields.client_id);
    if (other && other.id !== id) {
      throw new AppError('PLATFORM_EXISTS', `A platform with issuer ${fields.issuer} and client id ${fields.client_id} is already registered.`);
    }
    try {
      await updatePlatform(this.db, id, { ...fields, updated_at: this.clock.now() });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('PLATFORM_EXISTS', `A platform with issuer ${fields.issuer} and client id ${fields.client_id} is already registered.`);
      throw err;
    }
    this.changed();
    return { platform: { ...current.platform, ...fields, updated_at: this.clock.now() }, deployments: current.deployments };
  }

  async list(): Promise<PlatformWithDeployments[]> {
    const platforms = await listPlatforms(this.db);
    return Promise.all(platforms.map(async (platform) => ({ platform, deployments: await listDeployments(this.db, platform.id) })));
  }

  async get(id: string): Promise<PlatformWithDeployments> {
    const platform = await findPlatformById(this.db, id);
    if (!platform) throw new AppError('PLATFORM_NOT_FOUND', `No platform with id ${id}.`);
    return { platform, deployments: await listDeployments(this.db, id) };
  }

  /** `active`, `disabled`, or `pending` (registered by an LMS, waiting for an administrator to activate it). */
  async setStatus(id: string, status: Platform['status']): Promise<PlatformWithDeployments> {
    if (!PLATFORM_STATUSES.includes(status)) throw validationError([`status must be one of ${PLATFORM_STATUSES.join(', ')}`]);
    await this.get(id);
    await updatePlatform(this.db, id, { status, updated_at: this.clock.now() });
    this.changed();
    return this.get(id);
  }

  async addDeployment(platformId: string, deploymentId: string, name?: string): Promise<Deployment> {
    await this.get(platformId);
    const d = deploymentId.trim();
    if (!d || d.length > 255) throw validationError([`deployment id ${JSON.stringify(deploymentId)} must be 1 to 255 characters`]);
    if (await findDeployment(this.db, platformId, d)) {
      throw new AppError('DEPLOYMENT_EXISTS', `Deployment ${d} is already registered for this platform.`);
    }
    const deployment: Deployment = {
      id: newId('dep'),
      platform_id: platformId,
      deployment_id: d,
      name: name?.trim() || null,
      created_at: this.clock.now(),
      status: 'active',
    };
    try {
      await insertDeployment(this.db, deployment);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('DEPLOYMENT_EXISTS', `Deployment ${d} is already registered for this platform.`);
      throw err;
    }
    return deployment;
  }

  /** A disabled deployment refuses logins and launches (LTI_DEPLOYMENT_DISABLED); enabling it restores them. */
  async setDeploymentStatus(platformId: string, deploymentRowId: string, status: Deployment['status']): Promise<Deployment> {
    const { deployments } = await this.get(platformId);
    const d = deployments.find((x) => x.id === deploymentRowId);
    if (!d) throw new AppError('NOT_FOUND', `Platform ${platformId} has no deployment ${deploymentRowId}.`);
    await setDeploymentStatus(this.db, d.id, status);
    return { ...d, status };
  }

  async listDeployments(platformId: string): Promise<Deployment[]> {
    await this.get(platformId);
    return listDeployments(this.db, platformId);
  }
}

/** The public view of a registration (CLI --json, API). */
export function platformJson({ platform, deployments }: PlatformWithDeployments): Record<string, unknown> {
  return {
    id: platform.id,
    name: platform.name,
    issuer: platform.issuer,
    clientId: platform.client_id,
    authUrl: platform.auth_url,
    tokenUrl: platform.token_url,
    tokenAudience: platform.token_audience,
    jwksUrl: platform.jwks_url,
    hasStaticKey: platform.public_jwk !== null,
    status: platform.status,
    gradePolicy: platform.grade_policy,
    allowMissingKid: platform.allow_missing_kid === 1,
    createdAt: new Date(platform.created_at).toISOString(),
    updatedAt: new Date(platform.updated_at).toISOString(),
    deployments: deployments.map(deploymentJson),
  };
}

export function deploymentJson(d: Deployment): Record<string, unknown> {
  return { id: d.id, deploymentId: d.deployment_id, name: d.name, createdAt: new Date(d.created_at).toISOString() };
}

function validationError(problems: string[], fields?: Partial<Record<keyof PlatformInput, string[]>>): AppError {
  return new AppError('VALIDATION_FAILED', problems.join('; '), { details: { problems, ...(fields ? { fields } : {}) } });
}

function text(value: string | undefined, label: string, max: number, problems: string[]): string {
  const v = (value ?? '').trim();
  if (!v) problems.push(`${label} is required`);
  else if (v.length > max) problems.push(`${label} must be at most ${max} characters`);
  return v;
}

function url(value: string | undefined, label: string, policy: RegistrationPolicy, problems: string[]): string {
  const v = (value ?? '').trim();
  if (!v) {
    problems.push(`${label} is required`);
    return v;
  }
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push(`${label} must be an http(s) URL`);
    else if (policy.requireHttps && u.protocol !== 'https:') problems.push(`${label} must use https`);
    if (u.username || u.password) problems.push(`${label} must not carry credentials`);
  } catch {
    problems.push(`${label} is not a URL: ${v}`);
  }
  return v;
}

function hostOf(u: string): string {
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}

async function parsePublicKey(text: string, problems: string[]): Promise<JWK | undefined> {
  const t = text.trim();
  try {
    if (t.startsWith('{')) {
      const jwk = JSON.parse(t) as JWK;
      if ('d' in jwk || 'p' in jwk || 'k' in jwk) {
        problems.push('the static key must be a public key; it contains private or symmetric key material');
        return undefined;
      }
      await importJWK(jwk, jwk.alg ?? 'RS256');
      return jwk;
    }
    if (t.includes('BEGIN PUBLIC KEY')) {
      return { ...(await exportJWK(await importSPKI(t, 'RS256', { extractable: true }))), alg: 'RS256', use: 'sig' };
    }
    problems.push('the static key must be a public JWK (JSON) or a PEM public key (BEGIN PUBLIC KEY)');
  } catch (err) {
    problems.push(`the static key cannot be read: ${(err as Error).message}`);
  }
  return undefined;
}
