import { rolesOf, SANDBOX_COURSE, SANDBOX_MEMBERS } from './course.js';
import type { SandboxUrls } from './sandbox-platform.js';

/** The NRPS membership container of the sandbox course: everyone, in one page. */
export function sandboxMemberships(urls: SandboxUrls): Record<string, unknown> {
  return {
    id: urls.memberships,
    context: { id: SANDBOX_COURSE.id, label: SANDBOX_COURSE.label, title: SANDBOX_COURSE.title },
    members: SANDBOX_MEMBERS.map((m) => ({
      status: 'Active',
      user_id: m.sub,
      name: m.name,
      given_name: m.givenName,
      family_name: m.familyName,
      email: m.email,
      roles: rolesOf(m),
    })),
  };
}
