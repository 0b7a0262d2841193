import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Times are integer milliseconds since the epoch; JSON is stored as text. */
export interface PlatformTable {
  id: string;
  name: string;
  issuer: string;
  client_id: string;
  auth_url: string;
  token_url: string;
  /** Audience for client assertions when the platform wants something other than token_url. */
  token_audience: string | null;
  jwks_url: string | null;
  /** A static public key (JWK JSON) used instead of jwks_url. */
  public_jwk: string | null;
  /** `pending`: registered through LTI Dynamic Registration, waiting for an administrator to activate it. */
  status: 'active' | 'disabled' | 'pending';
  /** What to do when the LMS gradebook holds a grade Courseport did not send. */
  grade_policy: Generated<'overwrite' | 'raise' | 'preserve'>;
  created_at: number;
  updated_at: number;
  /** Admin console (0007): the latest validated launch, updated at most once a minute inside the launch transaction. */
  last_launch_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** Admin console (0007): the latest refused launch or login of this registration (code and reason). */
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  last_error_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** 1: launch id_tokens without a `kid` are accepted from this LMS; 0 (default): refused with LTI_MISSING_KID. */
  allow_missing_kid: Generated<number>;
}

export interface DeploymentTable {
  id: string;
  platform_id: string;
  deployment_id: string;
  name: string | null;
  created_at: number;
  /** Admin console (0007): a disabled deployment refuses logins and launches. */
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined, 'active' | 'disabled'>;
}

