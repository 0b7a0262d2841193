import type { Package, PackageVersion } from '../store/tables.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The public view of a package (CLI --json, API). */
export function packageJson(p: Package): Record<string, unknown> {
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    status: p.status,
    latestVersionId: p.latest_version_id,
    createdAt: iso(p.created_at),
    updatedAt: iso(p.updated_at),
  };
}

export function versionJson(v: PackageVersion): Record<string, unknown> {
  return {
    id: v.id,
    packageId: v.package_id,
    version: v.version,
    scormVersion: v.scorm_version,
    title: v.title,
    scoCount: v.sco_count,
    scored: v.scored === 1,
    fileCount: v.file_count,
    totalBytes: v.total_bytes,
    sourceName: v.source_name,
    createdAt: iso(v.created_at),
  };
}
