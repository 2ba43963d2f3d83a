/**
 * Imports tasks (with their annotations and predictions) into a project, all or nothing: every
 * task is validated against the labeling config and inserted in batches inside one transaction;
 * the first problem rolls everything back and is reported with the task's index.
 */
import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, PostgresAdapter, sql, type Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { sqliteHandleOf } from '../../db/database.js';
import type { Database, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { resultProblem } from '../label-config/result-validation.js';
import { configOf, settingsOf } from '../projects/projects.service.js';
import { missingDataKey, refreshTaskCounters } from '../tasks/tasks.service.js';
import { AnnotationExports } from '../storages/annotation-exports.js';
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

/** What a batch writer stores besides the tasks themselves. */
interface BatchContext {
  project: ProjectRow;
  actor: Actor;
  /** The project's maximum_annotations: a task with as many non-skipped annotations is labeled. */
  maximumAnnotations: number;
}

/** What one stored batch reports: the new task ids in the batch's order, and what came with them. */
interface BatchResult {
  ids: number[];
  annotations: number;
  predictions: number;
}

/** Stores one batch of validated tasks (with their annotations and predictions) in the import's transaction. */
type BatchWriter = (batch: ImportTask[], nextInner: number) => Promise<BatchResult>;

/**
 * A new task's counters, as refreshTaskCounters would compute them right after the insert: the
 * task exists only in this transaction, so its annotations and predictions are exactly the
 * imported ones. A task with neither keeps the defaults (not labeled), as before.
 */
function countersOf(t: ImportTask, maximumAnnotations: number) {
  let total = 0;
  let cancelled = 0;
  for (const raw of t.annotations) {
    if ((raw as Item).was_cancelled === true) cancelled += 1;
    else total += 1;
  }
  const touched = t.annotations.length > 0 || t.predictions.length > 0;
  return { total, cancelled, predictions: t.predictions.length, labeled: touched && total >= maximumAnnotations ? 1 : 0 };
}

/** An imported annotation's stored fields, besides task, project, user and time. */
function annotationFields(raw: unknown) {
  const a = raw as Item;
  return {
    result: a.result ?? [],
    was_cancelled: a.was_cancelled === true ? 1 : 0,
    ground_truth: a.ground_truth === true ? 1 : 0,
    lead_time: typeof a.lead_time === 'number' ? a.lead_time : null,
    unique_id: randomUUID(),
    import_id: Number.isSafeInteger(a.id) ? (a.id as number) : null,
  };
}

/** An imported prediction's stored fields, besides task, project and time. */
function predictionFields(raw: unknown, project: ProjectRow) {
  const p = raw as Item;
  return {
    result: p.result ?? [],
    score: typeof p.score === 'number' ? p.score : null,
    model_version: typeof p.model_version === 'string' ? p.model_version : project.model_version,
  };
}

const SQLITE_TASK_COLUMNS = 'project_id, inner_id, data, meta, file_upload_id, created_at, updated_at, updated_by_id, total_annotations, cancelled_annotations, total_predictions, is_labeled';
const SQLITE_TASK_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const SQLITE_TASK_PARAMS = 12;
/** Task rows per multi-row insert on SQLite (a third less CPU per row than one row per statement). */
const SQLITE_TASKS_PER_STATEMENT = 50;
const SQLITE_INSERT_ANNOTATION =
  'insert into annotations (task_id, project_id, completed_by_id, result, was_cancelled, ground_truth, lead_time, unique_id, import_id, last_action, updated_by_id, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const SQLITE_INSERT_PREDICTION = 'insert into predictions (task_id, project_id, result, score, model_version, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)';

/**
 * SQLite: values bound straight to prepared statements on the connection that holds the import's
 * transaction (better-sqlite3 is synchronous and in-process), task rows SQLITE_TASKS_PER_STATEMENT
 * at a time, counters written with the task row. Task ids are AUTOINCREMENT, so the rows of one
 * batch get consecutive ids in insertion order (this transaction is the only writer): the last
 * insert's rowid gives them all, and the first task's id is read back to check it.
 */
function sqliteWriter(handle: SQLite.Database, c: BatchContext): BatchWriter {
  const insertTasks = (rows: number) => handle.prepare(`insert into tasks (${SQLITE_TASK_COLUMNS}) values ${Array(rows).fill(SQLITE_TASK_VALUES).join(', ')}`);
  const insertMany = insertTasks(SQLITE_TASKS_PER_STATEMENT);
  const insertOne = insertTasks(1);
  const idOfInner = handle.prepare('select id from tasks where project_id = ? and inner_id = ?').pluck();
  const insertAnnotation = handle.prepare(SQLITE_INSERT_ANNOTATION);
  const insertPrediction = handle.prepare(SQLITE_INSERT_PREDICTION);
  const { project, actor } = c;
  const many = new Array<unknown>(SQLITE_TASKS_PER_STATEMENT * SQLITE_TASK_PARAMS);
  const one = new Array<unknown>(SQLITE_TASK_PARAMS);
  return async (batch, nextInner) => {
    // Kysely holds the only writing connection for this transaction; anything else would be a bug.
    if (!handle.inTransaction) throw new Error('import: the SQLite connection is not in the import transaction');
    const now = new Date().toISOString();
    const put = (params: unknown[], at: number, i: number) => {
      const t = batch[i]!;
      const n = countersOf(t, c.maximumAnnotations);
      params[at] = project.id;
      params[at + 1] = nextInner + i;
      params[at + 2] = JSON.stringify(t.data);
      params[at + 3] = JSON.stringify(t.meta);
      params[at + 4] = t.fileUploadId ?? null;
      params[at + 5] = now;
      params[at + 6] = now;
      params[at + 7] = actor.userId;
      params[at + 8] = n.total;
      params[at + 9] = n.cancelled;
      params[at + 10] = n.predictions;
      params[at + 11] = n.labeled;
    };
    let lastId = 0;
    let i = 0;
    for (; i + SQLITE_TASKS_PER_STATEMENT <= batch.length; i += SQLITE_TASKS_PER_STATEMENT) {
      for (let k = 0; k < SQLITE_TASKS_PER_STATEMENT; k += 1) put(many, k * SQLITE_TASK_PARAMS, i + k);
      lastId = Number(insertMany.run(many).lastInsertRowid);
    }
    for (; i < batch.length; i += 1) {
      put(one, 0, i);
      lastId = Number(insertOne.run(one).lastInsertRowid);
    }
    const firstId = lastId - batch.length + 1;
    if (Number(idOfInner.get(project.id, nextInner)) !== firstId) throw new Error(`import: task ids of inner ids ${nextInner}… are not consecutive`);
    const ids: number[] = new Array<number>(batch.length);
    let annotations = 0;
    let predictions = 0;
    for (let k = 0; k < batch.length; k += 1) {
      const t = batch[k]!;
      const id = firstId + k;
      ids[k] = id;
      for (const raw of t.annotations) {
        const a = annotationFields(raw);
        insertAnnotation.run(id, project.id, actor.userId, JSON.stringify(a.result), a.was_cancelled, a.ground_truth, a.lead_time, a.unique_id, a.import_id, 'imported', actor.userId, now, now);
      }
      for (const raw of t.predictions) {
        const p = predictionFields(raw, project);
        insertPrediction.run(id, project.id, JSON.stringify(p.result), p.score, p.model_version, now, now);
      }
      annotations += t.annotations.length;
      predictions += t.predictions.length;
    }
    return { ids, annotations, predictions };
  };
}

/**
 * PostgreSQL: one statement and one round trip per batch. The tasks, their annotations and
 * predictions travel as three JSON parameters read by `jsonb_to_recordset`; data-modifying CTEs
 * insert all three tables (annotations and predictions find their task through its inner id),
 * and the statement answers the new task ids in inner-id order. Counters are written with the
 * task row. The statement text is constant (the server can reuse its plan shape).
 */
const PG_INSERT_BATCH = `with t as (
  insert into tasks (project_id, inner_id, data, meta, file_upload_id, created_at, updated_at, updated_by_id, total_annotations, cancelled_annotations, total_predictions, is_labeled)
  select $1, r.inner_id, r.data, r.meta, r.file_upload_id, $2, $2, $3, r.total, r.cancelled, r.predictions, r.labeled
  from jsonb_to_recordset($4::jsonb) as r(inner_id bigint, data jsonb, meta jsonb, file_upload_id integer, total integer, cancelled integer, predictions integer, labeled integer)
  returning id, inner_id
), a as (
  insert into annotations (task_id, project_id, completed_by_id, result, was_cancelled, ground_truth, lead_time, unique_id, import_id, last_action, updated_by_id, created_at, updated_at)
  select t.id, $1, $3, r.result, r.was_cancelled, r.ground_truth, r.lead_time, r.unique_id, r.import_id, 'imported', $3, $2, $2
  from rows from (jsonb_to_recordset($5::jsonb) as (inner_id bigint, result jsonb, was_cancelled integer, ground_truth integer, lead_time double precision, unique_id text, import_id bigint)) with ordinality as r(inner_id, result, was_cancelled, ground_truth, lead_time, unique_id, import_id, n)
  join t on t.inner_id = r.inner_id order by r.n
), p as (
  insert into predictions (task_id, project_id, result, score, model_version, created_at, updated_at)
  select t.id, $1, r.result, r.score, r.model_version, $2, $2
  from rows from (jsonb_to_recordset($6::jsonb) as (inner_id bigint, result jsonb, score double precision, model_version text)) with ordinality as r(inner_id, result, score, model_version, n)
  join t on t.inner_id = r.inner_id order by r.n
)
select id from t order by inner_id`;

/** The PostgreSQL batch writer (see PG_INSERT_BATCH). */
function postgresWriter(trx: Transaction<Database>, c: BatchContext): BatchWriter {
  const { project, actor } = c;
  return async (batch, nextInner) => {
    const tasks: unknown[] = [];
    const annotations: unknown[] = [];
    const predictions: unknown[] = [];
    for (let i = 0; i < batch.length; i += 1) {
      const t = batch[i]!;
      const inner_id = nextInner + i;
      const n = countersOf(t, c.maximumAnnotations);
      tasks.push({ inner_id, data: t.data, meta: t.meta, file_upload_id: t.fileUploadId ?? null, total: n.total, cancelled: n.cancelled, predictions: n.predictions, labeled: n.labeled });
      for (const raw of t.annotations) annotations.push({ inner_id, ...annotationFields(raw) });
      for (const raw of t.predictions) predictions.push({ inner_id, ...predictionFields(raw, project) });
    }
    const now = new Date().toISOString();
    const query = CompiledQuery.raw(PG_INSERT_BATCH, [project.id, now, actor.userId, JSON.stringify(tasks), JSON.stringify(annotations), JSON.stringify(predictions)]);
    const { rows } = await trx.executeQuery<{ id: number }>(query);
    if (rows.length !== batch.length) throw new Error(`import: ${rows.length} task ids returned for ${batch.length} tasks`);
    return { ids: rows.map((r) => Number(r.id)), annotations: annotations.length, predictions: predictions.length };
  };
}

const TASK_COLUMNS = ['project_id', 'inner_id', 'data', 'meta', 'file_upload_id', 'created_at', 'updated_at', 'updated_by_id'] as const;
const ANNOTATION_COLUMNS = ['task_id', 'project_id', 'completed_by_id', 'result', 'was_cancelled', 'ground_truth', 'lead_time', 'unique_id', 'import_id', 'last_action', 'updated_by_id', 'created_at', 'updated_at'] as const;
const PREDICTION_COLUMNS = ['task_id', 'project_id', 'result', 'score', 'model_version', 'created_at', 'updated_at'] as const;

/**
 * Any other database handle (SQLite opened outside openDatabase): each table with one statement
 * whose only parameter is the rows as a JSON array (json-batch-insert.ts), then the counters.
 */
function jsonBatchWriter(trx: Transaction<Database>, c: BatchContext): BatchWriter {
  const { project, actor } = c;
  return async (batch, nextInner) => {
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
        const a = annotationFields(raw);
        return { ...a, result: jsonColumn(pg, a.result), task_id: ids[i]!, project_id: project.id, completed_by_id: actor.userId, last_action: 'imported', updated_by_id: actor.userId, created_at: now, updated_at: now };
      }),
    );
    const predictions = batch.flatMap((t, i) =>
      t.predictions.map((raw) => {
        const p = predictionFields(raw, project);
        return { ...p, result: jsonColumn(pg, p.result), task_id: ids[i]!, project_id: project.id, created_at: now, updated_at: now };
      }),
    );
    await insertJsonRows(trx, pg, 'annotations', ANNOTATION_COLUMNS, annotations);
    await insertJsonRows(trx, pg, 'predictions', PREDICTION_COLUMNS, predictions);
    const touched = ids.filter((_, i) => batch[i]!.annotations.length > 0 || batch[i]!.predictions.length > 0);
    for (let i = 0; i < touched.length; i += BATCH) await refreshTaskCounters(trx, touched.slice(i, i + BATCH), c.maximumAnnotations);
    return { ids, annotations: annotations.length, predictions: predictions.length };
  };
}

