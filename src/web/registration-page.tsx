import type { RegistrationOutcome, RegistrationPreview } from '../platforms/registration.service.js';
import { Layout } from './layout.js';

/** Scope URIs in words, for the administrator who confirms. */
const SCOPE_LABEL: Record<string, string> = {
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem': 'Create and manage grade columns (AGS line items)',
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly': 'Read grade columns',
  'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly': 'Read grades (results)',
  'https://purl.imsglobal.org/spec/lti-ags/scope/score': 'Send scores to the gradebook',
  'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly': 'Read course rosters (names and roles)',
};

/**
 * The page the LMS shows (in a frame or a window) at GET /lti/register: what the LMS told
 * Courseport about itself, and what Courseport will register. Nothing is sent before "Register".
 */
export function RegistrationConfirmPage(p: { preview: RegistrationPreview }): JSX.Element {
  const c = p.preview.configuration;
  const u = p.preview.toolUrls;
  return (
    <Layout title="Register Courseport">
      <div class="card" id="registration">
        <h1>Register Courseport with your LMS</h1>
        <p>Your LMS asked to register Courseport as an LTI 1.3 tool. Check what will be registered, then confirm.</p>
        <h2>The LMS</h2>
        <dl>
          <dt>Product</dt>
          <dd data-field="product" safe>
            {`${c.productFamilyCode}${c.version ? ` ${c.version}` : ''}`}
          </dd>
          <dt>Issuer</dt>
          <dd data-field="issuer" safe>
            {c.issuer}
          </dd>
          <dt>Registered as</dt>
          <dd data-field="name" safe>
            {p.preview.platformName}
          </dd>
          <dt>Login (OIDC auth) URL</dt>
          <dd safe>{c.authorizationEndpoint}</dd>
          <dt>Token URL</dt>
          <dd safe>{c.tokenEndpoint}</dd>
          <dt>Keys (JWKS) URL</dt>
          <dd safe>{c.jwksUri}</dd>
        </dl>
        <h2>Courseport asks for</h2>
        {p.preview.scopes.length ? (
          <ul id="registration-scopes">
            {p.preview.scopes.map((s) => (
              <li data-scope={s}>
                <span safe>{SCOPE_LABEL[s] ?? s}</span> <span class="muted" safe>{`(${s})`}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted" id="registration-scopes">
            No service scopes: the LMS supports none of the grade and roster services Courseport uses.
          </p>
        )}
        <h2>Courseport's URLs</h2>
        <dl>
          <dt>Login initiation</dt>
          <dd safe>{u.login}</dd>
          <dt>Redirect / launch</dt>
          <dd safe>{u.launch}</dd>
          <dt>Public keys</dt>
          <dd safe>{u.jwks}</dd>
        </dl>
        <p class="hint" data-field="activation">
          {p.preview.activation === 'pending'
            ? 'After registration the LMS stays pending in Courseport: no one can launch from it until a Courseport administrator activates it.'
            : 'This Courseport activates registrations at once (COURSEPORT_REGISTRATION_AUTO_ACTIVATE): launches work as soon as the LMS enables the tool.'}
        </p>
        <form method="post" action="/lti/register" id="registration-form" class="picker-actions" data-submit-once>
          <input type="hidden" name="session" value={p.preview.sessionId} />
          <button type="submit" name="action" value="register" id="registration-confirm">
            Register
          </button>
          <button type="submit" name="action" value="cancel" id="registration-cancel">
            Cancel
          </button>
        </form>
      </div>
      <script src="/static/submit-once.js"></script>
      <script src="/static/registration.js"></script>
    </Layout>
  );
}

/** After the registration (or a cancel): tells the LMS to close the dialog (org.imsglobal.lti.close). */
export function RegistrationDonePage(p: { outcome: RegistrationOutcome | undefined }): JSX.Element {
  const o = p.outcome;
  return (
    <Layout title={o ? 'Courseport registered' : 'Registration cancelled'}>
      <div class="card" id="registration-done" data-lti-close="1" data-status={o ? o.platform.status : 'cancelled'}>
        {o ? (
          <>
            <h1>Courseport is registered</h1>
            <p safe>
              {o.reregistered
                ? `${o.platform.name} was already registered in Courseport; nothing was duplicated.`
                : `${o.platform.name} is now registered in Courseport (client id ${o.platform.client_id}).`}
            </p>
            <dl>
              <dt>Status</dt>
              <dd data-field="status" safe>
                {o.platform.status}
              </dd>
              <dt>Deployments</dt>
              <dd data-field="deployments" safe>
                {o.deploymentIds.join(', ') || 'none yet'}
              </dd>
            </dl>
            {o.platform.status === 'pending' ? (
              <p class="hint">A Courseport administrator must activate this LMS before anyone can launch Courseport from it.</p>
            ) : (
              ''
            )}
          </>
        ) : (
          <>
            <h1>Registration cancelled</h1>
            <p>Nothing was registered.</p>
          </>
        )}
        <p>
          <button type="button" id="registration-close">
            Close
          </button>
        </p>
      </div>
      <script src="/static/registration.js"></script>
    </Layout>
  );
}
