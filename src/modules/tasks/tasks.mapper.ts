/** Rows → Label Studio's response shapes for tasks, annotations, predictions and drafts. */
import { fromJson, type AnnotationRow, type DraftRow, type PredictionRow, type TaskRow } from '../../db/schema.js';
import { withResolvedUris } from '../storages/storage-uris.js';

/** "5 minutes", "2 hours": the age Label Studio shows as `created_ago`. */
export function agoText(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  const units: [number, string][] = [[86_400 * 365, 'year'], [86_400 * 30, 'month'], [86_400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) if (s >= size) return `${Math.floor(s / size)}\u00a0${name}${Math.floor(s / size) > 1 ? 's' : ''}`;
  return '0\u00a0minutes';
}

/** An annotation row in Label Studio's response shape. */
export function annotationOut(a: AnnotationRow, username = '') {
  const result = fromJson<unknown[]>(a.result);
  return {
    id: a.id,
    task: a.task_id,
    project: a.project_id,
    result,
    completed_by: a.completed_by_id,
    created_username: username,
    created_ago: agoText(a.created_at),
    was_cancelled: a.was_cancelled === 1,
    ground_truth: a.ground_truth === 1,
    lead_time: a.lead_time,
    result_count: result.length,
    unique_id: a.unique_id,
    import_id: a.import_id,
    last_action: a.last_action,
    parent_prediction: a.parent_prediction_id,
    parent_annotation: a.parent_annotation_id,
    draft_created_at: a.draft_created_at,
    updated_by: a.updated_by_id,
    last_created_by: a.completed_by_id,
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}

/** A prediction row in Label Studio's response shape. */
export const predictionOut = (p: PredictionRow) => ({
  id: p.id,
  task: p.task_id,
  project: p.project_id,
  result: fromJson<unknown[]>(p.result),
  score: p.score,
  model_version: p.model_version,
  created_ago: agoText(p.created_at),
  created_at: p.created_at,
  updated_at: p.updated_at,
});

/** A draft row in Label Studio's response shape. */
export const draftOut = (d: DraftRow) => ({
  id: d.id,
  task: d.task_id,
  annotation: d.annotation_id,
  user: d.user_id,
  result: fromJson<unknown[]>(d.result),
  lead_time: d.lead_time,
  was_postponed: d.was_postponed === 1,
  created_ago: agoText(d.created_at),
  created_at: d.created_at,
  updated_at: d.updated_at,
});

/** A task row in Label Studio's response shape (without annotations); storage URIs in its data become resolve URLs. */
export const taskOut = (t: TaskRow) => ({
  id: t.id,
  project: t.project_id,
  inner_id: t.inner_id,
  data: withResolvedUris(t.id, fromJson<Record<string, unknown>>(t.data)),
  meta: fromJson<Record<string, unknown>>(t.meta),
  is_labeled: t.is_labeled === 1,
  overlap: 1,
  total_annotations: t.total_annotations,
  cancelled_annotations: t.cancelled_annotations,
  total_predictions: t.total_predictions,
  file_upload: t.file_upload_id,
  updated_by: t.updated_by_id,
  created_at: t.created_at,
  updated_at: t.updated_at,
  comment_count: 0,
  unresolved_comment_count: 0,
  last_comment_updated_at: null,
});
