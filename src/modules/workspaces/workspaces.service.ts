/**
 * Workspaces (Label Studio Enterprise): shared spaces grouping projects and the people who work
 * on them, plus each user's private sandbox. Who sees which workspace is decided in
 * `authz/scope.ts`; the routes resolve the workspace before these functions run.
 */
import type { Transaction } from 'kysely';
import { whereProjectVisible } from '../../authz/scope.js';
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import type { Database, WorkspaceRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { countersOf } from '../projects/projects.repository.js';
import { projectResponse } from '../projects/projects.service.js';
import { toUserResponse } from '../users/users.schemas.js';
import {
  countWorkspaceProjects,
  deleteWorkspaceMember,
  ensureSandbox,
  findWorkspace,
  insertWorkspaceMember,
  isActiveOrganizationMember,
  listVisibleWorkspaces,
  usersWithMemberships,
  WORKSPACE_ORDERINGS,
  workspaceMemberIds,
  type WorkspaceOrdering,
} from './workspaces.repository.js';

type Q = Db | Transaction<Database>;

export interface WorkspaceInput {
  title?: string | undefined;
  description?: string | null | undefined;
  color?: string | null | undefined;
  is_archived?: boolean | undefined;
  is_personal?: boolean | undefined;
}

/** A workspace row → Label Studio's workspace shape. */
export const workspaceResponse = (w: WorkspaceRow) => ({
  id: w.id,
  title: w.title,
  description: w.description,
  color: w.color,
  is_personal: w.is_personal === 1,
  is_archived: w.is_archived === 1,
  created_by: w.created_by_id,
  created_at: w.created_at,
  updated_at: w.updated_at,
});

const personalRefused = (what: string) => new AppError(409, 'WORKSPACE_PERSONAL', `A personal sandbox ${what}.`);

/** The workspace the route's scope resolved (visibility already checked). */
async function scopedWorkspace(db: Q, id: number): Promise<WorkspaceRow> {
  const ws = await findWorkspace(db, id);
  if (!ws) throw notFound('Workspace not found.');
  return ws;
}

/** Users' Label Studio shapes, in the order given. */
export async function userResponses(db: Q, userIds: number[]) {
  return (await usersWithMemberships(db, userIds)).map(({ user, memberships }) => toUserResponse(user, memberships));
}

/**
 * 400 naming `field` unless the user is active in the organization (an account that may sign in,
 * with a role that may work): workspaces and projects only take the organization's own people.
 */
export async function assertActiveMember(db: Q, organizationId: number, userId: number, field: string): Promise<void> {
  if (!(await isActiveOrganizationMember(db, organizationId, userId))) throw invalid({ [field]: [`User ${userId} is not an active member of this organization.`] });
}

/** The workspaces the actor sees; its own sandbox is created on the first list. */
export async function listWorkspaces(deps: AppDeps, actor: Actor, q: { is_personal?: boolean | undefined; ordering?: string | undefined }) {
  const ordering = q.ordering ?? 'id';
  if (!(ordering in WORKSPACE_ORDERINGS)) throw invalid({ ordering: [`One of ${Object.keys(WORKSPACE_ORDERINGS).join(', ')}.`] });
  await ensureSandbox(deps.db, actor);
  const rows = await listVisibleWorkspaces(deps.db, actor, { isPersonal: q.is_personal, ordering: ordering as WorkspaceOrdering });
  return rows.map(workspaceResponse);
}

/** Creates a shared workspace; its creator becomes its first member. */
export async function createWorkspace(deps: AppDeps, actor: Actor, audit: AuditFn, input: WorkspaceInput & { title: string }) {
  if (input.is_personal === true) throw invalid({ is_personal: ['Personal sandboxes are created automatically, one per user.'] });
  const title = input.title.trim();
  if (!title) throw invalid({ title: ['This field may not be blank.'] });
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const ws = await trx
      .insertInto('workspaces')
      .values({
        organization_id: actor.organizationId,
        title,
        description: input.description ?? '',
        color: input.color ?? '#FFFFFF',
        is_personal: 0,
        is_archived: input.is_archived ? 1 : 0,
        created_by_id: actor.userId,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await insertWorkspaceMember(trx, ws.id, actor.userId);
    await audit(trx, { action: 'workspace.create', objectType: 'workspace', objectId: ws.id, changes: { title: ws.title } });
    return workspaceResponse(ws);
  });
}

/** One workspace the actor sees. */
export async function getWorkspace(deps: AppDeps, id: number) {
  return workspaceResponse(await scopedWorkspace(deps.db, id));
}

/** Renames, recolours or archives a workspace; whether it is personal never changes. */
export async function updateWorkspace(deps: AppDeps, audit: AuditFn, id: number, input: WorkspaceInput) {
  return deps.db.transaction().execute(async (trx) => {
    const ws = await scopedWorkspace(trx, id);
    if (input.is_personal !== undefined && input.is_personal !== (ws.is_personal === 1)) throw invalid({ is_personal: ['Whether a workspace is personal cannot change.'] });
    const set: Partial<Pick<WorkspaceRow, 'title' | 'description' | 'color' | 'is_archived'>> = {};
    if (input.title !== undefined) {
      set.title = input.title.trim();
      if (!set.title) throw invalid({ title: ['This field may not be blank.'] });
    }
    if (input.description !== undefined) set.description = input.description ?? '';
    if (input.color !== undefined) set.color = input.color ?? '#FFFFFF';
    if (input.is_archived !== undefined) set.is_archived = input.is_archived ? 1 : 0;
    const changes = Object.fromEntries(Object.entries(set).filter(([k, v]) => ws[k as keyof typeof set] !== v).map(([k, v]) => [k, { before: ws[k as keyof typeof set], after: v }]));
    if (Object.keys(changes).length === 0) return workspaceResponse(ws);
    const updated = await trx.updateTable('workspaces').set({ ...set, updated_at: new Date().toISOString() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    await audit(trx, { action: 'workspace.update', objectType: 'workspace', objectId: id, changes });
    return workspaceResponse(updated);
  });
}

const notEmpty = (n: number) => new AppError(409, 'WORKSPACE_NOT_EMPTY', `The workspace still holds ${n} project(s): move or delete them first.`);
const isForeignKeyViolation = (e: unknown) => ['23503', 'SQLITE_CONSTRAINT_FOREIGNKEY'].includes(String((e as { code?: unknown }).code));

/** Deletes a shared workspace that holds no projects (409 saying why otherwise); its memberships go with it. */
export async function deleteWorkspace(deps: AppDeps, audit: AuditFn, id: number): Promise<void> {
  try {
    await deps.db.transaction().execute(async (trx) => {
      const ws = await scopedWorkspace(trx, id);
      if (ws.is_personal === 1) throw personalRefused('cannot be deleted');
      const projects = await countWorkspaceProjects(trx, id);
      if (projects > 0) throw notEmpty(projects);
      await trx.deleteFrom('workspaces').where('id', '=', id).execute();
      await audit(trx, { action: 'workspace.delete', objectType: 'workspace', objectId: id, changes: { title: ws.title } });
    });
  } catch (e) {
    // A project created into the workspace while it was being deleted: the foreign key refuses.
    if (isForeignKeyViolation(e)) throw notEmpty(await countWorkspaceProjects(deps.db, id));
    throw e;
  }
}

/** A workspace's members, in Label Studio's `{user, workspace}` shape. */
export async function listWorkspaceMembers(deps: AppDeps, id: number) {
  const users = await userResponses(deps.db, await workspaceMemberIds(deps.db, id));
  return users.map((user) => ({ user, workspace: id }));
}

/** Adds an active member of the organization to a shared workspace (idempotent). */
export async function addWorkspaceMember(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { workspaceId: number; userId: number }) {
  return deps.db.transaction().execute(async (trx) => {
    const ws = await scopedWorkspace(trx, opts.workspaceId);
    if (ws.is_personal === 1) throw personalRefused('has no other members');
    await assertActiveMember(trx, actor.organizationId, opts.userId, 'user');
    if (await insertWorkspaceMember(trx, ws.id, opts.userId)) {
      await audit(trx, { action: 'workspace.member_add', objectType: 'workspace', objectId: ws.id, changes: { user_id: opts.userId } });
    }
    return { user: opts.userId, workspace: ws.id };
  });
}

/** Removes a member from a workspace; they lose its projects on their next request. */
export async function removeWorkspaceMember(deps: AppDeps, audit: AuditFn, opts: { workspaceId: number; userId: number; field: string }): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const ws = await scopedWorkspace(trx, opts.workspaceId);
    if (ws.is_personal === 1) throw personalRefused('always keeps its owner');
    if (!(await deleteWorkspaceMember(trx, ws.id, opts.userId))) throw invalid({ [opts.field]: [`User ${opts.userId} is not a member of this workspace.`] });
    await audit(trx, { action: 'workspace.member_remove', objectType: 'workspace', objectId: ws.id, changes: { user_id: opts.userId } });
  });
}

