import { unsupported } from './errors.js';
import { child, collapse, familyOf, sameName } from './lookup.js';
import type { ScormVersion } from './types.js';
import type { XmlDocument, XmlElement } from './xml.js';

const SCHEMA_VERSIONS: Readonly<Record<string, ScormVersion>> = {
  '1.2': '1.2',
  'cam 1.3': '2004-2nd',
  '2004 2nd edition': '2004-2nd',
  '2004 3rd edition': '2004-3rd',
  '2004 4th edition': '2004-4th',
};

/** The SCORM edition: the manifest's `schemaversion` when known, else inferred from the namespaces declared. */
export function detectVersion(manifest: XmlElement, doc: XmlDocument): ScormVersion {
  const schemaVersion = child(child(manifest, 'cp', 'metadata'), 'cp', 'schemaversion')?.text;
  if (schemaVersion !== undefined) {
    const known = SCHEMA_VERSIONS[collapse(schemaVersion).toLowerCase()];
    if (known !== undefined) return known;
  }
  // No (or an unknown) schemaversion: fall back on the namespaces declared.
  const declared = [...doc.namespaces];
  if (declared.some((uri) => /\/adlcp_rootv1p2\/?$/i.test(uri.trim()))) return '1.2';
  const is2004 = declared.some((uri) => {
    const family = familyOf(uri);
    return family === 'adlseq' || family === 'adlnav' || family === 'imsss' || /\/adlcp_v1p3\/?$/i.test(uri.trim());
  });
  if (!is2004) {
    throw unsupported(
      schemaVersion === undefined
        ? 'Not a SCORM 1.2 or 2004 package: no schemaversion and no SCORM namespaces'
        : `Unsupported SCORM version "${collapse(schemaVersion)}"`,
      schemaVersion === undefined ? {} : { schemaversion: collapse(schemaVersion) },
    );
  }
  // 2nd, 3rd and 4th editions share their namespaces; 4th-edition-only features or a schema
  // location naming the 4th edition say 4th, otherwise assume the far more common 3rd.
  const schemaLocation = manifest.attrs.find((a) => sameName(a.local, 'schemaLocation'))?.value ?? '';
  if (/4th/i.test(schemaLocation) || usesFourthEditionFeatures(manifest)) return '2004-4th';
  return '2004-3rd';
}

function usesFourthEditionFeatures(el: XmlElement): boolean {
  const family = familyOf(el.ns);
  if (family === 'adlcp' && sameName(el.local, 'completionThreshold') && el.attrs.length > 0) return true;
  if (family === 'adlcp' && (sameName(el.local, 'data') || sameName(el.local, 'map'))) return true;
  if (family === 'adlseq' && (sameName(el.local, 'objectives') || sameName(el.local, 'mapInfo'))) return true;
  return el.children.some(usesFourthEditionFeatures);
}
