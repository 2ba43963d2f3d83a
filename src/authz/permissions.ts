/**
 * THE permission table: which role grants which permission. `can()` is its only reader.
 * Roles are Label Studio's membership codes. Not activated (NO) and Deactivated (DI) grant
 * nothing and are refused at authentication already.
 */
export const ROLES = ['OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'DI'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_NAMES: Record<Role, string> = {
  OW: 'Owner',
  AD: 'Administrator',
  MA: 'Manager',
  RE: 'Reviewer',
  AN: 'Annotator',
  NO: 'Not activated',
  DI: 'Deactivated',
};

/** Roles that may sign in and use the API. */
export const ACTIVE_ROLES: readonly Role[] = ['OW', 'AD', 'MA', 'RE', 'AN'];

export const PERMISSIONS = [
  /** Own profile, password, API tokens, sessions. */
  'account.self',
  /** See the organization the actor belongs to. */
  'organization.view',
  /** The people page: list users and memberships of the organization. */
  'members.view',
  /** Give or change a member's role (never Owner: ownership is transferred, not assigned). */
  'members.change_role',
  /** Create users directly in the organization. */
  'users.create',
  /** Edit other users' profiles in the organization. */
  'users.update',
  /** Read and reset the organization's invite link. */
  'invite.manage',
  /** See projects, their settings and their tasks. */
  'project.view',
  /** Create projects. */
  'project.create',
  /** Change a project's settings and labeling config. */
  'project.change',
  /** Delete projects. */
  'project.delete',
  /** Import tasks (and predictions with them) into a project. */
  'task.import',
  /** Edit or delete tasks and manage predictions. */
  'task.change',
  /** Export a project's tasks and annotations. */
  'project.export',
  /** Label: create annotations and drafts, change and delete one's own. */
  'annotation.create',
  /** Change or delete other users' annotations. */
  'annotation.change_any',
  /** Read and export the organization's audit and activity logs. */
  'audit.view',
  /** Read the organization's usage statistics. */
  'usage.view',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const EVERY_MEMBER = ['account.self', 'organization.view', 'project.view', 'annotation.create'] as const satisfies readonly Permission[];
const MANAGER = [
  ...EVERY_MEMBER,
  'members.view',
  'project.create',
  'project.change',
  'project.delete',
  'task.import',
  'task.change',
  'project.export',
  'annotation.change_any',
] as const satisfies readonly Permission[];
const ADMIN = [...MANAGER, 'members.change_role', 'users.create', 'users.update', 'invite.manage', 'audit.view', 'usage.view'] as const;

/**
 * What each role grants. Label Studio Enterprise's published matrix is the baseline: see the
 * people page Manager and above; change roles and invite Administrator and Owner.
 */
export const GRANTS = {
  OW: ADMIN,
  AD: ADMIN,
  MA: MANAGER,
  RE: EVERY_MEMBER,
  AN: EVERY_MEMBER,
  NO: [],
  DI: [],
} as const satisfies Record<Role, readonly Permission[]>;

const granted: Record<Role, ReadonlySet<Permission>> = Object.fromEntries(
  ROLES.map((r) => [r, new Set<Permission>(GRANTS[r])]),
) as unknown as Record<Role, ReadonlySet<Permission>>;

/** Whether a role grants a permission. The only reader of GRANTS. */
export function can(actor: { role: Role } | null | undefined, permission: Permission): boolean {
  return actor !== null && actor !== undefined && granted[actor.role].has(permission);
}

/** Whether a value is one of the role codes. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
