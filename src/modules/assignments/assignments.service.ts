/**
 * Task assignment (Label Studio Enterprise's manual distribution): who annotates (`AN`) or
 * reviews (`RE`) which tasks. Assigning annotators needs `task.assign` (the route's permission);
 * anything that touches reviewer assignments also needs `task.assign_reviewers`. Assignees must be
 * active members of the project's organization who work in the project, and hold the permission
 * the work needs (`annotation.create` to annotate, `annotation.review` to review).
 */
import type { AppDeps } from '../../app-deps.js';
import { ACTIVE_ROLES, can, type Permission, type Role } from '../../authz/permissions.js';
import { userCanSeeProject } from '../../authz/scope.js';
import type { Db } from '../../db/database.js';
import type { ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { forbidden, invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { selectedTaskBatches } from '../data-manager/bulk-actions.js';
import { parseFilters } from '../data-manager/filters.js';
import { dialectOf, parseSelection, resolveTaskQuery, taskConditions } from '../data-manager/task-query.js';
import {
  activeMemberRoles,
  deleteAssignments,
  insertAssignments,
  matchingAssignments,
  taskAssignments,
  type AssignmentKind,
  type AssignmentOut,
} from './assignments.repository.js';

/** The permission an assignee needs for each kind of work. */
const WORK_NEEDS: Record<AssignmentKind, Permission> = { AN: 'annotation.create', RE: 'annotation.review' };

/** 403 (recorded) when the actor changes reviewer assignments without `task.assign_reviewers`. */
async function assertMayAssignReviewers(deps: AppDeps, actor: Actor, audit: AuditFn, project: ProjectRow): Promise<void> {
  if (can(actor, 'task.assign_reviewers')) return;
  await audit(deps.db, { action: 'permission.denied', objectType: 'project', objectId: project.id, projectId: project.id, changes: { permission: 'task.assign_reviewers', role: actor.role } });
  throw forbidden('You do not have permission to perform this action (it needs "task.assign_reviewers").');
}

/**
 * The distinct user ids, each checked: an active member of the project's organization, working
 * in the project, holding what the work needs. Otherwise a 400 naming `users` (the same message
 * for an unknown user and a user of another organization, so neither is revealed).
 */
export async function checkAssignees(db: Db, project: ProjectRow, type: AssignmentKind, userIds: readonly number[]): Promise<number[]> {
  const ids = [...new Set(userIds)];
  const roles = await activeMemberRoles(db, project.organization_id, ids);
  const problems: string[] = [];
  for (const id of ids) {
    const role = roles.get(id) as Role | undefined;
    if (role === undefined || !ACTIVE_ROLES.includes(role)) problems.push(`User ${id} is not an active member of this organization.`);
    else if (!can({ role }, WORK_NEEDS[type])) problems.push(`User ${id} cannot ${type === 'RE' ? 'review (Reviewer role or above needed)' : 'annotate'}.`);
    else if (!(await userCanSeeProject(db, id, role, project))) problems.push(`User ${id} does not work in this project (add them to its workspace or members first).`);
  }
  if (problems.length) throw invalid({ users: problems });
  return ids;
}

/** The body of the bulk assignment (shapes checked by the route). */
export interface BulkAssignInput {
  type: AssignmentKind;
  users: number[];
  selectedItems: unknown;
  filters?: unknown;
}

/**
 * Assigns users to the selected tasks of a project (a data-manager selection narrowed by its
 * filters). Runs in one transaction, walking the tasks in keyset batches and inserting in
 * chunks, with one audit event; pairs already assigned are kept (idempotent). Answers the number
 * of (task, user) pairs the selection covers.
 */
export async function bulkAssign(deps: AppDeps, actor: Actor, audit: AuditFn, project: ProjectRow, input: BulkAssignInput) {
  if (input.type === 'RE') await assertMayAssignReviewers(deps, actor, audit, project);
  const users = await checkAssignees(deps.db, project, input.type, input.users);
  const selection = parseSelection(input.selectedItems);
  const query = await resolveTaskQuery(deps.db, project.id, { query: { filters: parseFilters(input.filters), ordering: [], selection } });
  const conditions = taskConditions(query, dialectOf(deps.db));
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    let tasks = 0;
    let created = 0;
    for await (const taskIds of selectedTaskBatches({ trx, actor, project, conditions, options: {} })) {
      created += await insertAssignments(trx, { projectId: project.id, taskIds, userIds: users, type: input.type, assignedBy: actor.userId, now });
      tasks += taskIds.length;
    }
    await audit(trx, {
      action: 'task.assign',
      objectType: 'project',
      objectId: project.id,
      projectId: project.id,
      changes: { type: input.type, users, tasks, created, selection: selection && { all: selection.all, [selection.all ? 'excluded' : 'included']: selection.ids.length }, filter_items: query.filters?.items.length ?? 0 },
    });
    return { assignments: tasks * users.length, async: false };
  });
}

