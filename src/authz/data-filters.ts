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
 * - Writing (annotations, drafts, bulk annotations): only on tasks they may open, in both
 *   distribution modes. Otherwise posting to task ids would make any task theirs, and so
 *   readable. Under automatic distribution they take tasks from the label stream first.
 * - Uploaded files (`/data/upload/…`): only a file a task they may open uses: the file its data
 *   references, or the file it was imported from when that file made no other task (a JSON or
 *   CSV file of many tasks holds other tasks' data).
 * - Reviews: their own annotations' reviews (to see why one was rejected); holders of
 *   `task.view_all` read every review of their projects.
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

/** The task (by its id column) is reserved for the user by the label stream (an unexpired `task_locks` row). */
function reservedForCondition(userId: number, taskIdColumn = 'tasks.id'): RawBuilder<SqlBool> {
  const now = new Date().toISOString();
  return sql<SqlBool>`exists (select 1 from task_locks l where l.task_id = ${sql.ref(taskIdColumn)} and l.user_id = ${userId} and l.expires_at > ${now})`;
}

/**
 * The conditions (ANDed by the caller) that narrow tasks to those the actor may open, and so
 * annotate: none for holders of `task.view_all`; for the others, their own work or the task the
 * label stream reserves for them. The set form of `canOpenTask`, for checks over many ids.
 */
export function openableTaskConditions(actor: Actor, taskIdColumn = 'tasks.id'): RawBuilder<SqlBool>[] {
  if (seesAllTasks(actor)) return [];
  return [sql<SqlBool>`(${reservedForCondition(actor.userId, taskIdColumn)} or ${ownWorkCondition(actor.userId, taskIdColumn)})`];
}

/**
 * Whether the actor may open one task of the project: holders of `task.view_all` always; the
 * others when it is their own work or the label stream currently reserves it for them.
 */
export async function canOpenTask(db: Db, actor: Actor, taskId: number): Promise<boolean> {
  if (seesAllTasks(actor)) return true;
  let q = db.selectFrom('tasks').select('tasks.id').where('tasks.id', '=', taskId);
  for (const c of openableTaskConditions(actor)) q = q.where(c);
  return (await q.executeTakeFirst()) !== undefined;
}

/** Throws "Task not found." (404) unless the actor may open the task (`canOpenTask`). */
export async function assertTaskVisible(db: Db, actor: Actor, taskId: number): Promise<void> {
  if (!(await canOpenTask(db, actor, taskId))) throw notFound('Task not found.');
}

/**
 * Throws "Task not found." (404) when the actor may not annotate or draft the task: actors
 * without `task.view_all` write only on tasks they may open, whatever the project's
 * distribution mode (under `auto_distribution` they take the task from the label stream first).
 */
export async function assertTaskWritable(db: Db, actor: Actor, taskId: number): Promise<void> {
  await assertTaskVisible(db, actor, taskId);
}

/**
 * The ids of a project's tasks the user may open, without `task.view_all` (see
 * `openableTaskConditions`), as a subquery driven by the user's own rows (annotations, drafts,
 * assignments, reservations), so it stays cheap in projects of millions of tasks.
 */
function openableTaskIdsOf(userId: number, projectId: number): RawBuilder<number> {
  const now = new Date().toISOString();
  return sql<number>`(select oa.task_id from annotations oa where oa.project_id = ${projectId} and oa.completed_by_id = ${userId}
    union select od.task_id from drafts od where od.project_id = ${projectId} and od.user_id = ${userId}
    union select ta.task_id from task_assignments ta where ta.project_id = ${projectId} and ta.user_id = ${userId} and ta.type = 'AN'
    union select l.task_id from task_locks l where l.project_id = ${projectId} and l.user_id = ${userId} and l.expires_at > ${now})`;
}

/**
 * Whether the actor may fetch a project's uploaded file (`upload`, served at `url`): holders of
 * `task.view_all` always; the others when a task they may open references `url` in its data, or
 * was imported from the upload and is the only task it made (a JSON or CSV file of many tasks
 * would show the others' data).
 */
export async function canOpenUpload(db: Db, actor: Actor, upload: { id: number; project_id: number }, url: string): Promise<boolean> {
  if (seesAllTasks(actor)) return true;
  const pattern = `%${url.replace(/[\\%_]/g, (c) => `\\${c}`)}"%`;
  const soleSource = sql<SqlBool>`(tasks.file_upload_id = ${upload.id} and not exists (select 1 from tasks o where o.project_id = ${upload.project_id} and o.file_upload_id = ${upload.id} and o.id <> tasks.id))`;
  const referenced = sql<SqlBool>`cast(tasks.data as text) like ${pattern} escape '\\'`;
  const row = await db
    .selectFrom('tasks')
    .select('tasks.id')
    .where('tasks.project_id', '=', upload.project_id)
    .where(sql<SqlBool>`tasks.id in ${openableTaskIdsOf(actor.userId, upload.project_id)}`)
    .where(sql<SqlBool>`(${soleSource} or ${referenced})`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
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

/**
 * Whose annotations' reviews the actor reads: `null` for everyone's (holders of `task.view_all`,
 * within the projects they work in), else the actor's own id: an annotator reads the reviews of
 * their own annotations (to see why one was rejected), never those of others', even when the
 * project shows them others' annotations.
 */
export function visibleReviewedAuthor(actor: Actor): number | null {
  return seesAllTasks(actor) ? null : actor.userId;
}

/**
 * The conditions (ANDed by the caller) that narrow reviews, by their annotation id column, to
 * those the actor may read (see `visibleReviewedAuthor`).
 */
export function readableReviewConditions(actor: Actor, annotationIdColumn = 'annotation_reviews.annotation_id'): RawBuilder<SqlBool>[] {
  const author = visibleReviewedAuthor(actor);
  if (author === null) return [];
  return [sql<SqlBool>`exists (select 1 from annotations ra where ra.id = ${sql.ref(annotationIdColumn)} and ra.completed_by_id = ${author})`];
}

/** Whether the actor may read the reviews of an annotation (by its author; see `visibleReviewedAuthor`). */
export function canReadReviewsOf(actor: Actor, annotation: Pick<AnnotationRow, 'completed_by_id'>): boolean {
  const author = visibleReviewedAuthor(actor);
  return author === null || annotation.completed_by_id === author;
}
