/**
 * Streams a project's tasks, with annotations and predictions, in Label Studio's export formats.
 * Tasks are read in id order in batches (keyset pages), so memory stays flat however large the
 * project; the formats module turns them into text chunks.
 */
import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { fromJson } from '../../db/schema.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { agoText } from '../tasks/tasks.mapper.js';
import type { ExportAnnotation, ExportPrediction, ExportResult, ExportTask } from './export-types.js';
import { exportCsv, exportJson, exportJsonMin, type ExportFormatName } from './formats.js';

const BATCH = 500;

export interface ExportSelection {
  projectId: number;
  /** false (Label Studio's default): only tasks with at least one annotation. */
  allTasks: boolean;
  ids?: number[] | undefined;
}

/** The project's tasks as Label Studio's export objects, in id order, one batch in memory at a time. */
export async function* exportTasks(db: Db, sel: ExportSelection): AsyncGenerator<ExportTask> {
  let after = 0;
  for (;;) {
    let q = db.selectFrom('tasks').selectAll().where('project_id', '=', sel.projectId).where('id', '>', after);
    if (!sel.allTasks) q = q.where((eb) => eb.or([eb('total_annotations', '>', 0), eb('cancelled_annotations', '>', 0)]));
    if (sel.ids) q = q.where('id', 'in', sel.ids.length ? sel.ids : [0]);
    const tasks = await q.orderBy('id').limit(BATCH).execute();
    if (tasks.length === 0) return;
    const ids = tasks.map((t) => t.id);
    const [anns, preds, uploads] = await Promise.all([
      db.selectFrom('annotations').selectAll().where('task_id', 'in', ids).orderBy('id').execute(),
      db.selectFrom('predictions').selectAll().where('task_id', 'in', ids).orderBy('id').execute(),
      db.selectFrom('file_uploads').select(['id', 'file']).where('id', 'in', [0, ...tasks.map((t) => t.file_upload_id ?? 0)]).execute(),
    ]);
    const byTask = <T extends { task_id: number }>(rows: T[]) => {
      const m = new Map<number, T[]>();
      for (const r of rows) (m.get(r.task_id) ?? m.set(r.task_id, []).get(r.task_id)!).push(r);
      return m;
    };
    const annsOf = byTask(anns);
    const predsOf = byTask(preds);
    for (const t of tasks) {
      const predictions: ExportPrediction[] = (predsOf.get(t.id) ?? []).map((p) => ({
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
      }));
      const annotations: ExportAnnotation[] = (annsOf.get(t.id) ?? []).map((a) => {
        const result = fromJson<ExportResult[]>(a.result);
        return {
          id: a.id,
          completed_by: a.completed_by_id ?? 0,
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
      });
      yield {
        id: t.id,
        annotations,
        file_upload: uploads.find((u) => u.id === t.file_upload_id)?.file ?? null,
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

export const CONTENT_TYPES: Record<ExportFormatName, string> = {
  JSON: 'application/json; charset=utf-8',
  JSON_MIN: 'application/json; charset=utf-8',
  CSV: 'text/csv; charset=utf-8',
  TSV: 'text/tab-separated-values; charset=utf-8',
};
export const EXTENSIONS: Record<ExportFormatName, string> = { JSON: 'json', JSON_MIN: 'json', CSV: 'csv', TSV: 'tsv' };

/** The text chunks of an export in one format. */
export async function* exportChunks(db: Db, format: ExportFormatName, config: LabelConfig, sel: ExportSelection): AsyncGenerator<string> {
  const tasks = exportTasks(db, sel);
  const info = { controls: config.controls, dataKeys: config.dataKeys };
  if (format === 'JSON') yield* exportJson(tasks);
  else if (format === 'JSON_MIN') yield* exportJsonMin(tasks, info);
  else yield* exportCsv(tasks, { delimiter: format === 'CSV' ? ',' : '\t', info: { ...info, dataKeys: await dataKeysOf(db, sel.projectId) } });
}
