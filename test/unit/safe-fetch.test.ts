import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSafeFetch, isPublicAddress, OutgoingRequestError, type SafeFetchOptions } from '../../src/util/safe-fetch.js';

const USER_AGENT = 'Courseport-test/1.0 (+https://courseport.test)';
const LIMIT = 1024;

interface Seen {
  userAgent: string | undefined;
  method: string | undefined;
  custom: string | undefined;
  body: string;
}

let server: Server;
let port: number;
const seen: Seen[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
  });
  req.on('end', () => {
    seen.push({ userAgent: req.headers['user-agent'], method: req.method, custom: req.headers['x-custom'] as string | undefined, body });
    switch (req.url) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
        return;
      case '/exact':
        res.writeHead(200, { 'content-length': String(LIMIT) }).end('a'.repeat(LIMIT));
        return;
      case '/big-declared':
        // Declares a size over the limit; the body never needs to be read.
        res.writeHead(200, { 'content-length': String(LIMIT * 4) }).end('b'.repeat(LIMIT * 4));
        return;
      case '/big-chunked': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // No content-length: the size is only known while reading.
        for (let i = 0; i < 8; i++) res.write('c'.repeat(512));
        res.end();
        return;
      }
      case '/redirect':
        res.writeHead(302, { location: '/ok' }).end();
        return;
      case '/no-content':
        res.writeHead(204).end();
        return;
      case '/hang':
        // Never answers: the client's timeout must end the request.
        return;
      default:
        res.writeHead(404).end('not found');
    }
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

function options(overrides: Partial<SafeFetchOptions> = {}): SafeFetchOptions {
  return { timeoutMs: 5000, maxResponseBytes: LIMIT, blockPrivateNetwork: false, userAgent: USER_AGENT, ...overrides };
}

async function reasonOf(promise: Promise<unknown>): Promise<OutgoingRequestError['reason']> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OutgoingRequestError);
    return (err as OutgoingRequestError).reason;
  }
  throw new Error('expected an OutgoingRequestError');
}

describe('createSafeFetch, private network allowed', () => {
  const safeFetch = createSafeFetch(options());
  afterAll(async () => {
    await safeFetch.close();
  });

  it('fetches a response and sends the User-Agent', async () => {
    const before = seen.length;
    const res = await safeFetch(`http://127.0.0.1:${port}/ok`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ keys: [] });
    expect(seen.slice(before)).toEqual([{ userAgent: USER_AGENT, method: 'GET', custom: undefined, body: '' }]);
  });

  it('reaches localhost by name', async () => {
    const res = await safeFetch(`http://localhost:${port}/ok`);
    expect(res.status).toBe(200);
  });

  it('sends the method, headers and body it is given', async () => {
    const before = seen.length;
    const res = await safeFetch(new URL(`http://127.0.0.1:${port}/ok`), { method: 'POST', headers: { 'x-custom': 'yes' }, body: 'grant_type=x' });
    expect(res.status).toBe(200);
    expect(seen.slice(before)).toEqual([{ userAgent: USER_AGENT, method: 'POST', custom: 'yes', body: 'grant_type=x' }]);
  });

  it('does not follow redirects', async () => {
    const res = await safeFetch(`http://127.0.0.1:${port}/redirect`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/ok');
  });

  it('passes 204 through with no body', async () => {
    const res = await safeFetch(`http://127.0.0.1:${port}/no-content`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('accepts a response of exactly maxResponseBytes', async () => {
    const res = await safeFetch(`http://127.0.0.1:${port}/exact`);
    expect((await res.text()).length).toBe(LIMIT);
  });

  it('refuses a response declared larger than maxResponseBytes', async () => {
    expect(await reasonOf(safeFetch(`http://127.0.0.1:${port}/big-declared`))).toBe('too-large');
  });

  it('refuses a chunked response that grows larger than maxResponseBytes', async () => {
    expect(await reasonOf(safeFetch(`http://127.0.0.1:${port}/big-chunked`))).toBe('too-large');
  });

  it('lets a request lower or raise the size limit', async () => {
    expect(await reasonOf(safeFetch(`http://127.0.0.1:${port}/ok`, { maxResponseBytes: 4 }))).toBe('too-large');
    const res = await safeFetch(`http://127.0.0.1:${port}/big-chunked`, { maxResponseBytes: 8 * 512 });
    expect((await res.arrayBuffer()).byteLength).toBe(8 * 512);
  });

  it('refuses URLs that are not http(s)', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'data:text/plain,hi', 'not a url', '']) {
      expect(await reasonOf(safeFetch(url)), url).toBe('bad-url');
    }
  });

  it('reports a refused connection as a network error', async () => {
    // Port 1 on loopback is not listening in the test environment.
    expect(await reasonOf(safeFetch('http://127.0.0.1:1/'))).toBe('network');
  });

  it('honours a caller abort signal', async () => {
    const controller = new AbortController();
    const pending = safeFetch(`http://127.0.0.1:${port}/hang`, { signal: controller.signal });
    controller.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutgoingRequestError);
  });
});

