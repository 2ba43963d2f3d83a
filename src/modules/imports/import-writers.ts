/**
 * The import's batch writers: each stores one batch of validated tasks, with their annotations
 * and predictions, inside the import's transaction, in the fastest way the database allows —
 * SQLite: prepared statements bound straight on the connection Kysely holds; PostgreSQL: one
 * statement per batch from JSON arrays; otherwise portable JSON batch inserts. Each new task is
 * written with its counters (import.service.ts validates the tasks and runs the transaction).
 */
import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, PostgresAdapter, type Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { sqliteHandleOf } from '../../db/database.js';
import type { Database, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { refreshTaskCounters } from '../tasks/tasks.service.js';
import type { ImportTask } from './import.service.js';
import { insertJsonRows, jsonColumn } from './json-batch-insert.js';

/** Tasks per batch: validated, written and counted together. */
export const BATCH = 500;

type Item = { result?: unknown; [k: string]: unknown };

/** What a batch writer stores besides the tasks themselves. */
export interface BatchContext {
  project: ProjectRow;
  actor: Actor;
  /** The project's maximum_annotations: a task with as many non-skipped annotations is labeled. */
  maximumAnnotations: number;
}

/** What one stored batch reports: the new task ids in the batch's order, and what came with them. */
export interface BatchResult {
  ids: number[];
  annotations: number;
  predictions: number;
}

/** Stores one batch of validated tasks (with their annotations and predictions) in the import's transaction. */
export type BatchWriter = (batch: ImportTask[], nextInner: number) => Promise<BatchResult>;

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
export function batchWriter(deps: AppDeps, trx: Transaction<Database>, c: BatchContext): BatchWriter {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) return postgresWriter(trx, c);
  const handle = sqliteHandleOf(deps.db);
  return handle ? sqliteWriter(handle, c) : jsonBatchWriter(trx, c);
}
