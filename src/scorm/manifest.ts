import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { describeXmlError } from './xml-errors.js';
import { AppError } from '../errors/app-error.js';

/**
 * SCORM `imsmanifest.xml` parser (Content Aggregation Model). Pure: it takes the XML text and
 * returns a plain description of the package; reading the archive and checking that the
 * referenced files exist are the importer's job (see `referencedFiles`).
 *
 * Safety: DOCTYPE and ENTITY declarations are refused before parsing and the parser never
 * expands entities; only the five predefined XML entities and numeric character references
 * are decoded, by this module, after parsing.
 *
 * Namespaces: prefixes are resolved from the `xmlns` declarations in scope, so `adlcp:`,
 * `imsss:`, `adlseq:`, `adlnav:` (or any other prefix bound to those namespaces) all work.
 * Matching is lenient in one way: an element or attribute whose prefix is undeclared, or bound
 * to a namespace we don't know, still matches by its local name (case-insensitively), because
 * real packages get their declarations wrong; a name bound to a *different* known SCORM
 * namespace never matches.
 *
 * Not supported: nested sub-manifests (`<manifest>` inside `<manifest>`) are ignored, and an
 * item that points at one is refused as unsupported; external metadata (`adlcp:location`) is
 * not read; sequencing is read only for the values the runtime needs (scaled passing score,
 * attempt duration limit).
 */

export type ScormVersion = '1.2' | '2004-2nd' | '2004-3rd' | '2004-4th';

export interface CompletionThreshold {
  minProgressMeasure: number;
  completedByMeasure: boolean;
  progressWeight?: number;
}

export interface ManifestItem {
  identifier: string;
  title: string;
  isVisible: boolean;
  /** The item's `identifierref`. */
  resourceId?: string;
  /** From the referenced resource (`adlcp:scormtype` / `adlcp:scormType`). */
  scormType?: 'sco' | 'asset';
  /**
   * Package-relative URL (or an absolute http(s) URL when the resource is remote): xml:base of
   * manifest, resources and resource, then the resource href, then the item `parameters`.
   */
  launchUrl?: string;
  /** The item's `parameters` attribute as written (trimmed). */
  parameters?: string;
  /** SCORM 1.2 `adlcp:masteryscore` (0..100). */
  masteryScore?: number;
  /** `adlcp:datafromlms` (1.2) / `adlcp:dataFromLMS` (2004). */
  dataFromLMS?: string;
  /** 1.2 `adlcp:maxtimeallowed`; 2004 `imsss:limitConditions@attemptAbsoluteDurationLimit`. */
  maxTimeAllowed?: string;
  /** `adlcp:timelimitaction` / `adlcp:timeLimitAction`. */
  timeLimitAction?: string;
  /** 2004 `adlcp:completionThreshold` (element text in 2nd/3rd ed., attributes in 4th ed.). */
  completionThreshold?: CompletionThreshold;
  /** 2004 primary objective `imsss:minNormalizedMeasure` when `satisfiedByMeasure="true"`. */
  scaledPassingScore?: number;
  /** 2004 objective ids (`objectiveID` of the primary and other objectives), given to the SCO as cmi.objectives.n.id. */
  objectiveIds?: string[];
  children: ManifestItem[];
}

export interface ManifestResource {
  identifier: string;
  type: string;
  scormType?: 'sco' | 'asset';
  /** The `href` attribute as written in the manifest (entities decoded, trimmed). */
  href?: string;
  /**
   * The effective base the href and file hrefs are resolved against: the xml:base values of
   * manifest, resources and resource combined; '' for the package root, otherwise a
   * package-relative directory ending in '/' or an absolute http(s) URL.
   */
  base: string;
  /** File hrefs as written. */
  files: string[];
  /** `identifierref`s of the resource's dependencies, as written. */
  dependencies: string[];
}

export interface ManifestOrganization {
  identifier: string;
  title: string;
  items: ManifestItem[];
}

