/**
 * Annotations: create (optionally from a draft), read, change, delete. Results are validated
 * against the project's labeling config; task counters change in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { can } from '../../authz/permissions.js';
import { assertTaskVisible, assertTaskWritable, canSeeAnnotation, visibleAnnotationAuthors } from '../../authz/data-filters.js';
import type { Db } from '../../db/database.js';
import type { AnnotationRow, Database, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, forbidden, invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { resultProblem } from '../label-config/result-validation.js';
import { configOf, getProjectRow, settingsOf } from '../projects/projects.service.js';
import { annotationOut } from '../tasks/tasks.mapper.js';
import { releaseTaskLock } from '../tasks/label-stream.service.js';
import { getTaskWithProject, refreshTaskCounters } from '../tasks/tasks.service.js';
import { queueAnnotationExport } from '../storages/storage-export.job.js';

export interface AnnotationInput {
  result?: unknown[] | undefined;
  lead_time?: number | null | undefined;
  was_cancelled?: boolean | undefined;
  ground_truth?: boolean | undefined;
  draft_id?: number | null | undefined;
  parent_prediction?: number | null | undefined;
  parent_annotation?: number | null | undefined;
  last_action?: string | null | undefined;
  task?: number | undefined;
  project?: number | undefined;
}

/** Throws a 400 naming the first bad result item (or an empty result the project does not allow). */
export function assertResultValid(project: ProjectRow, result: unknown[], wasCancelled: boolean, field = 'result'): void {
  if (!wasCancelled && result.length === 0 && !settingsOf(project).enable_empty_annotation) {
    throw invalid({ [field]: ['This project does not accept empty annotations.'] });
  }
  const problem = resultProblem(configOf(project), result);
  if (problem) throw invalid({ [field]: [problem] });
}

/** Throws a 400 naming `parent_prediction` or `parent_annotation` when it is not of this task. */
async function assertParentsOfTask(db: Db, taskId: number, input: AnnotationInput): Promise<void> {
  const parents = [
    ['parent_prediction', 'predictions', input.parent_prediction],
    ['parent_annotation', 'annotations', input.parent_annotation],
  ] as const;
  for (const [field, table, id] of parents) {
    if (id === null || id === undefined) continue;
    const row = await db.selectFrom(table).select('task_id').where('id', '=', id).executeTakeFirst();
    if (row?.task_id !== taskId) throw invalid({ [field]: [`No ${field === 'parent_prediction' ? 'prediction' : 'annotation'} ${id} on this task.`] });
  }
}

/**
 * Creates the actor's annotation of a task; with `draft_id`, that draft (the actor's, same task)
 * is consumed. Without `task.view_all` (Annotators) only a task they may open accepts it (else 404).
 */
