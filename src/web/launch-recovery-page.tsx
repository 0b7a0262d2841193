import { jsonScript } from '../util/json-script.js';
import { ErrorReference } from './error-page.js';
import { Layout } from './layout.js';

/**
 * The pages of a launch whose state cookie may not survive (docs/lti.md, "When the browser blocks
 * the state cookie"). No inline script (CSP `default-src 'self'`): the data travels in a JSON
 * block read by /static/lti-storage.js, and every page also works as a plain form without scripts.
 */

/** JSON inside <script type="application/json">: nothing in it can close the element or open a comment. */
export interface StoragePutConfig {
  readonly mode: 'put';
  readonly target: string;
  readonly origin: string;
  readonly key: string;
  readonly value: string;
  readonly authUrl: string;
  readonly timeoutMs: number;
}

/** Tier 2 at login: puts the proof in the platform's storage, then goes on to the platform's auth URL. */
export function StorageLoginPage(p: { config: StoragePutConfig }): JSX.Element {
  return (
    <Layout title="Connecting to your LMS">
      <div class="card" id="lti-storage" data-step="put">
        <h1>Connecting to your LMS…</h1>
        <p class="muted" id="lti-storage-status">
          Courseport is asking your LMS to remember this launch, because your browser may block cookies here.
        </p>
        <p>
          <a href={p.config.authUrl} id="lti-storage-continue">
            Continue
          </a>
        </p>
      </div>
      <script type="application/json" id="lti-storage-config">
        {jsonScript(p.config)}
      </script>
      <script src="/static/lti-storage.js"></script>
    </Layout>
  );
}

export interface LaunchResumeProps {
  readonly idToken: string;
  readonly state: string;
  /** Set: retrieve the proof from platform storage (tier 2); unset: re-post once from our own page. */
  readonly storage: { readonly target: string; readonly origin: string; readonly key: string } | undefined;
  readonly timeoutMs: number;
  /** The refusal of the launch as posted (LTI_STATE_COOKIE_MISSING), shown while the page recovers. */
  readonly code: string;
  readonly requestId: string;
}

/**
 * At launch, when the cookie did not come back: either fetch the proof from platform storage and
 * post it to /lti/launch/verified, or re-post the launch once from Courseport's own page (a
 * same-site request, so a `SameSite=Lax` cookie set in a top-level window comes along). Both
 * fall back to the re-post, and the re-post to the new-window page.
 */
export function LaunchResumePage(p: LaunchResumeProps): JSX.Element {
  const config = p.storage ? { mode: 'get', ...p.storage, timeoutMs: p.timeoutMs } : { mode: 'resubmit', timeoutMs: p.timeoutMs };
  return (
    // same-origin: the form post to /lti/launch/verified must carry our Origin (no-referrer would send `null`).
    <Layout title="Completing the launch" referrer="same-origin">
      <div class="card" id="lti-storage" data-step={config.mode}>
        <h1>Completing the launch…</h1>
        <p class="muted">
          Your browser did not send back Courseport’s cookie (third-party cookies are blocked inside the LMS page), so Courseport is checking this launch
          another way.
        </p>
        <form method="post" action="/lti/launch/verified" id="lti-verified-form">
          <input type="hidden" name="id_token" value={p.idToken} />
          <input type="hidden" name="state" value={p.state} />
          <input type="hidden" name="storage_value" value="" />
        </form>
        <form method="post" action="/lti/launch" id="lti-resume-form">
          <input type="hidden" name="id_token" value={p.idToken} />
          <input type="hidden" name="state" value={p.state} />
          <input type="hidden" name="cp_recover" value="resubmit" />
          <input type="hidden" name="cp_storage" value="" />
          <p class="muted">If nothing happens, continue by hand:</p>
          <button type="submit">Continue</button>
        </form>
        <p class="muted">
          Error code{' '}
          <code data-error-code safe>
            {p.code}
          </code>{' '}
          · reference <code safe>{p.requestId}</code>
        </p>
      </div>
      <script type="application/json" id="lti-storage-config">
        {jsonScript(config)}
      </script>
      <script src="/static/lti-storage.js"></script>
    </Layout>
  );
}

export interface NewWindowPageProps {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly hint: string | undefined;
  readonly requestId: string;
  /** The original login parameters; the form re-posts them to /lti/login in a new window. */
  readonly resumeParams: Record<string, string>;
  /** Why platform storage did not help, as reported by the page (shown, never trusted). */
  readonly storageOutcome: string | undefined;
}

const STORAGE_NOTE: Record<string, string> = {
  wrong_origin: 'An answer claiming to come from your LMS was sent by another site and was ignored.',
  timeout: 'Your LMS did not answer Courseport’s request to remember this launch.',
  no_value: 'Your LMS no longer had the value Courseport asked it to remember.',
  no_platform: 'This page is not shown inside your LMS.',
};

/** Tier 3: the state cookie is blocked and nothing else worked; explain, and offer a new window. */
export function NewWindowPage(p: NewWindowPageProps): JSX.Element {
  const note = p.storageOutcome ? (STORAGE_NOTE[p.storageOutcome] ?? 'Your LMS could not remember this launch for Courseport.') : undefined;
  return (
    <Layout title={p.title}>
      <div class="card error" role="alert">
        <h1 safe>{p.title}</h1>
        <p safe>{p.message}</p>
        {note ? (
          <p class="muted" id="lti-storage-note" safe>
            {note}
          </p>
        ) : (
          ''
        )}
        {p.hint ? (
          <p class="hint" safe>
            {p.hint}
          </p>
        ) : (
          ''
        )}
        {Object.keys(p.resumeParams).length > 0 ? (
          // biome-ignore lint/security/noBlankTarget: a form with target=_blank opens without an opener (HTML's implied noopener), like a link.
          <form method="post" action="/lti/login" target="_blank" id="lti-new-window-form">
            {Object.entries(p.resumeParams).map(([name, value]) => (
              <input type="hidden" name={name} value={value} />
            ))}
            <input type="hidden" name="cp_window" value="1" />
            <p>
              <button type="submit">Open in a new window</button>
            </p>
            <p class="muted">The activity opens in its own window, where your browser keeps Courseport’s cookie; your LMS signs you in again there.</p>
          </form>
        ) : (
          ''
        )}
        <ErrorReference {...p} />
      </div>
    </Layout>
  );
}
