import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The third-party sample courses kept beside the repository, in ../shared/fixtures/ (read-only;
 * their READMEs say where each comes from). Only this suite (npm run test:samples) reads them.
 */
export const SAMPLES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const SCORM_SAMPLES = join(SAMPLES, 'scorm');
export const CMI5_SAMPLES = join(SAMPLES, 'cmi5');

if (!existsSync(SCORM_SAMPLES)) {
  throw new Error(`The sample courses are not at ${SAMPLES}: this suite needs the shared fixtures folder beside the repository.`);
}

/** Rustici's "Golf Explained" courses. */
export const GOLF_12 = join(SCORM_SAMPLES, 'RuntimeBasicCalls_SCORM12.zip');
export const GOLF_12_MULTI = join(SCORM_SAMPLES, 'RuntimeMinimumCalls_SCORM12.zip');
export const GOLF_2004 = join(SCORM_SAMPLES, 'RunTimeAdvancedCalls_SCORM20043rdEdition.zip');
