import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { request } from 'node:https';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_MAIN, createCliWorkspace, runCli, type CliWorkspace } from '../helpers/cli.js';
import { freePort } from '../helpers/live-server.js';

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** `serve` loads the JSX pages; run from a data directory, tsx must be told where the project's tsconfig is. */
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

/** A self-signed certificate for localhost with the given common name (openssl CLI). */
function makeCert(dir: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${cn}.crt`);
  const key = join(dir, `${cn}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    {
      stdio: 'ignore',
    },
  );
  return { cert, key };
}

/** The common name of the certificate a TLS server presents right now. */
function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
    });
    socket.on('error', reject);
  });
}

function httpsGet(port: number, path: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'localhost', ca }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `courseport serve` with COURSEPORT_TLS_CERT/KEY, reloaded on SIGHUP; production refuses http. */
describe('TLS and production transport rules (the real CLI process)', () => {
  let ws: CliWorkspace;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    ws = await createCliWorkspace('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'courseport-tls-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await ws.dispose();
  });

  it('serves https with the configured certificate and picks up a renewed one on SIGHUP', async () => {
    const one = makeCert(dir, 'one');
    const two = makeCert(dir, 'two');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(one.cert, live.cert);
    copyFileSync(one.key, live.key);
    const port = await freePort();
    let stdout = '';
    let stderr = '';
    child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'serve'], {
      cwd: ws.dataDir,
      env: {
        PATH: process.env.PATH ?? '',
        ...ws.env,
        TSX_TSCONFIG_PATH: TSCONFIG,
        COURSEPORT_HOST: '127.0.0.1',
        COURSEPORT_PORT: String(port),
        COURSEPORT_BASE_URL: `https://localhost:${port}`,
        COURSEPORT_TLS_CERT: live.cert,
        COURSEPORT_TLS_KEY: live.key,
        COURSEPORT_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    await vi.waitFor(() => expect(stdout, stderr).toContain('Courseport is listening'), { timeout: 20_000, interval: 100 });

    expect(await servedCommonName(port)).toBe('one');
    const res = await httpsGet(port, '/healthz', readFileSync(one.cert));
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');

    // The certificate is renewed in place; SIGHUP makes new connections use it, without a restart.
    copyFileSync(two.cert, live.cert);
    copyFileSync(two.key, live.key);
    child.kill('SIGHUP');
    await vi.waitFor(async () => expect(await servedCommonName(port)).toBe('two'), { timeout: 10_000, interval: 100 });
    expect((await httpsGet(port, '/healthz', readFileSync(two.cert))).status).toBe(200);

    // A broken renewal keeps the certificate in use and the server up.
    writeFileSync(live.cert, 'not a certificate');
    child.kill('SIGHUP');
    await vi.waitFor(() => expect(stdout).toContain('TLS certificate reload failed'), { timeout: 10_000, interval: 100 });
    expect(await servedCommonName(port)).toBe('two');
    expect(child.exitCode).toBeNull();

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('refuses to start in production when the public base URL is not https', async () => {
    const env = {
      ...ws.env,
      TSX_TSCONFIG_PATH: TSCONFIG,
      NODE_ENV: 'production',
      COURSEPORT_BASE_URL: 'http://tool.example.com',
      COURSEPORT_PORT: String(await freePort()),
    };
    const r = await runCli({ ...ws, env }, ['serve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('COURSEPORT_BASE_URL must be https in production');
    expect(r.stdout).not.toContain('listening');
  });
});
