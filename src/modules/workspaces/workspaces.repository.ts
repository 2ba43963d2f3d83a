/**
 * Workspace rows: the caller's sandbox, the workspace a new or moved project goes to, and the
 * queries behind the workspace and project-member routes.
 */
import { canSeeWorkspace, isWorkspaceMember, whereWorkspaceVisible } from '../../authz/scope.js';
import { ACTIVE_ROLES, can } from '../../authz/permissions.js';
import type { Db } from '../../db/database.js';
import type { Database, MembershipRow, UserRow, WorkspaceRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { Transaction } from 'kysely';

/** The actor's private sandbox in its active organization, created (with the actor as member) on first use. */
export async function ensureSandbox(db: Db | Transaction<Database>, actor: Actor): Promise<WorkspaceRow> {
  const find = () =>
    db.selectFrom('workspaces').selectAll().where('organization_id', '=', actor.organizationId).where('created_by_id', '=', actor.userId).where('is_personal', '=', 1).executeTakeFirst();
  const existing = await find();
  if (existing) return existing;
  const now = new Date().toISOString();
  const created = await db
    .insertInto('workspaces')
    .values({ organization_id: actor.organizationId, title: 'Sandbox', description: '', color: '#FFFFFF', is_personal: 1, is_archived: 0, created_by_id: actor.userId, created_at: now, updated_at: now })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  const ws = created ?? (await find());
  if (!ws) throw new Error('sandbox workspace vanished');
  await db.insertInto('workspace_members').values({ workspace_id: ws.id, user_id: actor.userId, created_at: now }).onConflict((oc) => oc.doNothing()).execute();
  return ws;
}

/**
 * The workspace a project is created in or moved to: the one named (which the actor must see and,
 * unless it holds `workspace.view_all`, be a member of), or the actor's sandbox when none is named.
 * Another organization's or an unseen workspace is a 400 naming the field (it is a body value).
 */
export async function targetWorkspace(db: Db | Transaction<Database>, actor: Actor, id: number | null | undefined): Promise<WorkspaceRow> {
  if (id === undefined || id === null) return ensureSandbox(db, actor);
  const ws = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  const usable = ws && (await canSeeWorkspace(db as Db, actor, ws)) && (can(actor, 'workspace.view_all') || (await isWorkspaceMember(db as Db, actor.userId, ws.id)));
  if (!ws || !usable) throw invalid({ workspace: [`Workspace ${id} does not exist or you are not a member of it.`] });
  if (ws.is_personal === 1 && ws.created_by_id !== actor.userId) throw invalid({ workspace: ["Another user's sandbox cannot hold your projects."] });
  return ws;
}

type Q = Db | Transaction<Database>;

/** A workspace by id, whatever its organization (callers check access). */
export const findWorkspace = (db: Q, id: number): Promise<WorkspaceRow | undefined> => db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();

export const WORKSPACE_ORDERINGS = {
  id: ['id', 'asc'],
  '-id': ['id', 'desc'],
  title: ['title', 'asc'],
  '-title': ['title', 'desc'],
  created_at: ['created_at', 'asc'],
  '-created_at': ['created_at', 'desc'],
} as const satisfies Record<string, readonly ['id' | 'title' | 'created_at', 'asc' | 'desc']>;
export type WorkspaceOrdering = keyof typeof WORKSPACE_ORDERINGS;

/** The workspaces the actor sees (see `whereWorkspaceVisible`), optionally only personal or only shared ones. */
export async function listVisibleWorkspaces(db: Db, actor: Actor, opts: { isPersonal?: boolean | undefined; ordering: WorkspaceOrdering }): Promise<WorkspaceRow[]> {
  let q = whereWorkspaceVisible(db.selectFrom('workspaces'), actor);
  if (opts.isPersonal !== undefined) q = q.where('workspaces.is_personal', '=', opts.isPersonal ? 1 : 0);
  const [column, direction] = WORKSPACE_ORDERINGS[opts.ordering];
  return q.selectAll().orderBy(column, direction).orderBy('id', 'asc').execute();
}

/** How many projects a workspace holds. */
export async function countWorkspaceProjects(db: Q, workspaceId: number): Promise<number> {
  const row = await db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Adds a member; false when the user already was one. */
export async function insertWorkspaceMember(db: Q, workspaceId: number, userId: number): Promise<boolean> {
  const row = await db
    .insertInto('workspace_members')
    .values({ workspace_id: workspaceId, user_id: userId, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes a member; false when the user was not one. */
export async function deleteWorkspaceMember(db: Q, workspaceId: number, userId: number): Promise<boolean> {
  const r = await db.deleteFrom('workspace_members').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The user ids of a workspace's members, oldest membership first. */
export async function workspaceMemberIds(db: Q, workspaceId: number): Promise<number[]> {
  const rows = await db.selectFrom('workspace_members').select('user_id').where('workspace_id', '=', workspaceId).orderBy('id').execute();
  return rows.map((r) => r.user_id);
}

/** Adds a direct project member; false when the user already was one. */
export async function insertProjectMember(db: Q, projectId: number, userId: number): Promise<boolean> {
  const row = await db
    .insertInto('project_members')
    .values({ project_id: projectId, user_id: userId, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['project_id', 'user_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes a direct project member; false when the user was not one. */
export async function deleteProjectMember(db: Q, projectId: number, userId: number): Promise<boolean> {
  const r = await db.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The user ids of a project's direct members, oldest first. */
export async function projectMemberIds(db: Q, projectId: number): Promise<number[]> {
  const rows = await db.selectFrom('project_members').select('user_id').where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map((r) => r.user_id);
}

/** Whether a user is active (account enabled, a role that may sign in) in an organization. */
export async function isActiveOrganizationMember(db: Q, organizationId: number, userId: number): Promise<boolean> {
  const row = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('m.id')
    .where('m.organization_id', '=', organizationId)
    .where('m.user_id', '=', userId)
    .where('u.is_active', '=', 1)
    .where('m.role', 'in', [...ACTIVE_ROLES])
    .executeTakeFirst();
  return row !== undefined;
}

/** Users with their memberships, in the order of the ids given (for Label Studio's user shape). */
export async function usersWithMemberships(db: Q, userIds: number[]): Promise<{ user: UserRow; memberships: MembershipRow[] }[]> {
  if (userIds.length === 0) return [];
  const [users, memberships] = await Promise.all([
    db.selectFrom('users').selectAll().where('id', 'in', userIds).execute(),
    db.selectFrom('memberships').selectAll().where('user_id', 'in', userIds).orderBy('organization_id').execute(),
  ]);
  const byId = new Map(users.map((u) => [u.id, u]));
  return userIds.flatMap((id) => {
    const user = byId.get(id);
    return user ? [{ user, memberships: memberships.filter((m) => m.user_id === id) }] : [];
  });
}
