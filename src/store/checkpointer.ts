import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's WAL is folded back into the database file by a checkpoint. Left to SQLite, that
 * happens inside whichever commit crosses 1,000 pages — on the server's only thread, where
 * better-sqlite3 runs synchronously, so every request in flight waits for it. The server
 * instead turns automatic checkpoints off and runs passive checkpoints (they never block
 * writers) from a second connection on a thread of their own.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const conn = new SQLite(workerData.file);
conn.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try { conn.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
}, workerData.intervalMs);
parentPort.on('message', (m) => { if (m === 'close') { clearInterval(timer); conn.close(); parentPort.close(); } });
`;

export interface Checkpointer {
  close(): Promise<void>;
}

export function startCheckpointer(file: string, options: { intervalMs: number; onError: (message: string) => void }): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs: options.intervalMs } });
  worker.on('message', (m: { error?: string }) => {
    if (m.error) options.onError(m.error);
  });
  worker.on('error', (err) => options.onError(err.message));
  worker.unref();
  return {
    close: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('close');
        setTimeout(() => void worker.terminate(), 2000).unref();
      }),
  };
}
