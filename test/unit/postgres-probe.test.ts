import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import PostgresNoticeReporter from '../helpers/postgres-notice-reporter.js';
import { DEFAULT_TEST_PG_URL, probePostgres, resolveTestPostgres } from '../helpers/postgres-probe.js';

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('which PostgreSQL the tests run against', () => {
  const answers = async () => null;
  const refuses = async () => 'connect ECONNREFUSED 127.0.0.1:5432';

  it('uses COURSEPORT_TEST_PG_URL when it answers', async () => {
    const url = 'postgres://ci@db.internal:5432/courseport';
    const probed: string[] = [];
    const pg = await resolveTestPostgres({ COURSEPORT_TEST_PG_URL: url }, async (u) => {
      probed.push(u);
      return null;
    });
    expect(pg).toEqual({ url, notice: null });
    expect(probed).toEqual([url]);
  });

  it('fails the run, password hidden, when COURSEPORT_TEST_PG_URL does not answer: a named server is not skipped', async () => {
    const error = await resolveTestPostgres({ COURSEPORT_TEST_PG_URL: 'postgres://ci:hunter2@db.internal:5432/x' }, refuses).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('COURSEPORT_TEST_PG_URL=postgres://ci:***@db.internal:5432/x does not answer (connect ECONNREFUSED');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('tries the local default when the variable is unset or blank', async () => {
    expect(await resolveTestPostgres({}, answers)).toEqual({ url: DEFAULT_TEST_PG_URL, notice: null });
    expect(await resolveTestPostgres({ COURSEPORT_TEST_PG_URL: '  ' }, answers)).toEqual({ url: DEFAULT_TEST_PG_URL, notice: null });
    expect(DEFAULT_TEST_PG_URL).toBe('postgres://postgres@127.0.0.1:5432/test');
  });

  it('says plainly that the PostgreSQL tests did not run, and how to run them, when nothing answers', async () => {
    const pg = await resolveTestPostgres({}, refuses);
    expect(pg.url).toBeNull();
    expect(pg.notice).toContain('THE POSTGRESQL TESTS DID NOT RUN');
    expect(pg.notice).toContain(`nothing answered at ${DEFAULT_TEST_PG_URL} (connect ECONNREFUSED 127.0.0.1:5432)`);
    expect(pg.notice).toContain('COURSEPORT_TEST_PG_URL=postgres://USER@HOST:5432/DATABASE npm test');
  });

  it('probes a real port: a closed one fails fast with the reason, within the timeout', async () => {
    const port = await closedPort();
    const started = Date.now();
    const failure = await probePostgres(`postgres://postgres@127.0.0.1:${port}/test`, 2000);
    expect(failure).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('repeats the notice after the summary, and prints nothing when PostgreSQL ran', () => {
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const reporterFor = (notice: string | null) => {
      const reporter = new PostgresNoticeReporter();
      const vitest = { getRootProject: () => ({ getProvidedContext: () => ({ pgNotice: notice }) }) };
      reporter.onInit(vitest as unknown as Parameters<PostgresNoticeReporter['onInit']>[0]);
      return reporter;
    };
    process.stdout.write = ((chunk: string) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      reporterFor('THE POSTGRESQL TESTS DID NOT RUN: …').onTestRunEnd([]);
      reporterFor(null).onTestRunEnd([]);
    } finally {
      process.stdout.write = write;
    }
    expect(printed).toEqual(['\nTHE POSTGRESQL TESTS DID NOT RUN: …\n\n']);
  });
});