/** The fastest writer the transaction's database allows. */
function batchWriter(deps: AppDeps, trx: Transaction<Database>, c: BatchContext): BatchWriter {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) return postgresWriter(trx, c);
  const handle = sqliteHandleOf(deps.db);
  return handle ? sqliteWriter(handle, c) : jsonBatchWriter(trx, c);
}

/** checkTask with the common case (every data key present) answered without allocating. */
function taskProblem(config: LabelConfig, t: ImportTask): string | null {
  if (t.annotations.length === 0 && t.predictions.length === 0) {
    let complete = true;
    for (const k of config.dataKeys) if (!(k in t.data)) complete = false;
    if (complete) return null;
  }
  return checkTask(config, t);
}

/**
 * Where importTasks reads tasks: a list, or (called inside the transaction) a stream of tasks or
 * of batches of tasks, in order.
 */
export type TaskSource = Iterable<ImportTask> | AsyncIterable<ImportTask | ImportTask[]> | ((trx: Transaction<Database>) => AsyncIterable<ImportTask | ImportTask[]>);

/**
 * Imports tasks into a project in one transaction; throws a 400 naming the first bad task.
 * Batches of BATCH tasks are validated, then written; on PostgreSQL the next batch is read and
 * validated while the database stores the previous one (at most one batch in flight, so memory
 * stays flat), and any failure still rolls back the whole import.
 */