/** The projects of a workspace that the actor sees, newest first. */
export async function listWorkspaceProjects(deps: AppDeps, actor: Actor, id: number) {
  const rows = await whereProjectVisible(deps.db.selectFrom('projects'), actor).selectAll().where('workspace_id', '=', id).orderBy('id', 'desc').execute();
  const counters = await countersOf(deps.db, rows.map((r) => r.id));
  return Promise.all(rows.map((r) => projectResponse(deps.db, r, counters.get(r.id))));
}

/** The project ids a body names (`project` or `projects`), with the field to name in errors. */
export function projectIdsOf(body: { project?: number | undefined; projects?: number[] | undefined }): { ids: number[]; field: string } {
  if (body.project !== undefined && body.projects !== undefined) throw invalid({ project: ['Give either project or projects, not both.'] });
  if (body.projects !== undefined) {
    if (body.projects.length === 0) throw invalid({ projects: ['Name at least one project.'] });
    return { ids: [...new Set(body.projects)], field: 'projects' };
  }
  if (body.project === undefined) throw invalid({ project: ['This field is required.'] });
  return { ids: [body.project], field: 'project' };
}

/** The visible projects among `ids`; 400 naming `field` when any is missing or hidden. */
async function visibleProjects(trx: Q, actor: Actor, ids: number[], field: string) {
  const rows = await whereProjectVisible(trx.selectFrom('projects'), actor).select(['id', 'workspace_id']).where('id', 'in', ids).execute();
  const missing = ids.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length > 0) throw invalid({ [field]: [`Project(s) ${missing.join(', ')} do not exist or you cannot see them.`] });
  return rows;
}

