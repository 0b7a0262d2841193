/** LTI 1.3 / Advantage protocol strings. Never write these inline elsewhere. */
const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

export const CLAIM = {
  MESSAGE_TYPE: `${LTI}message_type`,
  VERSION: `${LTI}version`,
  DEPLOYMENT_ID: `${LTI}deployment_id`,
  TARGET_LINK_URI: `${LTI}target_link_uri`,
  RESOURCE_LINK: `${LTI}resource_link`,
  ROLES: `${LTI}roles`,
  CONTEXT: `${LTI}context`,
  TOOL_PLATFORM: `${LTI}tool_platform`,
  LAUNCH_PRESENTATION: `${LTI}launch_presentation`,
  CUSTOM: `${LTI}custom`,
  LIS: `${LTI}lis`,
  ROLE_SCOPE_MENTOR: `${LTI}role_scope_mentor`,
  AGS_ENDPOINT: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  NRPS: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  DEEP_LINKING_SETTINGS: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  DEEP_LINKING_CONTENT_ITEMS: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  DEEP_LINKING_DATA: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  DEEP_LINKING_MSG: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
  DEEP_LINKING_LOG: 'https://purl.imsglobal.org/spec/lti-dl/claim/log',
  DEEP_LINKING_ERROR_MSG: 'https://purl.imsglobal.org/spec/lti-dl/claim/errormsg',
  DEEP_LINKING_ERROR_LOG: 'https://purl.imsglobal.org/spec/lti-dl/claim/errorlog',
} as const;

export const MESSAGE_TYPE = {
  RESOURCE_LINK: 'LtiResourceLinkRequest',
  DEEP_LINKING: 'LtiDeepLinkingRequest',
  DEEP_LINKING_RESPONSE: 'LtiDeepLinkingResponse',
} as const;

export type SupportedMessageType = typeof MESSAGE_TYPE.RESOURCE_LINK | typeof MESSAGE_TYPE.DEEP_LINKING;
export const SUPPORTED_MESSAGE_TYPES: readonly string[] = [MESSAGE_TYPE.RESOURCE_LINK, MESSAGE_TYPE.DEEP_LINKING];

export const LTI_VERSION = '1.3.0';

/** Asymmetric algorithms accepted on platform id_tokens (Security Framework §5.1.3: RS256 at least). */
export const ALLOWED_ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

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
