import type { Children } from '@kitajs/html';
import { ErrorSummary } from '../error-page.js';
import { Layout } from '../layout.js';

/**
 * The admin console's frame: header, navigation, notice, sign-out. Pages render their body
 * inside it through `AdminConsole.render` (src/http/routes/admin-console.ts).
 *
 * Adding a page to the navigation: append one entry to ADMIN_NAV. Logout is not a section: it
 * is a form button on the right of the header, with the account link. `key` is what a page
 * passes as `nav` to be marked as the current one.
 */
export interface AdminNavItem {
  readonly key: string;
  readonly href: string;
  readonly label: string;
}

export const ADMIN_NAV: AdminNavItem[] = [
  { key: 'settings', href: '/admin/settings', label: 'Settings' },
  { key: 'platforms', href: '/admin/platforms', label: 'Platforms' },
  { key: 'packages', href: '/admin/packages', label: 'Packages' },
  { key: 'grades', href: '/admin/grades', label: 'Grades' },
  { key: 'keys', href: '/admin/keys', label: 'Keys' },
  { key: 'audit', href: '/admin/audit', label: 'Audit log' },
  // Content dispatch
  { key: 'dispatch', href: '/admin/dispatch', label: 'Dispatch' },
  // Other features append their pages here (e.g. dispatch, key schedule).
];

export interface ConsoleLayoutProps {
  readonly title: string;
  /** The ADMIN_NAV key of the current page. */
  readonly nav: string;
  readonly email: string;
  readonly csrfToken: string;
  /** A one-time message from the previous action (e.g. "Platform saved."). */
  readonly notice?: string | undefined;
  /** The sandbox LMS is served (COURSEPORT_SANDBOX): the header links to it. */
  readonly sandbox?: boolean | undefined;
  readonly children?: Children;
}

const HEAD = (
  <>
    <link rel="stylesheet" href="/static/admin.css" />
    <script src="/static/admin.js" defer></script>
  </>
);

export function ConsoleLayout(p: ConsoleLayoutProps): JSX.Element {
  return (
    <Layout title={`${p.title} · Admin`} bodyClass="admin" head={HEAD} referrer="same-origin">
      <header class="admin-header">
        <a class="admin-brand" href="/admin">
          Courseport admin
        </a>
        <nav aria-label="Console">
          <ul class="admin-nav">
            {ADMIN_NAV.map((item) => (
              <li>
                <a href={item.href} aria-current={item.key === p.nav ? 'page' : undefined} safe>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="admin-session">
          {p.sandbox ? (
            <a href="/sandbox" id="sandbox-link" title="The built-in sandbox LMS (docs/sandbox.md)">
              Sandbox LMS
            </a>
          ) : (
            ''
          )}
          <a class="muted admin-who" href="/admin/account" title="Your account" aria-current={p.nav === 'account' ? 'page' : undefined} safe>
            {p.email}
          </a>
          <form method="post" action="/admin/logout" class="inline">
            <input type="hidden" name="_csrf" value={p.csrfToken} />
            <button type="submit" class="secondary" id="logout">
              Logout
            </button>
          </form>
        </div>
      </header>
      <main class="admin-main">
        {p.notice ? (
          <p class="notice" role="status" safe>
            {p.notice}
          </p>
        ) : (
          ''
        )}
        {p.children}
      </main>
    </Layout>
  );
}

/** The sign-in and first-administrator pages: no navigation, no session yet. */
export function PublicConsoleLayout(p: { title: string; children?: Children }): JSX.Element {
  return (
    <Layout title={`${p.title} · Admin`} bodyClass="admin" head={HEAD} referrer="same-origin">
      <main class="admin-main narrow">{p.children}</main>
    </Layout>
  );
}

/** Validation problems and errors shown above a form; the form keeps what was typed. */
export function FormProblems(p: { problems: readonly string[] | undefined; code?: string | undefined; title?: string }): JSX.Element {
  if (!p.problems || p.problems.length === 0) return '';
  return (
    <div class="problems" role="alert" id="form-problems">
      <strong safe>{p.title ?? 'Please correct the following:'}</strong>
      <ul>
        {p.problems.map((x) => (
          <li safe>{x}</li>
        ))}
      </ul>
      {p.code ? (
        <p class="muted">
          Error code{' '}
          <code data-error-code safe>
            {p.code}
          </code>
        </p>
      ) : (
        ''
      )}
    </div>
  );
}

/** A hidden anti-forgery field: every console form that changes something carries one. */
export function Csrf(p: { token: string }): JSX.Element {
  return <input type="hidden" name="_csrf" value={p.token} />;
}

/** An error inside the console's frame (unknown pages and ids keep the navigation). */
export function ConsoleErrorBody(p: {
  status: number;
  code: string;
  title: string;
  message: string;
  hint: string | undefined;
  requestId: string;
}): JSX.Element {
  return (
    <div class="card error" role="alert" id="console-error">
      <ErrorSummary {...p} />
    </div>
  );
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}
