import type { ReportRow } from '../../dispatch/dispatch-reports.js';
import type { Dispatch, DispatchDestination, DispatchEvent, Package } from '../../store/tables.js';
import { TITLE_MAX_LENGTH } from '../../packages/titles.js';
import { Csrf, FormProblems, formatTime } from './console-layout.js';

/*
 * Content dispatch in the console: destinations, dispatches with their licence,
 * package download, the report with its CSV. See docs/dispatch.md.
 */

const href = {
  dispatch: (id: string) => `/admin/dispatch/${encodeURIComponent(id)}`,
  destination: (id: string) => `/admin/dispatch/destinations/${encodeURIComponent(id)}`,
};

/** The licence as the form shows it (strings, as typed when a submission is refused). */
export interface LicenceFormValues {
  readonly title: string;
  readonly enabled: boolean;
  readonly allowNewRegistrations: boolean;
  readonly registrationCap: string;
  readonly expires: string;
  readonly launchCap: string;
  readonly hashLearnerIds: boolean;
  readonly scormVersion: '1.2' | '2004';
}

export function licenceValues(d: Dispatch): LicenceFormValues {
  return {
    title: d.title,
    enabled: d.enabled === 1,
    allowNewRegistrations: d.allow_new_registrations === 1,
    registrationCap: String(d.registration_cap),
    expires: d.expires_at === null ? '' : new Date(d.expires_at).toISOString().slice(0, 10),
    launchCap: d.launch_cap === null ? '' : String(d.launch_cap),
    hashLearnerIds: d.hash_learner_ids === 1,
    scormVersion: d.scorm_version,
  };
}

export const NEW_LICENCE: LicenceFormValues = {
  title: '',
  enabled: true,
  allowNewRegistrations: true,
  registrationCap: '0',
  expires: '',
  launchCap: '',
  hashLearnerIds: false,
  scormVersion: '1.2',
};

function Check(p: { name: string; label: string; checked: boolean; hint?: string }): JSX.Element {
  return (
    <div class="field">
      <label>
        <input type="checkbox" name={p.name} value="on" checked={p.checked} /> <span safe>{p.label}</span>{' '}
        {p.hint ? (
          <span class="muted" safe>
            {p.hint}
          </span>
        ) : (
          ''
        )}
      </label>
    </div>
  );
}

function LicenceFields(p: { v: LicenceFormValues; titleHint: string; today?: string }): JSX.Element {
  return (
    <>
      <div class="field">
        <label for="df-title">
          Course title{' '}
          <span class="muted" safe>
            {p.titleHint}
          </span>
        </label>
        <input id="df-title" name="title" maxlength={String(TITLE_MAX_LENGTH)} value={p.v.title} />
      </div>
      <Check name="enabled" label="Enabled" checked={p.v.enabled} hint="(off: every launch is refused)" />
      <Check name="allowNewRegistrations" label="Allow new registrations" checked={p.v.allowNewRegistrations} hint="(off: only learners who launched before)" />
      <div class="field">
        <label for="df-cap">
          Registration cap <span class="muted">(learners; 0 = unlimited)</span>
        </label>
        <input id="df-cap" name="registrationCap" type="number" min="0" step="1" value={p.v.registrationCap} />
      </div>
      <div class="field">
        <label for="df-expires">
          Expires <span class="muted">(end of that day, UTC; empty = never)</span>
        </label>
        <input id="df-expires" name="expires" type="date" value={p.v.expires} min={p.today} />
      </div>
      <div class="field">
        <label for="df-launchCap">
          Launch cap <span class="muted">(all launches together; empty or 0 = none)</span>
        </label>
        <input id="df-launchCap" name="launchCap" type="number" min="0" step="1" value={p.v.launchCap} />
      </div>
      <Check
        name="hashLearnerIds"
        label="Hash learner ids in the LMS browser"
        checked={p.v.hashLearnerIds}
        hint="(SHA-256: no personal data leaves the LMS; export the package again after changing)"
      />
      <div class="field">
        <label for="df-scorm">Package format</label>
        <select id="df-scorm" name="scormVersion">
          <option value="1.2" selected={p.v.scormVersion === '1.2'}>
            SCORM 1.2
          </option>
          <option value="2004" selected={p.v.scormVersion === '2004'}>
            SCORM 2004 3rd edition
          </option>
        </select>
      </div>
    </>
  );
}

function Badge(p: { on: boolean; on_: string; off: string }): JSX.Element {
  return (
    <span class={`badge ${p.on ? 'active' : 'disabled'}`} safe>
      {p.on ? p.on_ : p.off}
    </span>
  );
}

