import { createServer } from 'node:net';
import { build, type App } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';
import type { Dialect } from '../../src/store/database.js';
import { openTestStore, type TestStore } from './dialects.js';
import { testConfig } from './harness.js';

/** A free loopback port (the tool's public URL must be known before it is built). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface LiveServer {
  readonly app: App;
  readonly store: TestStore;
  readonly config: Config;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Courseport listening on loopback at http://localhost:PORT, for browser tests. */
export async function startLiveServer(dialect: Dialect, env: Record<string, string> = {}): Promise<LiveServer> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const config = testConfig({ COURSEPORT_BASE_URL: baseUrl, COURSEPORT_LOG_LEVEL: 'warn', ...env });
  const store = await openTestStore(dialect);
  const app = await build({ config, store, logStream: { write: () => undefined } });
  await app.services.toolKeys.ensureCurrentKey();
  await app.listen({ host: '127.0.0.1', port });
  return {
    app,
    store,
    config,
    baseUrl,
    close: async () => {
      await app.close();
      await store.dispose();
    },
  };
}
