import { Layout } from '../layout.js';
import { SANDBOX_COURSE, SANDBOX_INSTRUCTOR, SANDBOX_LEARNERS, SANDBOX_MEMBERS } from '../../sandbox/course.js';
import type { SandboxLineItem, SandboxLink, SandboxScore } from '../../sandbox/sandbox.repository.js';

const NAV = (
  <p class="muted sandbox-nav">
    <a href="/sandbox">Course</a> · <a href="/sandbox/gradebook">Gradebook</a> ·{' '}
    <a href="/admin" id="sandbox-console-link">
      Courseport admin console
    </a>{' '}
    · Courseport sandbox LMS (for trying Courseport out; see <a href="/docs/sandbox.md">docs/sandbox.md</a>)
  </p>
);

/** The sandbox course: its links, launch buttons, "Add content" (deep linking), the gradebook. */
export function SandboxCoursePage(p: { links: readonly SandboxLink[]; packageCount: number }): JSX.Element {
  return (
    <Layout title="Sandbox course">
      {NAV}
      <div class="card" id="sandbox-course">
        <h1 safe>{`${SANDBOX_COURSE.title} (${SANDBOX_COURSE.label})`}</h1>
        <p>
          A pretend LMS course. Everything below runs the real LTI 1.3 protocol against this Courseport: login, signed launches, deep linking, grades (AGS) and
          the roster (NRPS).
        </p>
        <form method="get" action="/sandbox/launch" class="picker-actions">
          <input type="hidden" name="deeplink" value="1" />
          <button type="submit" id="sandbox-add-content" class="primary">
            Add content…
          </button>
          <span class="muted" safe>
            {`As ${SANDBOX_INSTRUCTOR.name}, through Deep Linking. ${p.packageCount === 0 ? 'Import a SCORM package first (admin console → Packages, or courseport package import course.zip).' : `${p.packageCount} package(s) to choose from.`}`}
          </span>
        </form>
        <h2>Content</h2>
        {p.links.length === 0 ? (
          <p class="muted" id="sandbox-no-links">
            No content yet: use “Add content…”.
          </p>
        ) : (
          <ul class="picker-list" id="sandbox-links">
            {p.links.map((l) => (
              <li data-link={l.id}>
                <strong safe>{l.title}</strong>
                {l.lineItemId ? <span class="muted"> · graded</span> : ''}
                <form method="get" action="/sandbox/launch" class="picker-actions">
                  <input type="hidden" name="link" value={l.id} />
                  <label>
                    Learner{' '}
                    <select name="user" aria-label="Learner">
                      {SANDBOX_LEARNERS.map((m) => (
                        <option value={m.sub} safe>
                          {m.name}
                        </option>
                      ))}
                    </select>
                  </label>
                  <button type="submit" data-action="launch-learner" class="primary">
                    Launch as learner
                  </button>
                </form>
                <form method="get" action="/sandbox/launch" class="picker-actions">
                  <input type="hidden" name="link" value={l.id} />
                  <input type="hidden" name="user" value={SANDBOX_INSTRUCTOR.sub} />
                  <button type="submit" data-action="launch-instructor" safe>
                    {`Launch as instructor (${SANDBOX_INSTRUCTOR.name})`}
                  </button>
                </form>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Layout>
  );
}

/** The course page with the tool in a frame, as an LMS shows it; the frame starts the login. */
export function SandboxFramePage(p: { title: string; start: string }): JSX.Element {
  return (
    <Layout title={p.title} bodyClass="player">
      <div class="player-bar">
        <a href="/sandbox" class="nowrap">
          ← Sandbox course
        </a>
        <span class="player-title" safe>
          {p.title}
        </span>
        <a href="/sandbox/gradebook" class="player-nav nowrap">
          Gradebook
        </a>
      </div>
      <div class="player-body">
        <iframe name="tool" title="Courseport" src={p.start} allow="fullscreen"></iframe>
      </div>
    </Layout>
  );
}

/** An auto-submitting form (the LMS's side of a redirect by POST); a button when scripts are off. */
export function SandboxPostPage(p: { action: string; fields: Record<string, string>; label: string }): JSX.Element {
  return (
    <Layout title={p.label}>
      <form method="post" action={p.action} data-autosubmit="1">
        {Object.entries(p.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" safe>
          {p.label}
        </button>
      </form>
      <script src="/static/sandbox.js"></script>
    </Layout>
  );
}

/** After deep linking: what the tool sent back (inside the frame). */
export function SandboxDeepLinkResultPage(p: { added: readonly SandboxLink[]; message: string | undefined }): JSX.Element {
  return (
    <Layout title="Content added">
      <div class="card" id="sandbox-deep-link-result" data-added={String(p.added.length)}>
        <h1 safe>{p.added.length === 0 ? 'No content was added' : `Added ${p.added.length} item(s) to the sandbox course`}</h1>
        {p.message ? <p safe>{p.message}</p> : ''}
        <ul>
          {p.added.map((l) => (
            <li safe>{`${l.title}${l.lineItemId ? ' (graded)' : ''}`}</li>
          ))}
        </ul>
        <p>
          <a href="/sandbox" target="_top" id="sandbox-back">
            Back to the course
          </a>
        </p>
      </div>
    </Layout>
  );
}

function cell(s: SandboxScore | undefined): string {
  if (!s) return '—';
  const score = s.scoreGiven !== null && s.scoreMaximum !== null ? `${Math.round((s.scoreGiven / s.scoreMaximum) * 1000) / 10}%` : 'no score';
  return `${score} · ${s.activityProgress} · ${s.gradingProgress}`;
}

/** The gradebook: one column per line item, one row per learner, the latest score the tool sent. */
export function SandboxGradebookPage(p: {
  items: readonly SandboxLineItem[];
  latest: ReadonlyMap<string, ReadonlyMap<string, SandboxScore>>;
  received: number;
}): JSX.Element {
  return (
    <Layout title="Sandbox gradebook">
      {NAV}
      <div class="card progress" id="sandbox-gradebook">
        <h1>Gradebook</h1>
        <p class="muted" safe>
          {`Scores arrive here through Assignment and Grade Services (${p.received} received). Courseport sends them in the background, within seconds of the learner's work.`}
        </p>
        {p.items.length === 0 ? (
          <p class="muted" id="sandbox-no-columns">
            No grade columns yet. Content added with “Add content…” gets one at once when the package is scored, otherwise when Courseport sends its first
            score.
          </p>
        ) : (
          <table class="progress-table">
            <thead>
              <tr>
                <th>Learner</th>
                {p.items.map((i) => (
                  <th data-line-item={i.id} class="text" safe>
                    {`${i.label} (max ${i.scoreMaximum})`}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {SANDBOX_MEMBERS.map((m) => (
                <tr data-user={m.sub}>
                  <td class="nowrap" safe>
                    {m.name}
                  </td>
                  {p.items.map((i) => (
                    <td data-line-item={i.id} class="text" safe>
                      {cell(p.latest.get(i.id)?.get(m.sub))}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Layout>
  );
}
