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

export type RoleKind = 'learner' | 'instructor' | 'teaching-assistant' | 'content-developer' | 'administrator' | 'mentor' | 'other';

/**
 * Maps LTI roles (full URIs, and the short context forms such as `Instructor` that the
 * core spec allows) to the one kind Courseport acts on, most privileged first.
 */
export function roleKinds(roles: readonly string[]): RoleKind[] {
  const kinds = new Set<RoleKind>();
  for (const role of roles) {
    const hash = role.includes('#') ? role.slice(role.lastIndexOf('#') + 1) : role;
    const isContextOrShort = !role.includes('://') || role.startsWith(`${ROLE_BASE}membership`);
    const isInstitution = role.startsWith(`${ROLE_BASE}institution/`);
    const isSystem = role.startsWith(`${ROLE_BASE}system/`);
    if (hash === 'TeachingAssistant' && (isContextOrShort || isInstitution)) kinds.add('teaching-assistant');
    else if (hash === 'Administrator' || (isSystem && hash === 'SysAdmin')) kinds.add('administrator');
    else if (hash === 'Instructor' || hash === 'Faculty') kinds.add('instructor');
    else if (hash === 'ContentDeveloper') kinds.add('content-developer');
    else if (hash === 'Mentor') kinds.add('mentor');
    else if (hash === 'Learner' || hash === 'Student') kinds.add('learner');
  }
  const order: RoleKind[] = ['administrator', 'instructor', 'content-developer', 'teaching-assistant', 'mentor', 'learner'];
  const result = order.filter((k) => kinds.has(k));
  return result.length ? result : ['other'];
}
