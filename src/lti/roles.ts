/**
 * LTI roles and what Courseport lets each kind of user do. Every role decision (who may choose
 * content, who sees the course's progress, which attempts are graded) reads from here.
 */

const ROLE_BASE = 'http://purl.imsglobal.org/vocab/lis/v2/';
export const ROLE = {
  CONTEXT_LEARNER: `${ROLE_BASE}membership#Learner`,
  CONTEXT_INSTRUCTOR: `${ROLE_BASE}membership#Instructor`,
  CONTEXT_CONTENT_DEVELOPER: `${ROLE_BASE}membership#ContentDeveloper`,
  CONTEXT_ADMINISTRATOR: `${ROLE_BASE}membership#Administrator`,
  CONTEXT_MENTOR: `${ROLE_BASE}membership#Mentor`,
  CONTEXT_TA: `${ROLE_BASE}membership/Instructor#TeachingAssistant`,
  INSTITUTION_ADMINISTRATOR: `${ROLE_BASE}institution/person#Administrator`,
  INSTITUTION_STUDENT: `${ROLE_BASE}institution/person#Student`,
  INSTITUTION_INSTRUCTOR: `${ROLE_BASE}institution/person#Instructor`,
  SYSTEM_ADMINISTRATOR: `${ROLE_BASE}system/person#Administrator`,
  TEST_USER: `${ROLE_BASE}system/person#TestUser`,
} as const;

/** Who may choose content through deep linking (LTI roles, long or short forms). */
export function canChooseContent(roles: readonly string[]): boolean {
  return roleKinds(roles).some((k) => k === 'administrator' || k === 'instructor' || k === 'content-developer');
}

export type RoleKind = 'learner' | 'instructor' | 'teaching-assistant' | 'content-developer' | 'administrator' | 'mentor' | 'other';

interface ParsedRole {
  readonly vocabulary: 'context' | 'institution' | 'system' | 'unknown';
  readonly principal: string;
  readonly sub: string | undefined;
}

/**
 * Reads an LTI role: full LIS v2 URIs (`…/membership#Instructor`,
 * `…/membership/Instructor#TeachingAssistant`, `…/institution/person#Faculty`,
 * `…/system/person#SysAdmin`), the LTI 1.1 URNs some platforms still send, and the short
 * context forms (`Instructor`) the core spec allows.
 */
export function parseRole(role: string): ParsedRole {
  if (role.startsWith(ROLE_BASE)) {
    const [path = '', fragment = ''] = role.slice(ROLE_BASE.length).split('#', 2);
    const segments = path.split('/');
    if (segments[0] === 'membership') {
      return segments[1] ? { vocabulary: 'context', principal: segments[1], sub: fragment } : { vocabulary: 'context', principal: fragment, sub: undefined };
    }
    if (path === 'institution/person') return { vocabulary: 'institution', principal: fragment, sub: undefined };
    if (path === 'system/person') return { vocabulary: 'system', principal: fragment, sub: undefined };
    return { vocabulary: 'unknown', principal: fragment, sub: undefined };
  }
  const urn = /^urn:lti:(role|instrole|sysrole):ims\/lis\/([A-Za-z]+)(?:\/([A-Za-z]+))?$/.exec(role);
  if (urn) {
    const vocabulary = urn[1] === 'role' ? 'context' : urn[1] === 'instrole' ? 'institution' : 'system';
    return { vocabulary, principal: urn[2] ?? '', sub: urn[3] };
  }
  if (/^[A-Za-z]+$/.test(role)) return { vocabulary: 'context', principal: role, sub: undefined };
  return { vocabulary: 'unknown', principal: '', sub: undefined };
}

function kindOf(r: ParsedRole): RoleKind | undefined {
  if (r.vocabulary === 'unknown') return undefined;
  if (r.vocabulary === 'system') return r.principal === 'Administrator' || r.principal === 'SysAdmin' ? 'administrator' : undefined;
  // A sub-role belongs to its principal (membership/Learner#Instructor is a kind of learner),
  // except the teaching assistant, which Courseport treats on its own.
  if (r.principal === 'TeachingAssistant' || (r.principal === 'Instructor' && r.sub === 'TeachingAssistant')) return 'teaching-assistant';
  switch (r.principal) {
    case 'Administrator':
      return 'administrator';
    case 'Instructor':
    case 'Faculty':
      return 'instructor';
    case 'ContentDeveloper':
      return 'content-developer';
    case 'Mentor':
      return 'mentor';
    case 'Learner':
    case 'Student':
      return 'learner';
    default:
      return undefined;
  }
}

const KIND_ORDER: readonly RoleKind[] = ['administrator', 'instructor', 'content-developer', 'teaching-assistant', 'mentor', 'learner'];

/**
 * The kinds of user Courseport acts on, most privileged first. What a person may do in a
 * course follows their context (course) roles; institution roles count only when the
 * platform sent no context role, except that administrators stay administrators.
 */
export function roleKinds(roles: readonly string[]): RoleKind[] {
  const parsed = roles.map(parseRole);
  const hasContextRole = parsed.some((r) => r.vocabulary === 'context' && kindOf(r) !== undefined);
  const kinds = new Set<RoleKind>();
  for (const r of parsed) {
    const kind = kindOf(r);
    if (!kind) continue;
    if (r.vocabulary === 'institution' && hasContextRole && kind !== 'administrator') continue;
    kinds.add(kind);
  }
  const result = KIND_ORDER.filter((k) => kinds.has(k));
  return result.length ? result : ['other'];
}

/** The one kind a roster row or an attempt records: course roles first (see roleKinds). */
export type RosterKind = 'learner' | 'instructor' | 'teaching-assistant' | 'other';

export function rosterKind(roles: readonly string[]): RosterKind {
  const kinds = roleKinds(roles);
  if (kinds.includes('administrator') || kinds.includes('instructor') || kinds.includes('content-developer')) return 'instructor';
  if (kinds.includes('teaching-assistant')) return 'teaching-assistant';
  if (kinds.includes('learner')) return 'learner';
  return 'other';
}

/** Staff by recorded roster kind: their attempts are previews, neither graded nor listed. */
export function isStaffRole(roleKind: string | null | undefined): boolean {
  return roleKind === 'instructor' || roleKind === 'teaching-assistant';
}

/** Who may see every learner's progress: staff of the course by LTI role. */
export function canSeeProgress(roles: readonly string[]): boolean {
  return roleKinds(roles).some((k) => k === 'administrator' || k === 'instructor' || k === 'content-developer' || k === 'teaching-assistant');
}
