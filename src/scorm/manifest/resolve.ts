import { invalid } from './errors.js';
import { nonEmpty } from './lookup.js';

/**
 * Package-relative references (xml:base, href), resolved without ever leaving the package root.
 */

interface Segment {
  /** As written (percent-encoding kept). */
  readonly raw: string;
  readonly decoded: string;
}

type Base = { readonly kind: 'path'; readonly segments: readonly Segment[] } | { readonly kind: 'url'; readonly url: string };

export type Resolved =
  | { readonly kind: 'path'; readonly segments: readonly Segment[]; readonly suffix: string; readonly trailingSlash: boolean }
  | { readonly kind: 'url'; readonly url: string };

export const ROOT: Base = { kind: 'path', segments: [] };
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** Percent-encodes characters that may not appear raw in a URL (spaces, non-ASCII, a lone '%'). */
function encodeUnsafe(value: string): string {
  return value.replace(/%(?![0-9a-f]{2})/gi, '%25').replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]/gu, (c) => encodeURIComponent(c));
}

export function resolveRef(base: Base, reference: string, href: string): Resolved {
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

export function resolveBase(parent: Base, xmlBase: string | undefined): Base {
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

export function baseToString(base: Base): string {
  if (base.kind === 'url') return base.url;
  return base.segments.length === 0 ? '' : `${base.segments.map((s) => s.raw).join('/')}/`;
}

export function toUrl(resolved: Resolved): string {
  if (resolved.kind === 'url') return resolved.url;
  const path = resolved.segments.map((s) => s.raw).join('/');
  return `${path}${resolved.trailingSlash && path !== '' ? '/' : ''}${resolved.suffix}`;
}

/** The package-relative file path, or undefined for URLs and directory references. */
export function toFilePath(resolved: Resolved): string | undefined {
  if (resolved.kind === 'url' || resolved.trailingSlash || resolved.segments.length === 0) return undefined;
  return resolved.segments.map((s) => s.decoded).join('/');
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
