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
