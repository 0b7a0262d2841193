import type { Reporter, TestModule, Vitest } from 'vitest/node';

/**
 * Repeats, after the summary, that the PostgreSQL tests did not run (test/helpers/global-setup.ts
 * decides): a run on SQLite alone must not pass for a full run.
 */
export default class PostgresNoticeReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    const notice = this.vitest?.getRootProject().getProvidedContext().pgNotice;
    if (notice) process.stdout.write(`\n${notice}\n\n`);
  }
}
