import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildCourses } from './courses.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the project's test courses were zipped for this run (test/helpers/fixtures.ts). */
    courseDir: string;
  }
}

/**
 * Once per run, before any test file: zips the test courses. Every project of the config
 * inherits this file; only the root project does the work, and the projects see what it
 * provides.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!project.isRootProject()) return undefined;
  const courseDir = await mkdtemp(join(tmpdir(), 'courseport-courses-'));
  await buildCourses(courseDir);
  project.provide('courseDir', courseDir);
  return async () => {
    await rm(courseDir, { recursive: true, force: true });
  };
}
