/**
 * Bulk writes: predictions imported for many tasks, and one annotation result applied to many
 * tasks. Each is one transaction (all or nothing) with one audit event carrying the counts.
 */
import { randomUUID } from 'node:crypto';
import type { RawBuilder, SqlBool } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { openableTaskConditions } from '../../authz/data-filters.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { resultProblem } from '../label-config/result-validation.js';
import { configOf, getProjectRow, settingsOf } from '../projects/projects.service.js';
import { AnnotationExports } from '../storages/annotation-exports.js';
import { refreshTaskCounters } from '../tasks/tasks.service.js';
import { assertResultValid } from './annotations.service.js';

const BATCH = 500;

export interface PredictionItem {
  task: number;
  result: unknown[];
  score?: number | null | undefined;
  model_version?: string | undefined;
}

/**
 * Checks that every id is a task of the project (and meets the extra conditions, e.g. that the
 * caller may open it); throws 400 naming the first stranger, with the same words for a task that
 * is missing and one hidden from the caller, so neither is revealed.
 */
async function assertTasksInProject(deps: AppDeps, projectId: number, ids: number[], field: string, conditions: RawBuilder<SqlBool>[] = []): Promise<void> {
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += BATCH) {
    const slice = unique.slice(i, i + BATCH);
    let q = deps.db.selectFrom('tasks').select('tasks.id').where('tasks.project_id', '=', projectId).where('tasks.id', 'in', slice);
    for (const c of conditions) q = q.where(c);
    const found = new Set((await q.execute()).map((r) => r.id));
    const missing = slice.find((id) => !found.has(id));
    if (missing !== undefined) throw invalid({ [field]: [`Task ${missing} is not in this project.`] });
  }
}

/** `POST /api/projects/{id}/import/predictions`: predictions for existing tasks, all or nothing. */
export async function importPredictions(deps: AppDeps, actor: Actor, audit: AuditFn, projectId: number, items: PredictionItem[]): Promise<{ created: number }> {
  const project = await getProjectRow(deps.db, actor, projectId);
  const config = configOf(project);
  for (const [i, p] of items.entries()) {
    const problem = resultProblem(config, p.result);
    if (problem) throw invalid({ [`${i}.result`]: [problem] });
  }
  await assertTasksInProject(deps, projectId, items.map((p) => p.task), 'task');
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    for (let i = 0; i < items.length; i += BATCH) {
      const rows = items.slice(i, i + BATCH).map((p) => ({ task_id: p.task, project_id: projectId, result: JSON.stringify(p.result), score: p.score ?? null, model_version: p.model_version ?? project.model_version, created_at: now, updated_at: now }));
      await trx.insertInto('predictions').values(rows).execute();
      await refreshTaskCounters(trx, [...new Set(rows.map((r) => r.task_id))], settingsOf(project).maximum_annotations);
    }
    await audit(trx, { action: 'prediction.bulk_create', objectType: 'project', objectId: projectId, projectId, changes: { created: items.length } });
    return { created: items.length };
  });
}

export interface BulkAnnotationInput {
  project?: number | undefined;
  tasks?: number[] | undefined;
  selected_items?: { all: boolean; included?: number[] | undefined; excluded?: number[] | undefined } | undefined;
  result: unknown[];
  lead_time?: number | null | undefined;
  was_cancelled?: boolean | undefined;
}

/**
 * `POST /api/annotations/bulk/`: the same result as the caller's annotation of many tasks.
 * Without `task.view_all` (Annotators) every task must be one they may open, in both
 * distribution modes: any other is refused with 400 naming `tasks`, worded as for a task of
 * another project (a 400 rather than a 404: the request names many tasks, and the field says which).
 */
export async function bulkAnnotate(deps: AppDeps, actor: Actor, audit: AuditFn, input: BulkAnnotationInput): Promise<{ id: number }[]> {
  if (input.project === undefined) throw invalid({ project: ['This field is required.'] });
  const project = await getProjectRow(deps.db, actor, input.project);
  assertResultValid(project, input.result, input.was_cancelled ?? false);
  const sel = input.selected_items;
  if (sel?.all) throw invalid({ selected_items: ['Select tasks by id (all: false, included: [...]) or give tasks.'] });
  // Sorted: concurrent bulk calls lock task rows in the same order, so they cannot deadlock.
  const taskIds = [...new Set(input.tasks ?? sel?.included ?? [])].sort((a, b) => a - b);
  if (taskIds.length === 0) throw invalid({ tasks: ['Give at least one task.'] });
  if (taskIds.length > 100_000) throw invalid({ tasks: ['At most 100,000 tasks at once.'] });
  await assertTasksInProject(deps, project.id, taskIds, 'tasks', openableTaskConditions(actor));
  const exports = await AnnotationExports.of(deps, project.id);
  const created = await deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const out: { id: number }[] = [];
    for (let i = 0; i < taskIds.length; i += BATCH) {
      const slice = taskIds.slice(i, i + BATCH);
      const rows = await trx
        .insertInto('annotations')
        .values(
          slice.map((taskId) => ({
            task_id: taskId,
            project_id: project.id,
            completed_by_id: actor.userId,
            result: JSON.stringify(input.result),
            was_cancelled: input.was_cancelled ? 1 : 0,
            ground_truth: 0,
            lead_time: input.lead_time ?? null,
            unique_id: randomUUID(),
            last_action: 'bulk_created',
            updated_by_id: actor.userId,
            created_at: now,
            updated_at: now,
          })),
        )
        .returning('id')
        .execute();
      out.push(...rows);
      await refreshTaskCounters(trx, slice, settingsOf(project).maximum_annotations);
    }
    await audit(trx, { action: 'annotation.bulk_create', objectType: 'project', objectId: project.id, projectId: project.id, changes: { created: out.length } });
    return out;
  });
  exports.written(created.map((r) => r.id));
  await exports.queue();
  return created;
}

/** `GET /api/projects/{id}/model-versions`: each model version with its prediction count, newest first. */
export async function modelVersions(deps: AppDeps, actor: Actor, projectId: number): Promise<Record<string, number>> {
  await getProjectRow(deps.db, actor, projectId);
  const rows = await deps.db
    .selectFrom('predictions')
    .select(['model_version', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('id').as('latest')])
    .where('project_id', '=', projectId)
    .groupBy('model_version')
    .orderBy('latest', 'desc')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.model_version, Number(r.n)]));
}
