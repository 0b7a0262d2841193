import { invalid } from './errors.js';
import { attr, children, extAttr, nonEmpty } from './lookup.js';
import { baseToString, resolveBase, resolveRef, ROOT, toFilePath, type Resolved } from './resolve.js';
import type { ManifestResource } from './types.js';
import { xmlBaseOf, type XmlElement } from './xml.js';

export interface ParsedResource {
  readonly resource: ManifestResource;
  /** The resolved href, when the resource has one. */
  readonly launch: Resolved | undefined;
}

function scormTypeOf(value: string | undefined): 'sco' | 'asset' | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'sco' || v === 'asset' ? v : undefined;
}

/**
 * The manifest's resources by identifier, their hrefs resolved against xml:base; adds every
 * package-relative file they name to `referencedFiles`.
 */
export function parseResources(manifest: XmlElement, referencedFiles: Set<string>): Map<string, ParsedResource> {
  const resources = new Map<string, ParsedResource>();
  const manifestBase = resolveBase(ROOT, xmlBaseOf(manifest));
  for (const resourcesEl of children(manifest, 'cp', 'resources')) {
    const resourcesBase = resolveBase(manifestBase, xmlBaseOf(resourcesEl));
    for (const el of children(resourcesEl, 'cp', 'resource')) {
      const identifier = nonEmpty(attr(el, 'identifier'));
      if (identifier === undefined) throw invalid('A resource has no identifier');
      if (resources.has(identifier)) {
        throw invalid(`Two resources share the identifier "${identifier}"`, { identifier });
      }
      const base = resolveBase(resourcesBase, xmlBaseOf(el));
      const href = nonEmpty(attr(el, 'href'));
      let launch: Resolved | undefined;
      if (href !== undefined) {
        launch = resolveRef(base, href, href);
        if (launch.kind === 'path' && launch.segments.length === 0) {
          throw invalid(`Resource "${identifier}" has an href that names no file`, { identifier, href });
        }
        const path = toFilePath(launch);
        if (path !== undefined) referencedFiles.add(path);
      }
      const files: string[] = [];
      for (const fileEl of children(el, 'cp', 'file')) {
        const fileHref = nonEmpty(attr(fileEl, 'href'));
        if (fileHref === undefined) continue;
        files.push(fileHref);
        const path = toFilePath(resolveRef(base, fileHref, fileHref));
        if (path !== undefined) referencedFiles.add(path);
      }
      const dependencies = children(el, 'cp', 'dependency')
        .map((d) => nonEmpty(attr(d, 'identifierref')))
        .filter((d): d is string => d !== undefined);
      const resource: ManifestResource = {
        identifier,
        type: attr(el, 'type')?.trim() ?? '',
        base: baseToString(base),
        files,
        dependencies,
      };
      const scormType = scormTypeOf(extAttr(el, 'adlcp', 'scormType'));
      if (scormType !== undefined) resource.scormType = scormType;
      if (href !== undefined) resource.href = href;
      resources.set(identifier, { resource, launch });
    }
  }
  return resources;
}
