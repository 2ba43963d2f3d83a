/** Every audit action Labelvault records. Routes name theirs next to their permission. */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.signup',
  'auth.setup',
  'auth.password_change',
  'token.reset',
  'token.read',
  'token.pat_create',
  'token.pat_refresh',
  'token.pat_revoke',
  'token.pat_rotate',
  'user.create',
  'user.update',
  'membership.role_change',
  'invite.read',
  'invite.reset',
  'organization.create',
  'permission.denied',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
