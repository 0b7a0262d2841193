import pg from 'pg';

/**
 * Which PostgreSQL the tests use. COURSEPORT_TEST_PG_URL when set (a server that does not
 * answer there is an error, not a reason to skip); otherwise the conventional local server,
 * if it answers. When none does, the PostgreSQL half of the suite does not run, and
 * `notice` says so in words a reader of the test output cannot miss.
 */

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const PG_PROBE_TIMEOUT_MS = 3000;

export interface TestPostgres {
  /** The server to run the PostgreSQL tests against; null when they do not run. */
  readonly url: string | null;
  /** Why the PostgreSQL tests do not run, and how to run them; null when they run. */
  readonly notice: string | null;
}

/** Connects once and runs `select 1`; resolves to the failure's message, or null when it answered. */
export async function probePostgres(url: string, timeoutMs = PG_PROBE_TIMEOUT_MS): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A refused connection may also be reported as an 'error' event: keep it from going unhandled.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A URL with its password replaced, fit to print. */
export function redactPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export async function resolveTestPostgres(
  env: Readonly<Record<string, string | undefined>>,
  probe: (url: string) => Promise<string | null> = (url) => probePostgres(url),
): Promise<TestPostgres> {
  const explicit = env.COURSEPORT_TEST_PG_URL?.trim();
  if (explicit) {
    const failure = await probe(explicit);
    if (failure !== null) {
      throw new Error(
        `COURSEPORT_TEST_PG_URL=${redactPassword(explicit)} does not answer (${failure}). Start that server, or unset the variable to run without PostgreSQL.`,
      );
    }
    return { url: explicit, notice: null };
  }
  const failure = await probe(DEFAULT_TEST_PG_URL);
  if (failure === null) return { url: DEFAULT_TEST_PG_URL, notice: null };
  return {
    url: null,
    notice: [
      `THE POSTGRESQL TESTS DID NOT RUN: COURSEPORT_TEST_PG_URL is not set and nothing answered at ${DEFAULT_TEST_PG_URL} (${failure}).`,
      'Only SQLite was tested. To run them, start PostgreSQL and run',
      '  COURSEPORT_TEST_PG_URL=postgres://USER@HOST:5432/DATABASE npm test',
      '(each test file works in a schema of its own in that database; see docs/development.md).',
    ].join('\n'),
  };
}
