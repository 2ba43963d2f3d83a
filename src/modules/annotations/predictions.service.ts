/** Predictions (model pre-annotations): create, list, change, delete, with task counters kept. */
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import type { PredictionRow, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { resultProblem } from '../label-config/result-validation.js';
import { configOf, getProjectRow, settingsOf } from '../projects/projects.service.js';
import { predictionOut } from '../tasks/tasks.mapper.js';
import { getTaskWithProject, refreshTaskCounters } from '../tasks/tasks.service.js';

export interface PredictionInput {
  task: number;
  result: unknown[];
  score?: number | null | undefined;
  model_version?: string | undefined;
}

/** Creates a prediction; region ids in the result are kept as sent. */
export async function createPrediction(deps: AppDeps, actor: Actor, audit: AuditFn, input: PredictionInput) {
  const { task, project } = await getTaskWithProject(deps.db, actor, input.task).catch(() => {
    throw invalid({ task: ['No such task in your organization.'] });
  });
  const problem = resultProblem(configOf(project), input.result);
  if (problem) throw invalid({ result: [problem] });
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row = await trx
      .insertInto('predictions')
      .values({ task_id: task.id, project_id: project.id, result: JSON.stringify(input.result), score: input.score ?? null, model_version: input.model_version ?? project.model_version ?? '', created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await refreshTaskCounters(trx, [task.id], settingsOf(project).maximum_annotations);
    await audit(trx, { action: 'prediction.create', objectType: 'prediction', objectId: row.id, projectId: project.id, changes: { task: task.id, model_version: row.model_version, score: row.score } });
    return predictionOut(row);
  });
}

async function getPredictionRow(db: Db, actor: Actor, id: number): Promise<{ row: PredictionRow; project: ProjectRow }> {
  const row = await db.selectFrom('predictions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Prediction not found.');
  const project = await getProjectRow(db, actor, row.project_id).catch(() => {
    throw notFound('Prediction not found.');
  });
  return { row, project };
}

export const getPrediction = async (db: Db, actor: Actor, id: number) => predictionOut((await getPredictionRow(db, actor, id)).row);

/** Predictions of a task or a project (one of them is required). */
export async function listPredictions(db: Db, actor: Actor, q: { task?: number | undefined; project?: number | undefined }) {
  if (q.task === undefined && q.project === undefined) throw invalid({ task: ['Give task or project.'] });
  let query = db.selectFrom('predictions').selectAll();
  if (q.task !== undefined) {
    await getTaskWithProject(db, actor, q.task);
    query = query.where('task_id', '=', q.task);
  }
  if (q.project !== undefined) {
    await getProjectRow(db, actor, q.project);
    query = query.where('project_id', '=', q.project);
  }
  return (await query.orderBy('id').limit(100_000).execute()).map(predictionOut);
}

/** Changes a prediction's result, score or model version (the result is validated). */
export async function updatePrediction(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, input: Partial<Omit<PredictionInput, 'task'>>) {
  const { row, project } = await getPredictionRow(deps.db, actor, id);
  if (input.result !== undefined) {
    const problem = resultProblem(configOf(project), input.result);
    if (problem) throw invalid({ result: [problem] });
  }
  return deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('predictions')
      .set({
        ...(input.result !== undefined && { result: JSON.stringify(input.result) }),
        ...(input.score !== undefined && { score: input.score }),
        ...(input.model_version !== undefined && { model_version: input.model_version }),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'prediction.update', objectType: 'prediction', objectId: id, projectId: project.id, changes: { score: { before: row.score, after: updated.score }, model_version: { before: row.model_version, after: updated.model_version } } });
    return predictionOut(updated);
  });
}

/** Deletes a prediction and recounts its task. */
export async function deletePrediction(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const { row, project } = await getPredictionRow(deps.db, actor, id);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('predictions').where('id', '=', id).execute();
    await refreshTaskCounters(trx, [row.task_id], settingsOf(project).maximum_annotations);
    await audit(trx, { action: 'prediction.delete', objectType: 'prediction', objectId: id, projectId: project.id, changes: { task: row.task_id } });
  });
}
