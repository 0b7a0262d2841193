import { FormProblems, PublicConsoleLayout } from './console-layout.js';

export interface SetupPageProps {
  readonly csrfToken: string;
  readonly email?: string;
  readonly problems?: readonly string[];
  readonly code?: string;
}

/** The first visit to an empty Courseport: create the first administrator. */
export function SetupPage(p: SetupPageProps): JSX.Element {
  return (
    <PublicConsoleLayout title="Create the first administrator">
      <div class="card">
        <h1>Welcome to Courseport</h1>
        <p>No administrator exists yet. Create the first one: you will be signed in at once.</p>
        <FormProblems problems={p.problems} code={p.code} />
        <form method="post" action="/admin/setup" id="setup-form">
          <input type="hidden" name="_csrf" value={p.csrfToken} />
          <div class="field">
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required value={p.email ?? ''} />
          </div>
          <div class="field">
            <label for="password">
              Password <span class="muted">(at least 12 characters)</span>
            </label>
            <input id="password" name="password" type="password" autocomplete="new-password" required minlength="12" />
          </div>
          <div class="field">
            <label for="confirm">Confirm password</label>
            <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="12" />
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Create administrator
            </button>
          </div>
        </form>
      </div>
    </PublicConsoleLayout>
  );
}

export interface LoginPageProps {
  readonly csrfToken: string;
  readonly email?: string;
  readonly next?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly notice?: string;
}

export function LoginPage(p: LoginPageProps): JSX.Element {
  return (
    <PublicConsoleLayout title="Sign in">
      <div class="card">
        <h1>Sign in to the Courseport console</h1>
        {p.notice ? (
          <p class="notice" role="status" safe>
            {p.notice}
          </p>
        ) : (
          ''
        )}
        {p.error ? <FormProblems problems={[p.error.message]} code={p.error.code} title="Not signed in" /> : ''}
        <form method="post" action="/admin/login" id="login-form">
          <input type="hidden" name="_csrf" value={p.csrfToken} />
          {p.next ? <input type="hidden" name="next" value={p.next} /> : ''}
          <div class="field">
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required value={p.email ?? ''} />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Sign in
            </button>
          </div>
        </form>
      </div>
    </PublicConsoleLayout>
  );
}
