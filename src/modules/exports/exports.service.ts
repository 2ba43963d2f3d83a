/**
 * Streams a project's tasks, with annotations and predictions, in Label Studio's export formats.
 * Tasks are read in id order in batches (keyset pages), so memory stays flat however large the
 * project; the formats module turns them into text chunks.
 */
import { PostgresAdapter, sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from '../../db/database.js';
import { fromJson, type AnnotationRow, type PredictionRow, type TaskRow } from '../../db/schema.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { agoText } from '../tasks/tasks.mapper.js';
import type { ExportAnnotation, ExportPrediction, ExportResult, ExportTask, ExportUser } from './export-types.js';
import { invalid } from '../../http/errors.js';
import { EXPORT_FORMATS, exportCsv, exportJson, exportJsonMin, type ExportFormatName } from './formats.js';

const BATCH = 500;

/** `only` keeps the tasks a filter matches, `exclude` drops them; null or absent: no filter. */
export type FilterMode = 'only' | 'exclude' | null | undefined;

/** Label Studio's snapshot task filters (`task_filter_options`). */
export interface TaskFilter {
  /** Tasks with at least one annotation that was not skipped. */
  annotated?: FilterMode;
  /** Finished tasks (`is_labeled`). */
  finished?: FilterMode;
  /** Tasks with at least one skipped annotation. */
  skipped?: FilterMode;
}

/**
 * Which annotations a snapshot writes (`annotation_filter_options`). Each annotation is of one
 * kind: skipped (cancelled), else ground truth, else usual. A kind is left out only when its
 * flag is `false`; null or absent keeps it, so an empty filter writes every annotation.
 */
export interface AnnotationFilter {
  usual?: boolean | null | undefined;
  ground_truth?: boolean | null | undefined;
  skipped?: boolean | null | undefined;
}

/** Which tasks and annotations an export holds, and how users are written. */
export interface ExportSelection {
  projectId: number;
  /** false (Label Studio's default): only tasks with at least one annotation. */
  allTasks: boolean;
  ids?: number[] | undefined;
  tasks?: TaskFilter | undefined;
  annotations?: AnnotationFilter | undefined;
  /** Writes `completed_by` as the user (`{id, email, first_name, last_name}`) instead of the id. */
  expandUsers?: boolean | undefined;
}

/** The tasks a selection covers, as a query to add columns, order and paging to. */
function taskQuery(db: Db, sel: ExportSelection) {
  let q = db.selectFrom('tasks').where('project_id', '=', sel.projectId);
  if (!sel.allTasks) q = q.where((eb) => eb.or([eb('total_annotations', '>', 0), eb('cancelled_annotations', '>', 0)]));
  if (sel.ids) q = q.where('id', 'in', sel.ids.length ? sel.ids : [0]);
  const f = sel.tasks;
  if (f) {
    q = q.where((eb) => {
      const side = (mode: FilterMode, test: Expression<SqlBool>) => (mode === 'only' ? [test] : mode === 'exclude' ? [eb.not(test)] : []);
      return eb.and([
        ...side(f.annotated, eb('total_annotations', '>', 0)),
        ...side(f.finished, eb('is_labeled', '=', 1)),
        ...side(f.skipped, eb('cancelled_annotations', '>', 0)),
      ]);
    });
  }
  return q;
}

/** How many tasks {@link exportTasks} will yield for the selection (for progress). */
export async function countExportTasks(db: Db, sel: ExportSelection): Promise<number> {
  const row = await taskQuery(db, sel).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function annotationsOf(db: Db, taskIds: number[], sel: ExportSelection): Promise<AnnotationRow[]> {
  let q = db.selectFrom('annotations').selectAll().where('task_id', 'in', taskIds);
  const f = sel.annotations;
  if (f) {
    q = q.where((eb) => {
      const kinds: Expression<SqlBool>[] = [];
      if (f.usual !== false) kinds.push(eb.and([eb('was_cancelled', '=', 0), eb('ground_truth', '=', 0)]));
      if (f.ground_truth !== false) kinds.push(eb.and([eb('was_cancelled', '=', 0), eb('ground_truth', '=', 1)]));
      if (f.skipped !== false) kinds.push(eb('was_cancelled', '=', 1));
      return kinds.length > 0 ? eb.or(kinds) : sql<SqlBool>`1 = 0`;
    });
  }
  return q.orderBy('id').execute();
}

/** The annotators of some annotations, by id (empty unless the selection expands users). */
async function usersOf(db: Db, anns: AnnotationRow[], sel: ExportSelection): Promise<Map<number, ExportUser>> {
  const ids = [...new Set(anns.map((a) => a.completed_by_id).filter((id): id is number => id !== null))];
  if (!sel.expandUsers || ids.length === 0) return new Map();
  const users = await db.selectFrom('users').select(['id', 'email', 'first_name', 'last_name']).where('id', 'in', ids).execute();
  return new Map(users.map((u) => [u.id, u]));
}

function toPrediction(p: PredictionRow, t: TaskRow): ExportPrediction {
  return {
    id: p.id,
    model_version: p.model_version,
    created_ago: agoText(p.created_at),
    result: fromJson<ExportResult[]>(p.result),
    score: p.score,
    cluster: null,
    neighbors: null,
    mislabeling: 0,
    created_at: p.created_at,
    updated_at: p.updated_at,
    task: t.id,
    project: t.project_id,
  };
}

function toAnnotation(a: AnnotationRow, t: TaskRow, users: Map<number, ExportUser>): ExportAnnotation {
  const result = fromJson<ExportResult[]>(a.result);
  return {
    id: a.id,
    completed_by: users.get(a.completed_by_id ?? 0) ?? a.completed_by_id ?? 0,
    result,
    was_cancelled: a.was_cancelled === 1,
    ground_truth: a.ground_truth === 1,
    created_at: a.created_at,
    updated_at: a.updated_at,
    draft_created_at: a.draft_created_at,
    lead_time: a.lead_time,
    prediction: {},
    result_count: result.length,
    unique_id: a.unique_id,
    import_id: a.import_id,
    last_action: a.last_action,
    task: t.id,
    project: t.project_id,
    updated_by: a.updated_by_id,
    parent_prediction: a.parent_prediction_id,
    parent_annotation: a.parent_annotation_id,
    last_created_by: a.completed_by_id,
  };
}

function toTask(t: TaskRow, annotations: ExportAnnotation[], predictions: ExportPrediction[], fileUpload: string | null): ExportTask {
  return {
    id: t.id,
    annotations,
    file_upload: fileUpload,
    drafts: [],
    predictions,
    data: fromJson(t.data),
    meta: fromJson(t.meta),
    created_at: t.created_at,
    updated_at: t.updated_at,
    inner_id: t.inner_id,
    total_annotations: t.total_annotations,
    cancelled_annotations: t.cancelled_annotations,
    total_predictions: t.total_predictions,
    comment_count: 0,
    unresolved_comment_count: 0,
    last_comment_updated_at: null,
    project: t.project_id,
    updated_by: t.updated_by_id,
    comment_authors: [],
  };
}

function byTask<T extends { task_id: number }>(rows: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) (m.get(r.task_id) ?? m.set(r.task_id, []).get(r.task_id)!).push(r);
  return m;
}

/** The project's tasks as Label Studio's export objects, in id order, one batch in memory at a time. */
export async function* exportTasks(db: Db, sel: ExportSelection): AsyncGenerator<ExportTask> {
  let after = 0;
  for (;;) {
    const tasks = await taskQuery(db, sel).selectAll().where('id', '>', after).orderBy('id').limit(BATCH).execute();
    if (tasks.length === 0) return;
    const ids = tasks.map((t) => t.id);
    const [anns, preds, uploads] = await Promise.all([
      annotationsOf(db, ids, sel),
      db.selectFrom('predictions').selectAll().where('task_id', 'in', ids).orderBy('id').execute(),
      db.selectFrom('file_uploads').select(['id', 'file']).where('id', 'in', [0, ...tasks.map((t) => t.file_upload_id ?? 0)]).execute(),
    ]);
    const users = await usersOf(db, anns, sel);
    const annsOf = byTask(anns);
    const predsOf = byTask(preds);
    for (const t of tasks) {
      const annotations = (annsOf.get(t.id) ?? []).map((a) => toAnnotation(a, t, users));
      const predictions = (predsOf.get(t.id) ?? []).map((p) => toPrediction(p, t));
      yield toTask(t, annotations, predictions, uploads.find((u) => u.id === t.file_upload_id)?.file ?? null);
    }
    after = ids[ids.length - 1]!;
  }
}

/** Every data key used by the project's tasks (the CSV columns), computed by the database. */
export async function dataKeysOf(db: Db, projectId: number): Promise<string[]> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const rows = pg
    ? await sql<{ key: string }>`select distinct jsonb_object_keys(data) as key from tasks where project_id = ${projectId}`.execute(db)
    : await sql<{ key: string }>`select distinct j.key as key from tasks, json_each(tasks.data) as j where tasks.project_id = ${projectId}`.execute(db);
  return rows.rows.map((r) => r.key).sort();
}

