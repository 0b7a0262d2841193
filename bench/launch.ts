/**
 * Full LTI launch handshake under load: OIDC login at the tool → the platform's auth
 * endpoint (mints and signs an id_token) → form_post launch at the tool.
 */
import { closedLoop, handshake, startBenchServer, type LoadResult } from './common.js';

export async function runLaunchBench(options: { concurrency: number; durationMs: number; warmupMs: number }): Promise<LoadResult> {
  const s = await startBenchServer(options.concurrency);
  try {
    return await closedLoop(s.child.pid, options, (w, i) => handshake(s, `user-${w}-${i % 50}`).then(() => undefined));
  } finally {
    await s.close();
  }
}
