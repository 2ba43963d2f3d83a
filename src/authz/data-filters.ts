/**
 * Row-level filters: which tasks and annotations of a project an actor sees. With `scope.ts`
 * (which projects) and `permissions.ts` (which actions) this is the whole of the access logic;
 * modules call these functions and never restate the rules.
 *
 * The distinction is `task.view_all` (Reviewers and above). Without it (Annotators):
 * - Task lists (`GET /api/tasks`, `GET /api/projects/{id}/tasks`, the data manager) answer 403
 *   while the project's `show_data_manager_to_annotators` is off: annotators then only enter the
 *   label stream. A 403 (rather than an empty list) says why, naming the setting, as Label Studio
 *   answers its data manager list for them with a permission error. With the setting on, the
 *   lists hold their own work: tasks they annotated, drafted or were assigned to annotate.
 * - One task (`GET /api/tasks/{id}` and what hangs off it) opens when it is their own work (as
 *   above) or the task the label stream currently reserves for them (an unexpired `task_locks`
 *   row); any other task is "not found".
 * - Annotations: their own, or everyone's when `show_others_annotations_to_annotators` is on.
 *   Predictions are shown to every member of the project (Label Studio shows them to annotators
 *   as pre-annotations), so nothing here narrows them.
 * - Writing: in `assigned_only` projects they annotate and draft only the tasks they may open;
 *   under automatic distribution any task of the project accepts their annotation (the stream
 *   is a scheduler there, not a fence, as in Label Studio).
 *
 * Conditions are raw SQL over a task id column, so they compose with the data manager's own
 * (`taskConditions`) and work on SQLite and PostgreSQL alike.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
import { fromJson, type AnnotationRow, type ProjectRow } from '../db/schema.js';
import type { Actor } from '../http/actor.js';
import { AppError, notFound } from '../http/errors.js';
import { can } from './permissions.js';

/** The project settings these rules read (defaults: off, automatic distribution). */
interface VisibilitySettings {
  showDataManager: boolean;
  showOthersAnnotations: boolean;
  assignedOnly: boolean;
}

/** Reads the visibility settings from a project row (absent keys take Label Studio's defaults). */
function visibilityOf(project: Pick<ProjectRow, 'settings'>): VisibilitySettings {
  const s = fromJson<Record<string, unknown>>(project.settings) ?? {};
  const assignment = s.assignment_settings as { label_stream_task_distribution?: unknown } | undefined;
  return {
    showDataManager: s.show_data_manager_to_annotators === true,
    showOthersAnnotations: s.show_others_annotations_to_annotators === true,
    assignedOnly: assignment?.label_stream_task_distribution === 'assigned_only',
  };
}

/** Whether the actor sees every task and annotation of the projects they work in (`task.view_all`). */
export function seesAllTasks(actor: Actor): boolean {
  return can(actor, 'task.view_all');
}

/** Whether the project hands out only assigned tasks (`assignment_settings.label_stream_task_distribution`). */
export function isAssignedOnly(project: Pick<ProjectRow, 'settings'>): boolean {
  return visibilityOf(project).assignedOnly;
}