export async function importTasks(deps: AppDeps, actor: Actor, audit: AuditFn, project: ProjectRow, tasks: TaskSource, opts: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const config = configOf(project);
  const columns = new Set<string>();
  const exports = await AnnotationExports.of(deps, project.id);
  const summary = await deps.db.transaction().execute(async (trx) => {
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
    if (opts.replaceTasksOfUploads?.length) await exports.deleting(() => trx.selectFrom('annotations').select('id').where('task_id', 'in', trx.selectFrom('tasks').select('id').where('project_id', '=', project.id).where('file_upload_id', 'in', opts.replaceTasksOfUploads!)).execute());
    if (opts.replaceTasksOfUploads?.length) replaced = Number((await trx.deleteFrom('tasks').where('project_id', '=', project.id).where('file_upload_id', 'in', opts.replaceTasksOfUploads).executeTakeFirst()).numDeletedRows);
    const write = batchWriter(deps, trx, { project, actor, maximumAnnotations: settingsOf(project).maximum_annotations });
    let batch: ImportTask[] = [];
    // Only the count and the first and last ids, unless the caller asked for every id.
    const taskIds: number[] | undefined = opts.returnTaskIds ? [] : undefined;
    let queued = 0; // tasks handed to the writer (stored, or in flight)
    let taskCount = 0;
    let firstId: number | undefined;
    let lastId: number | undefined;
    let annotationCount = 0;
    let predictionCount = 0;
    let inFlight: Promise<void> | undefined;
    const settle = async () => {
      const pending = inFlight;
      inFlight = undefined;
      await pending;
    };
    const flush = async () => {
      if (batch.length === 0) return;
      await settle();
      const writing = write(batch, nextInner).then((r) => {
        taskCount += r.ids.length;
        firstId ??= r.ids[0];
        lastId = r.ids[r.ids.length - 1];
        if (taskIds) for (const id of r.ids) taskIds.push(id);
        annotationCount += r.annotations;
        predictionCount += r.predictions;
      });
      writing.catch(() => undefined); // awaited by the next settle(); never an unhandled rejection meanwhile
      inFlight = writing;
      nextInner += batch.length;
      queued += batch.length;
      batch = [];
    };
    const accept = (t: ImportTask) => {
      const problem = taskProblem(config, t);
      if (problem) throw invalid({ tasks: [`task ${t.index + 1}: ${problem}`] }, 'Import refused: nothing was imported');
      for (const k of Object.keys(t.data)) columns.add(k);
      if (opts.exactlyOne && queued + batch.length >= 1) throw notExactlyOne();
      batch.push(t);
    };
    try {
      for await (const item of typeof tasks === 'function' ? tasks(trx) : tasks) {
        for (const t of Array.isArray(item) ? (item as ImportTask[]) : [item as ImportTask]) {
          accept(t);
          if (batch.length >= BATCH) await flush();
        }
      }
      await flush();
      await settle();
    } finally {
      // A failure while a batch is in flight: let it finish before the transaction rolls back.
      await inFlight?.catch(() => undefined);
    }
    if (taskCount === 0) throw opts.exactlyOne ? notExactlyOne() : invalid({ tasks: ['No tasks found in the import.'] });
    if (annotationCount > 0) exports.writtenTasks(firstId, lastId);
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
  deps.metrics?.countImported(summary.task_count); // committed
  await exports.queue();
  return summary;
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
