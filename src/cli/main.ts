import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import { migrateAtStart, openStore, storeOptions } from '../store/database.js';
import { registerAdminCommands } from './admin.js';
import { loadDotEnv, output } from './context.js';
import { registerKeyCommands } from './keys.js';
import { registerGradeCommands } from './grades.js';
import { registerPackageCommands } from './package.js';
import { registerRosterCommands } from './roster.js';
import { registerPlatformCommands } from './platform.js';
import { registerDispatchCommands } from './dispatch.js';

/** The version in package.json (src/cli and dist/cli are both two levels below it). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('courseport')
    .description('Courseport: an LTI 1.3 tool server for SCORM content')
    .version(packageVersion(), '-V, --version', 'print the version of Courseport')
    .exitOverride();

  program
    .command('serve')
    .description('serve Courseport over HTTP(S); configuration comes from the environment')
    .action(async () => {
      // The HTTP stack is loaded only to serve: the other commands stay light.
      const { startServer } = await import('../server.js');
      const server = await startServer(loadConfig());
      const stop = (signal: string) => {
        server.app.log.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      // A renewed certificate is picked up without a restart.
      process.on('SIGHUP', () => server.reloadTls());
    });

  program
    .command('migrate')
    .description('apply pending database migrations (serve does this too)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = loadConfig();
      const store = openStore(config.databaseUrl, storeOptions(config));
      try {
        const { applied } = await migrateAtStart(config.databaseUrl, store, config.database.connectTimeoutMs);
        output(o, { dialect: store.dialect, applied }, () => [applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.']);
      } finally {
        await store.close();
      }
    });

  registerPlatformCommands(program);
  registerKeyCommands(program);
  registerPackageCommands(program);
  registerGradeCommands(program);
  registerRosterCommands(program);
  registerAdminCommands(program);
  registerDispatchCommands(program);
  return program;
}

/** Every failure ends as one line on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<number> {
  loadDotEnv();
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) process.stderr.write(`courseport: ${err.problems.join('; ')}\n`);
    else if (err instanceof AppError) process.stderr.write(`courseport: ${err.message} [${err.code}]\n`);
    else process.stderr.write(`courseport: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
