/** Queries on projects and their counters. */
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ProjectRow } from '../../db/schema.js';

/** A project by id, whatever its organization (callers check access). */
export const findProject = (db: Db, id: number): Promise<ProjectRow | undefined> => db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();

export interface ProjectCounters {
  task_number: number;
  num_tasks_with_annotations: number;
  finished_task_number: number;
  total_annotations_number: number;
  skipped_annotations_number: number;
  total_predictions_number: number;
  ground_truth_number: number;
  /** Annotations neither skipped nor ground truth (Label Studio's `useful_annotation_number`). */
  useful_annotation_number: number;
}

const ZERO: ProjectCounters = {
  task_number: 0,
  num_tasks_with_annotations: 0,
  finished_task_number: 0,
  total_annotations_number: 0,
  skipped_annotations_number: 0,
  total_predictions_number: 0,
  ground_truth_number: 0,
  useful_annotation_number: 0,
};

/**
 * Counters of many projects in two grouped queries (tasks' denormalised counts, ground truth).
 * As in Label Studio, `total_annotations_number` leaves out skipped (cancelled) annotations,
 * which `skipped_annotations_number` counts.
 */
export async function countersOf(db: Db, projectIds: number[]): Promise<Map<number, ProjectCounters>> {
  const out = new Map<number, ProjectCounters>(projectIds.map((id) => [id, { ...ZERO }]));
  if (projectIds.length === 0) return out;
  const rows = await db
    .selectFrom('tasks')
    .select([
      'project_id',
      sql<number>`count(*)`.as('tasks'),
      sql<number>`sum(case when total_annotations > 0 then 1 else 0 end)`.as('with_annotations'),
      sql<number>`sum(is_labeled)`.as('finished'),
      sql<number>`sum(total_annotations)`.as('annotations'),
      sql<number>`sum(cancelled_annotations)`.as('cancelled'),
      sql<number>`sum(total_predictions)`.as('predictions'),
    ])
    .where('project_id', 'in', projectIds)
    .groupBy('project_id')
    .execute();
  for (const r of rows) {
    const c = out.get(r.project_id)!;
    c.task_number = Number(r.tasks);
    c.num_tasks_with_annotations = Number(r.with_annotations ?? 0);
    c.finished_task_number = Number(r.finished ?? 0);
    // As Label Studio counts them: skipped (cancelled) annotations are not in the total.
    c.total_annotations_number = Number(r.annotations ?? 0);
    c.skipped_annotations_number = Number(r.cancelled ?? 0);
    c.total_predictions_number = Number(r.predictions ?? 0);
  }
  const gt = await db
    .selectFrom('annotations')
    .select(['project_id', sql<number>`count(*)`.as('n'), sql<number>`sum(case when was_cancelled = 0 then 1 else 0 end)`.as('kept')])
    .where('project_id', 'in', projectIds)
    .where('ground_truth', '=', 1)
    .groupBy('project_id')
    .execute();
  const keptGroundTruth = new Map(gt.map((r) => [r.project_id, Number(r.kept ?? 0)]));
  for (const r of gt) out.get(r.project_id)!.ground_truth_number = Number(r.n);
  for (const [id, c] of out) c.useful_annotation_number = Math.max(c.total_annotations_number - (keptGroundTruth.get(id) ?? 0), 0);
  return out;
}