export interface Manifest {
  version: ScormVersion;
  identifier: string;
  /** The default organization's title, else the manifest's LOM title, else its identifier. */
  title: string;
  /** The identifier of the organization actually used. */
  defaultOrganization: string;
  organizations: ManifestOrganization[];
  resources: ManifestResource[];
  /** Launchable leaf items (SCOs and assets with a launchUrl) of the default organization, depth-first. */
  scos: ManifestItem[];
  /**
   * True when any launchable item carries a mastery score (1.2) or a scaled passing score (2004).
   * A conservative heuristic: a SCO can still report a score without either, and one with a
   * passing score may never report a score; use it only for defaults (e.g. whether to offer a
   * grade line item), never to decide what the runtime accepts.
   */
  scored: boolean;
  /**
   * Every package-relative file the manifest needs (resource hrefs and file hrefs, resolved with
   * xml:base, query and fragment stripped, percent-decoded, normalized posix, no leading './'),
   * deduplicated in document order. Absolute http(s) URLs are left out.
   */
  referencedFiles: string[];
}

/** Organization identifier used when a manifest has no organization and one is synthesised. */
export const SYNTHESIZED_ORGANIZATION_ID = 'courseport-synthesized-organization';

/** Namespace URIs of the SCORM bindings (documentation and the patterns below). */
export const SCORM_NAMESPACE = {
  IMSCP_1_1_2: 'http://www.imsproject.org/xsd/imscp_rootv1p1p2',
  IMSCP_1_1_4: 'http://www.imsglobal.org/xsd/imscp_v1p1',
  ADLCP_1_2: 'http://www.adlnet.org/xsd/adlcp_rootv1p2',
  ADLCP_2004: 'http://www.adlnet.org/xsd/adlcp_v1p3',
  ADLSEQ_2004: 'http://www.adlnet.org/xsd/adlseq_v1p3',
  ADLNAV_2004: 'http://www.adlnet.org/xsd/adlnav_v1p3',
  IMSSS: 'http://www.imsglobal.org/xsd/imsss',
  XML: 'http://www.w3.org/XML/1998/namespace',
} as const;

// --------------------------------------------------------------------------------------------
// Errors
// --------------------------------------------------------------------------------------------

function invalid(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('PACKAGE_INVALID_MANIFEST', message, { details: { reason: message, ...details } });
}

function unsupported(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('PACKAGE_UNSUPPORTED', message, { details: { reason: message, ...details } });
}

// --------------------------------------------------------------------------------------------
// XML: a small namespace-aware element tree built from fast-xml-parser's ordered output
// --------------------------------------------------------------------------------------------

type NsFamily = 'cp' | 'adlcp' | 'imsss' | 'adlseq' | 'adlnav' | 'xml';

const FAMILY_PATTERNS: readonly (readonly [NsFamily, RegExp])[] = [
  ['cp', /\/imscp_(?:rootv1p1p2|v1p1)\/?$/i],
  ['adlcp', /\/adlcp_(?:rootv1p2|v1p3)\/?$/i],
  ['adlseq', /\/adlseq_v1p3\/?$/i],
  ['adlnav', /\/adlnav_v1p3\/?$/i],
  ['imsss', /\/xsd\/imsss\/?$/i],
];
const EXTENSION_FAMILIES: ReadonlySet<NsFamily> = new Set(['adlcp', 'imsss', 'adlseq', 'adlnav']);

function familyOf(uri: string | undefined): NsFamily | undefined {
  if (uri === undefined) return undefined;
  if (uri === SCORM_NAMESPACE.XML) return 'xml';
  for (const [family, pattern] of FAMILY_PATTERNS) if (pattern.test(uri.trim())) return family;
  return undefined;
}

interface XmlAttribute {
  readonly prefix: string | undefined;
  readonly local: string;
  readonly ns: string | undefined;
  readonly value: string;
}

interface XmlElement {
  readonly local: string;
  readonly ns: string | undefined;
  readonly attrs: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Direct text content (entities decoded, CDATA verbatim), pieces joined and trimmed. */
  readonly text: string;
}

