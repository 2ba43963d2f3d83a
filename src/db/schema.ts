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
  /** `email:<address>` or `ip:<address>`. */
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
  prev_hash: string;
  hash: string;
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
}

export type UserRow = Selectable<UsersTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
export type MembershipRow = Selectable<MembershipsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type { ColumnType };