export async function createAnnotation(deps: AppDeps, actor: Actor, audit: AuditFn, taskId: number, input: AnnotationInput) {
  const { task, project } = await getTaskWithProject(deps.db, actor, taskId);
  await assertTaskWritable(deps.db, actor, taskId);
  if (input.task !== undefined && input.task !== taskId) throw invalid({ task: ['Does not match the task in the URL.'] });
  if (input.project !== undefined && input.project !== project.id) throw invalid({ project: ['Does not match the task’s project.'] });
  const result = input.result ?? [];
  assertResultValid(project, result, input.was_cancelled ?? false);
  if (input.ground_truth && !can(actor, 'annotation.change_any')) throw forbidden('Only Managers and above mark ground truth.');
  await assertParentsOfTask(deps.db, taskId, input);
  const created = await deps.db.transaction().execute(async (trx) => {
    let draftCreatedAt: string | null = null;
    if (input.draft_id) {
      const draft = await trx.selectFrom('drafts').selectAll().where('id', '=', input.draft_id).executeTakeFirst();
      if (!draft || draft.user_id !== actor.userId || draft.task_id !== taskId) throw new AppError(403, 'DRAFT_NOT_YOURS', 'That draft does not belong to you and this task.');
      draftCreatedAt = draft.created_at;
      await trx.deleteFrom('drafts').where('id', '=', draft.id).execute();
    }
    const now = new Date().toISOString();
    const row = await trx
      .insertInto('annotations')
      .values({
        task_id: taskId,
        project_id: project.id,
        completed_by_id: actor.userId,
        result: JSON.stringify(result),
        was_cancelled: input.was_cancelled ? 1 : 0,
        ground_truth: input.ground_truth ? 1 : 0,
        lead_time: input.lead_time ?? null,
        unique_id: randomUUID(),
        import_id: null,
        last_action: input.last_action ?? null,
        parent_prediction_id: input.parent_prediction ?? null,
        parent_annotation_id: input.parent_annotation ?? null,
        draft_created_at: draftCreatedAt,
        updated_by_id: actor.userId,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await refreshTaskCounters(trx, [task.id], settingsOf(project).maximum_annotations);
    await releaseTaskLock(trx, task.id, actor.userId);
    await audit(trx, { action: 'annotation.create', objectType: 'annotation', objectId: row.id, projectId: project.id, changes: { task: taskId, was_cancelled: input.was_cancelled ?? false, result_count: result.length } });
    return annotationOut(row, actor.email);
  });
  await queueAnnotationExport(deps, project.id, created.id, 'write');
  return created;
}

/**
 * An annotation the actor may see: its project visible to them, and (without `task.view_all`)
 * their own or, when the project shows others' annotations, one on a task they may open.
 * Anything else is "not found".
 */
async function getAnnotationRow(db: Db, actor: Actor, id: number): Promise<{ row: AnnotationRow; project: ProjectRow }> {
  const row = await db.selectFrom('annotations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Annotation not found.');
  const project = await getProjectRow(db, actor, row.project_id).catch(() => {
    throw notFound('Annotation not found.');
  });
  if (!canSeeAnnotation(actor, project, row)) throw notFound('Annotation not found.');
  await assertTaskVisible(db, actor, row.task_id).catch(() => {
    throw notFound('Annotation not found.');
  });
  return { row, project };
}

/** One annotation the actor may see (see `getAnnotationRow`). */
export async function getAnnotation(db: Db, actor: Actor, id: number) {
  return annotationOut((await getAnnotationRow(db, actor, id)).row);
}

/** A task's annotations the actor may see, oldest first, with their authors' emails; a task they may not open is "not found". */
export async function listTaskAnnotations(db: Db, actor: Actor, taskId: number) {
  const { project } = await getTaskWithProject(db, actor, taskId);
  await assertTaskVisible(db, actor, taskId);
  const authors = visibleAnnotationAuthors(actor, project);
  let q = db.selectFrom('annotations as a').leftJoin('users as u', 'u.id', 'a.completed_by_id').selectAll('a').select('u.email as username').where('a.task_id', '=', taskId);
  if (authors) q = q.where('a.completed_by_id', 'in', authors);
  const rows = await q.orderBy('a.id').execute();
  return rows.map((r) => annotationOut(r, r.username ?? ''));
}

function assertMayChange(actor: Actor, row: AnnotationRow): void {
  if (row.completed_by_id !== actor.userId && !can(actor, 'annotation.change_any')) throw forbidden('You can change only your own annotations.');
}

/** Changes an annotation: one's own, or anyone's for Managers and above. */
export async function updateAnnotation(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, input: AnnotationInput) {
  const { row, project } = await getAnnotationRow(deps.db, actor, id);
  assertMayChange(actor, row);
  if (input.task !== undefined && input.task !== row.task_id) throw invalid({ task: ['An annotation cannot move to another task.'] });
  const wasCancelled = input.was_cancelled ?? row.was_cancelled === 1;
  if (input.result !== undefined) assertResultValid(project, input.result, wasCancelled);
  if (input.ground_truth !== undefined && !can(actor, 'annotation.change_any')) throw forbidden('Only Managers and above mark ground truth.');
  const changed = await deps.db.transaction().execute(async (trx: Transaction<Database>) => {
    const updated = await trx
      .updateTable('annotations')
      .set({
        ...(input.result !== undefined && { result: JSON.stringify(input.result) }),
        ...(input.lead_time !== undefined && { lead_time: input.lead_time }),
        ...(input.was_cancelled !== undefined && { was_cancelled: input.was_cancelled ? 1 : 0 }),
        ...(input.ground_truth !== undefined && { ground_truth: input.ground_truth ? 1 : 0 }),
        ...(input.last_action !== undefined && { last_action: input.last_action }),
        updated_by_id: actor.userId,
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await refreshTaskCounters(trx, [row.task_id], settingsOf(project).maximum_annotations);
    await audit(trx, {
      action: 'annotation.update',
      objectType: 'annotation',
      objectId: id,
      projectId: project.id,
      changes: {
        ...(input.result !== undefined && { result: { before: annotationOut(row).result, after: input.result } }),
        ...(input.was_cancelled !== undefined && { was_cancelled: { before: row.was_cancelled === 1, after: input.was_cancelled } }),
        ...(input.ground_truth !== undefined && { ground_truth: { before: row.ground_truth === 1, after: input.ground_truth } }),
      },
    });
    return annotationOut(updated);
  });
  await queueAnnotationExport(deps, project.id, id, 'write');
  return changed;
}

/** Deletes an annotation: one's own, or anyone's for Managers and above. */
export async function deleteAnnotation(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const { row, project } = await getAnnotationRow(deps.db, actor, id);
  assertMayChange(actor, row);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('annotations').where('id', '=', id).execute();
    await refreshTaskCounters(trx, [row.task_id], settingsOf(project).maximum_annotations);
    await audit(trx, { action: 'annotation.delete', objectType: 'annotation', objectId: id, projectId: project.id, changes: { task: row.task_id, completed_by: row.completed_by_id } });
  });
  await queueAnnotationExport(deps, project.id, id, 'delete');
}