interface XmlDocument {
  readonly roots: readonly XmlElement[];
  /** Every namespace URI declared anywhere in the document. */
  readonly namespaces: ReadonlySet<string>;
}

const TEXT_KEY = '#text';
const CDATA_KEY = '#cdata';
const ATTRS_KEY = ':@';

const PARSER_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Keep whitespace: text split by comments or CDATA must not glue together; we trim ourselves.
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: CDATA_KEY,
  commentPropName: false,
} satisfies X2jOptions;

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the predefined XML entities and numeric character references; leaves anything else as is. */
function decodeXmlText(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return PREDEFINED_ENTITIES[body] ?? whole;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function splitQName(qname: string): { prefix: string | undefined; local: string } {
  const colon = qname.indexOf(':');
  return colon < 0 ? { prefix: undefined, local: qname } : { prefix: qname.slice(0, colon), local: qname.slice(colon + 1) };
}

function textOf(nodes: unknown): string {
  if (!Array.isArray(nodes)) return '';
  return nodes
    .map((node) => (isRecord(node) && typeof node[TEXT_KEY] === 'string' ? node[TEXT_KEY] : ''))
    .join('');
}

function buildElements(nodes: unknown, scope: ReadonlyMap<string, string>, namespaces: Set<string>): { elements: XmlElement[]; text: string } {
  const elements: XmlElement[] = [];
  const text: string[] = [];
  if (!Array.isArray(nodes)) return { elements, text: '' };
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    if (typeof node[TEXT_KEY] === 'string') {
      text.push(decodeXmlText(node[TEXT_KEY]));
      continue;
    }
    if (CDATA_KEY in node) {
      text.push(textOf(node[CDATA_KEY]));
      continue;
    }
    const tag = Object.keys(node).find((key) => key !== ATTRS_KEY);
    if (tag === undefined) continue;
    const rawAttrs = isRecord(node[ATTRS_KEY]) ? node[ATTRS_KEY] : {};
    const attrEntries = Object.entries(rawAttrs).filter((entry): entry is [string, string] => typeof entry[1] === 'string');

    let inner: Map<string, string> | undefined;
    for (const [name, value] of attrEntries) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        inner ??= new Map(scope);
        const uri = decodeXmlText(value).trim();
        inner.set(name === 'xmlns' ? '' : name.slice('xmlns:'.length), uri);
        if (uri !== '') namespaces.add(uri);
      }
    }
    const elementScope = inner ?? scope;
    const attrs: XmlAttribute[] = [];
    for (const [name, value] of attrEntries) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const { prefix, local } = splitQName(name);
      const ns = prefix === undefined ? undefined : prefix === 'xml' ? SCORM_NAMESPACE.XML : elementScope.get(prefix);
      attrs.push({ prefix, local, ns, value: decodeXmlText(value) });
    }
    const { prefix, local } = splitQName(tag);
    const nsUri = elementScope.get(prefix ?? '');
    const content = buildElements(node[tag], elementScope, namespaces);
    elements.push({
      local,
      ns: nsUri === '' ? undefined : nsUri,
      attrs,
      children: content.elements,
      text: content.text,
    });
  }
  return { elements, text: text.join('').trim() };
}

function readXml(xml: string): XmlDocument {
  const source = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  // Refuse DTDs outright (billion laughs, external entities): a manifest never needs one.
  if (/<!DOCTYPE/i.test(source) || /<!ENTITY/i.test(source)) {
    throw invalid('DOCTYPE and ENTITY declarations are not allowed in imsmanifest.xml');
  }
  const validation = XMLValidator.validate(source);
  if (validation !== true) {
    const where = describeXmlError(validation.err, source);
    throw invalid(`imsmanifest.xml is not well-formed XML: line ${where.line}: ${where.text}.`, { reason: where.text, line: where.line, column: where.column });
  }
  let parsed: unknown;
  try {
    parsed = new XMLParser(PARSER_OPTIONS).parse(source);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AppError('PACKAGE_INVALID_MANIFEST', `imsmanifest.xml could not be parsed: ${reason}`, {
      details: { reason },
      cause: err,
    });
  }
  const namespaces = new Set<string>();
  const { elements } = buildElements(parsed, new Map(), namespaces);
  return { roots: elements, namespaces };
}

