import type { RoleKind } from '../lti/roles.js';
import type { LaunchHomeView } from '../launch/launch-flow.js';
import { Layout } from './layout.js';

export type LaunchPageProps = LaunchHomeView;

const ROLE_LABEL: Record<RoleKind, string> = {
  administrator: 'Administrator',
  instructor: 'Instructor',
  'content-developer': 'Content developer',
  'teaching-assistant': 'Teaching assistant',
  mentor: 'Mentor',
  learner: 'Learner',
  other: 'Other (no recognised LTI role)',
};

/** The landing page of a validated launch, inside the LMS frame. Works without cookies. */
export function LaunchPage(p: LaunchPageProps): JSX.Element {
  const self = `/lti/home?lt=${encodeURIComponent(p.launchToken)}`;
  return (
    <Layout title="Launched">
      <div class="card" data-launch-token={p.launchToken}>
        <h1 safe>{p.resourceLinkTitle ?? 'Courseport'}</h1>
        <p>You are connected to Courseport from your LMS.</p>
        <dl>
          <dt>Signed in as</dt>
          <dd data-field="user" safe>
            {p.userName ?? p.userEmail ?? p.userSub}
          </dd>
          <dt>Role</dt>
          <dd data-field="role" safe>
            {p.roleKinds.map((k) => ROLE_LABEL[k]).join(', ')}
          </dd>
          <dt>Course</dt>
          <dd data-field="course" safe>
            {p.contextTitle ? `${p.contextTitle}${p.contextLabel ? ` (${p.contextLabel})` : ''}` : '—'}
          </dd>
          <dt>Resource link</dt>
          <dd data-field="resource-link" safe>
            {p.resourceLinkId ?? '—'}
          </dd>
          <dt>LMS</dt>
          <dd data-field="platform" safe>
            {p.platformName}
          </dd>
          <dt>Message</dt>
          <dd safe>{p.messageType}</dd>
        </dl>
        <p class="muted">
          <a href={self}>Refresh</a>
        </p>
      </div>
    </Layout>
  );
}
