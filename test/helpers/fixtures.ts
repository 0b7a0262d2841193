import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real third-party SCORM packages in ../shared/fixtures/scorm (read-only). */
export const SCORM_FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/fixtures/scorm');
export const GOLF_12 = join(SCORM_FIXTURES, 'RuntimeBasicCalls_SCORM12.zip');
export const GOLF_12_MULTI = join(SCORM_FIXTURES, 'RuntimeMinimumCalls_SCORM12.zip');
export const GOLF_2004 = join(SCORM_FIXTURES, 'RunTimeAdvancedCalls_SCORM20043rdEdition.zip');
