import type { Manifest, ManifestItem } from '../scorm/manifest/types.js';

export interface ScoEntry {
  readonly item: ManifestItem;
  readonly depth: number;
}

/** The launchable items of the default organization in document order, with their depth. */
export function scoEntries(manifest: Manifest): ScoEntry[] {
  const launchable = new Set(manifest.scos.map((s) => s.identifier));
  const org = manifest.organizations.find((o) => o.identifier === manifest.defaultOrganization);
  const out: ScoEntry[] = [];
  const walk = (items: readonly ManifestItem[], depth: number) => {
    for (const item of items) {
      if (launchable.has(item.identifier)) out.push({ item, depth });
      walk(item.children, depth + 1);
    }
  };
  if (org) walk(org.items, 0);
  // Defensive: every SCO sits in the default organization (the parser synthesises one when a manifest has none).
  if (out.length === 0) for (const item of manifest.scos) out.push({ item, depth: 0 });
  return out;
}
