import type { PlatformWithDeployments } from '../../platforms/platform.service.js';

export interface ToolUrl {
  readonly id: string;
  readonly label: string;
  readonly url: string;
  readonly note?: string;
}

/** The URLs an LMS needs, derived from COURSEPORT_BASE_URL (stable: LMS registrations depend on them). */
export function toolUrls(baseUrl: string): ToolUrl[] {
  return [
    { id: 'url-jwks', label: 'Public keyset (JWKS) URL', url: `${baseUrl}/.well-known/jwks.json` },
    { id: 'url-login', label: 'Login initiation (OIDC) URL', url: `${baseUrl}/lti/login` },
    { id: 'url-launch', label: 'Redirect / launch URL (target link URI)', url: `${baseUrl}/lti/launch` },
    {
      id: 'url-deep-linking',
      label: 'Deep linking (content selection) URL',
      url: `${baseUrl}/lti/launch`,
      note: 'the same URL: Courseport tells the messages apart by their type',
    },
    {
      id: 'url-register',
      label: 'Dynamic registration URL',
      url: `${baseUrl}/lti/register`,
      note: 'for LMSs that register tools themselves (Moodle, Brightspace, Canvas)',
    },
    { id: 'url-canvas', label: 'Canvas configuration (JSON) URL', url: `${baseUrl}/lti/config/canvas.json`, note: 'Canvas developer key, method “Enter URL”' },
  ];
}

function CopyRow(p: ToolUrl): JSX.Element {
  return (
    <tr>
      <th scope="row" safe>
        {p.label}
      </th>
      <td>
        <div class="copy-row">
          <code id={p.id} safe>
            {p.url}
          </code>
          <button type="button" class="secondary" data-copy={p.id} hidden aria-label={`Copy ${p.label}`}>
            Copy
          </button>
        </div>
        {p.note ? (
          <span class="muted" safe>
            {p.note}
          </span>
        ) : (
          ''
        )}
      </td>
    </tr>
  );
}

