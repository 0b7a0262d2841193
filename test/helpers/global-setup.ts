import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildCourses } from './courses.js';
import { resolveTestPostgres } from './postgres-probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the project's test courses were zipped for this run (test/helpers/fixtures.ts). */
    courseDir: string;
    /** The PostgreSQL the tests use, or null when they run on SQLite only (test/helpers/dialects.ts). */
    pgUrl: string | null;
    /** Why the PostgreSQL tests did not run, or null (printed by test/helpers/postgres-notice-reporter.ts). */
    pgNotice: string | null;
  }
}

/**
 * Once per run, before any test file: zips the test courses and finds the PostgreSQL to test
 * against. Every project of the config inherits this file; only the root project does the
 * work, and the projects see what it provides.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!project.isRootProject()) return undefined;
  const postgres = await resolveTestPostgres(process.env);
  if (postgres.notice) console.warn(`\n${postgres.notice}\n`);
  const courseDir = await mkdtemp(join(tmpdir(), 'courseport-courses-'));
  await buildCourses(courseDir);
  project.provide('courseDir', courseDir);
  project.provide('pgUrl', postgres.url);
  project.provide('pgNotice', postgres.notice);
  return async () => {
    await rm(courseDir, { recursive: true, force: true });
  };
}
