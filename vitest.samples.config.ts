import { defineConfig } from 'vitest/config';

/**
 * `npm run test:samples`: the third-party sample courses of ../shared/fixtures/ (outside the
 * repository), imported and played end to end. Not part of `npm test`, which needs nothing
 * beside the repository; .ci/run runs both when the folder is there.
 */
export default defineConfig({
  test: {
    include: ['test/samples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Chromium plays the courses: one file at a time (see vitest.config.ts).
    fileParallelism: false,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/postgres-notice-reporter.ts'],
  },
});