export function SettingsPage(p: { baseUrl: string; platforms: readonly PlatformWithDeployments[] }): JSX.Element {
  const u = Object.fromEntries(toolUrls(p.baseUrl).map((x) => [x.id, x.url]));
  return (
    <>
      <h1>Settings · LTI configuration</h1>
      <div class="card">
        <h2>Courseport's URLs for your LMS</h2>
        <p class="muted">
          Derived from <code>COURSEPORT_BASE_URL</code> (<code safe>{p.baseUrl}</code>). LMSs require https in production.
        </p>
        <table class="data" id="tool-urls">
          <tbody>
            {toolUrls(p.baseUrl).map((x) => (
              <CopyRow {...x} />
            ))}
          </tbody>
        </table>
      </div>

      <div class="card">
        <h2>Registered platforms</h2>
        {p.platforms.length === 0 ? (
          <p>
            No LMS is registered yet. Follow a guide below, then <a href="/admin/platforms/new">add the platform</a>.
          </p>
        ) : (
          <table class="data" id="platform-ids">
            <thead>
              <tr>
                <th>Platform</th>
                <th>Issuer</th>
                <th>Client id</th>
                <th>Deployments</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {p.platforms.map(({ platform, deployments }) => (
                <tr>
                  <td>
                    <a href={`/admin/platforms/${encodeURIComponent(platform.id)}`} safe>
                      {platform.name}
                    </a>
                  </td>
                  <td>
                    <code safe>{platform.issuer}</code>
                  </td>
                  <td>
                    <code safe>{platform.client_id}</code>
                  </td>
                  <td safe>{deployments.length ? deployments.map((d) => d.deployment_id).join(', ') : '–'}</td>
                  <td>
                    <span class={`badge ${platform.status}`} safe>
                      {platform.status}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div class="card" id="guides">
        <h2>Step by step</h2>
        <details open>
          <summary>
            <strong>Canvas</strong> (developer key from the JSON URL)
          </summary>
          <ol class="steps">
            <li>
              As a Canvas root-account administrator: <strong>Admin → (your account) → Developer Keys → + Developer Key → + LTI Key</strong>.
            </li>
            <li>
              Give it a <em>Key Name</em>, set <em>Redirect URIs</em> to <code safe>{u['url-launch']}</code>, choose <em>Method: Enter URL</em> and paste{' '}
              <code safe>{u['url-canvas']}</code>. Save.
            </li>
            <li>
              Switch the new key's <em>State</em> to <strong>On</strong> and copy its <em>Client ID</em> (the number in the <em>Details</em> column).
            </li>
            <li>
              Install it: <strong>Admin → Settings → Apps → View App Configurations → + App</strong>, <em>Configuration Type: By Client ID</em>, paste the
              Client ID, Submit, Install. The app's gear menu → <em>Deployment Id</em> shows the deployment id.
            </li>
            <li>
              Here: <a href="/admin/platforms/new">add a platform</a> with issuer <code>https://canvas.instructure.com</code>, the Client ID, auth URL{' '}
              <code>https://sso.canvaslms.com/api/lti/authorize_redirect</code>, token URL <code>https://sso.canvaslms.com/login/oauth2/token</code>, JWKS URL{' '}
              <code>https://sso.canvaslms.com/api/lti/security/jwks</code> and the deployment id (use <code>sso.beta.canvaslms.com</code> /{' '}
              <code>sso.test.canvaslms.com</code> for beta and test instances).
            </li>
          </ol>
        </details>
        <details>
          <summary>
            <strong>Moodle 4.x</strong> — dynamic registration
          </summary>
          <ol class="steps">
            <li>
              <strong>Site administration → Plugins → Activity modules → External tool → Manage tools</strong>.
            </li>
            <li>
              Paste <code safe>{u['url-register']}</code> into <em>Tool URL</em> and click <strong>Add LTI Advantage</strong>; confirm the registration in the
              dialog.
            </li>
            <li>
              The tool appears as <em>pending</em>: click <strong>Activate</strong> in Moodle. Courseport shows the new registration under{' '}
              <a href="/admin/platforms">Platforms</a>; if it is <em>pending</em> there too, click <strong>Activate</strong>.
            </li>
          </ol>
        </details>
        <details>
          <summary>
            <strong>Moodle 4.x</strong> — manual configuration
          </summary>
          <ol class="steps">
            <li>
              <strong>Site administration → Plugins → Activity modules → External tool → Manage tools → configure a tool manually</strong>.
            </li>
            <li>
              <em>Tool URL</em>: <code safe>{u['url-launch']}</code>; <em>LTI version</em>: LTI 1.3; <em>Public key type</em>: Keyset URL;{' '}
              <em>Public keyset</em>: <code safe>{u['url-jwks']}</code>; <em>Initiate login URL</em>: <code safe>{u['url-login']}</code>;{' '}
              <em>Redirection URI(s)</em>: <code safe>{u['url-launch']}</code>.
            </li>
            <li>
              Tick <em>Supports Deep Linking (Content-Item Message)</em> with <em>Content Selection URL</em> <code safe>{u['url-deep-linking']}</code>. Under{' '}
              <em>Services</em>, choose <em>IMS LTI Assignment and Grade Services: Use this service for grade sync and column management</em> and{' '}
              <em>IMS LTI Names and Role Provisioning: Use this service to retrieve members' information as per privacy settings</em>. Save.
            </li>
            <li>
              In the tool list, open the tool's <em>View configuration details</em>: it shows the <em>Platform ID</em> (issuer), <em>Client ID</em>,{' '}
              <em>Deployment ID</em>, <em>Public keyset URL</em>, <em>Access token URL</em> and <em>Authentication request URL</em> — enter them here under{' '}
              <a href="/admin/platforms/new">Add platform</a>.
            </li>
          </ol>
        </details>
        <details>
          <summary>
            <strong>Blackboard Learn</strong>
          </summary>
          <ol class="steps">
            <li>
              The tool vendor registers Courseport once in the Anthology (Blackboard) Developer Portal: <em>Login Initiation URL</em>{' '}
              <code safe>{u['url-login']}</code>, <em>Tool Redirect URL(s)</em> <code safe>{u['url-launch']}</code>, <em>Tool JWKS URL</em>{' '}
              <code safe>{u['url-jwks']}</code>, <em>Signing Algorithm</em> RS256. The portal shows the <em>Application ID</em> (the client id), the issuer, the
              public keyset URL, the auth token endpoint and the OIDC auth request endpoint.
            </li>
            <li>
              Each institution's Learn administrator: <strong>Administrator Panel → Integrations → LTI Tool Providers → Register LTI 1.3/Advantage Tool</strong>
              , enters the Client ID, submits, and reads the <em>Deployment ID</em> from the tool's page.
            </li>
            <li>
              Here: one platform per Application ID (issuer <code>https://blackboard.com</code>), with each institution's deployment id added to it.
            </li>
          </ol>
        </details>
        <details>
          <summary>
            <strong>D2L Brightspace</strong>
          </summary>
          <ol class="steps">
            <li>
              <strong>Admin Tools → Manage Extensibility → LTI Advantage → Register Tool</strong>. Choose <em>Dynamic</em> and enter{' '}
              <code safe>{u['url-register']}</code>, or <em>Standard</em> with <em>Domain</em> <code safe>{new URL(p.baseUrl).host}</code>,{' '}
              <em>Redirect URLs</em> <code safe>{u['url-launch']}</code>, <em>OpenID Connect Login URL</em> <code safe>{u['url-login']}</code>,{' '}
              <em>Target Link URI</em> <code safe>{u['url-launch']}</code>, <em>Keyset URL</em> <code safe>{u['url-jwks']}</code>, and the extensions{' '}
              <em>Assignment and Grade Services</em>, <em>Deep Linking</em>, <em>Names and Role Provisioning Services</em>.
            </li>
            <li>
              Brightspace then shows the <em>Client Id</em>, <em>Brightspace Keyset URL</em>, <em>Brightspace OAuth2 Access Token URL</em>,{' '}
              <em>OpenID Connect Authentication Endpoint</em>, <em>Brightspace OAuth2 Audience</em> (Courseport's <em>token audience</em>) and <em>Issuer</em>.
              New registrations are disabled: enable them.
            </li>
            <li>
              <strong>View Deployments → New Deployment</strong> (or <em>Admin Tools → External Learning Tools → LTI Advantage → New Deployment</em>) gives the{' '}
              <em>Deployment Id</em>. Enter everything here under <a href="/admin/platforms/new">Add platform</a>.
            </li>
          </ol>
        </details>
      </div>
    </>
  );
}
