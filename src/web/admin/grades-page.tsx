import type { OutboxEntryView } from '../../grades/grade-outbox.js';
import { Csrf } from './console-layout.js';

const STATES = ['pending', 'sending', 'sent', 'skipped', 'dead', 'superseded'] as const;

function Rows(p: { entries: readonly OutboxEntryView[]; csrfToken: string; id: string }): JSX.Element {
  if (p.entries.length === 0) return <p class="muted">None.</p>;
  return (
    <table class="data" id={p.id}>
      <thead>
        <tr>
          <th>Score</th>
          <th>Learner (LMS id)</th>
          <th>Resource link</th>
          <th>Tries</th>
          <th>Next try</th>
          <th>Last error</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {p.entries.map((e) => (
          <tr data-id={e.id}>
            <td>
              <code safe>{e.id}</code>
            </td>
            <td safe>{e.userSub}</td>
            <td safe>{e.resourceLinkId}</td>
            <td safe>{String(e.tries)}</td>
            <td safe>{e.state === 'dead' ? '–' : e.nextTryAt.replace('T', ' ').replace(/\.\d{3}Z$/, '')}</td>
            <td class="error-text" safe>
              {e.lastError ?? ''}
            </td>
            <td>
              <form method="post" action={`/admin/grades/${encodeURIComponent(e.id)}/retry`} class="inline">
                <Csrf token={p.csrfToken} />
                <button type="submit" class="secondary">
                  Retry now
                </button>
              </form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function GradesPage(p: {
  counts: Record<string, number>;
  dead: readonly OutboxEntryView[];
  pending: readonly OutboxEntryView[];
  csrfToken: string;
}): JSX.Element {
  return (
    <>
      <h1>Grade delivery</h1>
      <div class="card">
        <p>
          Scores wait in an outbox until the LMS gradebook accepts them. Failures are retried with growing delays; a score still failing after{' '}
          <code>COURSEPORT_GRADES_MAX_AGE_HOURS</code> is <em>dead</em> and waits for an administrator.
        </p>
        <table class="data" id="grade-counts">
          <tbody>
            <tr>
              {STATES.map((s) => (
                <th scope="col" safe>
                  {s}
                </th>
              ))}
            </tr>
            <tr>
              {STATES.map((s) => (
                <td data-state={s} safe>
                  {String(p.counts[s] ?? 0)}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
      <div class="card">
        <h2>Failed (dead) scores</h2>
        <Rows entries={p.dead} csrfToken={p.csrfToken} id="grades-dead" />
        {p.dead.length ? (
          <form method="post" action="/admin/grades/retry-dead" class="actions">
            <Csrf token={p.csrfToken} />
            <button type="submit" class="primary" id="retry-dead">
              Retry all dead scores
            </button>
          </form>
        ) : (
          ''
        )}
      </div>
      <div class="card">
        <h2>Pending scores</h2>
        <Rows entries={p.pending} csrfToken={p.csrfToken} id="grades-pending" />
      </div>
    </>
  );
}