export interface DispatchOverviewProps {
  readonly destinations: readonly DispatchDestination[];
  readonly dispatches: readonly Dispatch[];
  readonly packages: readonly Package[];
  readonly csrfToken: string;
  readonly now: number;
  readonly destinationValues?: { name: string; notes: string };
  readonly dispatchValues?: LicenceFormValues & { destinationId: string; packageId: string };
  readonly problems?: readonly string[];
  readonly code?: string;
  readonly problemsFor?: 'destination' | 'dispatch';
}

export function DispatchTable(p: { dispatches: readonly Dispatch[]; destinations: readonly DispatchDestination[]; now: number }): JSX.Element {
  const names = new Map(p.destinations.map((d) => [d.id, d.name]));
  if (p.dispatches.length === 0) return <p class="muted">No dispatches yet.</p>;
  return (
    <table class="data" id="dispatches">
      <thead>
        <tr>
          <th>Course</th>
          <th>Destination</th>
          <th>Status</th>
          <th>Registrations</th>
          <th>Launches</th>
          <th>Refused</th>
          <th>Expires</th>
        </tr>
      </thead>
      <tbody>
        {p.dispatches.map((d) => {
          const expired = d.expires_at !== null && p.now >= d.expires_at;
          return (
            <tr data-id={d.id}>
              <td class="text">
                <a href={href.dispatch(d.id)} safe>
                  {d.title}
                </a>
                <br />
                <code class="muted" safe>
                  {d.id}
                </code>
              </td>
              <td class="text">
                <a href={href.destination(d.destination_id)} safe>
                  {names.get(d.destination_id) ?? d.destination_id}
                </a>
              </td>
              <td>{expired ? <span class="badge disabled">expired</span> : <Badge on={d.enabled === 1} on_="enabled" off="disabled" />}</td>
              <td safe>{`${d.registration_count} / ${d.registration_cap === 0 ? '∞' : d.registration_cap}`}</td>
              <td safe>{d.launch_cap === null ? String(d.launch_count) : `${d.launch_count} / ${d.launch_cap}`}</td>
              <td safe>{String(d.refused_count)}</td>
              <td safe>{d.expires_at === null ? 'never' : formatTime(d.expires_at)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function DispatchOverviewPage(p: DispatchOverviewProps): JSX.Element {
  const dv = p.dispatchValues ?? { ...NEW_LICENCE, destinationId: '', packageId: '' };
  const activePackages = p.packages.filter((x) => x.status === 'active' && x.latest_version_id);
  const today = new Date(p.now).toISOString().slice(0, 10);
  return (
    <>
      <h1>Content dispatch</h1>
      <p class="muted">
        A dispatch is a small SCORM package a customer uploads to an LMS without LTI: it plays the course from Courseport, reports to the LMS through its SCORM
        runtime, and works only while its licence allows. Add the customer as a destination first, then create a dispatch of a package for it. See{' '}
        <a href="/docs/dispatch.md">docs/dispatch.md</a>.
      </p>
      <div class="card" id="destinations-card">
        <h2>1. Destinations</h2>
        {p.destinations.length === 0 ? (
          <p class="muted">No destinations yet: add the customer (the LMS) you will send a course to.</p>
        ) : (
          <table class="data" id="destinations">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Dispatches</th>
                <th>Notes</th>
              </tr>
            </thead>
            <tbody>
              {p.destinations.map((d) => (
                <tr data-id={d.id}>
                  <td class="text">
                    <a href={href.destination(d.id)} safe>
                      {d.name}
                    </a>
                  </td>
                  <td>
                    <Badge on={d.enabled === 1} on_="enabled" off="disabled" />
                  </td>
                  <td safe>{String(p.dispatches.filter((x) => x.destination_id === d.id).length)}</td>
                  <td class="text" safe>
                    {d.notes ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Add a destination</h2>
        <form method="post" action="/admin/dispatch/destinations" id="destination-form">
          {p.problemsFor === 'destination' ? <FormProblems problems={p.problems} code={p.code} /> : ''}
          <Csrf token={p.csrfToken} />
          <div class="field">
            <label for="dd-name">Customer name</label>
            <input id="dd-name" name="name" maxlength="255" required value={p.destinationValues?.name ?? ''} />
          </div>
          <div class="field">
            <label for="dd-notes">
              Notes <span class="muted">(optional)</span>
            </label>
            <textarea id="dd-notes" name="notes" maxlength="10000" safe>
              {p.destinationValues?.notes ?? ''}
            </textarea>
          </div>
          <div class="actions">
            <button type="submit" class="primary" id="destination-create">
              Add destination
            </button>
          </div>
        </form>
      </div>
      <div class="card" id="dispatches-card">
        <h2>2. Dispatches</h2>
        <DispatchTable dispatches={p.dispatches} destinations={p.destinations} now={p.now} />
        <h2>New dispatch</h2>
        {p.destinations.length === 0 || activePackages.length === 0 ? (
          <p class="muted">{p.destinations.length === 0 ? 'Add a destination first (above).' : 'Import a package first (Packages).'}</p>
        ) : (
          <form method="post" action="/admin/dispatch/dispatches" id="dispatch-form">
            {p.problemsFor === 'dispatch' ? <FormProblems problems={p.problems} code={p.code} /> : ''}
            <Csrf token={p.csrfToken} />
            <div class="field">
              <label for="df-destination">Destination</label>
              <select id="df-destination" name="destinationId" required>
                {p.destinations.map((d) => (
                  <option value={d.id} selected={dv.destinationId === d.id} safe>
                    {d.name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="df-package">Package</label>
              <select id="df-package" name="packageId" required>
                {activePackages.map((x) => (
                  <option value={x.id} selected={dv.packageId === x.id} safe>
                    {x.title}
                  </option>
                ))}
              </select>
            </div>
            <LicenceFields v={dv} titleHint="(empty: the package title)" today={today} />
            <div class="actions">
              <button type="submit" class="primary" id="dispatch-create">
                Create dispatch
              </button>
            </div>
          </form>
        )}
      </div>
    </>
  );
}

export function DestinationPage(p: {
  destination: DispatchDestination;
  dispatches: readonly Dispatch[];
  csrfToken: string;
  now: number;
  problems?: readonly string[];
  code?: string;
}): JSX.Element {
  const d = p.destination;
  return (
    <>
      <p>
        <a href="/admin/dispatch">← Content dispatch</a>
      </p>
      <h1 safe>{d.name}</h1>
      <div class="card">
        <form method="post" action={`${href.destination(d.id)}`} id="destination-edit">
          <FormProblems problems={p.problems} code={p.code} />
          <Csrf token={p.csrfToken} />
          <div class="field">
            <label for="dd-name">Customer name</label>
            <input id="dd-name" name="name" maxlength="255" required value={d.name} />
          </div>
          <div class="field">
            <label for="dd-notes">Notes</label>
            <textarea id="dd-notes" name="notes" maxlength="10000" safe>
              {d.notes ?? ''}
            </textarea>
          </div>
          <Check name="enabled" label="Enabled" checked={d.enabled === 1} hint="(off: every dispatch of this destination refuses launches)" />
          <div class="actions">
            <button type="submit" class="primary" id="destination-save">
              Save
            </button>
          </div>
        </form>
      </div>
      <div class="card">
        <h2>Dispatches</h2>
        <DispatchTable dispatches={p.dispatches} destinations={[d]} now={p.now} />
      </div>
      <div class="card">
        <h2>Delete</h2>
        <p class="muted">Deletes the destination, its dispatches and their learner records. Every package of its dispatches stops working.</p>
        <form method="post" action={`${href.destination(d.id)}/delete`} class="inline">
          <Csrf token={p.csrfToken} />
          <button type="submit" class="danger" id="destination-delete">
            Delete destination
          </button>
        </form>
      </div>
    </>
  );
}

export interface DispatchDetailProps {
  readonly dispatch: Dispatch;
  readonly destination: DispatchDestination;
  readonly packageTitle: string;
  readonly report: readonly ReportRow[];
  readonly events: readonly DispatchEvent[];
  readonly csrfToken: string;
  readonly now: number;
  /** Where exported packages play the course from (COURSEPORT_BASE_URL's origin). */
  readonly launchOrigin: string;
  /** Why that origin only works near this machine (loopback, private network), if it does. */
  readonly unreachable?: string | undefined;
  readonly values?: LicenceFormValues;
  readonly problems?: readonly string[];
  readonly code?: string;
}

export function DispatchDetailPage(p: DispatchDetailProps): JSX.Element {
  const d = p.dispatch;
  const base = href.dispatch(d.id);
  const expired = d.expires_at !== null && p.now >= d.expires_at;
  return (
    <>
      <p>
        <a href="/admin/dispatch">← Content dispatch</a>
      </p>
      <h1 safe>{d.title}</h1>
      <div class="card">
        <dl>
          <dt>Id</dt>
          <dd>
            <code safe>{d.id}</code>
          </dd>
          <dt>Destination</dt>
          <dd>
            <a href={href.destination(p.destination.id)} safe>
              {p.destination.name}
            </a>{' '}
            {p.destination.enabled ? '' : <span class="badge disabled">destination disabled</span>}
          </dd>
          <dt>Package</dt>
          <dd>
            <a href={`/admin/packages/${encodeURIComponent(d.package_id)}`} safe>
              {p.packageTitle}
            </a>
          </dd>
          <dt>Status</dt>
          <dd id="dispatch-status">{expired ? <span class="badge disabled">expired</span> : <Badge on={d.enabled === 1} on_="enabled" off="disabled" />}</dd>
          <dt>Registrations</dt>
          <dd id="count-registrations" safe>{`${d.registration_count} of ${d.registration_cap === 0 ? 'unlimited' : d.registration_cap}`}</dd>
          <dt>Launches</dt>
          <dd id="count-launches" safe>
            {d.launch_cap === null ? String(d.launch_count) : `${d.launch_count} of ${d.launch_cap}`}
          </dd>
          <dt>Refused launches</dt>
          <dd id="count-refused" safe>
            {String(d.refused_count)}
          </dd>
        </dl>
      </div>
      <div class="card">
        <h2>Package</h2>
        <p class="muted">Upload the ZIP to the customer's LMS as a SCORM activity. It carries this dispatch's secret: treat it like a key.</p>
        <p id="launch-origin">
          A package downloaded now plays the course from <code safe>{p.launchOrigin}</code> (<code>COURSEPORT_BASE_URL</code>): the learners' browsers must
          reach that address.
        </p>
        {p.unreachable ? (
          <p class="warning" role="alert" id="launch-origin-warning" safe>
            {`Warning: ${p.launchOrigin} will not work for a customer — ${p.unreachable}. Start Courseport with its public https address in COURSEPORT_BASE_URL before downloading packages for a customer.`}
          </p>
        ) : (
          ''
        )}
        <div class="actions">
          <form method="get" action={`${base}/package`} class="inline" id="download-12">
            <input type="hidden" name="scorm" value="1.2" />
            <button type="submit" class="primary">
              Download SCORM 1.2 package
            </button>
          </form>
          <form method="get" action={`${base}/package`} class="inline" id="download-2004">
            <input type="hidden" name="scorm" value="2004" />
            <button type="submit" class="secondary">
              Download SCORM 2004 package
            </button>
          </form>
        </div>
        <form method="post" action={`${base}/rotate-secret`} class="inline">
          <Csrf token={p.csrfToken} />
          <p class="muted">A new secret makes every package downloaded before stop working (export and upload again).</p>
          <button type="submit" class="danger" id="rotate-secret">
            Rotate secret
          </button>
        </form>
      </div>
      <div class="card">
        <h2>Licence</h2>
        <form method="post" action={`${base}/licence`} id="licence-form">
          <FormProblems problems={p.problems} code={p.code} />
          <Csrf token={p.csrfToken} />
          <LicenceFields v={p.values ?? licenceValues(d)} titleHint="(in the package manifest)" today={new Date(p.now).toISOString().slice(0, 10)} />
          <div class="actions">
            <button type="submit" class="primary" id="licence-save">
              Save licence
            </button>
          </div>
        </form>
      </div>
      <div class="card">
        <h2>Report</h2>
        <p>
          <a href={`${base}/report.csv`} download={`dispatch-${d.id}.csv`} id="report-csv">
            Download CSV
          </a>
        </p>
        {p.report.length === 0 ? (
          <p class="muted">No learner has launched this dispatch yet.</p>
        ) : (
          <table class="data" id="report">
            <thead>
              <tr>
                <th>Learner</th>
                <th>Name</th>
                <th>Status</th>
                <th>Score</th>
                <th>Launches</th>
                <th>First launch</th>
                <th>Last launch</th>
              </tr>
            </thead>
            <tbody>
              {p.report.map((r) => (
                <tr data-learner={r.learnerId}>
                  <td class="text">
                    <code safe>{r.learnerId}</code>
                    {r.hashed ? <span class="muted"> (hash)</span> : ''}
                  </td>
                  <td safe>{r.learnerName ?? '–'}</td>
                  <td safe>{r.status}</td>
                  <td safe>{r.scorePercent === null ? '–' : `${r.scorePercent} %`}</td>
                  <td safe>{String(r.launches)}</td>
                  <td safe>{formatTime(r.firstLaunchAt)}</td>
                  <td safe>{formatTime(r.lastLaunchAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Refused launches</h2>
        {p.events.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <table class="data" id="refusals">
            <thead>
              <tr>
                <th>When</th>
                <th>Code</th>
                <th>Learner</th>
              </tr>
            </thead>
            <tbody>
              {p.events.map((e) => (
                <tr>
                  <td safe>{formatTime(e.at)}</td>
                  <td>
                    <code safe>{e.code}</code>
                  </td>
                  <td safe>{e.learner_id ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div class="card">
        <h2>Delete</h2>
        <p class="muted">Deletes the dispatch and its learners' records. Every copy of its package stops working. To pause it instead, untick “Enabled”.</p>
        <form method="post" action={`${base}/delete`} class="inline">
          <Csrf token={p.csrfToken} />
          <button type="submit" class="danger" id="dispatch-delete">
            Delete dispatch
          </button>
        </form>
      </div>
    </>
  );
}
