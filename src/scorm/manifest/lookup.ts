import { XML_NAMESPACE, type XmlElement } from './xml.js';

/**
 * Element and attribute lookup by (namespace family, local name).
 *
 * Namespaces: prefixes are resolved from the `xmlns` declarations in scope, so `adlcp:`,
 * `imsss:`, `adlseq:`, `adlnav:` (or any other prefix bound to those namespaces) all work.
 * Matching is lenient in one way: an element or attribute whose prefix is undeclared, or bound
 * to a namespace we don't know, still matches by its local name (case-insensitively), because
 * real packages get their declarations wrong; a name bound to a *different* known SCORM
 * namespace never matches.
 */

/** Namespace URIs of the SCORM bindings (documentation and the patterns below). */
const SCORM_NAMESPACE = {
  IMSCP_1_1_2: 'http://www.imsproject.org/xsd/imscp_rootv1p1p2',
  IMSCP_1_1_4: 'http://www.imsglobal.org/xsd/imscp_v1p1',
  ADLCP_1_2: 'http://www.adlnet.org/xsd/adlcp_rootv1p2',
  ADLCP_2004: 'http://www.adlnet.org/xsd/adlcp_v1p3',
  ADLSEQ_2004: 'http://www.adlnet.org/xsd/adlseq_v1p3',
  ADLNAV_2004: 'http://www.adlnet.org/xsd/adlnav_v1p3',
  IMSSS: 'http://www.imsglobal.org/xsd/imsss',
  XML: XML_NAMESPACE,
} as const;

type NsFamily = 'cp' | 'adlcp' | 'imsss' | 'adlseq' | 'adlnav' | 'xml';

const FAMILY_PATTERNS: readonly (readonly [NsFamily, RegExp])[] = [
  ['cp', /\/imscp_(?:rootv1p1p2|v1p1)\/?$/i],
  ['adlcp', /\/adlcp_(?:rootv1p2|v1p3)\/?$/i],
  ['adlseq', /\/adlseq_v1p3\/?$/i],
  ['adlnav', /\/adlnav_v1p3\/?$/i],
  ['imsss', /\/xsd\/imsss\/?$/i],
];
const EXTENSION_FAMILIES: ReadonlySet<NsFamily> = new Set(['adlcp', 'imsss', 'adlseq', 'adlnav']);

export function familyOf(uri: string | undefined): NsFamily | undefined {
  if (uri === undefined) return undefined;
  if (uri === SCORM_NAMESPACE.XML) return 'xml';
  for (const [family, pattern] of FAMILY_PATTERNS) if (pattern.test(uri.trim())) return family;
  return undefined;
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** True when the element is `family:local`, leniently (see the module comment). */
export function is(el: XmlElement, family: NsFamily, local: string): boolean {
  if (!sameName(el.local, local)) return false;
  const actual = familyOf(el.ns);
  return actual === family || actual === undefined || !EXTENSION_FAMILIES.has(actual);
}

export function child(el: XmlElement | undefined, family: NsFamily, local: string): XmlElement | undefined {
  return el?.children.find((c) => is(c, family, local));
}

export function children(el: XmlElement | undefined, family: NsFamily, local: string): XmlElement[] {
  return el === undefined ? [] : el.children.filter((c) => is(c, family, local));
}

/** An unprefixed attribute (the IMS CP ones: identifier, href, ...). */
export function attr(el: XmlElement, local: string): string | undefined {
  return el.attrs.find((a) => a.prefix === undefined && sameName(a.local, local))?.value;
}

/** An extension attribute: `family:local` first, then any unknown prefix, then unprefixed. */
export function extAttr(el: XmlElement, family: NsFamily, local: string): string | undefined {
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

export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