export interface ToolKeyTable {
  kid: string;
  state: 'next' | 'current' | 'retired';
  alg: string;
  public_jwk: string;
  /** AES-256-GCM ciphertext of the private JWK under COURSEPORT_SECRET. */
  private_jwk_enc: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

export interface LoginStateTable {
  state: string;
  nonce: string;
  platform_id: string;
  target_link_uri: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  /** The frame named by `lti_storage_target` when the login put its proof in platform storage. */
  storage_target: ColumnType<string | null, string | null | undefined, string | null>;
  /** The random value put in platform storage (null: the login did not use platform storage). */
  storage_proof: ColumnType<string | null, string | null | undefined, string | null>;
  /** The login parameters as JSON, to re-run the login in a new window. */
  resume_params: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface UserTable {
  id: string;
  platform_id: string;
  sub: string;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  email: string | null;
  picture: string | null;
  created_at: number;
  updated_at: number;
}

export interface ContextTable {
  id: string;
  platform_id: string;
  deployment_id: string;
  context_id: string;
  label: string | null;
  title: string | null;
  types: string | null;
  created_at: number;
  updated_at: number;
}

export interface ResourceLinkTable {
  id: string;
  platform_id: string;
  deployment_id: string;
  context_id: string | null;
  resource_link_id: string;
  title: string | null;
  description: string | null;
  /** The package this link plays (custom parameter package_id or a deep linking binding). */
  package_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface PackageTable {
  id: string;
  title: string;
  description: string | null;
  latest_version_id: string | null;
  status: 'active' | 'archived';
  created_at: number;
  updated_at: number;
}

export interface PackageVersionTable {
  id: string;
  package_id: string;
  version: number;
  scorm_version: string;
  title: string;
  /** The parsed manifest (JSON): organizations, items, SCO rules. */
  manifest: string;
  storage_key: string;
  file_count: number;
  total_bytes: number;
  sco_count: number;
  /** 1 when the package reports a score (mastery score or scaled passing score). */
  scored: number;
  source_name: string | null;
  created_at: number;
}

export type Completion = 'not attempted' | 'incomplete' | 'completed';
export type Success = 'passed' | 'failed' | 'unknown';

export interface AttemptTable {
  id: string;
  user_id: string;
  resource_link_id: string;
  package_version_id: string;
  number: number;
  completion: Completion;
  success: Success;
  score_scaled: number | null;
  score_raw: number | null;
  score_min: number | null;
  score_max: number | null;
  total_time_ms: number;
  current_sco: string | null;
  started_at: number;
  last_access_at: number;
  completed_at: number | null;
  /** The kind of role of the user's latest launch (src/rosters/roster-service.ts rosterKind); null before migration 0012. */
  role_kind?: string | null;
}

export interface ScoRuntimeTable {
  attempt_id: string;
  sco_id: string;
  /** The SCO's CMI data as a flat JSON object of element → value. */
  cmi: string;
  /** Number of the latest session (one per SCO load). */
  session_no: number;
  /** (commit_session, commit_seq) of the newest accepted commit: older ones never overwrite it. */
  commit_session: number;
  commit_seq: number;
  /** The latest session whose session time was added to total_time_ms. */
  timed_session: number;
  total_time_ms: number;
  completion: string;
  success: string;
  score_scaled: number | null;
  score_raw: number | null;
  score_min: number | null;
  score_max: number | null;
  suspended: number;
  updated_at: number;
}

export interface LaunchTable {
  id: string;
  platform_id: string;
  deployment_id: string;
  user_id: string;
  context_id: string | null;
  resource_link_id: string | null;
  message_type: string;
  roles: string;
  /** The validated id_token claims, as JSON. */
  claims: string;
  created_at: number;
  expires_at: number;
  /** When a deep linking request was answered (each is answered once). */
  responded_at: number | null;
}

export interface AdminTokenTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface LineItemTable {
  resource_link_id: string;
  platform_id: string;
  /** The AGS claim's `lineitems` (container) URL. */
  container_url: string | null;
  /** The line item the grades go to, once known (from the claim, found or created). */
  lineitem_url: string | null;
  /** The AGS scopes the platform granted (JSON array). */
  scopes: string;
  updated_at: number;
  /** While set and in the future, one worker is creating the line item at the LMS; the others wait. */
  claim_until?: number | null;
}

export type OutboxState = 'pending' | 'sending' | 'sent' | 'skipped' | 'dead' | 'superseded';

export interface GradeOutboxTable {
  id: string;
  attempt_id: string;
  resource_link_id: string;
  user_id: string;
  platform_id: string;
  /** The AGS Score to send (JSON), complete but for nothing: userId and timestamp are fixed at enqueue. */
  score: string;
  state: OutboxState;
  tries: number;
  next_try_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  /**
   * Order of the scores of one (link, learner), unique among them: the score's timestamp in ms
   * (rows queued before migration 0013: 1, 2, …). Only the row with the highest one is ever sent.
   */
  seq: number;
  /** The claim of the worker delivering the row (state `sending`); only that claim may record its outcome. */
  lease_id: string | null;
}

export interface RosterTable {
  context_id: string;
  platform_id: string;
  /** The NRPS claim's `context_memberships_url`. */
  memberships_url: string | null;
  /** The `Link: rel="differences"` of the last full sync, for the next incremental one. */
  differences_url: string | null;
  synced_at: number | null;
  sync_started_at: number | null;
  last_error: string | null;
  updated_at: number;
}

export interface MembershipTable {
  context_id: string;
  user_sub: string;
  name: string | null;
  email: string | null;
  picture: string | null;
  roles: string;
  role_kind: string;
  /** Active | Inactive | Deleted. */
  status: string;
  /** The member as the LMS sent it (unknown fields kept). */
  raw: string;
  updated_at: number;
}

export interface LinkMemberTable {
  resource_link_id: string;
  user_sub: string;
  synced_at: number;
}

export interface AuditLogTable {
  id: string;
  at: number;
  /** `admin:<email>`, `api-token:<name>`, `cli`, `system` or `platform:<id>`. */
  actor: string;
  /** Dotted verb, e.g. `platform.register`, `key.rotate`. */
  action: string;
  target: string | null;
  /** JSON object with what changed; never secrets. */
  details: string | null;
  ip: string | null;
}

// What each platform's JWKS endpoint last answered (migration 0009).
export interface PlatformKeyStatusTable {
  platform_id: string;
  fetched_at: number | null;
  /** JSON array of the kids published at the last successful fetch. */
  kids: string | null;
  error: string | null;
  error_at: number | null;
  /** When launches started verifying with a key set the endpoint no longer confirms. */
  stale_since: number | null;
  updated_at: number;
}

// --- content dispatch -------------------------------------------------------------------

export interface DispatchDestinationTable {
  id: string;
  name: string;
  notes: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
}

export interface DispatchTable {
  id: string;
  destination_id: string;
  package_id: string;
  /** The internal resource link (under the internal dispatch platform) that owns the attempts. */
  resource_link_ref: string;
  deployment_ref: string;
  title: string;
  enabled: number;
  allow_new_registrations: number;
  /** 0 = unlimited. */
  registration_cap: number;
  expires_at: number | null;
  /** Total launches allowed (null = unlimited). */
  launch_cap: number | null;
  hash_learner_ids: number;
  scorm_version: '1.2' | '2004';
  /** Random; the dispatch secret is HMAC(key from COURSEPORT_SECRET, id + seed). New seed = every old ZIP revoked. */
  secret_seed: string;
  /** Salt for the SHA-256 of learner ids computed in the LMS's browser. */
  learner_salt: string;
  registration_count: number;
  launch_count: number;
  refused_count: number;
  created_at: number;
  updated_at: number;
}

export interface DispatchRegistrationTable {
  id: string;
  dispatch_id: string;
  learner_id: string;
  learner_name: string | null;
  hashed: number;
  user_id: string;
  launch_count: number;
  first_launch_at: number;
  last_launch_at: number;
}

export interface DispatchEventTable {
  id: string;
  dispatch_id: string;
  at: number;
  /** The error code of the refusal, e.g. DISPATCH_EXPIRED. */
  code: string;
  learner_id: string | null;
  ip: string | null;
}

export type DispatchDestination = Selectable<DispatchDestinationTable>;
export type Dispatch = Selectable<DispatchTable>;
export type DispatchRegistration = Selectable<DispatchRegistrationTable>;
export type DispatchEvent = Selectable<DispatchEventTable>;
// Admin console (0007)
export interface AdminTable {
  id: string;
  /** Lower-cased. */
  email: string;
  /** `scrypt$N$r$p$salt$hash` (src/services/passwords.ts). */
  password_hash: string;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

export interface AdminSessionTable {
  /** SHA-256 (hex) of the session id the cookie carries. */
  id_hash: string;
  admin_id: string;
  /** The synchronizer token every console form of this session must send back. */
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  /** Absolute end of the session, whatever the activity. */
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface AdminLoginThrottleTable {
  /** `ip:<address>` or `account:<email>`. */
  key: string;
  failures: number;
  window_start: number;
}

// Tables of migration 0008.
export interface RegistrationSessionTable {
  /** SHA-256 (hex) of the session id carried by the confirmation form; the id itself is never stored. */
  id_hash: string;
  openid_configuration_url: string;
  /** The platform's validated OpenID configuration (JSON). */
  configuration: string;
  registration_token_enc: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface SandboxKeyTable {
  kid: string;
  public_jwk: string;
  private_jwk_enc: string;
  created_at: number;
}

export interface SandboxLinkTable {
  id: string;
  title: string;
  text: string | null;
  url: string;
  /** Custom parameters of the link (JSON object). */
  custom: string;
  line_item_id: string | null;
  created_at: number;
}

export interface SandboxLineItemTable {
  id: string;
  label: string;
  score_maximum: number;
  resource_id: string | null;
  resource_link_id: string | null;
  tag: string | null;
  created_at: number;
}

export interface SandboxScoreTable {
  id: string;
  line_item_id: string;
  user_id: string;
  score_given: number | null;
  score_maximum: number | null;
  activity_progress: string;
  grading_progress: string;
  comment: string | null;
  timestamp: string;
  received_at: number;
}

export interface SandboxAssertionTable {
  jti: string;
  expires_at: number;
}

export interface Database {
  platforms: PlatformTable;
  deployments: DeploymentTable;
  tool_keys: ToolKeyTable;
  login_states: LoginStateTable;
  users: UserTable;
  contexts: ContextTable;
  resource_links: ResourceLinkTable;
  launches: LaunchTable;
  admin_tokens: AdminTokenTable;
  packages: PackageTable;
  package_versions: PackageVersionTable;
  attempts: AttemptTable;
  sco_runtime: ScoRuntimeTable;
  line_items: LineItemTable;
  grade_outbox: GradeOutboxTable;
  rosters: RosterTable;
  memberships: MembershipTable;
  link_members: LinkMemberTable;
  audit_log: AuditLogTable;
  platform_key_status: PlatformKeyStatusTable;
  // Content dispatch
  dispatch_destinations: DispatchDestinationTable;
  dispatches: DispatchTable;
  dispatch_registrations: DispatchRegistrationTable;
  dispatch_events: DispatchEventTable;
  admins: AdminTable;
  admin_sessions: AdminSessionTable;
  admin_login_throttle: AdminLoginThrottleTable;
  registration_sessions: RegistrationSessionTable;
  sandbox_keys: SandboxKeyTable;
  sandbox_links: SandboxLinkTable;
  sandbox_line_items: SandboxLineItemTable;
  sandbox_scores: SandboxScoreTable;
  sandbox_assertions: SandboxAssertionTable;
}

export type Platform = Selectable<PlatformTable>;
export type NewPlatform = Insertable<PlatformTable>;
export type PlatformUpdate = Updateable<PlatformTable>;
export type Deployment = Selectable<DeploymentTable>;
export type ToolKey = Selectable<ToolKeyTable>;
/** A login state row; the platform-storage columns (migration 0003) may be left out when inserting. */
export type LoginState = Omit<Selectable<LoginStateTable>, LoginStateOptional> & Partial<Pick<Selectable<LoginStateTable>, LoginStateOptional>>;
type LoginStateOptional = 'storage_target' | 'storage_proof' | 'resume_params';
export type Launch = Selectable<LaunchTable>;
export type AdminToken = Selectable<AdminTokenTable>;
export type Package = Selectable<PackageTable>;
export type PackageVersion = Selectable<PackageVersionTable>;
export type Attempt = Selectable<AttemptTable>;
export type ScoRuntime = Selectable<ScoRuntimeTable>;
export type LineItemRow = Selectable<LineItemTable>;
export type GradeOutboxRow = Selectable<GradeOutboxTable>;
export type AuditEntryRow = Selectable<AuditLogTable>;
export type Admin = Selectable<AdminTable>;
export type AdminSession = Selectable<AdminSessionTable>;
// Generated is re-exported for tables that gain identity columns later.
export type { Generated };