// --------------------------------------------------------------------------------------------
// Element and attribute lookup by (namespace family, local name)
// --------------------------------------------------------------------------------------------

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** True when the element is `family:local`, leniently (see the module comment). */
function is(el: XmlElement, family: NsFamily, local: string): boolean {
  if (!sameName(el.local, local)) return false;
  const actual = familyOf(el.ns);
  return actual === family || actual === undefined || !EXTENSION_FAMILIES.has(actual);
}

function child(el: XmlElement | undefined, family: NsFamily, local: string): XmlElement | undefined {
  return el?.children.find((c) => is(c, family, local));
}

function children(el: XmlElement | undefined, family: NsFamily, local: string): XmlElement[] {
  return el === undefined ? [] : el.children.filter((c) => is(c, family, local));
}

/** An unprefixed attribute (the IMS CP ones: identifier, href, ...). */
function attr(el: XmlElement, local: string): string | undefined {
  return el.attrs.find((a) => a.prefix === undefined && sameName(a.local, local))?.value;
}

/** An extension attribute: `family:local` first, then any unknown prefix, then unprefixed. */
function extAttr(el: XmlElement, family: NsFamily, local: string): string | undefined {
  let best: { rank: number; value: string } | undefined;
  for (const a of el.attrs) {
    if (!sameName(a.local, local)) continue;
    const actual = familyOf(a.ns);
    let rank: number;
    if (a.prefix === undefined) rank = 2;
    else if (actual === family) rank = 0;
    else if (actual === undefined) rank = 1;
    else continue;
    if (best === undefined || rank < best.rank) best = { rank, value: a.value };
  }
  return best?.value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// --------------------------------------------------------------------------------------------
// Version detection
// --------------------------------------------------------------------------------------------

const SCHEMA_VERSIONS: Readonly<Record<string, ScormVersion>> = {
  '1.2': '1.2',
  'cam 1.3': '2004-2nd',
  '2004 2nd edition': '2004-2nd',
  '2004 3rd edition': '2004-3rd',
  '2004 4th edition': '2004-4th',
};

function detectVersion(manifest: XmlElement, doc: XmlDocument): ScormVersion {
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

// --------------------------------------------------------------------------------------------
// Package-relative references (xml:base, href) without ever leaving the package root
// --------------------------------------------------------------------------------------------

interface Segment {
  /** As written (percent-encoding kept). */
  readonly raw: string;
  readonly decoded: string;
}

type Base = { readonly kind: 'path'; readonly segments: readonly Segment[] } | { readonly kind: 'url'; readonly url: string };

type Resolved =
  | { readonly kind: 'path'; readonly segments: readonly Segment[]; readonly suffix: string; readonly trailingSlash: boolean }
  | { readonly kind: 'url'; readonly url: string };

const ROOT: Base = { kind: 'path', segments: [] };
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** Percent-encodes characters that may not appear raw in a URL (spaces, non-ASCII, a lone '%'). */
function encodeUnsafe(value: string): string {
  return value
    .replace(/%(?![0-9a-f]{2})/gi, '%25')
    .replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]/gu, (c) => encodeURIComponent(c));
}