/** The task (by its id column) is assigned to the user for annotation (`task_assignments` type 'AN'). */
export function assignedToCondition(userId: number, taskIdColumn = 'tasks.id'): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from task_assignments ta where ta.task_id = ${sql.ref(taskIdColumn)} and ta.user_id = ${userId} and ta.type = 'AN')`;
}

/** The task (by its id column) is the user's own work: annotated, drafted or assigned to annotate. */
export function ownWorkCondition(userId: number, taskIdColumn = 'tasks.id'): RawBuilder<SqlBool> {
  const id = sql.ref(taskIdColumn);
  return sql<SqlBool>`(exists (select 1 from annotations oa where oa.task_id = ${id} and oa.completed_by_id = ${userId})
    or exists (select 1 from drafts od where od.task_id = ${id} and od.user_id = ${userId})
    or ${assignedToCondition(userId, taskIdColumn)})`;
}

/**
 * The conditions (ANDed by the caller) that narrow a list of a project's tasks to those the
 * actor may list: none for holders of `task.view_all`; their own work for the others when the
 * project shows them the data manager. Throws 403 naming `show_data_manager_to_annotators`
 * when it does not (see the module comment for why a 403 rather than an empty list).
 */
export function listableTaskConditions(actor: Actor, project: Pick<ProjectRow, 'settings'>, taskIdColumn = 'tasks.id'): RawBuilder<SqlBool>[] {
  if (seesAllTasks(actor)) return [];
  assertDataManagerShown(actor, project);
  return [ownWorkCondition(actor.userId, taskIdColumn)];
}

/**
 * Throws 403 when the actor lacks `task.view_all` and the project keeps the data manager from
 * annotators (`show_data_manager_to_annotators` off). Data-manager features (task lists, the
 * `next_task` action with its filters) call it; the label stream does not.
 */
export function assertDataManagerShown(actor: Actor, project: Pick<ProjectRow, 'settings'>): void {
  if (seesAllTasks(actor) || visibilityOf(project).showDataManager) return;
  throw new AppError(
    403,
    'DATA_MANAGER_HIDDEN',
    "This project does not show its tasks to annotators (the project setting show_data_manager_to_annotators is off): use the label stream.",
  );
}

/**
 * Whether the actor may open one task of the project: holders of `task.view_all` always; the
 * others when it is their own work or the label stream currently reserves it for them.
 */
export async function canOpenTask(db: Db, actor: Actor, taskId: number): Promise<boolean> {
  if (seesAllTasks(actor)) return true;
  const now = new Date().toISOString();
  const reserved = sql<SqlBool>`exists (select 1 from task_locks l where l.task_id = tasks.id and l.user_id = ${actor.userId} and l.expires_at > ${now})`;
  const row = await db
    .selectFrom('tasks')
    .select('tasks.id')
    .where('tasks.id', '=', taskId)
    .where(sql<SqlBool>`(${reserved} or ${ownWorkCondition(actor.userId)})`)
    .executeTakeFirst();
  return row !== undefined;
}

/** Throws "Task not found." (404) unless the actor may open the task (`canOpenTask`). */
export async function assertTaskVisible(db: Db, actor: Actor, taskId: number): Promise<void> {
  if (!(await canOpenTask(db, actor, taskId))) throw notFound('Task not found.');
}

/**
 * Throws "Task not found." (404) when the actor may not annotate or draft the task: in an
 * `assigned_only` project, actors without `task.view_all` write only on tasks they may open.
 */
export async function assertTaskWritable(db: Db, actor: Actor, project: Pick<ProjectRow, 'settings'>, taskId: number): Promise<void> {
  if (seesAllTasks(actor) || !visibilityOf(project).assignedOnly) return;
  await assertTaskVisible(db, actor, taskId);
}

/**
 * The user ids whose annotations the actor sees in the project: `null` for everyone (holders of
 * `task.view_all`, or any member when `show_others_annotations_to_annotators` is on), else only
 * the actor's own. Use it to filter annotation lists (`completed_by_id in …`).
 */
export function visibleAnnotationAuthors(actor: Actor, project: Pick<ProjectRow, 'settings'>): number[] | null {
  if (seesAllTasks(actor) || visibilityOf(project).showOthersAnnotations) return null;
  return [actor.userId];
}

/** Whether the actor sees one annotation (by its author), under `visibleAnnotationAuthors`. */
export function canSeeAnnotation(actor: Actor, project: Pick<ProjectRow, 'settings'>, annotation: Pick<AnnotationRow, 'completed_by_id'>): boolean {
  const authors = visibleAnnotationAuthors(actor, project);
  return authors === null || (annotation.completed_by_id !== null && authors.includes(annotation.completed_by_id));
}
