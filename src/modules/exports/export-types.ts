/**
 * The task shape of Label Studio's full JSON export (`export_type=JSON`), and the key order it
 * writes. Key set and order follow files Label Studio exported (the converter's test data from
 * 2024 for tasks and annotations, published exports for predictions) and its export guide; keys
 * marked "unconfirmed" appear in Label Studio's API schema but in no exported file we found.
 */

/** A user as Label Studio writes `completed_by` when it expands it (otherwise just the id). */
export interface ExportUser {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
}

/** One region or classification inside `result`. Relations carry `from_id`/`to_id` instead of names. */
export interface ExportResult {
  id?: string;
  from_name?: string;
  to_name?: string;
  type: string;
  value?: Record<string, unknown>;
  origin?: string;
  original_width?: number;
  original_height?: number;
  image_rotation?: number;
  [key: string]: unknown;
}

/** A model prediction, in the order Label Studio writes its keys. */
export interface ExportPrediction {
  id: number;
  model_version: string;
  created_ago: string;
  result: ExportResult[];
  score: number | null;
  cluster: number | null;
  neighbors: unknown;
  mislabeling: number;
  created_at: string;
  updated_at: string;
  /** Unconfirmed in exports: in Label Studio's API schema (ML model link), null when unused. */
  model?: number | null;
  /** Unconfirmed in exports: in Label Studio's API schema (model run link), null when unused. */
  model_run?: number | null;
  task: number;
  project: number;
}

/** One annotation, in the order Label Studio writes its keys. */
export interface ExportAnnotation {
  id: number;
  /** The user id; an {@link ExportUser} when the export expands users. */
  completed_by: number | ExportUser;
  result: ExportResult[];
  was_cancelled: boolean;
  ground_truth: boolean;
  created_at: string;
  updated_at: string;
  draft_created_at: string | null;
  lead_time: number | null;
  /** The prediction the annotation started from, or `{}`. */
  prediction: ExportPrediction | Record<string, never>;
  result_count: number;
  unique_id: string;
  import_id: number | null;
  last_action: string | null;
  task: number;
  project: number;
  updated_by: number | null;
  parent_prediction: number | null;
  parent_annotation: number | null;
  last_created_by: number | null;
}

/** A draft; only ever seen as `[]` in exports, so its keys are unconfirmed. */
export type ExportDraft = Record<string, unknown>;

/** One task of the full JSON export, in the order Label Studio writes its keys. */
export interface ExportTask {
  id: number;
  annotations: ExportAnnotation[];
  /** The uploaded file's name, or null for tasks that came from storage or the API. */
  file_upload: string | null;
  drafts?: ExportDraft[];
  predictions: ExportPrediction[];
  data: Record<string, unknown>;
  meta?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  inner_id: number;
  total_annotations: number;
  cancelled_annotations: number;
  total_predictions: number;
  comment_count?: number;
  unresolved_comment_count?: number;
  last_comment_updated_at?: string | null;
  project: number;
  updated_by: number | null;
  comment_authors?: number[];
}

type KeyList<T> = readonly (keyof T & string)[];
/** Compiles only when `L` names every key of `T` (so a new field cannot be left out of the order). */
type Complete<T, L extends KeyList<T>> = Exclude<keyof T, L[number]> extends never ? L : never;

const taskKeys = [
  'id', 'annotations', 'file_upload', 'drafts', 'predictions', 'data', 'meta', 'created_at', 'updated_at',
  'inner_id', 'total_annotations', 'cancelled_annotations', 'total_predictions', 'comment_count',
  'unresolved_comment_count', 'last_comment_updated_at', 'project', 'updated_by', 'comment_authors',
] as const;
const annotationKeys = [
  'id', 'completed_by', 'result', 'was_cancelled', 'ground_truth', 'created_at', 'updated_at',
  'draft_created_at', 'lead_time', 'prediction', 'result_count', 'unique_id', 'import_id', 'last_action',
  'task', 'project', 'updated_by', 'parent_prediction', 'parent_annotation', 'last_created_by',
] as const;
const predictionKeys = [
  'id', 'model_version', 'created_ago', 'result', 'score', 'cluster', 'neighbors', 'mislabeling',
  'created_at', 'updated_at', 'model', 'model_run', 'task', 'project',
] as const;

/** Task keys in Label Studio's export order. */
export const EXPORT_TASK_KEYS: Complete<ExportTask, typeof taskKeys> = taskKeys;
/** Annotation keys in Label Studio's export order. */
export const EXPORT_ANNOTATION_KEYS: Complete<ExportAnnotation, typeof annotationKeys> = annotationKeys;
/** Prediction keys in Label Studio's export order. */
export const EXPORT_PREDICTION_KEYS: Complete<ExportPrediction, typeof predictionKeys> = predictionKeys;

/**
 * What the JSON_MIN and CSV conversions need to know of the labeling config: the control tags
 * (name and tag type as written, e.g. `Choices`) and the task data keys. A parsed `LabelConfig`
 * fits as is.
 */
export interface ExportControlInfo {
  controls: readonly { name: string; type: string }[];
  dataKeys: readonly string[];
}
