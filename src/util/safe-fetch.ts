import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/**
 * The one way Courseport makes outgoing HTTP requests: a timeout, a cap on the response
 * size, a User-Agent, and (when configured) a guard that refuses loopback, private,
 * link-local and other non-public addresses — checked on the address actually connected
 * to, so DNS rebinding cannot slip past it.
 */
export interface SafeFetchOptions {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly blockPrivateNetwork: boolean;
  readonly userAgent: string;
  /** Refuse plain http URLs (production; COURSEPORT_ALLOW_HTTP_PLATFORMS turns it off for a local LMS). */
  readonly requireHttps?: boolean;
}

export type SafeFetch = (url: string | URL, init?: SafeFetchInit) => Promise<Response>;

export interface SafeFetchInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  readonly maxResponseBytes?: number;
}

export class OutgoingRequestError extends Error {
  constructor(
    message: string,
    readonly reason: 'blocked-address' | 'timeout' | 'too-large' | 'bad-url' | 'network' | 'insecure-url',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutgoingRequestError';
  }
}

const PUBLIC_RANGE = 'unicast';

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    // Deprecated IPv4-compatible addresses (::a.b.c.d) are never a public destination.
    else if (v6.parts.slice(0, 6).every((p) => p === 0)) return false;
  }
  return parsed.range() === PUBLIC_RANGE;
}

/** Cloud metadata services outside the link-local ranges (AWS over IPv6, Alibaba Cloud). */
const METADATA_ADDRESSES = ['fd00:ec2::254', '100.100.100.200'].map((a) => ipaddr.parse(a).toNormalizedString());

/**
 * Link-local addresses (169.254.0.0/16, fe80::/10) and the other cloud metadata addresses are
 * never an LMS: refused even where private networks are allowed (dynamic registration fetches a
 * URL that anyone can name).
 */
export function isLinkLocalAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'linkLocal' || METADATA_ADDRESSES.includes(parsed.toNormalizedString());
}

function guardedLookup(
  hostname: string,
  options: { family?: number | string | undefined; all?: boolean | undefined },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number | undefined) => void,
): void {
  lookupRefusing((a) => !isPublicAddress(a), hostname, options, callback);
}

function linkLocalGuardedLookup(
  hostname: string,
  options: { family?: number | string | undefined; all?: boolean | undefined },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number | undefined) => void,
): void {
  lookupRefusing(isLinkLocalAddress, hostname, options, callback);
}

function lookupRefusing(
  refused: (address: string) => boolean,
  hostname: string,
  options: { family?: number | string | undefined; all?: boolean | undefined },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number | undefined) => void,
): void {
  dnsLookup(hostname, { all: true, family: Number(options.family) || 0 }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const blocked = addresses.find((a) => refused(a.address));
    if (blocked) {
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to a non-public address (${blocked.address})`);
      e.code = 'ECOURSEPORTBLOCKED';
      return callback(e, '', 0);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return callback(null, first.address, first.family);
  });
}

export function createSafeFetch(options: SafeFetchOptions): SafeFetch & { close(): Promise<void> } {
  // undici is loaded on the first request: commands that never fetch stay small.
  let undici: typeof Undici | undefined;
  let dispatcher: Undici.Dispatcher | undefined;
  const client = () => {
    undici ??= createRequire(import.meta.url)('undici') as typeof Undici;
    dispatcher ??= new undici.Agent({
      connect: { lookup: options.blockPrivateNetwork ? guardedLookup : linkLocalGuardedLookup },
      keepAliveTimeout: 10_000,
    });
    return { fetch: undici.fetch, dispatcher };
  };

  const safeFetch = async (input: string | URL, init: SafeFetchInit = {}): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(input);
    } catch (cause) {
      throw new OutgoingRequestError(`not a URL: ${String(input)}`, 'bad-url', { cause });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new OutgoingRequestError(`only http(s) URLs may be fetched, got ${url.protocol}`, 'bad-url');
    }
    if (options.requireHttps && url.protocol !== 'https:') {
      throw new OutgoingRequestError(
        `refusing to fetch ${url.origin} over plain http (set COURSEPORT_ALLOW_HTTP_PLATFORMS=true for a local LMS in development)`,
        'insecure-url',
      );
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (options.blockPrivateNetwork && isIP(host) && !isPublicAddress(host)) {
      throw new OutgoingRequestError(`${url.origin} is a non-public address`, 'blocked-address');
    }
    if (isIP(host) && isLinkLocalAddress(host)) {
      throw new OutgoingRequestError(`${url.origin} is a link-local address (cloud metadata), never an LMS`, 'blocked-address');
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const headers: Record<string, string> = { 'user-agent': options.userAgent, ...init.headers };
    const limit = init.maxResponseBytes ?? options.maxResponseBytes;
    try {
      const { fetch: undiciFetch, dispatcher } = client();
      const res = await undiciFetch(url, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal,
        redirect: 'manual',
        dispatcher,
      });
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > limit) {
        await res.body?.cancel();
        throw new OutgoingRequestError(`response from ${url.origin} is larger than ${limit} bytes`, 'too-large');
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      if (res.body) {
        for await (const chunk of res.body) {
          size += chunk.byteLength;
          if (size > limit) {
            throw new OutgoingRequestError(`response from ${url.origin} is larger than ${limit} bytes`, 'too-large');
          }
          chunks.push(chunk);
        }
      }
      const body = res.status === 204 || res.status === 304 ? null : Buffer.concat(chunks);
      return new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: Object.fromEntries(res.headers.entries()),
      });
    } catch (err) {
      if (err instanceof OutgoingRequestError) throw err;
      if (timeout.aborted) throw new OutgoingRequestError(`request to ${url.origin} timed out after ${options.timeoutMs} ms`, 'timeout', { cause: err });
      const code = findCode(err);
      if (code === 'ECOURSEPORTBLOCKED') {
        throw new OutgoingRequestError(`${url.hostname} resolves to a non-public address`, 'blocked-address', { cause: err });
      }
      throw new OutgoingRequestError(`request to ${url.origin} failed: ${code ?? (err as Error).message}`, 'network', { cause: err });
    }
  };
  return Object.assign(safeFetch, { close: async () => dispatcher?.close() });
}

function findCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
