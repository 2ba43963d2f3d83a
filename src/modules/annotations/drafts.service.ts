/** Drafts: a user's unsaved work on a task (or on an existing annotation), visible only to them. */
import type { AppDeps } from '../../app-deps.js';
import { assertTaskVisible, assertTaskWritable, canSeeAnnotation } from '../../authz/data-filters.js';
import type { Db } from '../../db/database.js';
import type { DraftRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { draftOut } from '../tasks/tasks.mapper.js';
import { getTaskWithProject } from '../tasks/tasks.service.js';

export interface DraftInput {
  result?: unknown[] | undefined;
  lead_time?: number | null | undefined;
  was_postponed?: boolean | undefined;
}

/**
 * Saves a new draft of the actor on a task, optionally attached to an annotation of that task
 * that they may see (else 404). Without `task.view_all` (Annotators) only on a task they may open (else 404).
 */
export async function createDraft(deps: AppDeps, actor: Actor, audit: AuditFn, taskId: number, annotationId: number | null, input: DraftInput) {
  const { task, project } = await getTaskWithProject(deps.db, actor, taskId);
  await assertTaskWritable(deps.db, actor, taskId);
  if (annotationId !== null) {
    const a = await deps.db.selectFrom('annotations').select(['task_id', 'completed_by_id']).where('id', '=', annotationId).executeTakeFirst();
    if (!a || a.task_id !== taskId || !canSeeAnnotation(actor, project, a)) throw notFound('Annotation not found.');
  }
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row = await trx
      .insertInto('drafts')
      .values({ task_id: task.id, project_id: project.id, annotation_id: annotationId, user_id: actor.userId, result: JSON.stringify(input.result ?? []), lead_time: input.lead_time ?? null, was_postponed: input.was_postponed ? 1 : 0, created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'draft.save', objectType: 'draft', objectId: row.id, projectId: project.id, changes: { task: task.id } });
    return draftOut(row);
  });
}

/** The actor's drafts of a task (a task they may not open is "not found"). */
export async function listTaskDrafts(db: Db, actor: Actor, taskId: number) {
  await getTaskWithProject(db, actor, taskId);
  await assertTaskVisible(db, actor, taskId);
  return (await db.selectFrom('drafts').selectAll().where('task_id', '=', taskId).where('user_id', '=', actor.userId).orderBy('id').execute()).map(draftOut);
}

/** One of the actor's own drafts; anybody else's is "not found". */
async function ownDraft(db: Db, actor: Actor, id: number): Promise<DraftRow> {
  const row = await db.selectFrom('drafts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || row.user_id !== actor.userId) throw notFound('Draft not found.');
  await getTaskWithProject(db, actor, row.task_id);
  return row;
}

/** One of the actor's own drafts (anybody else's is "not found"). */
export const getDraft = async (db: Db, actor: Actor, id: number) => draftOut(await ownDraft(db, actor, id));

/** Changes one of the actor's drafts (never moves it to another task). */
export async function updateDraft(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, input: DraftInput & { task?: number | undefined }) {
  const row = await ownDraft(deps.db, actor, id);
  if (input.task !== undefined && input.task !== row.task_id) throw invalid({ task: ['A draft cannot move to another task.'] });
  return deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('drafts')
      .set({
        ...(input.result !== undefined && { result: JSON.stringify(input.result) }),
        ...(input.lead_time !== undefined && { lead_time: input.lead_time }),
        ...(input.was_postponed !== undefined && { was_postponed: input.was_postponed ? 1 : 0 }),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'draft.save', objectType: 'draft', objectId: id, projectId: row.project_id, changes: { task: row.task_id } });
    return draftOut(updated);
  });
}

/** Deletes one of the actor's drafts. */
export async function deleteDraft(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const row = await ownDraft(deps.db, actor, id);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('drafts').where('id', '=', id).execute();
    await audit(trx, { action: 'draft.delete', objectType: 'draft', objectId: id, projectId: row.project_id });
  });
}
