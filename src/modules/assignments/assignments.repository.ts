/** Queries over `task_assignments` and the memberships of would-be assignees. Nothing here decides access. */
import type { ExpressionBuilder, Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { Database } from '../../db/schema.js';

type Conn = Db | Transaction<Database>;

/** `AN` to annotate, `RE` to review. */
export type AssignmentKind = 'AN' | 'RE';

/** Rows per INSERT statement: 500 rows × 6 values stays far below both dialects' parameter limits. */
export const INSERT_CHUNK = 500;

/** One assignment row as the API shows it. */
export interface AssignmentOut {
  id: number;
  assignee: number;
  task: number;
  type: AssignmentKind;
  created_at: string;
}

/**
 * Inserts the (task, user) pairs as assignments of a kind, INSERT_CHUNK rows per statement; pairs
 * already assigned are skipped by the unique constraint. Returns how many rows were new.
 */
export async function insertAssignments(trx: Conn, a: { projectId: number; taskIds: readonly number[]; userIds: readonly number[]; type: AssignmentKind; assignedBy: number; now: string }): Promise<number> {
  const rows = a.taskIds.flatMap((task_id) => a.userIds.map((user_id) => ({ task_id, project_id: a.projectId, user_id, type: a.type, assigned_by_id: a.assignedBy, created_at: a.now })));
  let created = 0;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const r = await trx
      .insertInto('task_assignments')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.columns(['task_id', 'user_id', 'type']).doNothing())
      .executeTakeFirst();
    created += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  return created;
}

/** The roles, in an organization, of those of `userIds` who are active users there. */
export async function activeMemberRoles(db: Conn, organizationId: number, userIds: readonly number[]): Promise<Map<number, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'm.role'])
    .where('m.organization_id', '=', organizationId)
    .where('m.user_id', 'in', [...userIds])
    .where('u.is_active', '=', 1)
    .execute();
  return new Map(rows.map((r) => [r.user_id, r.role]));
}

/** A task's assignments (optionally one user's), oldest first. */
export async function taskAssignments(db: Conn, taskId: number, onlyUser?: number): Promise<AssignmentOut[]> {
  let q = db.selectFrom('task_assignments').select(['id', 'user_id', 'task_id', 'type', 'created_at']).where('task_id', '=', taskId);
  if (onlyUser !== undefined) q = q.where('user_id', '=', onlyUser);
  const rows = await q.orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, assignee: r.user_id, task: r.task_id, type: r.type as AssignmentKind, created_at: r.created_at }));
}

/** Which assignments of a task a removal means: a kind or both, some users (or all but some) or all. */
export interface AssignmentMatch {
  taskId: number;
  type?: AssignmentKind | undefined;
  userIds?: readonly number[] | undefined;
  exceptUserIds?: readonly number[] | undefined;
}

/** The condition of an `AssignmentMatch` over `task_assignments`. */
function matches(eb: ExpressionBuilder<Database, 'task_assignments'>, m: AssignmentMatch) {
  const terms = [eb('task_id', '=', m.taskId)];
  if (m.type) terms.push(eb('type', '=', m.type));
  if (m.userIds) terms.push(m.userIds.length ? eb('user_id', 'in', [...m.userIds]) : eb('id', '<', 0));
  if (m.exceptUserIds?.length) terms.push(eb('user_id', 'not in', [...m.exceptUserIds]));
  return eb.and(terms);
}

/** The assignments a removal would delete, as (user, kind) pairs. */
export async function matchingAssignments(db: Conn, m: AssignmentMatch): Promise<{ user_id: number; type: string }[]> {
  return db.selectFrom('task_assignments').select(['user_id', 'type']).where((eb) => matches(eb, m)).orderBy('id').execute();
}

/** Deletes the matching assignments of a task; returns how many went. */
export async function deleteAssignments(trx: Conn, m: AssignmentMatch): Promise<number> {
  return Number((await trx.deleteFrom('task_assignments').where((eb) => matches(eb, m)).executeTakeFirst()).numDeletedRows);
}
