import type { ErrorCode } from '../../errors/app-error.js';
import type { WayBack } from '../../web/error-page.js';

const TO_THE_LMS = 'To go back to your course, use the LMS’s own navigation around this frame (or close this window if the activity opened in a new one), then open the activity again.';

/** Errors after which the page they came from cannot work again: only the LMS can start anew. */
const DEAD_ENDS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['LAUNCH_TOKEN_INVALID', 'LAUNCH_TOKEN_EXPIRED', 'DEEP_LINKING_ALREADY_ANSWERED', 'PROGRESS_FORBIDDEN', 'LTI_PLATFORM_DISABLED']);

/**
 * The way back from an error page in the LMS frame: the content picker or the progress view
 * (both GET pages behind a token in their path) when the error left them usable, and in every
 * case how to return to the course. Browsers' Back button after a form post shows a "resubmit"
 * page, so the link is an ordinary GET of the page itself. Undefined outside the LMS frame.
 */
export function wayBackOf(path: string, code: ErrorCode): WayBack | undefined {
  const picker = /^\/lti\/deep-link\/([^/?]+)/.exec(path);
  if (picker) {
    return DEAD_ENDS.has(code)
      ? { note: TO_THE_LMS }
      : { href: `/lti/deep-link/${picker[1]}`, label: 'Back to the content picker', note: 'Or cancel in the LMS to leave the content selection.' };
  }
  const progress = /^\/progress\/([^/?]+)/.exec(path);
  if (progress) {
    return DEAD_ENDS.has(code) ? { note: TO_THE_LMS } : { href: `/progress/${progress[1]}`, label: 'Back to learner progress', note: TO_THE_LMS };
  }
  if (/^\/(?:lti\/(?:launch|login|home)|play\/|dispatch\/)/.test(path)) return { note: TO_THE_LMS };
  return undefined;
}
