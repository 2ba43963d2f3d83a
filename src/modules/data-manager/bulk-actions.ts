/**
 * The bulk data-manager actions: delete tasks, delete their annotations, delete their
 * predictions, turn predictions into annotations. Each walks the selected tasks in batches of
 * ids (keyset over `tasks.id`, so a million selected tasks never sit in memory at once), inside
 * the caller's single transaction, and keeps task counters right with `refreshTaskCounters`.
 * Annotations written or deleted are reported to `ctx.exports` (ids of deleted ones read before they go).
 */
import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import { fromJson, type Database, type ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { settingsOf } from '../projects/projects.service.js';
import type { AnnotationExports } from '../storages/annotation-exports.js';
import { refreshTaskCounters } from '../tasks/tasks.service.js';

/** The one transaction an action runs in. */
export type Trx = Transaction<Database>;

/** Tasks per batch; predictions_to_annotations reads results, so it takes smaller ones. */
export const BATCH_SIZE = 1000;
const CONVERT_BATCH_SIZE = 200;
const INSERT_CHUNK = 200;

/** What an action gets: the transaction, the project, the selection as SQL, and the request's options. */
export interface BulkContext {
  trx: Trx;
  actor: Actor;
  project: ProjectRow;
  conditions: RawBuilder<SqlBool>[];
  options: { annotator?: number | null | undefined; model_version?: string | string[] | null | undefined };
  /** Annotations written or deleted, exported to the project's export storages after the commit. */
  exports: AnnotationExports;
}

/** What an action did: Label Studio's response, and the counts for the audit event. */
export interface BulkOutcome {
  processed_items: number;
  detail: string;
  reload?: boolean;
  response_code?: number;
  counts: Record<string, number>;
}

/** The ids of the selected tasks of the project, batch by batch, in id order. */
export async function* selectedTaskBatches(ctx: Omit<BulkContext, 'exports'>, size = BATCH_SIZE): AsyncGenerator<number[]> {
  let after = 0;
  for (;;) {
    let q = ctx.trx.selectFrom('tasks').select('id').where('project_id', '=', ctx.project.id).where('id', '>', after);
    for (const c of ctx.conditions) q = q.where(c);
    const rows = await q.orderBy('id').limit(size).execute();
    if (rows.length === 0) return;
    yield rows.map((r) => r.id);
    after = rows[rows.length - 1]!.id;
  }
}

const countIn = async (trx: Trx, table: 'annotations' | 'predictions', taskIds: number[]) =>
  Number((await trx.selectFrom(table).select(sql<number>`count(*)`.as('n')).where('task_id', 'in', taskIds).executeTakeFirstOrThrow()).n);

/** `delete_tasks`: the tasks go, with their annotations, predictions, drafts and reservations (FK cascade). */
export async function deleteTasks(ctx: BulkContext): Promise<BulkOutcome> {
  const counts = { tasks: 0, annotations: 0, predictions: 0 };
  for await (const ids of selectedTaskBatches(ctx)) {
    counts.annotations += await countIn(ctx.trx, 'annotations', ids);
    counts.predictions += await countIn(ctx.trx, 'predictions', ids);
    await ctx.exports.deleting(() => ctx.trx.selectFrom('annotations').select('id').where('task_id', 'in', ids).execute());
    const gone = await ctx.trx.deleteFrom('tasks').where('id', 'in', ids).executeTakeFirst();
    counts.tasks += Number(gone.numDeletedRows);
  }
  const left = await ctx.trx.selectFrom('tasks').select('id').where('project_id', '=', ctx.project.id).limit(1).executeTakeFirst();
  return { processed_items: counts.tasks, reload: left === undefined, detail: `Deleted ${counts.tasks} tasks`, counts };
}

/** `delete_tasks_annotations`: annotations and drafts of the selected tasks (optionally one annotator's). */
export async function deleteTasksAnnotations(ctx: BulkContext): Promise<BulkOutcome> {
  const counts = { tasks: 0, annotations: 0, drafts: 0 };
  const annotator = ctx.options.annotator ?? null;
  const maximum = settingsOf(ctx.project).maximum_annotations;
  for await (const ids of selectedTaskBatches(ctx)) {
    let annotations = ctx.trx.deleteFrom('annotations').where('task_id', 'in', ids);
    let drafts = ctx.trx.deleteFrom('drafts').where('task_id', 'in', ids);
    if (annotator !== null) {
      annotations = annotations.where('completed_by_id', '=', annotator);
      drafts = drafts.where('user_id', '=', annotator);
    }
    counts.drafts += Number((await drafts.executeTakeFirst()).numDeletedRows);
    const gone = await annotations.returning('id').execute();
    ctx.exports.deleted(gone.map((r) => r.id));
    counts.annotations += gone.length;
    counts.tasks += ids.length;
    await refreshTaskCounters(ctx.trx, ids, maximum);
  }
  return { processed_items: counts.annotations, detail: `Deleted ${counts.annotations} annotations`, counts };
}

/** `delete_tasks_predictions`: every prediction of the selected tasks. */
export async function deleteTasksPredictions(ctx: BulkContext): Promise<BulkOutcome> {
  const counts = { tasks: 0, predictions: 0 };
  const maximum = settingsOf(ctx.project).maximum_annotations;
  for await (const ids of selectedTaskBatches(ctx)) {
    counts.predictions += Number((await ctx.trx.deleteFrom('predictions').where('task_id', 'in', ids).executeTakeFirst()).numDeletedRows);
    counts.tasks += ids.length;
    await refreshTaskCounters(ctx.trx, ids, maximum);
  }
  return { processed_items: counts.predictions, detail: `Deleted ${counts.predictions} predictions`, counts };
}

/** The predictions of some tasks not yet turned into annotations (optionally of some model versions). */
function unconvertedPredictions(ctx: BulkContext, taskIds: number[]) {
  let q = ctx.trx
    .selectFrom('predictions as p')
    .select(['p.id', 'p.task_id', 'p.result'])
    .where('p.task_id', 'in', taskIds)
    // Correlated on task_id too, so the annotations index answers it (parent_prediction_id has none).
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('annotations as a').select('a.id').whereRef('a.task_id', '=', 'p.task_id').whereRef('a.parent_prediction_id', '=', 'p.id'))));
  const mv = ctx.options.model_version;
  if (typeof mv === 'string') q = q.where('p.model_version', '=', mv);
  else if (Array.isArray(mv)) q = mv.length ? q.where('p.model_version', 'in', mv) : q.where(sql<SqlBool>`1 = 0`);
  return q.orderBy('p.id').execute();
}

