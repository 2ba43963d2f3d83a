/**
 * Imports tasks (with their annotations and predictions) into a project, all or nothing: every
 * task is validated against the labeling config and inserted in batches inside one transaction;
 * the first problem rolls everything back and is reported with the task's index.
 */
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import type { Database, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { resultProblem } from '../label-config/result-validation.js';
import { configOf, settingsOf } from '../projects/projects.service.js';
import { missingDataKey } from '../tasks/tasks.service.js';
import { AnnotationExports } from '../storages/annotation-exports.js';
import { recordUpload } from './uploads.service.js';
import type { RawTask } from './task-readers.js';
import { BATCH, batchWriter } from './import-writers.js';

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
