import type { KeySchedule } from '../../keys/tool-keys.service.js';
import type { ToolKey } from '../../store/tables.js';
import { Csrf, formatTime } from './console-layout.js';

const days = (ms: number) => `${Math.round((ms / 86_400_000) * 100) / 100} days`;

/** The automatic rotation schedule. */
function Schedule(p: { schedule: KeySchedule }): JSX.Element {
  const s = p.schedule;
  return (
    <div class="card" id="key-schedule">
      <h2>Schedule</h2>
      <dl>
        <dt>Automatic rotation</dt>
        <dd safe>
          {s.automatic
            ? `every ${days(s.policy.rotateEveryMs)}; the next key is published ${days(s.policy.publishBeforeUseMs)} before it signs; a retired key stays published ${Math.round(s.policy.retiredOverlapMs / 3_600_000)} hours`
            : 'off (COURSEPORT_KEY_ROTATION_DAYS=0): rotate by hand'}
        </dd>
        <dt>Next step</dt>
        <dd id="schedule-upcoming" safe>
          {s.upcoming ? `${s.upcoming.action === 'promote' ? 'the next key becomes current' : 'a next key is published'} at ${formatTime(s.upcoming.at)}` : '–'}
        </dd>
        {s.next ? (
          <>
            <dt>Next key</dt>
            <dd safe>{`${s.next.kid}: published ${formatTime(s.next.publishedAt)}, may sign from ${formatTime(s.next.promotableAt)}`}</dd>
          </>
        ) : (
          ''
        )}
        {s.retiredPublished.map((r) => (
          <>
            <dt>Retired, still published</dt>
            <dd safe>{`${r.kid}: until ${formatTime(r.unpublishAt)}`}</dd>
          </>
        ))}
      </dl>
    </div>
  );
}

export function KeysPage(p: { keys: readonly ToolKey[]; csrfToken: string; publishBeforeUseDays: number; schedule?: KeySchedule }): JSX.Element {
  return (
    <>
      <h1>Tool keys</h1>
      {p.schedule ? <Schedule schedule={p.schedule} /> : ''}
      <div class="card">
        <p>
          Courseport signs deep linking answers and service requests with its <em>current</em> key; LMSs read the public halves from the JWKS URL. A rotation
          first publishes a <em>next</em> key, so that LMSs that cache the JWKS see it before it signs anything; it becomes current on a later rotation,{' '}
          {String(p.publishBeforeUseDays)} days after publication. The previous key stays published for a while as <em>retired</em>.
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
          <strong>Rotate now</strong> makes a next key current immediately (creating one if needed): use it when the current key may be compromised. LMSs that
          cached the old key set refetch it when they meet the new key id.
        </p>
      </div>
    </>
  );
}
