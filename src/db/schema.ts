/**
 * Table types of the database of record, shared by SQLite and PostgreSQL. Conventions that let
 * one schema serve both: timestamps are ISO-8601 UTC strings (timestamptz on PostgreSQL, read
 * back as ISO strings), flags are integers 0/1, JSON is text.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export type Timestamp = string;
/** 0 or 1: SQLite has no boolean type, so both dialects store flags as integers. */
export type Flag = number;

export interface OrganizationsTable {
  id: Generated<number>;
  title: string;
  contact_info: string | null;
  created_by_id: number | null;
  /** Random, not secret by itself: the invite token is HMAC(server secret, org id, nonce). */
  invite_nonce: string;
  /** Keyed hash of the current invite token, for lookup at signup. */
  invite_hash: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: Generated<number>;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  phone: string;
  password_hash: string | null;
  is_superuser: Flag;
  /** Global switch; per-organization access is the membership role. */
  is_active: Flag;
  active_organization_id: number | null;
  /** Keyed hash of the legacy API token (`Authorization: Token …`); null when none. */
  token_hash: string | null;
  /** Nonce the current token was derived from; null when the token was supplied at bootstrap. */
  token_nonce: string | null;
  token_created_at: Timestamp | null;
  date_joined: Timestamp;
  last_activity: Timestamp | null;
  updated_at: Timestamp;
}

