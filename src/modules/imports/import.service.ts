/**
 * Imports tasks (with their annotations and predictions) into a project, all or nothing: every
 * task is validated against the labeling config and inserted in batches inside one transaction;
 * the first problem rolls everything back and is reported with the task's index.
 */
import { randomUUID } from 'node:crypto';
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import type { Database, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { resultProblem } from '../label-config/result-validation.js';
import { configOf, settingsOf } from '../projects/projects.service.js';
import { missingDataKey, refreshTaskCounters } from '../tasks/tasks.service.js';
import { insertJsonRows, jsonColumn } from './json-batch-insert.js';
import { recordUpload } from './uploads.service.js';
import type { RawTask } from './task-readers.js';

const BATCH = 500;
/** First key of the PostgreSQL advisory lock serialising imports into one project (second: its id). */
const IMPORT_LOCK_KEY = 7240313;

const notExactlyOne = () => invalid({ tasks: ['Send exactly one task here; use /import for several.'] });

export interface ImportSummary {
  task_count: number;
  annotation_count: number;
  prediction_count: number;
  duration: number;
  file_upload_ids: number[];
  could_be_tasks_list: boolean;
  found_formats: string[];
  data_columns: string[];
  task_ids?: number[];
}

export interface ImportOptions {
  returnTaskIds?: boolean;
  foundFormats?: string[];
  /** Refuses (400, before anything commits) an import of more or fewer than one task. */
  exactlyOne?: boolean;
  /** Runs first inside the import's transaction (e.g. to record uploads); its ids are reported. */
  beforeInsert?: (trx: Transaction<Database>) => Promise<number[]>;
  /**
   * Reimport: first deletes the tasks made earlier from these uploads (with their annotations and
   * predictions, as Label Studio's reimport does), and reports the ids as the summary's uploads.
   */
  replaceTasksOfUploads?: number[];
}

/** A task to import; tasks read from an uploaded file carry its id. */
export type ImportTask = RawTask & { fileUploadId?: number | null };

type Item = { result?: unknown; [k: string]: unknown };

function checkTask(config: LabelConfig, t: RawTask): string | null {
  const missing = missingDataKey(config, t.data);
  if (missing) return missing;
  for (const [kind, list] of [['annotations', t.annotations], ['predictions', t.predictions]] as const) {
    for (const [i, raw] of list.entries()) {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return `${kind}[${i}] must be an object`;
      const item = raw as Item;
      const result = item.result ?? [];
      if (!Array.isArray(result)) return `${kind}[${i}].result must be a list`;
      const problem = resultProblem(config, result);
      if (problem) return `${kind}[${i}].${problem}`;
    }
  }
  return null;
}

const TASK_COLUMNS = ['project_id', 'inner_id', 'data', 'meta', 'file_upload_id', 'created_at', 'updated_at', 'updated_by_id'] as const;
const ANNOTATION_COLUMNS = ['task_id', 'project_id', 'completed_by_id', 'result', 'was_cancelled', 'ground_truth', 'lead_time', 'unique_id', 'import_id', 'last_action', 'updated_by_id', 'created_at', 'updated_at'] as const;
const PREDICTION_COLUMNS = ['task_id', 'project_id', 'result', 'score', 'model_version', 'created_at', 'updated_at'] as const;

/**
 * Inserts one batch of tasks, then their annotations and predictions, each table with one
 * statement whose only parameter is the rows as a JSON array (json-batch-insert.ts); returns the
 * new task ids in the batch's order.
 */
async function insertBatch(trx: Transaction<Database>, project: ProjectRow, actor: Actor, batch: ImportTask[], nextInner: number) {
  const pg = trx.getExecutor().adapter instanceof PostgresAdapter;
  const now = new Date().toISOString();
  const taskRows = batch.map((t, i) => ({
    project_id: project.id,
    inner_id: nextInner + i,
    data: jsonColumn(pg, t.data),
    meta: jsonColumn(pg, t.meta),
    file_upload_id: t.fileUploadId ?? null,
    created_at: now,
    updated_at: now,
    updated_by_id: actor.userId,
  }));
  const inserted = await insertJsonRows<{ id: number; inner_id: number }>(trx, pg, 'tasks', TASK_COLUMNS, taskRows, ['id', 'inner_id']);
  const idByInner = new Map(inserted.map((r) => [Number(r.inner_id), Number(r.id)]));
  const ids = batch.map((_, i) => {
    const id = idByInner.get(nextInner + i);
    if (id === undefined) throw new Error(`import: no id returned for inner id ${nextInner + i}`);
    return id;
  });
  const annotations = batch.flatMap((t, i) =>
    t.annotations.map((raw) => {
      const a = raw as Item;
      return {
        task_id: ids[i]!,
        project_id: project.id,
        completed_by_id: actor.userId,
        result: jsonColumn(pg, a.result ?? []),
        was_cancelled: a.was_cancelled === true ? 1 : 0,
        ground_truth: a.ground_truth === true ? 1 : 0,
        lead_time: typeof a.lead_time === 'number' ? a.lead_time : null,
        unique_id: randomUUID(),
        import_id: typeof a.id === 'number' ? a.id : null,
        last_action: 'imported',
        updated_by_id: actor.userId,
        created_at: now,
        updated_at: now,
      };
    }),
  );
  const predictions = batch.flatMap((t, i) =>
    t.predictions.map((raw) => {
      const p = raw as Item;
      return {
        task_id: ids[i]!,
        project_id: project.id,
        result: jsonColumn(pg, p.result ?? []),
        score: typeof p.score === 'number' ? p.score : null,
        model_version: typeof p.model_version === 'string' ? p.model_version : project.model_version,
        created_at: now,
        updated_at: now,
      };
    }),
  );
  await insertJsonRows(trx, pg, 'annotations', ANNOTATION_COLUMNS, annotations);
  await insertJsonRows(trx, pg, 'predictions', PREDICTION_COLUMNS, predictions);
  const touched = ids.filter((_, i) => batch[i]!.annotations.length > 0 || batch[i]!.predictions.length > 0);
  for (let i = 0; i < touched.length; i += BATCH) await refreshTaskCounters(trx, touched.slice(i, i + BATCH), settingsOf(project).maximum_annotations);
  return { ids, annotations: annotations.length, predictions: predictions.length };
}

/** Imports tasks into a project in one transaction; throws a 400 naming the first bad task. */
export async function importTasks(deps: AppDeps, actor: Actor, audit: AuditFn, project: ProjectRow, tasks: AsyncIterable<ImportTask> | Iterable<ImportTask> | ((trx: Transaction<Database>) => AsyncIterable<ImportTask>), opts: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const config = configOf(project);
  const columns = new Set<string>();
  return deps.db.transaction().execute(async (trx) => {
    if (trx.getExecutor().adapter instanceof PostgresAdapter) {
      // One import at a time per project, so inner ids stay dense and unique. An advisory lock, not
      // a row lock on the project: annotation writes take key-share locks on it through their
      // foreign key, and must not wait for a long import.
      await sql`select pg_advisory_xact_lock(${IMPORT_LOCK_KEY}, ${project.id})`.execute(trx);
    }
    const max = await trx.selectFrom('tasks').select(sql<number | null>`max(inner_id)`.as('m')).where('project_id', '=', project.id).executeTakeFirst();
    let nextInner = Number(max?.m ?? 0) + 1;
    const uploadIds = opts.beforeInsert ? await opts.beforeInsert(trx) : (opts.replaceTasksOfUploads ?? []);
    let replaced: number | undefined;
    if (opts.replaceTasksOfUploads?.length) replaced = Number((await trx.deleteFrom('tasks').where('project_id', '=', project.id).where('file_upload_id', 'in', opts.replaceTasksOfUploads).executeTakeFirst()).numDeletedRows);
    let batch: ImportTask[] = [];
    // Only the count and the first and last ids, unless the caller asked for every id.
    const taskIds: number[] | undefined = opts.returnTaskIds ? [] : undefined;
    let taskCount = 0;
    let firstId: number | undefined;
    let lastId: number | undefined;
    let annotationCount = 0;
    let predictionCount = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const r = await insertBatch(trx, project, actor, batch, nextInner);
      nextInner += batch.length;
      taskCount += r.ids.length;
      firstId ??= r.ids[0];
      lastId = r.ids[r.ids.length - 1];
      if (taskIds) for (const id of r.ids) taskIds.push(id);
      annotationCount += r.annotations;
      predictionCount += r.predictions;
      batch = [];
    };
    for await (const t of typeof tasks === 'function' ? tasks(trx) : tasks) {
      const problem = checkTask(config, t);
      if (problem) throw invalid({ tasks: [`task ${t.index + 1}: ${problem}`] }, 'Import refused: nothing was imported');
      for (const k of Object.keys(t.data)) columns.add(k);
      if (opts.exactlyOne && taskCount + batch.length >= 1) throw notExactlyOne();
      batch.push(t);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    if (taskCount === 0) throw opts.exactlyOne ? notExactlyOne() : invalid({ tasks: ['No tasks found in the import.'] });
    await audit(trx, { action: 'task.import', objectType: 'project', objectId: project.id, projectId: project.id, changes: { task_count: taskCount, annotation_count: annotationCount, prediction_count: predictionCount, first_task: firstId, last_task: lastId, ...(opts.replaceTasksOfUploads && { file_upload_ids: uploadIds, replaced_tasks: replaced ?? 0 }) } });
    return {
      task_count: taskCount,
      annotation_count: annotationCount,
      prediction_count: predictionCount,
      duration: (Date.now() - started) / 1000,
      file_upload_ids: uploadIds,
      could_be_tasks_list: false,
      found_formats: opts.foundFormats ?? [],
      data_columns: [...columns].sort(),
      ...(taskIds && { task_ids: taskIds }),
    };
  });
}

/** An upload kept by an import that does not commit tasks. */
export interface KeptUpload {
  name: string;
  original: string;
  size: number;
  contentType: string;
}

/**
 * `commit_to_project=false`: records the uploads, creating no task, with the audit event in the
 * same transaction. The summary reports what was found (tasks, data columns) as Label Studio
 * does; annotation and prediction counts stay 0 (Label Studio answers null there).
 */
export async function keepUploadsOnly(deps: AppDeps, actor: Actor, audit: AuditFn, project: ProjectRow, uploads: KeptUpload[], found: { taskCount: number; dataColumns: string[]; started: number }): Promise<ImportSummary> {
  return deps.db.transaction().execute(async (trx) => {
    const ids: number[] = [];
    for (const u of uploads) ids.push(await recordUpload(trx, { projectId: project.id, userId: actor.userId, name: u.name, original: u.original, size: u.size, contentType: u.contentType }));
    await audit(trx, { action: 'task.import', objectType: 'project', objectId: project.id, projectId: project.id, changes: { commit_to_project: false, task_count: 0, found_tasks: found.taskCount, file_upload_ids: ids } });
    return {
      task_count: found.taskCount,
      annotation_count: 0,
      prediction_count: 0,
      duration: (Date.now() - found.started) / 1000,
      file_upload_ids: ids,
      could_be_tasks_list: false,
      found_formats: [],
      data_columns: [...found.dataColumns].sort(),
    };
  });
}