const FORMAT_NAMES = EXPORT_FORMATS.map((f) => f.name) as ExportFormatName[];

/** The format named by `exportType`/`export_type` (default JSON), or a 400 listing the choices. */
export function formatNamed(name: string | undefined, field = 'exportType'): ExportFormatName {
  const format = (name ?? 'JSON').toUpperCase() as ExportFormatName;
  if (!FORMAT_NAMES.includes(format)) throw invalid({ [field]: [`One of ${FORMAT_NAMES.join(', ')}.`] });
  return format;
}

/** The Content-Type of each format. */
export const CONTENT_TYPES: Record<ExportFormatName, string> = {
  JSON: 'application/json; charset=utf-8',
  JSON_MIN: 'application/json; charset=utf-8',
  CSV: 'text/csv; charset=utf-8',
  TSV: 'text/tab-separated-values; charset=utf-8',
};
/** The file extension of each format. */
export const EXTENSIONS: Record<ExportFormatName, string> = { JSON: 'json', JSON_MIN: 'json', CSV: 'csv', TSV: 'tsv' };

/**
 * The text of an export in one format, in strings of about 64 KiB (EXPORT_CHUNK_CHARS in
 * formats.ts): a streamed reply costs one write per string. `onDone` is told how many tasks it
 * held once the whole text was produced (metrics).
 */
