import type { AuditEntry } from '../../audit/audit-log.service.js';

export interface AuditPageProps {
  readonly entries: readonly AuditEntry[];
  readonly action: string;
  /** The actions the log holds (the filter's choices). */
  readonly actions: readonly string[];
  /** Link to the next (older) page, when there is one. */
  readonly olderHref: string | undefined;
  readonly firstPage: boolean;
}

export function AuditPage(p: AuditPageProps): JSX.Element {
  return (
    <>
      <h1>Audit log</h1>
      <div class="card">
        <form method="get" action="/admin/audit" class="actions" role="search">
          <div class="field">
            <label for="audit-action">Action</label>
            <select id="audit-action" name="action">
              <option value="" selected={!p.action}>
                All actions
              </option>
              {(p.action && !p.actions.includes(p.action) ? [p.action, ...p.actions] : p.actions).map((a) => (
                <option value={a} selected={a === p.action} safe>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="secondary">
            Filter
          </button>
          {p.action ? <a href="/admin/audit">Show all</a> : ''}
        </form>
        {p.entries.length === 0 ? (
          <p class="muted">No entries{p.action ? ' for this action' : ''}.</p>
        ) : (
          <table class="data" id="audit">
            <thead>
              <tr>
                <th>When (UTC)</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
                <th>Details</th>
                <th>Address</th>
              </tr>
            </thead>
            <tbody>
              {p.entries.map((e) => (
                <tr data-action={e.action}>
                  <td safe>{e.at.replace('T', ' ').replace(/\.\d{3}Z$/, '')}</td>
                  <td class="text" safe>
                    {e.actor}
                  </td>
                  <td>
                    <code safe>{e.action}</code>
                  </td>
                  <td class="text id" safe>
                    {e.target ?? ''}
                  </td>
                  <td class="text">{e.details ? <AuditDetails details={e.details} /> : ''}</td>
                  <td class="text" safe>
                    {e.ip ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="pager">
          {p.firstPage ? '' : <a href={p.action ? `/admin/audit?action=${encodeURIComponent(p.action)}` : '/admin/audit'}>Newest</a>}
          {p.olderHref ? (
            <a href={p.olderHref} id="audit-older" rel="next">
              Older entries →
            </a>
          ) : (
            ''
          )}
        </p>
      </div>
    </>
  );
}

/**
 * An entry's details as "key: value" lines that wrap inside the table (a raw JSON object on
 * one line pushed the table out of its card).
 */
function AuditDetails(p: { details: Readonly<Record<string, unknown>> }): JSX.Element {
  return (
    <ul class="audit-details">
      {Object.entries(p.details).map(([key, value]) => (
        <li>
          <span class="muted" safe>
            {key}
          </span>{' '}
          <code safe>{detailText(value)}</code>
        </li>
      ))}
    </ul>
  );
}

/** A detail value as plain text: lists joined with commas, objects as "key: value" pairs. */
function detailText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length === 0 ? '–' : value.map(detailText).join(', ');
  if (value !== null && typeof value === 'object')
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${detailText(v)}`)
      .join(', ');
  return JSON.stringify(value) ?? '';
}