export interface MembershipsTable {
  id: Generated<number>;
  organization_id: number;
  user_id: number;
  role: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionsTable {
  id: Generated<number>;
  /** SHA-256 of the cookie value; the cookie value itself is never stored. */
  token_hash: string;
  user_id: number;
  ip: string;
  user_agent: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface LoginFailuresTable {
  id: Generated<number>;
  /** `email:<address>`, `user:<id>` or `ip:<address>` (one row per attempt); `reported:<account key>` (a throttled refusal that was recorded). */
  key: string;
  at: Timestamp;
}

export interface PersonalTokensTable {
  id: Generated<number>;
  jti: string;
  user_id: number;
  /** Header and payload of the JWT, without its signature: identifies it, cannot be replayed. */
  unsigned_part: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface InstanceSettingsTable {
  key: string;
  value: string;
  updated_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<number>;
  created_at: Timestamp;
  organization_id: number | null;
  actor_user_id: number | null;
  actor_email: string;
  auth_method: string;
  ip: string;
  user_agent: string;
  request_id: string;
  action: string;
  object_type: string;
  object_id: string | null;
  project_id: number | null;
  /** JSON: `{field: {before, after}}` or event details, secrets redacted. */
  changes: string;
  /** The previous event's hash in chain order; NULL on PostgreSQL until the event is sealed. */
  prev_hash: string | null;
  /** The chained HMAC; on PostgreSQL, until sealed, the HMAC of the content alone. */
  hash: string;
  /** PostgreSQL: the event's place in the chain, given when sealed (NULL before). SQLite: always NULL, the chain follows `id`. */
  seq: Generated<number | null>;
  /** PostgreSQL: a random value covered by the hashes, unique, so an event cannot be inserted twice. NULL on SQLite and before migration 0014. */
  nonce: string | null;
}

/** Written by audit retention: the last pruned event, signed, so the remaining chain verifies from it. */
export interface AuditCheckpointsTable {
  id: Generated<number>;
  created_at: Timestamp;
  last_event_id: number;
  last_event_hash: string;
  pruned_count: number;
  retention_days: number;
  /** HMAC (server secret, purpose "audit") over the other columns. */
  signature: string;
}

/**
 * A JSON column: jsonb on PostgreSQL (read back parsed), text on SQLite (read back as a string).
 * Written as a JSON string; read through `fromJson()`.
 */
export type Json = ColumnType<unknown, string, string>;

export interface ProjectsTable {
  id: Generated<number>;
  organization_id: number;
  title: string;
  description: string;
  label_config: string;
  expert_instruction: string;
  /** Label Studio's per-project switches and numbers (sampling, maximum_annotations, …). */
  settings: Json;
  model_version: string;
  pinned_at: Timestamp | null;
  created_by_id: number | null;
  /** The workspace the project lives in; null only for rows older than workspaces (migrated). */
  workspace_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FileUploadsTable {
  id: Generated<number>;
  project_id: number;
  user_id: number | null;
  file: string;
  original_name: string;
  size: number;
  content_type: string;
  created_at: Timestamp;
}

export interface TasksTable {
  id: Generated<number>;
  project_id: number;
  inner_id: number;
  data: Json;
  meta: Json;
  is_labeled: Generated<Flag>;
  total_annotations: Generated<number>;
  cancelled_annotations: Generated<number>;
  total_predictions: Generated<number>;
  file_upload_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  updated_by_id: number | null;
}

export interface AnnotationsTable {
  id: Generated<number>;
  task_id: number;
  project_id: number;
  completed_by_id: number | null;
  result: Json;
  was_cancelled: Flag;
  ground_truth: Flag;
  lead_time: number | null;
  unique_id: string;
  import_id: number | null;
  last_action: string | null;
  parent_prediction_id: number | null;
  parent_annotation_id: number | null;
  draft_created_at: Timestamp | null;
  updated_by_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PredictionsTable {
  id: Generated<number>;
  task_id: number;
  project_id: number;
  result: Json;
  score: number | null;
  model_version: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DraftsTable {
  id: Generated<number>;
  task_id: number;
  project_id: number;
  annotation_id: number | null;
  user_id: number;
  result: Json;
  lead_time: number | null;
  was_postponed: Flag;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TaskLocksTable {
  task_id: number;
  user_id: number;
  project_id: number;
  expires_at: Timestamp;
}

export interface ExportSnapshotsTable {
  id: Generated<number>;
  project_id: number;
  created_by_id: number | null;
  status: string;
  title: string;
  file: string | null;
  md5: string | null;
  counters: Json;
  options: Json;
  error: string | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface RequestLogsTable {
  id: Generated<number>;
  created_at: Timestamp;
  organization_id: number | null;
  user_id: number | null;
  email: string;
  auth_method: string;
  method: string;
  url: string;
  status: number;
  duration_ms: number;
  ip: string;
  user_agent: string;
  referer: string;
  project_id: number | null;
  request_id: string;
  /** The ids of the first and last audit events the request wrote (null: none). */
  first_event_id: number | null;
  last_event_id: number | null;
  /** Which browser session sent it: 8 hex characters derived from the session's token hash; null without a session. */
  session_tag: string | null;
}

export interface UsageCountersTable {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** 0 for requests outside any organization (anonymous). */
  organization_id: number;
  metric: string;
  value: number;
}

/** Parses a JSON column value read from either dialect. */
export function fromJson<T = unknown>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export interface Database {
  organizations: OrganizationsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
  personal_tokens: PersonalTokensTable;
  instance_settings: InstanceSettingsTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  projects: ProjectsTable;
  file_uploads: FileUploadsTable;
  tasks: TasksTable;
  annotations: AnnotationsTable;
  predictions: PredictionsTable;
  drafts: DraftsTable;
  task_locks: TaskLocksTable;
  export_snapshots: ExportSnapshotsTable;
  request_logs: RequestLogsTable;
  usage_counters: UsageCountersTable;
}

export type UserRow = Selectable<UsersTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
export type MembershipRow = Selectable<MembershipsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type ProjectRow = Selectable<ProjectsTable>;
export type TaskRow = Selectable<TasksTable>;
export type AnnotationRow = Selectable<AnnotationsTable>;
export type PredictionRow = Selectable<PredictionsTable>;
export type DraftRow = Selectable<DraftsTable>;
export type { ColumnType };

/** A saved data-manager view (a tab): title, filters, ordering and column settings in `data`. */
export interface DmViewsTable {
  id: Generated<number>;
  project_id: number;
  /** Who made it; null once that user is deleted. */
  user_id: number | null;
  /** Position of the tab, left to right. */
  order: Generated<number>;
  /** JSON: `{title, filters: {conjunction, items}, ordering, hiddenColumns, …}`, filters validated on save. */
  data: Json;
  /** JSON: `{all, included | excluded}` or null. */
  selected_items: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Declaration merging adds the data manager's table to the database type (append-only here). */
export interface Database {
  dm_views: DmViewsTable;
}

export type DmViewRow = Selectable<DmViewsTable>;

/** A workspace groups projects and the people who work on them; `is_personal` marks a user's sandbox. */
export interface WorkspacesTable {
  id: Generated<number>;
  organization_id: number;
  title: string;
  description: string;
  color: string;
  is_personal: Flag;
  is_archived: Flag;
  created_by_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WorkspaceMembersTable {
  id: Generated<number>;
  workspace_id: number;
  user_id: number;
  created_at: Timestamp;
}

export interface ProjectMembersTable {
  id: Generated<number>;
  project_id: number;
  user_id: number;
  created_at: Timestamp;
}

export interface TaskAssignmentsTable {
  id: Generated<number>;
  task_id: number;
  project_id: number;
  user_id: number;
  /** 'AN' to annotate, 'RE' to review. */
  type: string;
  assigned_by_id: number | null;
  created_at: Timestamp;
}

export interface AnnotationReviewsTable {
  id: Generated<number>;
  annotation_id: number;
  task_id: number;
  project_id: number;
  created_by_id: number | null;
  accepted: Flag;
  comment: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Role-based access tables (declaration merging, append-only here). */
export interface Database {
  workspaces: WorkspacesTable;
  workspace_members: WorkspaceMembersTable;
  project_members: ProjectMembersTable;
  task_assignments: TaskAssignmentsTable;
  annotation_reviews: AnnotationReviewsTable;
}

export type WorkspaceRow = Selectable<WorkspacesTable>;
export type AnnotationReviewRow = Selectable<AnnotationReviewsTable>;

/** An import (source) or export (target) storage connection of a project. */
export interface StoragesTable {
  id: Generated<number>;
  project_id: number;
  /** s3 | gcs | azure | redis | localfiles */
  type: string;
  title: string;
  description: string;
  /** JSON: the type's settings (bucket, prefix, regex_filter, presign, …); never credentials. */
  settings: Json;
  /** Sealed credentials (security/credentials-cipher.ts), or null. */
  credentials: string | null;
  /** initialized | queued | in_progress | failed | completed | completed_with_errors */
  status: Generated<string>;
  last_sync: Timestamp | null;
  last_sync_count: number | null;
  last_sync_job: string | null;
  traceback: string | null;
  /** JSON: sync progress and counters. */
  meta: Json;
  created_by_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A synced object and the (first) task it became; unique per storage and key. */
export interface StorageLinksTable {
  id: Generated<number>;
  storage_id: number;
  key: string;
  task_id: number;
  task_count: Generated<number>;
  created_at: Timestamp;
}

/** Storage tables (declaration merging, append-only here). */
export interface Database {
  import_storages: StoragesTable;
  export_storages: StoragesTable;
  storage_links: StorageLinksTable;
}

export type StorageRow = Selectable<StoragesTable>;