export async function* exportChunks(db: Db, format: ExportFormatName, config: LabelConfig, sel: ExportSelection, onDone?: (tasks: number) => void): AsyncGenerator<string> {
  const tasks = onDone ? countedTasks(exportTasks(db, sel), onDone) : exportTasks(db, sel);
  const info = { controls: config.controls, dataKeys: config.dataKeys };
  if (format === 'JSON') yield* exportJson(tasks);
  else if (format === 'JSON_MIN') yield* exportJsonMin(tasks, info);
  else yield* exportCsv(tasks, { delimiter: format === 'CSV' ? ',' : '\t', info: { ...info, dataKeys: await dataKeysOf(db, sel.projectId) } });
}

/** Passes tasks through; once all went through, tells `onDone` how many. */
async function* countedTasks(tasks: AsyncIterable<ExportTask>, onDone: (tasks: number) => void): AsyncGenerator<ExportTask> {
  let n = 0;
  for await (const t of tasks) {
    n += 1;
    yield t;
  }
  onDone(n);
}

/** The download file name: `project-<id>-at-<UTC time>.<ext>`, as the direct export names it. */
export function attachmentName(projectId: number, at: Date, format: ExportFormatName): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `project-${projectId}-at-${stamp}.${EXTENSIONS[format]}`;
}
