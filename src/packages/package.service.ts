import type { Kysely } from 'kysely';
import type { ContentStore } from '../content/content-store.js';
import { AppError } from '../errors/app-error.js';
import { isUniqueViolation } from '../store/database.js';
import {
  findPackage,
  findPackageVersion,
  insertPackage,
  insertPackageVersion,
  listPackages,
  listPackageVersions,
  maxVersionNumber,
  setLatestVersion,
  setPackageStatus,
} from './package.repository.js';
import type { Database, Package, PackageVersion } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { parseManifest } from '../scorm/manifest/parse.js';
import type { Manifest } from '../scorm/manifest/types.js';
import type { ExtractLimits, ExtractProgress } from '../util/safe-zip/types.js';
import { extractPackage } from './package-archive.js';
import { checkTitle, fitTitle } from './titles.js';

export type ImportPhase = 'extract' | 'validate' | 'store' | 'done';

export interface ImportProgress {
  readonly phase: ImportPhase;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly entriesDone: number;
  readonly entriesTotal: number;
}

export interface ImportOptions {
  /** Overrides the manifest's title. */
  readonly title?: string | undefined;
  /** Import as a new version of this package instead of a new package. */
  readonly packageId?: string | undefined;
  /** The uploaded file's name, kept for the catalogue. */
  readonly sourceName?: string | undefined;
}

export interface ImportResult {
  readonly package: Package;
  readonly version: PackageVersion;
  readonly manifest: Manifest;
}

const VERSION_INSERT_TRIES = 3;

/**
 * SCORM package import: extract to a staging directory with every safety limit, parse
 * and check the manifest, then commit the files and the catalogue rows. Any failure
 * discards the staging directory, so a refused package leaves nothing stored.
 */
export class PackageService {
  /** Package versions never change once imported, so they are safe to cache in any process. */
  private readonly versions = new Map<string, { version: PackageVersion; manifest: Manifest }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: ContentStore,
    private readonly clock: Clock,
    private readonly limits: ExtractLimits,
  ) {}

  async importPackage(zipPath: string, options: ImportOptions = {}, onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
    const existing = options.packageId ? await findPackage(this.db, options.packageId) : undefined;
    if (options.packageId && !existing) throw new AppError('PACKAGE_NOT_FOUND', `No package with id ${options.packageId}.`);
    const title = options.title?.trim() ? checkTitle(options.title) : undefined;

    const staging = await this.store.createStaging();
    let committedKey: string | undefined;
    try {
      const report = (phase: ImportPhase, p?: ExtractProgress) =>
        onProgress?.({
          phase,
          bytesDone: p?.bytesDone ?? 0,
          bytesTotal: p?.bytesTotal ?? 0,
          entriesDone: p?.entriesDone ?? 0,
          entriesTotal: p?.entriesTotal ?? 0,
        });
      const extracted = await extractPackage(zipPath, staging, this.limits, (p) => report('extract', p));
      report('validate');
      const manifest = parseManifest(extracted.manifestXml);
      checkReferencedFiles(manifest, extracted.files);

      report('store');
      const versionId = newId('pv');
      await this.store.commit(staging, versionId);
      committedKey = versionId;
      const result = await this.insertVersion(existing, versionId, manifest, {
        title,
        sourceName: options.sourceName,
        files: extracted.files.length,
        bytes: extracted.totalBytes,
      });
      report('done');
      return result;
    } catch (err) {
      await this.store.discard(committedKey ?? staging);
      throw err;
    }
  }

  /** Catalogue rows in one transaction; the version number is retried if a concurrent import took it. */
  private async insertVersion(
    existing: Package | undefined,
    versionId: string,
    manifest: Manifest,
    meta: { title: string | undefined; sourceName: string | undefined; files: number; bytes: number },
  ): Promise<ImportResult> {
    const now = this.clock.now();
    const versionTitle = meta.title ?? fitTitle(manifest.title);
    const pkg: Package = existing ?? {
      id: newId('pkg'),
      title: versionTitle,
      description: null,
      latest_version_id: null,
      status: 'active',
      created_at: now,
      updated_at: now,
    };
    // A new version keeps the package's title unless a title was given.
    const packageTitle = existing && !meta.title ? existing.title : versionTitle;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          if (!existing) await insertPackage(trx, pkg);
          const version: PackageVersion = {
            id: versionId,
            package_id: pkg.id,
            version: (await maxVersionNumber(trx, pkg.id)) + 1,
            scorm_version: manifest.version,
            title: versionTitle,
            manifest: JSON.stringify(manifest),
            storage_key: versionId,
            file_count: meta.files,
            total_bytes: meta.bytes,
            sco_count: manifest.scos.length,
            scored: manifest.scored ? 1 : 0,
            source_name: meta.sourceName?.slice(0, 1024) ?? null,
            created_at: now,
          };
          await insertPackageVersion(trx, version);
          await setLatestVersion(trx, pkg.id, version.id, packageTitle, now);
          return { package: { ...pkg, title: packageTitle, latest_version_id: version.id, updated_at: now }, version, manifest };
        });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= VERSION_INSERT_TRIES) throw err;
      }
    }
  }

  /**
   * Archives or restores a package. An archived package leaves the deep linking catalogue
   * and cannot be bound to a new resource link; links already bound to it, and their
   * attempts, keep playing.
   */
  async setStatus(id: string, status: Package['status']): Promise<Package> {
    const pkg = await findPackage(this.db, id);
    if (!pkg) throw new AppError('PACKAGE_NOT_FOUND', `No package with id ${id}.`);
    const now = this.clock.now();
    await setPackageStatus(this.db, id, status, now);
    return { ...pkg, status, updated_at: now };
  }

  list(): Promise<Package[]> {
    return listPackages(this.db);
  }

  async get(id: string): Promise<{ package: Package; versions: PackageVersion[] }> {
    const pkg = await findPackage(this.db, id);
    if (!pkg) throw new AppError('PACKAGE_NOT_FOUND', `No package with id ${id}.`);
    return { package: pkg, versions: await listPackageVersions(this.db, id) };
  }

  /** A version with its parsed manifest, read once per process. */
  async version(id: string): Promise<{ version: PackageVersion; manifest: Manifest }> {
    const cached = this.versions.get(id);
    if (cached) return cached;
    const version = await findPackageVersion(this.db, id);
    if (!version) throw new AppError('PACKAGE_NOT_FOUND', `No package version with id ${id}.`);
    const entry = { version, manifest: JSON.parse(version.manifest) as Manifest };
    if (this.versions.size >= 500) this.versions.delete(this.versions.keys().next().value as string);
    this.versions.set(id, entry);
    return entry;
  }
}

function checkReferencedFiles(manifest: Manifest, extractedFiles: readonly string[]): void {
  const files = new Set(extractedFiles);
  const missing = manifest.referencedFiles.filter((f) => !files.has(f));
  if (missing.length === 0) return;
  const lower = new Set(extractedFiles.map((f) => f.toLowerCase()));
  const caseOnly = missing.some((m) => lower.has(m.toLowerCase()));
  throw new AppError(
    'PACKAGE_MISSING_FILE',
    `The manifest references ${missing.length} file(s) the package does not contain: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` +
      (caseOnly ? ' (some differ only in letter case, which breaks on case-sensitive servers)' : ''),
    { details: { missing: missing.slice(0, 100) } },
  );
}
