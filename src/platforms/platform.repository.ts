import type { Kysely } from 'kysely';
import { PreparedQuery } from '../store/prepared.js';
import type { Database, Deployment, NewPlatform, Platform, PlatformUpdate } from '../store/tables.js';

// Read by every login and launch: compiled once (prepared.ts).
const platformById = new PreparedQuery('findPlatformById', (db, a: { id: string }) => db.selectFrom('platforms').selectAll().where('id', '=', a.id));
const platformByIssuerAndClient = new PreparedQuery('findPlatform', (db, a: { issuer: string; clientId: string }) =>
  db.selectFrom('platforms').selectAll().where('issuer', '=', a.issuer).where('client_id', '=', a.clientId),
);
const deploymentOf = new PreparedQuery('findDeployment', (db, a: { platformId: string; deploymentId: string }) =>
  db.selectFrom('deployments').selectAll().where('platform_id', '=', a.platformId).where('deployment_id', '=', a.deploymentId),
);

export async function insertPlatform(db: Kysely<Database>, platform: NewPlatform): Promise<void> {
  await db.insertInto('platforms').values(platform).execute();
}

export async function findPlatformById(db: Kysely<Database>, id: string): Promise<Platform | undefined> {
  if (id === DISPATCH_PLATFORM_ID || id === PREVIEW_PLATFORM_ID) return undefined;
  return await platformById.first(db, { id });
}

export async function findPlatformsByIssuer(db: Kysely<Database>, issuer: string): Promise<Platform[]> {
  return db.selectFrom('platforms').selectAll().where('issuer', '=', issuer).orderBy('created_at').execute();
}

export async function findPlatform(db: Kysely<Database>, issuer: string, clientId: string): Promise<Platform | undefined> {
  return await platformByIssuerAndClient.first(db, { issuer, clientId });
}

/**
 * The internal platform row that owns content-dispatch learners: never an LMS,
 * always disabled, without keys; hidden from platform lists and lookups by id.
 */
export const DISPATCH_PLATFORM_ID = 'plt_courseport_dispatch';

/** The internal platform row that owns the console's package previews: hidden the same way. */
export const PREVIEW_PLATFORM_ID = 'plt_courseport_preview';

export async function listPlatforms(db: Kysely<Database>): Promise<Platform[]> {
  return db.selectFrom('platforms').selectAll().where('id', 'not in', [DISPATCH_PLATFORM_ID, PREVIEW_PLATFORM_ID]).orderBy('created_at').execute();
}

export async function updatePlatform(db: Kysely<Database>, id: string, changes: PlatformUpdate): Promise<void> {
  await db.updateTable('platforms').set(changes).where('id', '=', id).execute();
}

export async function insertDeployment(db: Kysely<Database>, deployment: Deployment): Promise<void> {
  await db.insertInto('deployments').values(deployment).execute();
}

export async function findDeployment(db: Kysely<Database>, platformId: string, deploymentId: string): Promise<Deployment | undefined> {
  return await deploymentOf.first(db, { platformId, deploymentId });
}

export async function listDeployments(db: Kysely<Database>, platformId: string): Promise<Deployment[]> {
  return db.selectFrom('deployments').selectAll().where('platform_id', '=', platformId).orderBy('created_at').execute();
}

export async function setDeploymentStatus(db: Kysely<Database>, id: string, status: Deployment['status']): Promise<void> {
  await db.updateTable('deployments').set({ status }).where('id', '=', id).execute();
}

/**
 * Inside the launch transaction: the registration's last launch time, written at most once a
 * minute per registration (the condition keeps concurrent launches off the row lock).
 */
export async function touchPlatformLaunch(db: Kysely<Database>, id: string, now: number, everyMs = 60_000): Promise<void> {
  await db
    .updateTable('platforms')
    .set({ last_launch_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_launch_at', 'is', null), eb('last_launch_at', '<', now - everyMs)]))
    .execute();
}

/** The latest refused launch or login of a registration, for the admin console. */
export async function recordPlatformError(db: Kysely<Database>, id: string, error: string, now: number): Promise<void> {
  await db
    .updateTable('platforms')
    .set({ last_error: error.slice(0, 1024), last_error_at: now })
    .where('id', '=', id)
    .execute();
}

/** Issuer and auth URL of every active platform: the origins LMS pages may be framed by. */
export async function listActivePlatformOrigins(db: Kysely<Database>): Promise<{ issuer: string; auth_url: string }[]> {
  return db.selectFrom('platforms').select(['issuer', 'auth_url']).where('status', '=', 'active').execute();
}

/**
 * An internal platform row (content dispatch, console previews): disabled, keyless, never an
 * LMS; it owns users and links that do not come from a launch. Created by whichever process
 * needs it first.
 */
export async function ensureInternalPlatform(trx: Kysely<Database>, p: { id: string; name: string; kind: string }, now: number): Promise<void> {
  const urn = `urn:courseport:${p.kind}`;
  await trx
    .insertInto('platforms')
    .values({
      id: p.id,
      name: p.name,
      issuer: urn,
      client_id: `courseport-${p.kind}`,
      auth_url: urn,
      token_url: urn,
      token_audience: null,
      jwks_url: null,
      public_jwk: null,
      status: 'disabled',
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
