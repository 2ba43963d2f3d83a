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

/**
 * Every permission, with what it allows. The order is the order of the documented table.
 * Object-level rules (which projects a role sees) live in `scope.ts`, beside this table.
 */
export const PERMISSION_DESCRIPTIONS = {
  'account.self': 'Own profile, password, API tokens, sessions, active organization.',
  'organization.view': 'See the organizations one belongs to.',
  'organization.create': 'Create organizations and name their Owner (the instance superuser only).',
  'members.view': 'The people page: list users and memberships of the organization.',
  'members.change_role': "Give or change a member's role (Owner is transferred, never assigned).",
  'members.transfer_ownership': 'Hand the organization over to another member.',
  'users.create': 'Create users directly in the organization.',
  'users.update': "Edit other users' profiles in the organization.",
  'invite.manage': "Read and reset the organization's invite link.",
  'workspace.view': 'See the workspaces one is a member of and the projects one works in.',
  'workspace.view_all': 'See every workspace and project of the organization without being a member.',
  'workspace.create': 'Create workspaces.',
  'workspace.change': "Rename a workspace, manage its members and move projects in or out.",
  'workspace.delete': 'Delete an empty workspace.',
  'project.view': 'See the projects one works in, their settings and the label stream.',
  'project.create': 'Create projects.',
  'project.change': "Change a project's settings and labeling config.",
  'project.delete': 'Delete projects.',
  'project.members': "List and change a project's members.",
  'task.view_all': "See every task and annotation of a visible project (without it: only one's own work and assignments).",
  'task.import': 'Import tasks (and predictions with them) into a project.',
  'task.change': 'Edit or delete tasks and manage predictions.',
  'task.assign': 'Assign tasks to annotators.',
  'task.assign_reviewers': 'Assign tasks to reviewers.',
  'project.export': "Export a project's tasks and annotations.",
  'storage.manage': "Connect, change, validate, sync and delete a project's cloud and local storages.",
  'annotation.create': "Label: create annotations and drafts, change and delete one's own.",
  'annotation.review': 'Accept or reject annotations with a comment.',
  'annotation.change_any': "Change or delete other users' annotations.",
  'audit.view': "Read and export the organization's audit and activity logs.",
  'usage.view': "Read the organization's usage statistics.",
} as const;
export type Permission = keyof typeof PERMISSION_DESCRIPTIONS;
export const PERMISSIONS = Object.keys(PERMISSION_DESCRIPTIONS) as Permission[];

const EVERY_MEMBER = ['account.self', 'organization.view', 'workspace.view', 'project.view', 'annotation.create'] as const satisfies readonly Permission[];
const REVIEWER = [...EVERY_MEMBER, 'task.view_all', 'task.assign', 'annotation.review'] as const satisfies readonly Permission[];
const MANAGER = [
  ...REVIEWER,
  'members.view',
  'workspace.create',
  'workspace.change',
  'workspace.delete',
  'project.create',
  'project.change',
  'project.delete',
  'project.members',
  'task.import',
  'task.change',
  'task.assign_reviewers',
  'project.export',
  'storage.manage',
  'annotation.change_any',
] as const satisfies readonly Permission[];
const ADMIN = [...MANAGER, 'workspace.view_all', 'members.change_role', 'users.create', 'users.update', 'invite.manage', 'audit.view', 'usage.view'] as const satisfies readonly Permission[];

/**
 * What each role grants. Label Studio Enterprise's published matrix is the baseline: see the
 * people page Manager and above; change roles and invite Administrator and Owner; review and
 * assign annotators Reviewer and above; import, export and assign reviewers Manager and above.
 * Where it is silent the least privilege that lets the role work was chosen (docs/security.md).
 */
export const GRANTS = {
  OW: [...ADMIN, 'members.transfer_ownership'],
  AD: ADMIN,
  MA: MANAGER,
  RE: REVIEWER,
  AN: EVERY_MEMBER,
  NO: [],
  DI: [],
} as const satisfies Record<Role, readonly Permission[]>;

/** Instance-wide permissions, held by the superuser (the instance's first Owner) whatever the role. */
export const SUPERUSER_GRANTS = ['organization.create'] as const satisfies readonly Permission[];

const granted: Record<Role, ReadonlySet<Permission>> = Object.fromEntries(
  ROLES.map((r) => [r, new Set<Permission>(GRANTS[r])]),
) as unknown as Record<Role, ReadonlySet<Permission>>;

/** Whether a role grants a permission. The only reader of GRANTS. */
export function can(actor: { role: Role; isSuperuser?: boolean } | null | undefined, permission: Permission): boolean {
  if (actor === null || actor === undefined) return false;
  return granted[actor.role].has(permission) || (actor.isSuperuser === true && (SUPERUSER_GRANTS as readonly Permission[]).includes(permission));
}

/** Whether a value is one of the role codes. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
