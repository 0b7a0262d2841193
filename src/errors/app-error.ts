/**
 * Every error that leaves the server is an AppError with a stable code. The catalogue
 * below is the single list of codes; docs/errors.md documents each one (checked by a test).
 */
export const ERROR_CATALOGUE = {
  // generic HTTP
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request too large' },
  UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal error' },
  // The database is away (PostgreSQL unreachable, stopped or silent; SQLite's disk full or read-only): retry later.
  DATABASE_UNAVAILABLE: { status: 503, title: 'Database unavailable', expose: true },
  // login initiation
  LTI_LOGIN_INVALID_REQUEST: { status: 400, title: 'Invalid login request' },
  LTI_UNKNOWN_PLATFORM: { status: 400, title: 'Unknown platform' },
  LTI_AMBIGUOUS_PLATFORM: { status: 400, title: 'Ambiguous platform registration' },
  LTI_PLATFORM_DISABLED: { status: 403, title: 'Platform disabled' },
  LTI_INVALID_TARGET_LINK_URI: { status: 400, title: 'Invalid target link URI' },
  // launch
  LTI_PLATFORM_ERROR: { status: 400, title: 'The platform reported an error' },
  LTI_MISSING_ID_TOKEN: { status: 400, title: 'Missing id_token' },
  LTI_MALFORMED_JWT: { status: 400, title: 'Malformed id_token' },
  LTI_UNSUPPORTED_ALG: { status: 401, title: 'Unsupported signing algorithm' },
  LTI_MISSING_KID: { status: 401, title: 'No signing key named' },
  LTI_UNKNOWN_KID: { status: 401, title: 'Unknown signing key' },
  LTI_INVALID_SIGNATURE: { status: 401, title: 'Invalid signature' },
  LTI_JWKS_UNAVAILABLE: { status: 424, title: 'Platform keys unavailable' },
  LTI_INVALID_ISSUER: { status: 401, title: 'Wrong issuer' },
  LTI_INVALID_AUDIENCE: { status: 401, title: 'Wrong audience' },
  LTI_INVALID_AZP: { status: 401, title: 'Wrong authorized party' },
  LTI_TOKEN_EXPIRED: { status: 401, title: 'Expired id_token' },
  LTI_TOKEN_ISSUED_IN_FUTURE: { status: 401, title: 'id_token issued in the future' },
  LTI_TOKEN_NOT_YET_VALID: { status: 401, title: 'id_token not yet valid' },
  LTI_MISSING_STATE: { status: 400, title: 'Missing state' },
  LTI_UNKNOWN_STATE: { status: 400, title: 'Unknown launch state' },
  LTI_STATE_EXPIRED: { status: 400, title: 'Launch state expired' },
  LTI_STATE_USED: { status: 400, title: 'Launch already used' },
  LTI_STATE_COOKIE_MISSING: { status: 400, title: 'Launch cookie missing' },
  LTI_STATE_COOKIE_MISMATCH: { status: 400, title: 'Launch cookie mismatch' },
  LTI_STORAGE_VALUE_MISMATCH: { status: 401, title: 'Platform storage value mismatch' },
  LTI_STORAGE_WRONG_ORIGIN: { status: 403, title: 'Platform storage answer from the wrong origin' },
  LTI_NONCE_MISSING: { status: 401, title: 'Missing nonce' },
  LTI_NONCE_MISMATCH: { status: 401, title: 'Nonce mismatch' },
  LTI_NONCE_USED: { status: 401, title: 'Nonce already used' },
  LTI_UNKNOWN_DEPLOYMENT: { status: 403, title: 'Unknown deployment' },
  LTI_INVALID_VERSION: { status: 400, title: 'Unsupported LTI version' },
  LTI_UNSUPPORTED_MESSAGE_TYPE: { status: 400, title: 'Unsupported message type' },
  LTI_MISSING_CLAIM: { status: 400, title: 'Missing claim' },
  LTI_INVALID_CLAIM: { status: 400, title: 'Invalid claim' },
  // deep linking
  LTI_DEEP_LINKING_FORBIDDEN: { status: 403, title: 'Only instructors can choose content' },
  LTI_DEEP_LINKING_UNSUPPORTED: { status: 400, title: 'Nothing Courseport can return' },
  DEEP_LINKING_INVALID_SELECTION: { status: 400, title: 'Invalid selection' },
  PROGRESS_FORBIDDEN: { status: 403, title: 'Only instructors can see learner progress' },
  DEEP_LINKING_ALREADY_ANSWERED: { status: 409, title: 'Content already sent' },
  // in-frame session after a launch
  LAUNCH_TOKEN_INVALID: { status: 401, title: 'Invalid launch link' },
  LAUNCH_TOKEN_EXPIRED: { status: 401, title: 'Launch link expired' },
  // admin and API
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  PLATFORM_NOT_FOUND: { status: 404, title: 'Platform not found' },
  PLATFORM_EXISTS: { status: 409, title: 'Platform already registered' },
  PLATFORM_BUILT_IN: { status: 409, title: 'Built-in registration' },
  DEPLOYMENT_EXISTS: { status: 409, title: 'Deployment already registered' },
  KEY_NOT_FOUND: { status: 404, title: 'Key not found' },
  KEY_DECRYPTION_FAILED: { status: 500, title: 'Key decryption failed' },
  // LTI Advantage services (OAuth 2 client credentials)
  SERVICE_TOKEN_FAILED: { status: 502, title: 'The LMS refused a service token' },
  SERVICE_CALL_FAILED: { status: 502, title: 'An LMS service call failed' },
  // SCORM packages
  PACKAGE_NOT_ZIP: { status: 400, title: 'Not a ZIP archive' },
  PACKAGE_UNSAFE_ENTRY: { status: 400, title: 'Unsafe archive entry' },
  PACKAGE_TOO_MANY_ENTRIES: { status: 400, title: 'Too many files in the archive' },
  PACKAGE_TOO_LARGE: { status: 413, title: 'Package too large' },
  PACKAGE_COMPRESSION_RATIO: { status: 400, title: 'Suspicious compression ratio' },
  PACKAGE_NO_MANIFEST: { status: 400, title: 'No imsmanifest.xml' },
  PACKAGE_INVALID_MANIFEST: { status: 400, title: 'Invalid manifest' },
  PACKAGE_MISSING_FILE: { status: 400, title: 'Manifest references a missing file' },
  PACKAGE_UNSUPPORTED: { status: 400, title: 'Unsupported package' },
  PACKAGE_NOT_FOUND: { status: 404, title: 'Package not found' },
  PACKAGE_IN_USE: { status: 409, title: 'Package in use' },
  // SCORM runtime
  CMI_INVALID: { status: 400, title: 'Invalid SCORM data' },
  CMI_STALE_COMMIT: { status: 409, title: 'Stale commit' },
  CONTENT_TOKEN_INVALID: { status: 403, title: 'Content link invalid or expired' },
  // Content dispatch
  DESTINATION_NOT_FOUND: { status: 404, title: 'Destination not found' },
  DISPATCH_NOT_FOUND: { status: 404, title: 'Dispatch not found' },
  DISPATCH_LAUNCH_INVALID: { status: 400, title: 'Invalid dispatch launch' },
  DISPATCH_SECRET_INVALID: { status: 403, title: 'Dispatch package revoked' },
  DISPATCH_DISABLED: { status: 403, title: 'Course not available' },
  DISPATCH_EXPIRED: { status: 403, title: 'Course licence expired' },
  DISPATCH_REGISTRATIONS_CLOSED: { status: 403, title: 'No new learners accepted' },
  DISPATCH_REGISTRATION_CAP: { status: 403, title: 'Learner limit reached' },
  DISPATCH_LAUNCH_CAP: { status: 403, title: 'Launch limit reached' },
  // Admin console
  ADMIN_LOGIN_REQUIRED: { status: 401, title: 'Sign-in required' },
  ADMIN_LOGIN_FAILED: { status: 401, title: 'Wrong email or password' },
  ADMIN_LOGIN_THROTTLED: { status: 429, title: 'Too many failed sign-ins' },
  ADMIN_CSRF_INVALID: { status: 403, title: 'Form expired or forged' },
  ADMIN_PAGE_ONLY: { status: 403, title: 'Console pages open only as pages' },
  ADMIN_SETUP_DONE: { status: 409, title: 'An administrator already exists' },
  ADMIN_EXISTS: { status: 409, title: 'Administrator already exists' },
  LTI_DEPLOYMENT_DISABLED: { status: 403, title: 'Deployment disabled' },
  PACKAGE_ARCHIVED: { status: 409, title: 'Package archived' },
  // LTI Dynamic Registration (GET/POST /lti/register); the LMS's failures are 424 so that their text is shown
  LTI_PLATFORM_PENDING: { status: 403, title: 'Platform waiting for activation' },
  REGISTRATION_INVALID_REQUEST: { status: 400, title: 'Invalid registration request' },
  REGISTRATION_ISSUER_MISMATCH: { status: 400, title: 'Issuer does not match the configuration URL' },
  REGISTRATION_CONFIG_UNAVAILABLE: { status: 424, title: 'LMS configuration unavailable' },
  REGISTRATION_CONFIG_INVALID: { status: 424, title: 'Invalid LMS configuration' },
  REGISTRATION_REJECTED: { status: 424, title: 'The LMS refused the registration' },
  REGISTRATION_RESPONSE_INVALID: { status: 424, title: 'Invalid registration response' },
  REGISTRATION_SESSION_INVALID: { status: 400, title: 'Registration expired or unknown' },
  REGISTRATION_SESSION_USED: { status: 409, title: 'Registration already confirmed' },
  // The sandbox LMS (/sandbox)
  SANDBOX_INVALID_REQUEST: { status: 400, title: 'Invalid sandbox request' },
  SANDBOX_UNAUTHORIZED: { status: 401, title: 'Sandbox service call not authorized' },
} as const satisfies Record<string, { status: number; title: string; expose?: boolean }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  /** Extra machine-readable facts, safe to show (e.g. the claim name). */
  readonly details?: Readonly<Record<string, unknown>> | undefined;
  /** What the user can do about it, shown on the HTML error page. */
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  /** Messages of errors below 500 (and of 5xx that say nothing internal) are shown to the caller; others become a generic text. */
  readonly expose: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = ERROR_CATALOGUE[code];
    this.name = 'AppError';
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.expose = entry.status < 500 || ('expose' in entry && entry.expose);
    this.details = options.details;
    this.hint = options.hint;
  }
}

/** An LTI protocol validation failure (login or launch). */
export class LtiError extends AppError {
  constructor(code: ErrorCode & `LTI_${string}`, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.name = 'LtiError';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
