import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors/app-error.js';
import type { WayBack } from '../../web/error-page.js';
import { pagePolicyOf } from './page-policy.js';

const TO_THE_LMS =
  'To go back to your course, use the LMS’s own navigation around this frame (or close this window if the activity opened in a new one), then open the activity again.';

/** Errors after which the page they came from cannot work again: only the LMS can start anew. */
const DEAD_ENDS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'LAUNCH_TOKEN_INVALID',
  'LAUNCH_TOKEN_EXPIRED',
  'DEEP_LINKING_ALREADY_ANSWERED',
  'PROGRESS_FORBIDDEN',
  'LTI_PLATFORM_DISABLED',
]);

/**
 * The way back from an error page in the LMS frame, as the route's page policy declares it: the
 * content picker or the progress view (GET pages behind the route's token) when the error left
 * them usable, and in every case how to return to the course. Browsers' Back button after a
 * form post shows a "resubmit" page, so the link is an ordinary GET of the page itself.
 */
export function wayBackOf(request: FastifyRequest, code: ErrorCode): WayBack | undefined {
  const rule = pagePolicyOf(request)?.wayBack;
  if (!rule) return undefined;
  const token = (request.params as { token?: unknown } | undefined)?.token;
  if (rule === 'lms' || DEAD_ENDS.has(code) || typeof token !== 'string') return { note: TO_THE_LMS };
  const page = encodeURIComponent(token);
  return rule === 'picker'
    ? { href: `/lti/deep-link/${page}`, label: 'Back to the content picker', note: 'Or cancel in the LMS to leave the content selection.' }
    : { href: `/progress/${page}`, label: 'Back to learner progress', note: TO_THE_LMS };
}
