import { AppError } from '../errors/app-error.js';

/**
 * Titles people type or import (packages, dispatches): long enough for any real course name,
 * short enough for a catalogue row, a picker entry or an LMS activity name. A 600-character
 * title with no space widened pages to thousands of pixels; 200 is what LMSs show in full.
 */
export const TITLE_MAX_LENGTH = 200;

/** A title given by a person (upload form, CLI, API, rename): trimmed, or refused with the reason. */
export function checkTitle(value: string, what = 'The title'): string {
  const title = value.trim();
  if (!title) throw new AppError('VALIDATION_FAILED', `${what} must not be empty.`, { details: { problems: [`${what} must not be empty`] } });
  if ([...title].length > TITLE_MAX_LENGTH) {
    const problem = `${what} must be at most ${TITLE_MAX_LENGTH} characters (it has ${[...title].length})`;
    throw new AppError('VALIDATION_FAILED', `${problem}.`, { details: { problems: [problem], maxLength: TITLE_MAX_LENGTH } });
  }
  return title;
}

/** A title read from a package's manifest: nobody can fix it at upload, so it is shortened instead. */
export function fitTitle(value: string): string {
  const chars = [...value.trim()];
  return chars.length <= TITLE_MAX_LENGTH
    ? chars.join('')
    : `${chars
        .slice(0, TITLE_MAX_LENGTH - 1)
        .join('')
        .trimEnd()}…`;
}
