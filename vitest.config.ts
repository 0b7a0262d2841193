import { defineConfig } from 'vitest/config';

const BROWSER_TESTS = 'test/e2e/*-browser.test.ts';
/** The third-party sample courses' suite: `npm run test:samples` (vitest.samples.config.ts), never `npm test`. */
const SAMPLE_TESTS = 'test/samples/**';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    // The notice comes after the summary: a run without PostgreSQL says so last.
    reporters: ['default', './test/helpers/postgres-notice-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['test/**/*.test.ts'], exclude: [BROWSER_TESTS, SAMPLE_TESTS], sequence: { groupOrder: 0 } },
      },
      {
        // Chromium files run one at a time, after the rest: two browsers plus servers on two
        // cores starve the cross-frame postMessage flows (seen as stalled navigations).
        extends: true,
        test: { name: 'browser', include: [BROWSER_TESTS], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