/**
 * `predictions_to_annotations`: each prediction of the selected tasks that no annotation came
 * from yet becomes an annotation by the caller (`parent_prediction` set, `last_action`
 * "prediction"). Results are copied as they are: they were checked when the prediction was made.
 */
export async function predictionsToAnnotations(ctx: BulkContext): Promise<BulkOutcome> {
  const counts = { tasks: 0, annotations: 0 };
  const maximum = settingsOf(ctx.project).maximum_annotations;
  for await (const ids of selectedTaskBatches(ctx, CONVERT_BATCH_SIZE)) {
    const predictions = await unconvertedPredictions(ctx, ids);
    if (predictions.length === 0) continue;
    const now = new Date().toISOString();
    const rows = predictions.map((p) => ({
      task_id: p.task_id,
      project_id: ctx.project.id,
      completed_by_id: ctx.actor.userId,
      result: JSON.stringify(fromJson(p.result)),
      was_cancelled: 0,
      ground_truth: 0,
      lead_time: null,
      unique_id: randomUUID(),
      import_id: null,
      last_action: 'prediction',
      parent_prediction_id: p.id,
      parent_annotation_id: null,
      draft_created_at: null,
      updated_by_id: ctx.actor.userId,
      created_at: now,
      updated_at: now,
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) ctx.exports.written((await ctx.trx.insertInto('annotations').values(rows.slice(i, i + INSERT_CHUNK)).returning('id').execute()).map((r) => r.id));
    const touched = [...new Set(predictions.map((p) => p.task_id))];
    await refreshTaskCounters(ctx.trx, touched, maximum);
    await ctx.trx.updateTable('tasks').set({ updated_at: now, updated_by_id: ctx.actor.userId }).where('id', 'in', touched).execute();
    counts.annotations += rows.length;
    counts.tasks += touched.length;
  }
  return { processed_items: counts.annotations, response_code: 200, detail: `Created ${counts.annotations} annotations`, counts };
}
