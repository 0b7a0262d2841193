import type { PickerView } from '../launch/deep-linking-answer.js';
import { Layout } from './layout.js';

export type PickerPageProps = PickerView;

const SCORM_LABEL: Record<string, string> = {
  '1.2': 'SCORM 1.2',
  '2004-2nd': 'SCORM 2004 2nd ed.',
  '2004-3rd': 'SCORM 2004 3rd ed.',
  '2004-4th': 'SCORM 2004 4th ed.',
};

/** The content picker an instructor sees inside the LMS after a deep linking request. */
export function PickerPage(p: PickerPageProps): JSX.Element {
  const action = `/lti/deep-link/${encodeURIComponent(p.token)}`;
  return (
    <Layout title="Choose content">
      <div class="card picker">
        <h1>Choose content from Courseport</h1>
        <p class="muted" safe>
          {`${p.courseTitle ? `For ${p.courseTitle}. ` : ''}${p.multiple ? 'Select one or more packages.' : 'Select one package.'}`}
        </p>
        <form method="get" action={action} class="picker-search" role="search">
          <input type="search" name="q" value={p.query} placeholder="Search by title" aria-label="Search by title" id="picker-search" />
          <button type="submit">Search</button>
        </form>
        <form method="post" action={action} id="picker-form" data-submit-once>
          {p.packages.length === 0 ? (
            <p class="muted" id="picker-empty" safe>
              {p.total === 0 ? 'No packages have been imported yet.' : `No package title contains “${p.query}”.`}
            </p>
          ) : (
            <ul class="picker-list">
              {p.packages.map((pkg) => (
                <li data-title={pkg.title.toLowerCase()}>
                  <label>
                    <input type={p.multiple ? 'checkbox' : 'radio'} name="package" value={pkg.id} />
                    <span class="picker-item">
                      <strong safe>{pkg.title}</strong>
                      {pkg.description ? <span safe>{pkg.description}</span> : ''}
                      <span class="muted" safe>
                        {`${SCORM_LABEL[pkg.scormVersion] ?? pkg.scormVersion} · ${pkg.scoCount === 1 ? '1 SCO' : `${pkg.scoCount} SCOs`}${pkg.scored ? ' · scored (creates a grade column)' : ' · not scored'}`}
                      </span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          )}
          <p class="picker-actions">
            <button type="submit" name="action" value="add" class="primary" id="picker-add">
              {p.multiple ? 'Add selected' : 'Add'}
            </button>
            <button type="submit" name="action" value="cancel" formnovalidate>
              Cancel
            </button>
            <span class="muted" id="picker-hint" aria-live="polite"></span>
          </p>
        </form>
      </div>
      <script src="/static/submit-once.js"></script>
      <script src="/static/picker.js"></script>
    </Layout>
  );
}

/** Hands the signed response to the LMS: an auto-submitting form, with a button when scripts are blocked. */
export function ReturnToPlatformPage(p: { returnUrl: string; jwt: string; summary: string }): JSX.Element {
  return (
    // The LMS may check the Origin of this POST: with no-referrer browsers would send "null".
    <Layout title="Returning to the LMS" referrer="strict-origin">
      <div class="card">
        <h1>Returning to your LMS…</h1>
        <p safe>{p.summary}</p>
        <form method="post" action={p.returnUrl} id="return-form">
          <input type="hidden" name="JWT" value={p.jwt} />
          <button type="submit" class="primary">
            Continue to the LMS
          </button>
        </form>
      </div>
      <script src="/static/autosubmit.js"></script>
    </Layout>
  );
}
