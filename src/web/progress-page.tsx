import type { ProgressSort } from '../rosters/progress.js';
import type { ProgressView } from '../rosters/progress.service.js';
import { Layout } from './layout.js';
import { statusLabel } from './player-page.js';
import { formatDuration, progressSummary, sortDirection, sortQuery, summaryLine } from '../rosters/progress-view.js';

export type ProgressPageProps = ProgressView;

const GRADE_LABEL: Record<string, string> = { sent: 'Sent', pending: 'Pending', sending: 'Sending', skipped: 'LMS grade kept', dead: 'Failed' };

function ago(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? 'just now' : m < 60 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

/** The instructor's view of a link: every learner's progress, and where their grade stands. */
export function ProgressPage(p: ProgressPageProps): JSX.Element {
  // aria-sort belongs on the header cell; the arrow shows the same to sighted users.
  const col = (key: ProgressSort, label: string) => (
    <th aria-sort={p.sort === key ? sortDirection(key) : 'none'} data-sort-key={key}>
      <a href={`${p.base}?sort=${key}`}>
        <span safe>{label}</span>
        {p.sort === key ? (
          <span class="sort-arrow" aria-hidden="true">
            {sortDirection(key) === 'ascending' ? ' ▲' : ' ▼'}
          </span>
        ) : (
          ''
        )}
      </a>
    </th>
  );
  const rosterNote =
    p.roster === 'none'
      ? 'This LMS offers no roster service for this course: learners appear once they have launched the activity.'
      : p.roster === 'syncing'
        ? `Updating the roster from the LMS…${p.syncedAt ? ` (showing the roster of ${ago(p.now - p.syncedAt)})` : ''}`
        : p.roster === 'never'
          ? 'The roster has not been read from the LMS yet.'
          : `Roster from the LMS, updated ${ago(p.now - (p.syncedAt ?? p.now))}.`;
  return (
    <Layout title={`Progress · ${p.title}`}>
      <div class="card progress">
        <h1 safe>{`Learner progress: ${p.title}`}</h1>
        <p class="muted" data-roster-state={p.roster} safe>
          {rosterNote}
        </p>
        {p.lastError ? (
          <p class="hint" data-roster-error safe>
            {`The last roster update failed (${p.lastError}); the previous roster is shown.`}
          </p>
        ) : (
          ''
        )}
        <p class="summary" id="progress-summary" safe>
          {summaryLine(progressSummary(p.rows))}
        </p>
        <div class="picker-actions">
          {p.roster !== 'none' ? (
            <form method="post" action={`${p.base}/sync${sortQuery(p.sort)}`}>
              <button type="submit" class="primary">
                Update roster now
              </button>
            </form>
          ) : (
            ''
          )}
          <a class="button" href={`${p.base}/export.csv${sortQuery(p.sort)}`} download="" id="progress-csv">
            Download CSV
          </a>
        </div>
        <table class="progress-table">
          <thead>
            <tr>
              {col('name', 'Learner')}
              <th>Status</th>
              {col('completion', 'Progress')}
              {col('score', 'Score')}
              {col('time', 'Time')}
              {col('last', 'Last access')}
              <th>Grade</th>
            </tr>
          </thead>
          <tbody>
            {p.rows.map((r) => (
              <tr data-learner={r.sub}>
                <td class="text">
                  <span safe>{r.name ?? r.sub}</span>
                  {r.email ? (
                    <span class="muted" safe>
                      {` ${r.email}`}
                    </span>
                  ) : (
                    ''
                  )}
                </td>
                <td data-col="status" safe>
                  {r.status}
                </td>
                <td data-col="progress" safe>
                  {statusLabel(r.completion, r.success)}
                </td>
                <td data-col="score" safe>
                  {r.scorePercent === null ? '–' : `${r.scorePercent} %`}
                </td>
                <td data-col="time" class="nowrap" safe>
                  {formatDuration(r.timeMs)}
                </td>
                <td data-col="last" safe>
                  {r.lastAccess ? new Date(r.lastAccess).toISOString().slice(0, 16).replace('T', ' ') : 'never'}
                </td>
                <td data-col="grade" class="text" title={r.gradeError ?? ''} safe>
                  {r.grade ? `${GRADE_LABEL[r.grade] ?? r.grade}${r.grade === 'dead' && r.gradeError ? `: ${r.gradeError}` : ''}` : '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
