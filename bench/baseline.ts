/**
 * The baseline: the same task and annotation rows the API import stores, inserted straight into
 * the server's database with prepared statements in one transaction, from the benchmark's own
 * connection. Columns match the import's batch writers (src/modules/imports/import-writers.ts); the counters that the import sets
 * afterwards (refreshTaskCounters) are written with the row, so both end in the same state.
 *
 * SQLite: one prepared statement per table, run once per row (better-sqlite3 is synchronous and
 * in-process, so this is the fastest way to insert). PostgreSQL: one prepared statement per table
 * that inserts a batch of 500 rows from arrays (unnest), since one round trip per row would
 * measure loopback latency rather than the database; 500 is also the server's batch size.
 */
import { randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { benchTask } from './bench-tasks.js';

export interface BaselineTarget {
  projectId: number;
  userId: number;
  tasks: number;
}

export interface BaselineResult {
  tasks: number;
  annotations: number;
  seconds: number;
}

const TASK_COLUMNS = 'project_id, inner_id, data, meta, file_upload_id, created_at, updated_at, updated_by_id, total_annotations, is_labeled';
const ANNOTATION_COLUMNS =
  'task_id, project_id, completed_by_id, result, was_cancelled, ground_truth, lead_time, unique_id, import_id, last_action, updated_by_id, created_at, updated_at';

/** The stored text of task `i`'s data and, when it has one, of its annotation's result. */
function rowOf(i: number): { data: string; result: string | null } {
  const task = benchTask(i);
  return { data: JSON.stringify(task.data), result: task.annotations ? JSON.stringify(task.annotations[0]!.result) : null };
}

/** Inserts into the SQLite file, with the pragmas the server opens it with. */
export function insertBaselineSqlite(file: string, t: BaselineTarget): BaselineResult {
  const db = new SQLite(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const insertTask = db.prepare(`insert into tasks (${TASK_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertAnnotation = db.prepare(`insert into annotations (${ANNOTATION_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    let annotations = 0;
    const started = performance.now();
    db.transaction(() => {
      const now = new Date().toISOString();
      for (let i = 0; i < t.tasks; i += 1) {
        const row = rowOf(i);
        const labeled = row.result === null ? 0 : 1;
        const { lastInsertRowid } = insertTask.run(t.projectId, i + 1, row.data, '{}', null, now, now, t.userId, labeled, labeled);
        if (row.result === null) continue;
        insertAnnotation.run(lastInsertRowid, t.projectId, t.userId, row.result, 0, 0, null, randomUUID(), null, 'imported', t.userId, now, now);
        annotations += 1;
      }
    })();
    return { tasks: t.tasks, annotations, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

const PG_BATCH = 500;

const PG_INSERT_TASKS = {
  name: 'bench_insert_tasks',
  text: `insert into tasks (${TASK_COLUMNS})
    select $1, r.inner_id, r.data, '{}'::jsonb, null, $2, $2, $3, r.labeled, r.labeled
    from unnest($4::bigint[], $5::jsonb[], $6::int[]) as r(inner_id, data, labeled)
    returning id, inner_id`,
};

const PG_INSERT_ANNOTATIONS = {
  name: 'bench_insert_annotations',
  text: `insert into annotations (${ANNOTATION_COLUMNS})
    select r.task_id, $1, $2, r.result, 0, 0, null, r.unique_id, null, 'imported', $2, $3, $3
    from unnest($4::bigint[], $5::jsonb[], $6::text[]) as r(task_id, result, unique_id)`,
};

async function insertPgBatch(client: pg.Client, t: BaselineTarget, now: string, start: number): Promise<number> {
  const end = Math.min(t.tasks, start + PG_BATCH);
  const inner: number[] = [];
  const data: string[] = [];
  const labeled: number[] = [];
  const results = new Map<number, string>();
  for (let i = start; i < end; i += 1) {
    const row = rowOf(i);
    inner.push(i + 1);
    data.push(row.data);
    labeled.push(row.result === null ? 0 : 1);
    if (row.result !== null) results.set(i + 1, row.result);
  }
  const inserted = await client.query<{ id: string; inner_id: string }>({ ...PG_INSERT_TASKS, values: [t.projectId, now, t.userId, inner, data, labeled] });
  const taskIds: string[] = [];
  const resultTexts: string[] = [];
  for (const r of inserted.rows) {
    const result = results.get(Number(r.inner_id));
    if (result === undefined) continue;
    taskIds.push(r.id);
    resultTexts.push(result);
  }
  if (taskIds.length === 0) return 0;
  const uuids = taskIds.map(() => randomUUID());
  await client.query({ ...PG_INSERT_ANNOTATIONS, values: [t.projectId, t.userId, now, taskIds, resultTexts, uuids] });
  return taskIds.length;
}

/** Inserts into the PostgreSQL database at `url`. */
export async function insertBaselinePg(url: string, t: BaselineTarget): Promise<BaselineResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    let annotations = 0;
    await client.query('begin');
    try {
      const now = new Date().toISOString();
      for (let start = 0; start < t.tasks; start += PG_BATCH) annotations += await insertPgBatch(client, t, now, start);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback');
      throw err;
    }
    return { tasks: t.tasks, annotations, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