/** Moves visible projects into a workspace (those already there stay); each move is audited. */
export async function addWorkspaceProjects(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { workspaceId: number; ids: number[]; field: string }) {
  return deps.db.transaction().execute(async (trx) => {
    const ws = await scopedWorkspace(trx, opts.workspaceId);
    const rows = await visibleProjects(trx, actor, opts.ids, opts.field);
    const now = new Date().toISOString();
    for (const p of rows.filter((r) => r.workspace_id !== ws.id)) {
      await trx.updateTable('projects').set({ workspace_id: ws.id, updated_at: now }).where('id', '=', p.id).execute();
      await audit(trx, { action: 'workspace.project_add', objectType: 'workspace', objectId: ws.id, projectId: p.id, changes: { workspace: { before: p.workspace_id, after: ws.id } } });
    }
    return { workspace: ws.id, projects: opts.ids };
  });
}

/**
 * Takes projects out of a workspace. Every project lives in a workspace, so they go to the
 * actor's sandbox (where its other members no longer see them); a sandbox's own projects leave
 * it only by being added to another workspace.
 */
export async function removeWorkspaceProjects(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { workspaceId: number; ids: number[]; field: string }): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const ws = await scopedWorkspace(trx, opts.workspaceId);
    if (ws.is_personal === 1) throw personalRefused('keeps its projects until they are added to another workspace');
    const rows = await visibleProjects(trx, actor, opts.ids, opts.field);
    const outside = rows.filter((r) => r.workspace_id !== ws.id).map((r) => r.id);
    if (outside.length > 0) throw invalid({ [opts.field]: [`Project(s) ${outside.join(', ')} are not in this workspace.`] });
    const sandbox = await ensureSandbox(trx, actor);
    const now = new Date().toISOString();
    for (const p of rows) {
      await trx.updateTable('projects').set({ workspace_id: sandbox.id, updated_at: now }).where('id', '=', p.id).execute();
      await audit(trx, { action: 'workspace.project_remove', objectType: 'workspace', objectId: ws.id, projectId: p.id, changes: { workspace: { before: ws.id, after: sandbox.id } } });
    }
  });
}