function resolveRef(base: Base, reference: string, href: string): Resolved {
  const ref = reference.trim();
  const scheme = SCHEME.exec(ref);
  if (scheme !== null) {
    const name = scheme[1]?.toLowerCase();
    if (name === 'http' || name === 'https') {
      try {
        return { kind: 'url', url: new URL(ref).href };
      } catch {
        throw invalid(`The manifest references "${href}", which is not a valid URL`, { href });
      }
    }
    throw invalid(`The manifest references "${href}", which is neither a package path nor an http(s) URL`, { href });
  }
  if (base.kind === 'url') {
    try {
      return { kind: 'url', url: new URL(ref, base.url).href };
    } catch {
      throw invalid(`The manifest references "${href}", which is not a valid URL`, { href });
    }
  }
  // Backslashes are path separators to the Windows tools that wrote some packages.
  const cut = ref.search(/[?#]/);
  const pathPart = (cut < 0 ? ref : ref.slice(0, cut)).replace(/\\/g, '/');
  const suffix = cut < 0 ? '' : ref.slice(cut);
  if (pathPart.startsWith('/')) {
    throw invalid(`The manifest references the absolute path "${href}"; paths must be relative to the package root`, { href });
  }
  const segments = [...base.segments];
  const parts = pathPart.split('/');
  for (const raw of parts) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw.replace(/%(?![0-9a-f]{2})/gi, '%25'));
    } catch {
      throw invalid(`The manifest references "${href}", which has invalid percent-encoding`, { href });
    }
    if (decoded.includes('/') || decoded.includes('\\') || decoded.includes('\0')) {
      throw invalid(`The manifest references "${href}", which hides a path separator or NUL in percent-encoding`, { href });
    }
    if (decoded === '' || decoded === '.') continue;
    if (decoded === '..') {
      if (segments.length === 0) {
        throw invalid(`The manifest references "${href}", which escapes the package root`, { href });
      }
      segments.pop();
      continue;
    }
    segments.push({ raw: encodeUnsafe(raw), decoded });
  }
  const last = parts[parts.length - 1];
  return { kind: 'path', segments, suffix: encodeUnsafe(suffix), trailingSlash: last === '' || last === '.' || last === '..' };
}

function resolveBase(parent: Base, xmlBase: string | undefined): Base {
  const value = nonEmpty(xmlBase);
  if (value === undefined) return parent;
  const resolved = resolveRef(parent, value, value);
  if (resolved.kind === 'url') {
    const url = new URL(resolved.url);
    url.search = '';
    url.hash = '';
    // An xml:base names a directory; authors routinely forget the trailing '/'.
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return { kind: 'url', url: url.href };
  }
  // Path bases are directories too, with or without the trailing '/'.
  return { kind: 'path', segments: resolved.segments };
}

function baseToString(base: Base): string {
  if (base.kind === 'url') return base.url;
  return base.segments.length === 0 ? '' : `${base.segments.map((s) => s.raw).join('/')}/`;
}

function toUrl(resolved: Resolved): string {
  if (resolved.kind === 'url') return resolved.url;
  const path = resolved.segments.map((s) => s.raw).join('/');
  return `${path}${resolved.trailingSlash && path !== '' ? '/' : ''}${resolved.suffix}`;
}

/** The package-relative file path, or undefined for URLs and directory references. */
function toFilePath(resolved: Resolved): string | undefined {
  if (resolved.kind === 'url' || resolved.trailingSlash || resolved.segments.length === 0) return undefined;
  return resolved.segments.map((s) => s.decoded).join('/');
}

function xmlBaseOf(el: XmlElement): string | undefined {
  return el.attrs.find((a) => a.ns === SCORM_NAMESPACE.XML && a.local === 'base')?.value;
}

/**
 * Appends an item's `parameters` to a launch URL per the IMS CP best practice the SCORM CAM
 * adopts: strip leading '?'/'&'; a fragment is appended only when the URL has none; otherwise
 * join with '&' when the URL already has a query, '?' when not. (The query goes before any
 * fragment the href already carries.)
 */
export function appendParameters(url: string, parameters: string | undefined): string {
  const params = (parameters ?? '').trim().replace(/^[?&]+/, '');
  if (params === '') return url;
  const hashAt = url.indexOf('#');
  if (params.startsWith('#')) return hashAt >= 0 ? url : `${url}${params}`;
  const beforeHash = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const hash = hashAt >= 0 ? url.slice(hashAt) : '';
  const joiner = !beforeHash.includes('?') ? '?' : beforeHash.endsWith('?') || beforeHash.endsWith('&') ? '' : '&';
  return `${beforeHash}${joiner}${params}${hash}`;
}

// --------------------------------------------------------------------------------------------
// Resources
// --------------------------------------------------------------------------------------------

