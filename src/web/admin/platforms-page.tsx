import type { JwksCheck, PlatformKeyStatus } from '../../lti/platform-keys.js';
import type { PlatformKeyHealth } from '../../platforms/platform-key-status.service.js';
import type { PlatformWithDeployments } from '../../platforms/platform.service.js';
import { LMS_PRESETS, type LmsPreset } from '../../platforms/lms-presets.js';
import { Csrf, FormProblems, formatTime } from './console-layout.js';

export interface PlatformFormValues {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly publicKey: string;
  readonly tokenAudience: string;
  readonly gradePolicy: string;
  /** `on` when launch id_tokens without a kid are accepted (a checkbox: empty when unchecked). */
  readonly allowMissingKid: string;
  /** One deployment id per line (new registrations only). */
  readonly deployments: string;
}

export const EMPTY_PLATFORM_FORM: PlatformFormValues = {
  name: '',
  issuer: '',
  clientId: '',
  authUrl: '',
  tokenUrl: '',
  jwksUrl: '',
  publicKey: '',
  tokenAudience: '',
  gradePolicy: 'overwrite',
  allowMissingKid: '',
  deployments: '',
};

export interface PlatformRow extends PlatformWithDeployments {
  readonly keys: PlatformKeyStatus;
  /** The built-in sandbox LMS: shown, never changed from the console. */
  readonly builtIn?: boolean | undefined;
  /** The JWKS endpoint's health as every process recorded it (stale key set warnings). */
  readonly health?: PlatformKeyHealth | undefined;
}

function JwksStatus(p: { keys: PlatformKeyStatus; health?: PlatformKeyHealth | undefined }): JSX.Element {
  const { keys, health } = p;
  if (health?.warning) {
    return (
      <span class="error-text" data-jwks-state={health.state} safe>
        {`${health.state === 'stale' ? 'Stale key set' : 'Failing'}: ${health.warning}`}
      </span>
    );
  }
  if (keys.source === 'static') return <span>static key</span>;
  if (keys.source === 'none') return <span class="error-text">no key</span>;
  if (!keys.lastFetch) return <span class="muted">{keys.cached ? 'cached' : 'not fetched yet'}</span>;
  return (
    <span class={keys.lastFetch.ok ? '' : 'error-text'} safe>
      {`${keys.lastFetch.ok ? 'OK' : 'failed'} (${keys.lastFetch.detail}) at ${formatTime(keys.lastFetch.at)}`}
    </span>
  );
}

function StatusActions(p: { id: string; status: string; csrfToken: string; fromList?: boolean }): JSX.Element {
  const action = `/admin/platforms/${encodeURIComponent(p.id)}/status`;
  const button = (status: string, label: string, cls: string) => (
    <form method="post" action={action} class="inline">
      <Csrf token={p.csrfToken} />
      <input type="hidden" name="status" value={status} />
      {p.fromList ? <input type="hidden" name="back" value="list" /> : ''}
      <button type="submit" class={cls} data-action={label.toLowerCase()}>
        {label}
      </button>
    </form>
  );
  if (p.status === 'pending') return button('active', 'Activate', 'primary');
  if (p.status === 'disabled') return button('active', 'Enable', 'secondary');
  return button('disabled', 'Disable', 'danger');
}

