import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { describeXmlError } from './xml-errors.js';
import { AppError } from '../../errors/app-error.js';
import { invalid } from './errors.js';

/**
 * Safe XML reading for `imsmanifest.xml`: a small namespace-aware element tree built from
 * fast-xml-parser's ordered output.
 *
 * Safety: DOCTYPE and ENTITY declarations are refused before parsing and the parser never
 * expands entities; only the five predefined XML entities and numeric character references
 * are decoded, by this module, after parsing.
 */

/** The namespace the `xml:` prefix is bound to by definition. */
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

interface XmlAttribute {
  readonly prefix: string | undefined;
  readonly local: string;
  readonly ns: string | undefined;
  readonly value: string;
}

export interface XmlElement {
  readonly local: string;
  readonly ns: string | undefined;
  readonly attrs: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Direct text content (entities decoded, CDATA verbatim), pieces joined and trimmed. */
  readonly text: string;
}

export interface XmlDocument {
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
  return nodes.map((node) => (isRecord(node) && typeof node[TEXT_KEY] === 'string' ? node[TEXT_KEY] : '')).join('');
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
      const ns = prefix === undefined ? undefined : prefix === 'xml' ? XML_NAMESPACE : elementScope.get(prefix);
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

export function readXml(xml: string): XmlDocument {
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

/** The element's own `xml:base` attribute, as written. */
export function xmlBaseOf(el: XmlElement): string | undefined {
  return el.attrs.find((a) => a.ns === XML_NAMESPACE && a.local === 'base')?.value;
}
