/**
 * The OpenAPI document of the admin API (/api/docs): one tag per area, chosen from the path, so a
 * new route lands in its area without repeating a tag on every route.
 */
export const API_TAGS = [
  { name: 'platforms', description: 'LMS registrations (issuer, client id, endpoints), their status and the health of their JWKS endpoint.' },
  { name: 'deployments', description: 'Deployment ids of a registration: a launch is accepted only for a known, active deployment.' },
  { name: 'packages', description: 'SCORM packages: upload (multipart), new versions, rename, archive, delete.' },
  { name: 'grades', description: 'Scores on their way to LMS gradebooks (Assignment and Grade Services outbox): status and retry.' },
  { name: 'dispatch', description: 'Content dispatch for LMSs without LTI: destinations, dispatches with their licence, package export, reports.' },
  { name: 'keys', description: "The tool's signing keys (the JWKS LMSs verify with) and their rotation." },
  { name: 'audit', description: 'The audit log of administrative actions.' },
] as const;

export type ApiTag = (typeof API_TAGS)[number]['name'];

export const API_DESCRIPTION = [
  'Manage Courseport without the console: LMS registrations and their deployments, SCORM packages, grade delivery, content dispatch, the tool keys and the audit log.',
  "Authenticate with a bearer token from `courseport admin token create` (`Authorization: Bearer …`). Every change is recorded in the audit log under the token's name.",
  'Errors answer JSON `{ "error": CODE, "message", "details"?, "requestId" }` with a stable code (docs/errors.md).',
].join('\n\n');

/** The area of an admin API path (`/api/v1/platforms/:id/deployments` → deployments). */
export function apiTagOf(url: string): ApiTag | undefined {
  const path = url.replace(/^\/api\/v1/, '');
  if (/^\/platforms\/[^/]+\/deployments/.test(path)) return 'deployments';
  if (path.startsWith('/platforms')) return 'platforms';
  if (path.startsWith('/packages')) return 'packages';
  if (path.startsWith('/grades')) return 'grades';
  if (path.startsWith('/dispatch')) return 'dispatch';
  if (path.startsWith('/keys')) return 'keys';
  if (path.startsWith('/audit')) return 'audit';
  return undefined;
}