describe('createSafeFetch, timeout', () => {
  const safeFetch = createSafeFetch(options({ timeoutMs: 200 }));
  afterAll(async () => {
    server.closeAllConnections();
    await safeFetch.close();
  });

  it('gives up on a server that never answers', async () => {
    const started = performance.now();
    expect(await reasonOf(safeFetch(`http://127.0.0.1:${port}/hang`))).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(4000);
  });
});

describe('createSafeFetch, private network allowed, link-local still refused', () => {
  // COURSEPORT_ALLOW_PRIVATE_NETWORK is for an LMS on a private network; cloud metadata services
  // (169.254.169.254, fe80::/10) are never an LMS, and /lti/register fetches URLs anyone can name.
  const safeFetch = createSafeFetch(options());
  afterAll(async () => {
    await safeFetch.close();
  });

  it('refuses link-local address literals without connecting', async () => {
    expect(await reasonOf(safeFetch('http://169.254.169.254/latest/meta-data/'))).toBe('blocked-address');
    expect(await reasonOf(safeFetch('http://[::ffff:169.254.169.254]/latest/meta-data/'))).toBe('blocked-address');
    expect(await reasonOf(safeFetch('http://[fe80::1]/'))).toBe('blocked-address');
    expect(await reasonOf(safeFetch('http://[fd00:ec2::254]/latest/meta-data/'))).toBe('blocked-address');
    expect(await reasonOf(safeFetch('http://100.100.100.200/latest/meta-data/'))).toBe('blocked-address');
  });
});

describe('createSafeFetch, private network blocked', () => {
  const safeFetch = createSafeFetch(options({ blockPrivateNetwork: true }));
  afterAll(async () => {
    await safeFetch.close();
  });

  it('refuses a loopback address literal without connecting', async () => {
    const before = seen.length;
    expect(await reasonOf(safeFetch(`http://127.0.0.1:${port}/ok`))).toBe('blocked-address');
    expect(await reasonOf(safeFetch(`http://[::1]:${port}/ok`))).toBe('blocked-address');
    expect(await reasonOf(safeFetch(`http://[::ffff:127.0.0.1]:${port}/ok`))).toBe('blocked-address');
    expect(await reasonOf(safeFetch('http://10.0.0.1/'))).toBe('blocked-address');
    expect(await reasonOf(safeFetch('http://169.254.169.254/latest/meta-data/'))).toBe('blocked-address');
    expect(seen.length).toBe(before);
  });

  it('refuses a host name that resolves to loopback (checked at connect time)', async () => {
    const before = seen.length;
    expect(await reasonOf(safeFetch(`http://localhost:${port}/ok`))).toBe('blocked-address');
    expect(seen.length).toBe(before);
  });

  it('still refuses non-http URLs first', async () => {
    expect(await reasonOf(safeFetch('gopher://127.0.0.1/'))).toBe('bad-url');
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['127.0.0.1', false],
    ['0.0.0.0', false],
    ['100.64.0.1', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::7f00:1', false], // IPv4-compatible (deprecated) form of 127.0.0.1
    ['::a00:1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2001:4860::8888', true],
    ['2606:4700:4700::1111', true],
    ['2001:db8::1', false],
    ['not-an-ip', false],
    ['', false],
    ['localhost', false],
  ])('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

// Production refuses to fetch platform URLs that are not https.
describe('createSafeFetch, https required', () => {
  const strict = createSafeFetch(options({ requireHttps: true }));
  afterAll(async () => {
    await strict.close();
  });

  it('refuses plain http before connecting, with reason insecure-url', async () => {
    const before = seen.length;
    expect(await reasonOf(strict(`http://127.0.0.1:${port}/ok`))).toBe('insecure-url');
    await expect(strict(`http://127.0.0.1:${port}/ok`)).rejects.toThrow(/COURSEPORT_ALLOW_HTTP_PLATFORMS/);
    expect(seen.length).toBe(before);
  });
});
