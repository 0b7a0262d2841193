import { existsSync } from 'node:fs';
import { createServices, type Services } from '../container.js';
import { loadConfig, type Config } from '../config/config.js';
import { migrateAtStart, openStore, storeOptions, type Store } from '../store/database.js';
import { systemClock } from '../util/clock.js';

export interface CliContext {
  readonly config: Config;
  readonly store: Store;
  readonly services: Services;
}

/** Loads `.env` (when present) into the environment once, before the config is read. */
export function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

/** Runs a command with configuration, a migrated database and the services; always closes the store. */
export async function withContext<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = openStore(config.databaseUrl, storeOptions(config));
  try {
    await migrateAtStart(config.databaseUrl, store, config.database.connectTimeoutMs);
    const services = createServices(config, store, systemClock);
    try {
      return await fn({ config, store, services });
    } finally {
      const f = services.fetch as { close?: () => Promise<void> };
      await f.close?.();
    }
  } finally {
    await store.close();
  }
}

export interface OutputOptions {
  readonly json?: boolean;
}

/** Prints either the JSON value (scripts) or the human lines. */
export function output(options: OutputOptions, value: unknown, human: () => string[]): void {
  if (options.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else for (const line of human()) process.stdout.write(`${line}\n`);
}

export function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}