/** The task of a per-task route must be in the project of the path, else "not found". */
function assertTaskInProject(project: ProjectRow | null, projectId: number): asserts project is ProjectRow {
  if (!project || project.id !== projectId) throw notFound('Task not found.');
}

/** A task's assignments; without `task.view_all` only the caller's own. */
export async function listTaskAssignees(db: Db, actor: Actor, project: ProjectRow | null, projectId: number, taskId: number): Promise<AssignmentOut[]> {
  assertTaskInProject(project, projectId);
  return taskAssignments(db, taskId, can(actor, 'task.view_all') ? undefined : actor.userId);
}

/**
 * Assigns users to one task (`replace`: and removes the task's other assignees of that kind, as
 * PATCH does). Answers the first named user's assignment (Label Studio answers one object).
 */
export async function assignTask(deps: AppDeps, actor: Actor, audit: AuditFn, at: { project: ProjectRow | null; projectId: number; taskId: number; replace: boolean }, input: { type: AssignmentKind; users: number[] }): Promise<AssignmentOut> {
  assertTaskInProject(at.project, at.projectId);
  const project = at.project;
  if (input.type === 'RE') await assertMayAssignReviewers(deps, actor, audit, project);
  const users = await checkAssignees(deps.db, project, input.type, input.users);
  return deps.db.transaction().execute(async (trx) => {
    const removed = at.replace ? await deleteAssignments(trx, { taskId: at.taskId, type: input.type, exceptUserIds: users }) : 0;
    const created = await insertAssignments(trx, { projectId: project.id, taskIds: [at.taskId], userIds: users, type: input.type, assignedBy: actor.userId, now: new Date().toISOString() });
    if (removed) await audit(trx, { action: 'task.unassign', objectType: 'task', objectId: at.taskId, projectId: project.id, changes: { type: input.type, removed, kept: users } });
    await audit(trx, { action: 'task.assign', objectType: 'task', objectId: at.taskId, projectId: project.id, changes: { type: input.type, users, created } });
    const rows = await taskAssignments(trx, at.taskId, users[0]);
    return rows.find((r) => r.type === input.type)!;
  });
}

/** Parses the DELETE's `users` ("3,4,5") or names it in a 400. */
function parseUserList(text: string | undefined): number[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,10}$/.test(p) || Number(p) < 1 || Number(p) > 2_147_483_647)) throw invalid({ users: ['A comma-separated list of user ids, e.g. "3,4".'] });
  return parts.map(Number);
}

/**
 * Removes assignees from a task: of one kind or both, some users or all. Removing a reviewer
 * assignment needs `task.assign_reviewers` (403), so a Reviewer can clear annotators only.
 * Removing nothing is not an error.
 */
export async function unassignTask(deps: AppDeps, actor: Actor, audit: AuditFn, at: { project: ProjectRow | null; projectId: number; taskId: number }, q: { type?: AssignmentKind | undefined; users?: string | undefined }): Promise<void> {
  assertTaskInProject(at.project, at.projectId);
  const project = at.project;
  const match = { taskId: at.taskId, type: q.type, userIds: parseUserList(q.users) };
  const doomed = await matchingAssignments(deps.db, match);
  if (q.type === 'RE' || doomed.some((a) => a.type === 'RE')) await assertMayAssignReviewers(deps, actor, audit, project);
  if (doomed.length === 0) return;
  await deps.db.transaction().execute(async (trx) => {
    const removed = await deleteAssignments(trx, match);
    await audit(trx, { action: 'task.unassign', objectType: 'task', objectId: at.taskId, projectId: project.id, changes: { type: q.type ?? 'all', users: match.userIds ?? 'all', removed } });
  });
}
