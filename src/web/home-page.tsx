import type { ToolUrl } from './admin/settings-page.js';
import { Layout } from './layout.js';

export interface DocEntry {
  /** File name under docs/, e.g. `lti.md`. */
  readonly file: string;
  readonly title: string;
}

/** `/`: what this server is and where to go next (the README's "it serves on localhost:3000"). */
export function HomePage(p: { baseUrl: string; sandbox: boolean; urls: readonly ToolUrl[]; docs: readonly DocEntry[] }): JSX.Element {
  return (
    <Layout title="Home">
      <div class="card" id="home">
        <h1>Courseport</h1>
        <p>
          An LTI 1.3 tool server for SCORM courses: it hosts your packages, plays them with tracking, and plugs them into LMSs such as Canvas, Moodle,
          Blackboard and Brightspace (or, without LTI, through licensed dispatch packages).
        </p>
        <p class="site-nav" id="home-links">
          <a class="button primary" href="/admin" id="home-console">
            Admin console
          </a>
          {p.sandbox ? (
            <a class="button" href="/sandbox" id="home-sandbox">
              Sandbox LMS
            </a>
          ) : (
            ''
          )}
          <a class="button" href="/docs" id="home-docs">
            Documentation
          </a>
          <a class="button" href="/api/docs" id="home-api-docs">
            Admin API (OpenAPI)
          </a>
        </p>
        {p.sandbox ? (
          <p class="muted">
            New here? Import a SCORM package in the console (<strong>Packages</strong>), then open the sandbox LMS and click <strong>Add content…</strong>: the
            whole LTI round trip runs on this machine.
          </p>
        ) : (
          ''
        )}
      </div>
      <div class="card">
        <h2>LTI configuration for your LMS</h2>
        <p class="muted">
          Derived from <code>COURSEPORT_BASE_URL</code> (<code safe>{p.baseUrl}</code>). The console's <a href="/admin/settings">Settings</a> page has copy
          buttons and step-by-step guides per LMS.
        </p>
        <dl id="home-urls">
          {p.urls.map((u) => (
            <>
              <dt safe>{u.label}</dt>
              <dd>
                <code id={`home-${u.id}`} safe>
                  {u.url}
                </code>
              </dd>
            </>
          ))}
        </dl>
      </div>
      <div class="card">
        <h2>Documentation</h2>
        <ul id="home-doc-list">
          {p.docs.map((d) => (
            <li>
              <a href={`/docs/${d.file}`} safe>
                {d.title}
              </a>
            </li>
          ))}
        </ul>
      </div>
    </Layout>
  );
}

/** `/docs`: the project's Markdown documentation, listed. */
export function DocsIndexPage(p: { docs: readonly DocEntry[] }): JSX.Element {
  return (
    <Layout title="Documentation">
      <p class="site-nav">
        <a href="/">← Courseport</a>
      </p>
      <div class="card">
        <h1>Documentation</h1>
        <p class="muted">The Markdown files of the docs/ folder, as plain text.</p>
        <ul id="doc-list">
          {p.docs.map((d) => (
            <li>
              <a href={`/docs/${d.file}`} safe>
                {d.title}
              </a>{' '}
              <code class="muted" safe>
                {d.file}
              </code>
            </li>
          ))}
        </ul>
      </div>
    </Layout>
  );
}

/**
 * GET of a URL that LMSs use with POST (/lti/launch, /dispatch/launch): an administrator checking
 * the address in a browser learns it is right, instead of reading "Nothing at GET …".
 */
export function PostOnlyEndpointPage(p: { url: string; what: string; usedBy: string }): JSX.Element {
  return (
    <Layout title="Courseport endpoint">
      <div class="card" id="endpoint-info">
        <h1>This address is correct</h1>
        <p>
          <code safe>{p.url}</code> is {p.what}
        </p>
        <p safe>{p.usedBy}</p>
        <p class="muted">Opening it directly in a browser does nothing else: there is no launch to show without the LMS's signed form.</p>
        <p>
          <a href="/">Courseport home</a>
        </p>
      </div>
    </Layout>
  );
}
