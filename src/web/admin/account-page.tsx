import type { Admin } from '../../store/tables.js';
import { Csrf, FormProblems, formatTime } from './console-layout.js';

export function AccountPage(p: {
  me: string;
  admins: readonly Admin[];
  sessions: ReadonlyMap<string, number>;
  csrfToken: string;
  problems?: readonly string[];
  code?: string;
}): JSX.Element {
  return (
    <>
      <h1>Your account</h1>
      <div class="card">
        <h2>Change your password</h2>
        <p class="muted">Your other sessions (other browsers) are signed out when the password changes.</p>
        <form method="post" action="/admin/account/password" id="password-form">
          <FormProblems problems={p.problems} code={p.code} />
          <Csrf token={p.csrfToken} />
          <input type="email" name="username" autocomplete="username" value={p.me} hidden />
          <div class="field">
            <label for="current-password">Current password</label>
            <input id="current-password" name="current" type="password" autocomplete="current-password" required />
          </div>
          <div class="field">
            <label for="new-password">
              New password <span class="muted">(at least 12 characters)</span>
            </label>
            <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="12" />
          </div>
          <div class="field">
            <label for="confirm-password">Confirm new password</label>
            <input id="confirm-password" name="confirm" type="password" autocomplete="new-password" required minlength="12" />
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Change password
            </button>
          </div>
        </form>
      </div>
      <div class="card">
        <h2>Administrators</h2>
        <p class="muted">
          Add one with <code>courseport admin create --email …</code>.
        </p>
        <table class="data" id="admins">
          <thead>
            <tr>
              <th>Email</th>
              <th>Created</th>
              <th>Last sign-in</th>
              <th>Active sessions</th>
            </tr>
          </thead>
          <tbody>
            {p.admins.map((a) => (
              <tr>
                <td safe>{a.email === p.me ? `${a.email} (you)` : a.email}</td>
                <td safe>{formatTime(a.created_at)}</td>
                <td safe>{formatTime(a.last_login_at)}</td>
                <td safe>{String(p.sessions.get(a.id) ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