interface ParsedResource {
  readonly resource: ManifestResource;
  /** The resolved href, when the resource has one. */
  readonly launch: Resolved | undefined;
}

function scormTypeOf(value: string | undefined): 'sco' | 'asset' | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'sco' || v === 'asset' ? v : undefined;
}

function parseResources(manifest: XmlElement, referencedFiles: Set<string>): Map<string, ParsedResource> {
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

// --------------------------------------------------------------------------------------------
// Items and organizations
// --------------------------------------------------------------------------------------------

interface ItemContext {
  readonly version: ScormVersion;
  readonly resources: ReadonlyMap<string, ParsedResource>;
  readonly subManifests: ReadonlySet<string>;
  /** imsss:sequencingCollection entries by ID. */
  readonly sequencingCollection: ReadonlyMap<string, XmlElement>;
  readonly seen: Set<string>;
  readonly organization: string;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

function parseDecimal(value: string | undefined): number | undefined {
  const v = value?.trim();
  if (v === undefined || !DECIMAL.test(v)) return undefined;
  return Number(v);
}

function inRange(value: number | undefined, min: number, max: number): number | undefined {
  return value !== undefined && value >= min && value <= max ? value : undefined;
}

function isTrue(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

function parseCompletionThreshold(el: XmlElement, version: ScormVersion): CompletionThreshold | undefined {
  const minAttr = extAttr(el, 'adlcp', 'minProgressMeasure');
  const byMeasureAttr = extAttr(el, 'adlcp', 'completedByMeasure');
  const weightAttr = extAttr(el, 'adlcp', 'progressWeight');
  if (minAttr !== undefined || byMeasureAttr !== undefined || weightAttr !== undefined || (version === '2004-4th' && el.text === '')) {
    // 4th edition: attributes with schema defaults minProgressMeasure=1.0, completedByMeasure=false.
    const threshold: CompletionThreshold = {
      minProgressMeasure: inRange(parseDecimal(minAttr), 0, 1) ?? 1,
      completedByMeasure: isTrue(byMeasureAttr),
    };
    const weight = inRange(parseDecimal(weightAttr), 0, 1);
    if (weight !== undefined) threshold.progressWeight = weight;
    return threshold;
  }
  // 2nd/3rd edition: a decimal that the LMS compares progress_measure with.
  const measure = inRange(parseDecimal(el.text), 0, 1);
  return measure === undefined ? undefined : { minProgressMeasure: measure, completedByMeasure: true };
}

/** A sequencing child from the item's own imsss:sequencing, else from the collection entry it references. */
function sequencingChild(item: XmlElement, local: string, ctx: ItemContext): XmlElement | undefined {
  const sequencing = child(item, 'imsss', 'sequencing');
  if (sequencing === undefined) return undefined;
  const own = child(sequencing, 'imsss', local);
  if (own !== undefined) return own;
  const ref = nonEmpty(attr(sequencing, 'IDRef'));
  return ref === undefined ? undefined : child(ctx.sequencingCollection.get(ref), 'imsss', local);
}

function parseScaledPassingScore(item: XmlElement, ctx: ItemContext): number | undefined {
  const primary = child(sequencingChild(item, 'objectives', ctx), 'imsss', 'primaryObjective');
  if (primary === undefined || !isTrue(attr(primary, 'satisfiedByMeasure'))) return undefined;
  const measure = child(primary, 'imsss', 'minNormalizedMeasure');
  // SN book: minNormalizedMeasure defaults to 1.0.
  if (measure === undefined || measure.text === '') return 1;
  return inRange(parseDecimal(measure.text), -1, 1);
}

/** SCORM 2004 RTE 4.2.17: the LMS initialises cmi.objectives with the objective ids the item declares. */
function parseObjectiveIds(item: XmlElement, ctx: ItemContext): string[] {
  const objectives = sequencingChild(item, 'objectives', ctx);
  if (objectives === undefined) return [];
  const ids: string[] = [];
  for (const el of [...children(objectives, 'imsss', 'primaryObjective'), ...children(objectives, 'imsss', 'objective')]) {
    const id = nonEmpty(attr(el, 'objectiveID'));
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

function parseItem(el: XmlElement, ctx: ItemContext): ManifestItem {
  const identifier = nonEmpty(attr(el, 'identifier'));
  if (identifier === undefined) {
    throw invalid(`An item in organization "${ctx.organization}" has no identifier`, { organization: ctx.organization });
  }
  if (ctx.seen.has(identifier)) {
    throw invalid(`Two items of organization "${ctx.organization}" share the identifier "${identifier}"`, { identifier });
  }
  ctx.seen.add(identifier);

  const item: ManifestItem = {
    identifier,
    title: nonEmpty(collapse(child(el, 'cp', 'title')?.text ?? '')) ?? identifier,
    isVisible: !['false', '0'].includes(attr(el, 'isvisible')?.trim().toLowerCase() ?? ''),
    children: [],
  };

  const resourceId = nonEmpty(attr(el, 'identifierref'));
  const parameters = nonEmpty(attr(el, 'parameters'));
  if (parameters !== undefined) item.parameters = parameters;
  if (resourceId !== undefined) {
    const target = ctx.resources.get(resourceId);
    if (target === undefined) {
      if (ctx.subManifests.has(resourceId)) {
        throw unsupported(`Item "${identifier}" refers to the sub-manifest "${resourceId}"; sub-manifests are not supported`, {
          identifier,
          identifierref: resourceId,
        });
      }
      throw invalid(`Item "${identifier}" references the missing resource "${resourceId}"`, { identifier, identifierref: resourceId });
    }
    item.resourceId = resourceId;
    if (target.resource.scormType !== undefined) item.scormType = target.resource.scormType;
    if (target.launch !== undefined) item.launchUrl = appendParameters(toUrl(target.launch), parameters);
  }

  const dataFromLMS = child(el, 'adlcp', 'dataFromLMS')?.text;
  if (dataFromLMS !== undefined && dataFromLMS !== '') item.dataFromLMS = dataFromLMS;
  const timeLimitAction = nonEmpty(child(el, 'adlcp', 'timeLimitAction')?.text);
  if (timeLimitAction !== undefined) item.timeLimitAction = timeLimitAction;

  if (ctx.version === '1.2') {
    // Unparseable or out-of-range mastery scores (empty elements are common) are ignored.
    const mastery = inRange(parseDecimal(child(el, 'adlcp', 'masteryscore')?.text), 0, 100);
    if (mastery !== undefined) item.masteryScore = mastery;
    const maxTime = nonEmpty(child(el, 'adlcp', 'maxtimeallowed')?.text);
    if (maxTime !== undefined) item.maxTimeAllowed = maxTime;
  } else {
    const thresholdEl = child(el, 'adlcp', 'completionThreshold');
    const threshold = thresholdEl === undefined ? undefined : parseCompletionThreshold(thresholdEl, ctx.version);
    if (threshold !== undefined) item.completionThreshold = threshold;
    const limit = sequencingChild(el, 'limitConditions', ctx);
    const duration = limit === undefined ? undefined : nonEmpty(attr(limit, 'attemptAbsoluteDurationLimit'));
    if (duration !== undefined) item.maxTimeAllowed = duration;
    const passing = parseScaledPassingScore(el, ctx);
    if (passing !== undefined) item.scaledPassingScore = passing;
    const objectiveIds = parseObjectiveIds(el, ctx);
    if (objectiveIds.length > 0) item.objectiveIds = objectiveIds;
  }

  item.children = children(el, 'cp', 'item').map((c) => parseItem(c, ctx));
  return item;
}

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

// --------------------------------------------------------------------------------------------
// Entry point
// --------------------------------------------------------------------------------------------

/**
 * Parses an `imsmanifest.xml`. Throws AppError PACKAGE_INVALID_MANIFEST for malformed, hostile
 * or inconsistent manifests and PACKAGE_UNSUPPORTED for versions or shapes we don't play.
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
