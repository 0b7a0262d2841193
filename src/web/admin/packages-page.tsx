import type { Package, PackageVersion } from '../../store/tables.js';
import { TITLE_MAX_LENGTH } from '../../packages/titles.js';
import { Csrf, FormProblems, formatTime } from './console-layout.js';

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Upload form: posts normally without scripts; admin.js adds the progress bar (XHR upload progress). */
export function UploadForm(p: { action: string; csrfToken: string; maxUploadBytes: number; newVersion: boolean }): JSX.Element {
  return (
    <form method="post" action={p.action} enctype="multipart/form-data" id="upload-form">
      {/* The token and the title come before the file: the server reads them before storing it. */}
      <Csrf token={p.csrfToken} />
      <div class="field">
        <label for="upload-title">
          Title{' '}
          <span class="muted">
            (optional, up to {String(TITLE_MAX_LENGTH)} characters; {p.newVersion ? 'keeps the current title when empty' : "defaults to the manifest's"})
          </span>
        </label>
        <input id="upload-title" name="title" maxlength={String(TITLE_MAX_LENGTH)} />
      </div>
      <div class="field">
        <label for="upload-file">
          SCORM package (.zip) <span class="muted">(up to {bytes(p.maxUploadBytes)})</span>
        </label>
        <input id="upload-file" name="file" type="file" accept=".zip,application/zip" required />
      </div>
      <div class="actions">
        <button type="submit" class="primary" id="upload-submit">
          {p.newVersion ? 'Upload new version' : 'Upload package'}
        </button>
      </div>
      <progress id="upload-progress" max="100" value="0" hidden aria-label="Upload progress"></progress>
      <p id="upload-status" role="status" aria-live="polite"></p>
    </form>
  );
}

export interface PackageListRow {
  readonly pkg: Package;
  readonly versions: number;
  readonly links: number;
}

