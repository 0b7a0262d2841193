import { createHash, timingSafeEqual } from 'node:crypto';
import { LtiError } from '../errors/app-error.js';

/**
 * LTI platform storage (1EdTech "LTI Client Side postMessages" and "LTI postMessage Storage"):
 * when third-party cookies are blocked, the tool keeps the proof that a launch belongs to this
 * browser in a frame of the platform, through postMessage. The browser side is
 * public/lti-storage.js; this module holds the server side: the platform origin and the
 * checks of the value the browser brings back.
 */

/** How long the browser waits for each answer of the platform before falling back to the next tier. */
export const STORAGE_TIMEOUT_MS = 2_000;

/** The key the proof is stored under: one key per login, so parallel launches do not collide. */
export function storageKey(state: string): string {
  return `cp_state_${state}`;
}

/**
 * The origin that must send (and alone may receive) the platform's storage messages: the origin
 * of the registration's OIDC auth URL. That page is the platform's own, unlike the issuer,
 * which is an identifier and need not be a web origin at all (e.g. Canvas's
 * `https://canvas.instructure.com` for every school). A platform that serves its course page from
 * another origin than its auth URL is not supported by this tier and falls back to the new window.
 */
export function platformStorageOrigin(authUrl: string): string {
  return new URL(authUrl).origin;
}

/** The value retrieved from platform storage must be exactly the proof put there at login. */
export function checkStorageProof(stored: string | null | undefined, presented: string): void {
  if (!stored) {
    throw new LtiError('LTI_STORAGE_VALUE_MISMATCH', 'This launch did not start with platform storage, so it cannot be completed with a value from it.', {
      details: { reason: 'not_used' },
      hint: 'Open the activity again from the LMS.',
    });
  }
  const a = createHash('sha256').update(stored).digest();
  const b = createHash('sha256').update(presented).digest();
  if (!timingSafeEqual(a, b)) {
    throw new LtiError('LTI_STORAGE_VALUE_MISMATCH', 'The value your LMS returned from its storage does not belong to this launch.', {
      details: { reason: 'mismatch' },
      hint: 'Open the activity again from the LMS. If it keeps failing, open it in a new window.',
    });
  }
}

/**
 * POST /lti/launch/verified is only ever sent by Courseport's own page (public/lti-storage.js).
 * Browsers send `Origin` on every form POST; anything but our own origin (another site's form,
 * or `null` from a sandboxed frame) is refused, so the endpoint cannot be driven cross-site.
 */
export function checkVerifiedOrigin(origin: string | undefined, baseUrl: string): void {
  if (origin !== new URL(baseUrl).origin) {
    throw new LtiError('LTI_STORAGE_WRONG_ORIGIN', 'The platform storage answer was not posted by Courseport’s own page.', {
      details: { origin: origin ?? null },
      hint: 'Open the activity again from the LMS.',
    });
  }
}