export function PlatformListPage(p: { rows: readonly PlatformRow[]; csrfToken: string }): JSX.Element {
  return (
    <>
      <h1>Platforms</h1>
      <p class="actions">
        <a href="/admin/platforms/new" id="add-platform" class="button primary">
          Add a platform
        </a>
        <span class="muted">One registration per issuer and client id; deployments belong to a registration.</span>
      </p>
      <div class="card">
        {p.rows.length === 0 ? (
          <p>No LMS is registered yet.</p>
        ) : (
          <table class="data" id="platforms">
            <thead>
              <tr>
                <th>Name</th>
                <th>Issuer · client id</th>
                <th>Deployments</th>
                <th>Status</th>
                <th>Last launch</th>
                <th>Last error</th>
                <th>Platform keys</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {p.rows.map(({ platform, deployments, keys, health, builtIn }) => (
                <tr data-id={platform.id} data-status={platform.status}>
                  <td class="text">
                    <a href={`/admin/platforms/${encodeURIComponent(platform.id)}`} safe>
                      {platform.name}
                    </a>
                    {builtIn ? (
                      <>
                        {' '}
                        <span class="badge" title="The sandbox LMS built into Courseport">
                          built-in
                        </span>
                      </>
                    ) : (
                      ''
                    )}
                  </td>
                  <td class="text">
                    <code safe>{platform.issuer}</code>
                    <br />
                    <code safe>{platform.client_id}</code>
                  </td>
                  <td safe>{String(deployments.length)}</td>
                  <td>
                    <span class={`badge ${platform.status}`} safe>
                      {platform.status}
                    </span>
                  </td>
                  <td safe>{formatTime(platform.last_launch_at)}</td>
                  <td class="text">
                    {platform.last_error ? (
                      <span class="error-text" title={formatTime(platform.last_error_at)} safe>
                        {platform.last_error.length > 120 ? `${platform.last_error.slice(0, 120)}…` : platform.last_error}
                      </span>
                    ) : (
                      '–'
                    )}
                  </td>
                  <td>
                    <JwksStatus keys={keys} health={health} />
                  </td>
                  <td class="nowrap">{builtIn ? '' : <StatusActions id={platform.id} status={platform.status} csrfToken={p.csrfToken} fromList />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

/** Problems of each form field (PlatformService's `details.fields`), marked on the fields. */
export type FieldProblems = Readonly<Partial<Record<keyof PlatformFormValues, readonly string[]>>>;

/** The message under a field, referenced by aria-describedby of an invalid field. */
function FieldError(p: { id: string; problems: readonly string[] | undefined }): JSX.Element {
  if (!p.problems?.length) return '';
  return (
    <p class="field-error" id={`${p.id}-error`} safe>
      {p.problems.join('; ')}
    </p>
  );
}

function invalidAttrs(id: string, problems: readonly string[] | undefined) {
  return problems?.length ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-error` } : {};
}

function TextField(p: {
  id: keyof PlatformFormValues;
  label: string;
  value: string;
  required?: boolean;
  hint?: string;
  type?: string;
  problems?: readonly string[] | undefined;
}): JSX.Element {
  const id = `pf-${p.id}`;
  return (
    <div class={p.problems?.length ? 'field invalid' : 'field'}>
      <label for={id}>
        {p.label}
        {p.hint ? (
          <>
            {' '}
            <span class="muted" safe>
              {p.hint}
            </span>
          </>
        ) : (
          ''
        )}
      </label>
      <input id={id} name={p.id} type={p.type ?? 'text'} value={p.value} required={p.required === true} {...invalidAttrs(id, p.problems)} />
      <FieldError id={id} problems={p.problems} />
    </div>
  );
}

export function PlatformForm(p: {
  action: string;
  values: PlatformFormValues;
  csrfToken: string;
  isNew: boolean;
  problems?: readonly string[] | undefined;
  fieldProblems?: FieldProblems | undefined;
  code?: string | undefined;
}): JSX.Element {
  const v = p.values;
  const f = p.fieldProblems ?? {};
  return (
    <form method="post" action={p.action} id="platform-form">
      <FormProblems problems={p.problems} code={p.code} />
      <Csrf token={p.csrfToken} />
      <TextField id="name" label="Name" value={v.name} hint="(shown here; defaults to the issuer's host)" problems={f.name} />
      <TextField id="issuer" label="Issuer" value={v.issuer} required hint="(the LMS's “platform id”, exactly as it sends it)" problems={f.issuer} />
      <TextField id="clientId" label="Client id" value={v.clientId} required problems={f.clientId} />
      <TextField id="authUrl" label="Authentication request URL" value={v.authUrl} required hint="(OIDC auth endpoint)" problems={f.authUrl} />
      <TextField id="tokenUrl" label="Access token URL" value={v.tokenUrl} required problems={f.tokenUrl} />
      <TextField id="jwksUrl" label="Public keyset (JWKS) URL" value={v.jwksUrl} hint="(or a static key below)" problems={f.jwksUrl} />
      <div class={f.publicKey?.length ? 'field invalid' : 'field'}>
        <label for="pf-publicKey">
          Static public key <span class="muted">(JWK JSON or PEM; only when the LMS has no JWKS URL)</span>
        </label>
        <textarea id="pf-publicKey" name="publicKey" {...invalidAttrs('pf-publicKey', f.publicKey)} safe>
          {v.publicKey}
        </textarea>
        <FieldError id="pf-publicKey" problems={f.publicKey} />
      </div>
      <TextField
        id="tokenAudience"
        label="Token audience"
        value={v.tokenAudience}
        hint="(only if the LMS names one, e.g. Brightspace OAuth2 Audience)"
        problems={f.tokenAudience}
      />
      <div class="field">
        <label for="pf-gradePolicy">When the gradebook already holds a grade Courseport did not send</label>
        <select id="pf-gradePolicy" name="gradePolicy">
          {(
            [
              ['overwrite', 'overwrite it'],
              ['raise', 'only raise it'],
              ['preserve', 'leave it'],
            ] as const
          ).map(([value, label]) => (
            <option value={value} selected={v.gradePolicy === value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label>
          <input id="pf-allowMissingKid" type="checkbox" name="allowMissingKid" value="on" checked={v.allowMissingKid === 'on'} /> Accept launches whose
          id_token names no signing key (kid){' '}
          <span class="muted">(leave off unless this LMS is known to omit it: such tokens are refused with LTI_MISSING_KID)</span>
        </label>
      </div>
      {p.isNew ? (
        <div class={f.deployments?.length ? 'field invalid' : 'field'}>
          <label for="pf-deployments">
            Deployment ids <span class="muted">(one per line; more can be added later)</span>
          </label>
          <textarea id="pf-deployments" name="deployments" {...invalidAttrs('pf-deployments', f.deployments)} safe>
            {v.deployments}
          </textarea>
          <FieldError id="pf-deployments" problems={f.deployments} />
        </div>
      ) : (
        ''
      )}
      <div class="actions">
        <button type="submit" class="primary" id="platform-save">
          {p.isNew ? 'Register platform' : 'Save changes'}
        </button>
        <a href="/admin/platforms">Cancel</a>
      </div>
    </form>
  );
}

/** The preset chooser: a GET form, so it works without scripts and keeps nothing secret. */
export interface PresetChoice {
  readonly lms: string;
  readonly site: string;
  readonly clientId: string;
  readonly problem?: string | undefined;
  /** The preset that filled the form below, for its note. */
  readonly applied?: LmsPreset | undefined;
}

function PresetForm(p: { choice: PresetChoice | undefined }): JSX.Element {
  const c = p.choice;
  return (
    <form method="get" action="/admin/platforms/new" id="preset-form" class="preset-form">
      <div class="field">
        <label for="preset-lms">LMS</label>
        <select id="preset-lms" name="lms">
          {LMS_PRESETS.map((x) => (
            <option value={x.id} selected={c?.lms === x.id} safe>
              {x.label}
            </option>
          ))}
        </select>
      </div>
      <div class={c?.problem ? 'field invalid' : 'field'}>
        <label for="preset-site">
          LMS address <span class="muted">(Moodle, Brightspace)</span>
        </label>
        <input
          id="preset-site"
          name="site"
          value={c?.site ?? ''}
          placeholder="https://moodle.example.edu"
          {...invalidAttrs('preset-site', c?.problem ? [c.problem] : undefined)}
        />
        <FieldError id="preset-site" problems={c?.problem ? [c.problem] : undefined} />
      </div>
      <div class="field">
        <label for="preset-clientId">
          Client id <span class="muted">(if you have it; Blackboard: the Application ID)</span>
        </label>
        <input id="preset-clientId" name="clientId" value={c?.clientId ?? ''} />
      </div>
      <button type="submit" class="secondary" id="preset-apply">
        Fill in the form
      </button>
    </form>
  );
}

export function NewPlatformPage(p: {
  values: PlatformFormValues;
  csrfToken: string;
  problems?: readonly string[] | undefined;
  fieldProblems?: FieldProblems | undefined;
  code?: string | undefined;
  preset?: PresetChoice | undefined;
}): JSX.Element {
  return (
    <>
      <h1>Add a platform</h1>
      <div class="card">
        <h2>Start from your LMS</h2>
        <p class="muted">
          Fills in the URLs where the LMS keeps them (see <a href="/admin/settings#guides">the guides</a> for what to set up in the LMS). Check them against
          what the LMS shows.
        </p>
        <PresetForm choice={p.preset} />
        {p.preset?.applied ? (
          <p class="notice" id="preset-note" safe>
            {`Filled in for ${p.preset.applied.label}. ${p.preset.applied.note}`}
          </p>
        ) : (
          ''
        )}
      </div>
      <div class="card">
        <h2>Registration</h2>
        <p class="muted">
          Copy these values from the LMS's tool registration (see <a href="/admin/settings#guides">the guides</a>).
        </p>
        <PlatformForm
          action="/admin/platforms/new"
          values={p.values}
          csrfToken={p.csrfToken}
          isNew
          problems={p.problems}
          fieldProblems={p.fieldProblems}
          code={p.code}
        />
      </div>
    </>
  );
}

export interface PlatformDetailProps {
  readonly row: PlatformRow;
  readonly values: PlatformFormValues;
  readonly csrfToken: string;
  readonly problems?: readonly string[];
  readonly fieldProblems?: FieldProblems | undefined;
  readonly code?: string;
  readonly deploymentProblems?: readonly string[];
  readonly deploymentCode?: string;
  readonly deploymentInput?: string;
  readonly check?: JwksCheck;
}

export function PlatformDetailPage(p: PlatformDetailProps): JSX.Element {
  const { platform, deployments, keys, health, builtIn } = p.row;
  const base = `/admin/platforms/${encodeURIComponent(platform.id)}`;
  return (
    <>
      <p>
        <a href="/admin/platforms">← Platforms</a>
      </p>
      <h1 safe>{platform.name}</h1>
      {builtIn ? (
        <p class="hint" id="built-in-note">
          This is the sandbox LMS built into Courseport (<a href="/sandbox">/sandbox</a>, <a href="/docs/sandbox.md">docs/sandbox.md</a>). Its URLs, key and
          deployment are Courseport's own, so it is shown read-only here: changing them would only break it. To turn it off, start Courseport with{' '}
          <code>COURSEPORT_SANDBOX=false</code>.
        </p>
      ) : (
        ''
      )}
      <div class="card">
        <dl>
          <dt>Id</dt>
          <dd>
            <code safe>{platform.id}</code>
          </dd>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${platform.status}`} id="platform-status" safe>
              {platform.status}
            </span>{' '}
            {builtIn ? '' : <StatusActions id={platform.id} status={platform.status} csrfToken={p.csrfToken} />}
            {platform.status === 'pending' ? (
              <p class="muted">Registered by the LMS (dynamic registration): launches are refused until you activate it.</p>
            ) : (
              ''
            )}
          </dd>
          <dt>Last launch</dt>
          <dd safe>{formatTime(platform.last_launch_at)}</dd>
          <dt>Last error</dt>
          <dd>
            {platform.last_error ? (
              <span class="error-text" safe>
                {`${platform.last_error} (${formatTime(platform.last_error_at)})`}
              </span>
            ) : (
              '–'
            )}
          </dd>
          <dt>Tokens without kid</dt>
          <dd id="platform-missing-kid">{platform.allow_missing_kid === 1 ? 'accepted' : 'refused'}</dd>
          <dt>Platform keys</dt>
          <dd>
            <JwksStatus keys={keys} health={health} />{' '}
            {platform.jwks_url ? (
              <form method="post" action={`${base}/jwks-check`} class="inline">
                <Csrf token={p.csrfToken} />
                <button type="submit" class="secondary" id="jwks-check">
                  Check now
                </button>
              </form>
            ) : (
              ''
            )}
            {p.check ? (
              <p class={p.check.ok ? 'notice' : 'problems'} id="jwks-check-result" safe>
                {`${p.check.message}${p.check.kids.length ? ` Key ids: ${p.check.kids.join(', ')}.` : ''}`}
              </p>
            ) : (
              ''
            )}
          </dd>
        </dl>
      </div>

      <div class="card">
        <h2>Deployments</h2>
        {deployments.length === 0 ? (
          <p class="muted">No deployment yet: launches are refused until the LMS's deployment id is added.</p>
        ) : (
          <table class="data" id="deployments">
            <thead>
              <tr>
                <th>Deployment id</th>
                <th>Name</th>
                <th>Status</th>
                <th>Added</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((d) => (
                <tr data-deployment={d.deployment_id}>
                  <td class="text">
                    <code safe>{d.deployment_id}</code>
                  </td>
                  <td class="text" safe>
                    {d.name ?? ''}
                  </td>
                  <td>
                    <span class={`badge ${d.status}`} safe>
                      {d.status}
                    </span>
                  </td>
                  <td safe>{formatTime(d.created_at)}</td>
                  <td class="nowrap">
                    {builtIn ? (
                      ''
                    ) : (
                      <form method="post" action={`${base}/deployments/${encodeURIComponent(d.id)}/status`} class="inline">
                        <Csrf token={p.csrfToken} />
                        <input type="hidden" name="status" value={d.status === 'active' ? 'disabled' : 'active'} />
                        <button type="submit" class={d.status === 'active' ? 'danger' : 'secondary'}>
                          {d.status === 'active' ? 'Disable' : 'Enable'}
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {builtIn ? (
          ''
        ) : (
          <form method="post" action={`${base}/deployments`} id="deployment-form" class="actions">
            <FormProblems problems={p.deploymentProblems} code={p.deploymentCode} />
            <Csrf token={p.csrfToken} />
            <div class="field">
              <label for="deployment-id">Deployment id</label>
              <input id="deployment-id" name="deploymentId" required value={p.deploymentInput ?? ''} />
            </div>
            <div class="field">
              <label for="deployment-name">Name (optional)</label>
              <input id="deployment-name" name="name" />
            </div>
            <button type="submit" class="secondary">
              Add deployment
            </button>
          </form>
        )}
      </div>

      <div class="card">
        <h2>Registration</h2>
        {builtIn ? (
          <RegistrationSummary values={p.values} />
        ) : (
          <PlatformForm
            action={base}
            values={p.values}
            csrfToken={p.csrfToken}
            isNew={false}
            problems={p.problems}
            fieldProblems={p.fieldProblems}
            code={p.code}
          />
        )}
      </div>
    </>
  );
}

/** A registration shown, not edited (the built-in sandbox). */
function RegistrationSummary(p: { values: PlatformFormValues }): JSX.Element {
  const v = p.values;
  const rows: [string, string][] = [
    ['Issuer', v.issuer],
    ['Client id', v.clientId],
    ['Authentication request URL', v.authUrl],
    ['Access token URL', v.tokenUrl],
    ['Public keyset (JWKS) URL', v.jwksUrl || '–'],
  ];
  return (
    <dl id="registration-read-only">
      {rows.map(([label, value]) => (
        <>
          <dt safe>{label}</dt>
          <dd>
            <code safe>{value}</code>
          </dd>
        </>
      ))}
    </dl>
  );
}