export function PackageListPage(p: { rows: readonly PackageListRow[]; csrfToken: string; maxUploadBytes: number; showArchived: boolean }): JSX.Element {
  const rows = p.showArchived ? p.rows : p.rows.filter((r) => r.pkg.status !== 'archived');
  const archived = p.rows.length - p.rows.filter((r) => r.pkg.status !== 'archived').length;
  return (
    <>
      <h1>Packages</h1>
      <div class="card">
        <h2>Upload a SCORM package</h2>
        <UploadForm action="/admin/packages/upload" csrfToken={p.csrfToken} maxUploadBytes={p.maxUploadBytes} newVersion={false} />
      </div>
      <div class="card">
        <h2>Catalogue</h2>
        <p class="muted">
          Archived packages leave the instructors' content picker and cannot be bound to new links; activities already using them keep working.{' '}
          {p.showArchived ? (
            <a href="/admin/packages">Hide archived</a>
          ) : archived ? (
            <a href="/admin/packages?archived=1">Show {String(archived)} archived</a>
          ) : (
            ''
          )}
        </p>
        {rows.length === 0 ? (
          <p class="muted">No packages yet.</p>
        ) : (
          <table class="data" id="packages">
            <thead>
              <tr>
                <th>Title</th>
                <th>Status</th>
                <th>Versions</th>
                <th>Links</th>
                <th>Updated</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ pkg, versions, links }) => (
                <tr data-id={pkg.id} data-status={pkg.status}>
                  <td class="text">
                    <a href={`/admin/packages/${encodeURIComponent(pkg.id)}`} safe>
                      {pkg.title}
                    </a>
                    <br />
                    <code class="muted" safe>
                      {pkg.id}
                    </code>
                  </td>
                  <td>
                    <span class={`badge ${pkg.status}`} safe>
                      {pkg.status}
                    </span>
                  </td>
                  <td safe>{String(versions)}</td>
                  <td safe>{String(links)}</td>
                  <td safe>{formatTime(pkg.updated_at)}</td>
                  <td class="nowrap">
                    <ArchiveButton pkg={pkg} csrfToken={p.csrfToken} back="list" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

function ArchiveButton(p: { pkg: Package; csrfToken: string; back: 'list' | 'detail' }): JSX.Element {
  const archived = p.pkg.status === 'archived';
  return (
    <form method="post" action={`/admin/packages/${encodeURIComponent(p.pkg.id)}/${archived ? 'unarchive' : 'archive'}`} class="inline">
      <Csrf token={p.csrfToken} />
      <input type="hidden" name="back" value={p.back} />
      <button type="submit" class={archived ? 'secondary' : 'danger'} data-action={archived ? 'unarchive' : 'archive'}>
        {archived ? 'Unarchive' : 'Archive'}
      </button>
    </form>
  );
}

const SCORM: Record<string, string> = {
  '1.2': 'SCORM 1.2',
  '2004-2nd': 'SCORM 2004 2nd ed.',
  '2004-3rd': 'SCORM 2004 3rd ed.',
  '2004-4th': 'SCORM 2004 4th ed.',
};

export interface PackageDetailProps {
  readonly pkg: Package;
  readonly versions: readonly PackageVersion[];
  readonly links: number;
  readonly csrfToken: string;
  readonly maxUploadBytes: number;
  /** A refused rename (the form keeps the input) or deletion. */
  readonly renameValue?: string;
  readonly renameProblems?: readonly string[];
  readonly deleteProblems?: readonly string[];
  readonly code?: string;
}

export function PackageDetailPage(p: PackageDetailProps): JSX.Element {
  const base = `/admin/packages/${encodeURIComponent(p.pkg.id)}`;
  return (
    <>
      <p>
        <a href="/admin/packages">← Packages</a>
      </p>
      <h1 safe>{p.pkg.title}</h1>
      <div class="actions page-actions">
        {p.pkg.latest_version_id ? (
          // biome-ignore lint/security/noBlankTarget: a form with target=_blank opens without an opener (HTML's implied noopener), like a link.
          <form method="post" action={`${base}/preview`} target="_blank" class="inline">
            <Csrf token={p.csrfToken} />
            <button type="submit" class="primary" id="package-preview">
              Preview in the player
            </button>
          </form>
        ) : (
          ''
        )}
        <span class="muted">Opens the player in a new tab, as a learner sees it; the preview's progress is kept for you only and never sent to an LMS.</span>
      </div>
      <div class="card">
        <dl>
          <dt>Id</dt>
          <dd>
            <code safe>{p.pkg.id}</code>{' '}
            <span class="muted">
              (custom parameter <code>package_id</code>)
            </span>
          </dd>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${p.pkg.status}`} id="package-status" safe>
              {p.pkg.status}
            </span>{' '}
            <ArchiveButton pkg={p.pkg} csrfToken={p.csrfToken} back="detail" />
          </dd>
          <dt>Resource links</dt>
          <dd safe>{String(p.links)}</dd>
          <dt>Created</dt>
          <dd safe>{formatTime(p.pkg.created_at)}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Versions</h2>
        <p class="muted">New attempts play the latest version; attempts in progress stay on theirs.</p>
        <table class="data" id="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Title</th>
              <th>SCORM</th>
              <th>SCOs</th>
              <th>Files</th>
              <th>Size</th>
              <th>Scored</th>
              <th>Uploaded file</th>
              <th>Imported</th>
            </tr>
          </thead>
          <tbody>
            {p.versions.map((v) => (
              <tr data-version={String(v.version)}>
                <td class="nowrap">
                  {String(v.version)}
                  {v.id === p.pkg.latest_version_id ? (
                    <>
                      {' '}
                      <span class="badge current">latest</span>
                    </>
                  ) : (
                    ''
                  )}
                </td>
                <td class="text" safe>
                  {v.title}
                </td>
                <td safe>{SCORM[v.scorm_version] ?? v.scorm_version}</td>
                <td safe>{String(v.sco_count)}</td>
                <td safe>{String(v.file_count)}</td>
                <td safe>{bytes(v.total_bytes)}</td>
                <td>{v.scored ? 'yes' : 'no'}</td>
                <td class="text" safe>
                  {v.source_name ?? ''}
                </td>
                <td safe>{formatTime(v.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="card">
        <h2>Upload a new version</h2>
        <UploadForm action={`/admin/packages/${encodeURIComponent(p.pkg.id)}/upload`} csrfToken={p.csrfToken} maxUploadBytes={p.maxUploadBytes} newVersion />
      </div>
      <div class="card">
        <h2>Rename</h2>
        <form method="post" action={`${base}/rename`} id="rename-form">
          <FormProblems problems={p.renameProblems} code={p.code} />
          <Csrf token={p.csrfToken} />
          <div class="field">
            <label for="rename-title">
              Title{' '}
              <span class="muted">
                (up to {String(TITLE_MAX_LENGTH)} characters; shown in the catalogue and the content picker — links already in LMSs keep the name they were
                given)
              </span>
            </label>
            <input
              id="rename-title"
              name="title"
              required
              maxlength={String(TITLE_MAX_LENGTH)}
              value={p.renameValue ?? p.pkg.title}
              aria-invalid={p.renameProblems?.length ? 'true' : undefined}
            />
          </div>
          <div class="actions">
            <button type="submit" class="secondary" id="rename-save">
              Rename
            </button>
          </div>
        </form>
      </div>
      <div class="card">
        <h2>Delete</h2>
        <FormProblems problems={p.deleteProblems} code={p.code} title="The package was not deleted:" />
        <p class="muted">
          Deletes the package, its versions and their files. Only possible while no LMS link, dispatch or learner attempt uses it; otherwise archive it.
        </p>
        <form method="post" action={`${base}/delete`} class="inline">
          <Csrf token={p.csrfToken} />
          <button type="submit" class="danger" id="package-delete">
            Delete package
          </button>
        </form>
        {p.links > 0 ? <p class="muted">{`${p.links} LMS link(s) use it: archive it instead.`}</p> : ''}
      </div>
    </>
  );
}
