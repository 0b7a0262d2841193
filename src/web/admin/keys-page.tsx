import type { ToolKey } from '../../store/tables.js';
import { Csrf, formatTime } from './console-layout.js';

export function KeysPage(p: { keys: readonly ToolKey[]; csrfToken: string; publishBeforeUseDays: number }): JSX.Element {
  return (
    <>
      <h1>Tool keys</h1>
      <div class="card">
        <p>
          Courseport signs deep linking answers and service requests with its <em>current</em> key; LMSs read the public halves from the JWKS URL. A
          rotation first publishes a <em>next</em> key, so that LMSs that cache the JWKS see it before it signs anything; it becomes current on a later
          rotation, {String(p.publishBeforeUseDays)} days after publication. The previous key stays published for a while as <em>retired</em>.
        </p>
        <table class="data" id="keys">
          <thead>
            <tr>
              <th>Key id (kid)</th>
              <th>State</th>
              <th>Algorithm</th>
              <th>Created</th>
              <th>Activated</th>
              <th>Retired</th>
            </tr>
          </thead>
          <tbody>
            {p.keys.map((k) => (
              <tr data-kid={k.kid}>
                <td>
                  <code safe>{k.kid}</code>
                </td>
                <td>
                  <span class={`badge ${k.state}`} safe>
                    {k.state}
                  </span>
                </td>
                <td safe>{k.alg}</td>
                <td safe>{formatTime(k.created_at)}</td>
                <td safe>{formatTime(k.activated_at)}</td>
                <td safe>{formatTime(k.retired_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="actions">
          <form method="post" action="/admin/keys/rotate" class="inline">
            <Csrf token={p.csrfToken} />
            <button type="submit" class="primary" id="rotate">
              Rotate (publish next, or promote it when due)
            </button>
          </form>
          <form method="post" action="/admin/keys/rotate-now" class="inline">
            <Csrf token={p.csrfToken} />
            <button type="submit" class="danger" id="rotate-now">
              Rotate now
            </button>
          </form>
        </div>
        <p class="muted">
          <strong>Rotate now</strong> makes a next key current immediately (creating one if needed): use it when the current key may be compromised. LMSs
          that cached the old key set refetch it when they meet the new key id.
        </p>
      </div>
    </>
  );
}
