import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * The project's SCORM test courses (sources and description: test/fixtures/courses/), zipped
 * once per test run by test/helpers/global-setup.ts.
 */
const dir = inject('courseDir');

/** SCORM 1.2, one SCO ("Bicycle Care"): status, score, objectives, interactions, bookmark, suspend data. */
export const COURSE_12 = join(dir, 'bike-care-12.zip');
/** SCORM 1.2, nine SCOs in three chapters ("Bicycle Workshop") that call only LMSInitialize/LMSFinish. */
export const COURSE_12_MULTI = join(dir, 'bike-workshop-12.zip');
/** SCORM 2004 3rd edition, one SCO ("Bicycle Care"): objectives from the manifest, interactions, passing by measure 0.8. */
export const COURSE_2004 = join(dir, 'bike-care-2004.zip');
