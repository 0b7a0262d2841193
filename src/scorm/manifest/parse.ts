import { invalid, unsupported } from './errors.js';
import { parseItem, type ItemContext } from './items.js';
import { attr, child, children, collapse, is, nonEmpty, sameName } from './lookup.js';
import { toUrl } from './resolve.js';
import { parseResources } from './resources.js';
import type { Manifest, ManifestItem, ManifestOrganization } from './types.js';
import { detectVersion } from './version.js';
import { readXml, type XmlElement } from './xml.js';

/** Organization identifier used when a manifest has no organization and one is synthesised. */
export const SYNTHESIZED_ORGANIZATION_ID = 'courseport-synthesized-organization';

function collectLaunchable(items: readonly ManifestItem[], out: ManifestItem[]): ManifestItem[] {
  for (const item of items) {
    // Only leaves are launched (SCORM forbids resources on items with children).
    if (item.children.length > 0) collectLaunchable(item.children, out);
    else if (item.launchUrl !== undefined) out.push(item);
  }
  return out;
}

function lomTitle(manifest: XmlElement): string | undefined {
  const metadata = child(manifest, 'cp', 'metadata');
  const lom = metadata?.children.find((c) => sameName(c.local, 'lom'));
  const general = lom?.children.find((c) => sameName(c.local, 'general'));
  const title = general?.children.find((c) => sameName(c.local, 'title'));
  if (title === undefined) return undefined;
  const str = title.children.find((c) => sameName(c.local, 'langstring') || sameName(c.local, 'string'));
  return nonEmpty(collapse((str ?? title).text));
}

/**
 * Parses an `imsmanifest.xml` (SCORM Content Aggregation Model). Pure: it takes the XML text
 * and returns a plain description of the package; reading the archive and checking that the
 * referenced files exist are the importer's job (see `referencedFiles`).
 *
 * Not supported: nested sub-manifests (`<manifest>` inside `<manifest>`) are ignored, and an
 * item that points at one is refused as unsupported; external metadata (`adlcp:location`) is
 * not read; sequencing is read only for the values the runtime needs (scaled passing score,
 * attempt duration limit).
 *
 * Throws AppError PACKAGE_INVALID_MANIFEST for malformed, hostile or inconsistent manifests
 * and PACKAGE_UNSUPPORTED for versions or shapes we don't play.
 */
export function parseManifest(xml: string): Manifest {
  const doc = readXml(xml);
  const manifestEl = doc.roots.length === 1 ? doc.roots[0] : undefined;
  if (manifestEl === undefined || !is(manifestEl, 'cp', 'manifest')) {
    throw invalid('The root element of imsmanifest.xml must be a single <manifest>');
  }
  const version = detectVersion(manifestEl, doc);

  const identifier = nonEmpty(attr(manifestEl, 'identifier'));
  if (identifier === undefined) throw invalid('The manifest has no identifier');

  const referenced = new Set<string>();
  const resources = parseResources(manifestEl, referenced);

  // Nested sub-manifests (IMS CP aggregation) are ignored; we note their identifiers only to
  // say "unsupported" rather than "missing" when an item points at one.
  const subManifests = new Set(
    children(manifestEl, 'cp', 'manifest')
      .map((m) => nonEmpty(attr(m, 'identifier')))
      .filter((id): id is string => id !== undefined),
  );
  const sequencingCollection = new Map<string, XmlElement>();
  for (const seq of children(child(manifestEl, 'imsss', 'sequencingCollection'), 'imsss', 'sequencing')) {
    const id = nonEmpty(attr(seq, 'ID'));
    if (id !== undefined) sequencingCollection.set(id, seq);
  }

  const organizationsEl = child(manifestEl, 'cp', 'organizations');
  const parsedOrganizations = children(organizationsEl, 'cp', 'organization').map((orgEl) => {
    const orgId = nonEmpty(attr(orgEl, 'identifier'));
    if (orgId === undefined) throw invalid('An organization has no identifier');
    const ctx: ItemContext = { version, resources, subManifests, sequencingCollection, seen: new Set(), organization: orgId };
    const explicitTitle = nonEmpty(collapse(child(orgEl, 'cp', 'title')?.text ?? ''));
    const organization: ManifestOrganization = {
      identifier: orgId,
      title: explicitTitle ?? orgId,
      items: children(orgEl, 'cp', 'item').map((itemEl) => parseItem(itemEl, ctx)),
    };
    return { organization, explicitTitle };
  });
  const organizations = parsedOrganizations.map((o) => o.organization);

  const packageTitle = lomTitle(manifestEl);
  let defaultOrg: ManifestOrganization;
  let title: string;
  const first = parsedOrganizations[0];
  if (first !== undefined) {
    // `default` naming no organization is a common authoring slip: use the first one.
    const named = organizationsEl === undefined ? undefined : nonEmpty(attr(organizationsEl, 'default'));
    const chosen = parsedOrganizations.find((o) => o.organization.identifier === named) ?? first;
    defaultOrg = chosen.organization;
    title = chosen.explicitTitle ?? packageTitle ?? identifier;
  } else {
    // Some packages ship resources only. With exactly one SCO the intent is clear.
    const scoResources = [...resources.values()].filter((r) => r.resource.scormType === 'sco' && r.launch !== undefined);
    const only = scoResources.length === 1 ? scoResources[0] : undefined;
    if (only?.launch === undefined) {
      throw invalid('The manifest has no organization, and not exactly one SCO resource to launch without one', {
        scoResources: scoResources.length,
      });
    }
    title = packageTitle ?? identifier;
    defaultOrg = {
      identifier: SYNTHESIZED_ORGANIZATION_ID,
      title,
      items: [
        {
          identifier: only.resource.identifier,
          title: packageTitle ?? only.resource.identifier,
          isVisible: true,
          resourceId: only.resource.identifier,
          scormType: 'sco',
          launchUrl: toUrl(only.launch),
          children: [],
        },
      ],
    };
    organizations.push(defaultOrg);
  }

  const scos = collectLaunchable(defaultOrg.items, []);
  if (scos.length === 0) {
    throw unsupported(`The default organization "${defaultOrg.identifier}" has nothing to launch (no SCO or asset with an href)`, {
      organization: defaultOrg.identifier,
    });
  }

  return {
    version,
    identifier,
    title,
    defaultOrganization: defaultOrg.identifier,
    organizations,
    resources: [...resources.values()].map((r) => r.resource),
    scos,
    scored: scos.some((s) => s.masteryScore !== undefined || s.scaledPassingScore !== undefined),
    referencedFiles: [...referenced],
  };
}
