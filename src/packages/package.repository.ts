import type { Kysely } from 'kysely';
import { PREVIEW_PLATFORM_ID } from '../platforms/platform.repository.js';
import type { Database, Package, PackageVersion } from '../store/tables.js';

export async function insertPackage(db: Kysely<Database>, p: Package): Promise<void> {
  await db.insertInto('packages').values(p).execute();
}

export async function findPackage(db: Kysely<Database>, id: string): Promise<Package | undefined> {
  return db.selectFrom('packages').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listPackages(db: Kysely<Database>): Promise<Package[]> {
  return db.selectFrom('packages').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
}

export async function insertPackageVersion(db: Kysely<Database>, v: PackageVersion): Promise<void> {
  await db.insertInto('package_versions').values(v).execute();
}

export async function setLatestVersion(db: Kysely<Database>, packageId: string, versionId: string, title: string, now: number): Promise<void> {
  await db.updateTable('packages').set({ latest_version_id: versionId, title, updated_at: now }).where('id', '=', packageId).execute();
}

export async function setPackageStatus(db: Kysely<Database>, id: string, status: Package['status'], now: number): Promise<void> {
  await db.updateTable('packages').set({ status, updated_at: now }).where('id', '=', id).execute();
}

/** Per package: how many versions and resource links it has (admin console list). */
export async function packageUsage(db: Kysely<Database>): Promise<Map<string, { versions: number; links: number }>> {
  const versions = await db
    .selectFrom('package_versions')
    .select(['package_id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('package_id')
    .execute();
  const links = await db
    .selectFrom('resource_links')
    .select(['package_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('package_id', 'is not', null)
    .where('platform_id', '!=', PREVIEW_PLATFORM_ID)
    .groupBy('package_id')
    .execute();
  const out = new Map<string, { versions: number; links: number }>();
  for (const v of versions) out.set(v.package_id, { versions: Number(v.n), links: 0 });
  for (const l of links) if (l.package_id) out.set(l.package_id, { versions: out.get(l.package_id)?.versions ?? 0, links: Number(l.n) });
  return out;
}

export async function findPackageVersion(db: Kysely<Database>, id: string): Promise<PackageVersion | undefined> {
  return db.selectFrom('package_versions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listPackageVersions(db: Kysely<Database>, packageId: string): Promise<PackageVersion[]> {
  return db.selectFrom('package_versions').selectAll().where('package_id', '=', packageId).orderBy('version', 'desc').execute();
}

export async function maxVersionNumber(db: Kysely<Database>, packageId: string): Promise<number> {
  const row = await db
    .selectFrom('package_versions')
    .select((eb) => eb.fn.max<number>('version').as('v'))
    .where('package_id', '=', packageId)
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

export interface CatalogueEntry {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly scormVersion: string;
  readonly scored: boolean;
  readonly scoCount: number;
}

/** Active packages with their latest version, by title: what instructors may choose from. */
export async function listCatalogue(db: Kysely<Database>): Promise<CatalogueEntry[]> {
  const rows = await db
    .selectFrom('packages as p')
    .innerJoin('package_versions as v', 'v.id', 'p.latest_version_id')
    .select([
      'p.id as id',
      'p.title as title',
      'p.description as description',
      'v.scorm_version as scormVersion',
      'v.scored as scored',
      'v.sco_count as scoCount',
    ])
    .where('p.status', '=', 'active')
    .orderBy('p.title')
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({ ...r, scored: r.scored === 1 }));
}
