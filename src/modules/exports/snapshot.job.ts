/**
 * The export snapshot job: writes the project's JSON export (the same text as
 * `exportChunks(JSON)`) to the file store (storage/file-store.ts: the data folder, or the bucket
 * with FILE_STORAGE=s3) under `exports/<project>/<id>.json`, computing its MD5 as it streams and
 * recording status, counters and progress on the row.
 *
 * Idempotent: each attempt rewrites the file from scratch, and the file store shows it only once
 * whole; a snapshot deleted meanwhile leaves no file behind. In-process jobs do not survive a
 * restart, so at start-up a snapshot still `created` or `in_progress` is marked failed.
 */
import { createHash, type Hash } from 'node:crypto';
import type { AppDeps } from '../../app-deps.js';
import type { Selectable } from 'kysely';
import { fromJson, type ExportSnapshotsTable } from '../../db/schema.js';
import type { JobDefinition } from '../../jobs/job-definitions.js';
import { fileStoreOf, type FileStore } from '../../storage/file-store.js';
import { PermanentJobError, type JobContext } from '../../jobs/job-runner.js';
import type { ExportTask } from './export-types.js';
import { countExportTasks, exportTasks, type ExportSelection } from './exports.service.js';
import { exportJson } from './formats.js';
import type { SnapshotCounters, SnapshotOptions } from './snapshots.schemas.js';

/** The job's name. */
export const SNAPSHOT_JOB = 'export.snapshot';
/** The job's payload: the snapshot row to fill. */
export interface SnapshotJobPayload {
  snapshotId: number;
}
/** The job id of a snapshot (one job per snapshot: enqueueing twice runs it once). */
export const snapshotJobId = (snapshotId: number) => `export-snapshot-${snapshotId}`;

type SnapshotRow = Selectable<ExportSnapshotsTable>;
const UNFINISHED = ['created', 'in_progress'];
/** Tasks between two counter updates on the row. */
const PROGRESS_EVERY = 500;

/**
 * The file store key of a snapshot's file, as recorded in the row's `file` (the same text as the
 * path relative to the data folder that earlier versions recorded).
 */
export const snapshotKey = (projectId: number, snapshotId: number) => `exports/${projectId}/${snapshotId}.json`;

/**
 * Removes every snapshot file of a project from the file store, for project deletion: the rows
 * go with the project, and its files must be removed once that deletion has committed.
 */
export async function removeProjectSnapshotFiles(deps: AppDeps, projectId: number): Promise<void> {
  await (await fileStoreOf(deps.config)).deletePrefix(`exports/${projectId}/`);
}

/** What a snapshot's options select, for exportTasks. */
export function selectionOf(projectId: number, o: SnapshotOptions): ExportSelection {
  return {
    projectId,
    allTasks: o.task_filter_options.only_with_annotations !== true,
    tasks: o.task_filter_options,
    annotations: o.annotation_filter_options,
    expandUsers: o.serialization_options.annotations__completed_by?.only_id === false,
  };
}

/** Removes a stored file if it is there; best effort (cleanup must not hide the error that caused it). */
export async function removeQuietly(store: FileStore, key: string): Promise<void> {
  await store.delete(key).catch(() => undefined);
}

/** Thrown inside the write when the snapshot row disappeared (deleted): stop quietly. */
class SnapshotDeleted extends Error {}

async function* hashed(chunks: AsyncIterable<string>, hash: Hash): AsyncGenerator<string> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

interface Tally {
  counters: Required<SnapshotCounters>;
  dataKeys: Set<string>;
}

/** Passes tasks through, counting them and recording progress every PROGRESS_EVERY tasks. */
async function* tallied(tasks: AsyncIterable<ExportTask>, tally: Tally, onProgress: () => Promise<void>): AsyncGenerator<ExportTask> {
  for await (const task of tasks) {
    tally.counters.task_number += 1;
    tally.counters.annotation_number += task.annotations.length;
    tally.counters.prediction_number += task.predictions.length;
    for (const key of Object.keys(task.data)) tally.dataKeys.add(key);
    yield task;
    if (tally.counters.task_number % PROGRESS_EVERY === 0) await onProgress();
  }
}

async function saveCounters(deps: AppDeps, id: number, counters: SnapshotCounters): Promise<void> {
  const r = await deps.db.updateTable('export_snapshots').set({ counters: JSON.stringify(counters) }).where('id', '=', id).where('status', '=', 'in_progress').executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new SnapshotDeleted();
}

/** Streams the export into the file store under `key`; returns its MD5 and tally. */
async function writeFile(deps: AppDeps, job: JobContext<SnapshotJobPayload>, row: SnapshotRow, store: FileStore, key: string): Promise<{ md5: string; tally: Tally }> {
  const sel = selectionOf(row.project_id, fromJson<SnapshotOptions>(row.options));
  const total = await countExportTasks(deps.db, sel);
  const tally: Tally = { counters: { task_number: 0, annotation_number: 0, prediction_number: 0 }, dataKeys: new Set() };
  const hash = createHash('md5');
  const onProgress = async () => {
    await job.reportProgress(total === 0 ? 1 : tally.counters.task_number / total);
    await saveCounters(deps, row.id, tally.counters);
  };
  const chunks = hashed(exportJson(tallied(exportTasks(deps.db, sel), tally, onProgress)), hash);
  await store.put(key, chunks, { contentType: 'application/json', signal: job.signal });
  return { md5: hash.digest('hex'), tally };
}

/** Marks the snapshot completed; false when it was deleted meanwhile. */
async function complete(deps: AppDeps, row: SnapshotRow, key: string, md5: string, tally: Tally): Promise<boolean> {
  const options: SnapshotOptions = { ...fromJson<SnapshotOptions>(row.options), data_keys: [...tally.dataKeys].sort() };
  const r = await deps.db
    .updateTable('export_snapshots')
    .set({ status: 'completed', file: key, md5, counters: JSON.stringify(tally.counters), options: JSON.stringify(options), error: null, finished_at: new Date().toISOString() })
    .where('id', '=', row.id)
    .where('status', '=', 'in_progress')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** One attempt: claim the row, write the file, record the result. */
async function runSnapshot(deps: AppDeps, job: JobContext<SnapshotJobPayload>): Promise<void> {
  const id = job.payload.snapshotId;
  if (!Number.isInteger(id)) throw new PermanentJobError('The job payload has no snapshot id.');
  const row = await deps.db
    .updateTable('export_snapshots')
    .set({ status: 'in_progress', error: null })
    .where('id', '=', id)
    .where('status', 'in', UNFINISHED)
    .returningAll()
    .executeTakeFirst();
  if (!row) return; // deleted, or already finished by an earlier run
  await job.reportProgress(0);
  const store = await fileStoreOf(deps.config);
  const key = snapshotKey(row.project_id, id);
  try {
    const { md5, tally } = await writeFile(deps, job, row, store, key);
    if (await complete(deps, row, key, md5, tally)) deps.metrics?.countExported('snapshot', tally.counters.task_number);
    else await removeQuietly(store, key);
  } catch (err) {
    if (!(err instanceof SnapshotDeleted)) throw err;
  }
}

/** Marks a snapshot failed for good, keeping the reason on the row (server side: not shown to clients). */
async function failSnapshot(deps: AppDeps, snapshotId: number, error: unknown): Promise<void> {
  const row = await deps.db
    .updateTable('export_snapshots')
    .set({ status: 'failed', error: error instanceof Error ? error.message : String(error), finished_at: new Date().toISOString() })
    .where('id', '=', snapshotId)
    .where('status', 'in', UNFINISHED)
    .returning(['id', 'project_id'])
    .executeTakeFirst();
  if (row) await removeQuietly(await fileStoreOf(deps.config), snapshotKey(row.project_id, row.id));
}

/** Start-up recovery: a snapshot still unfinished was lost with the previous process; mark it failed. */
async function failInterruptedSnapshots(deps: AppDeps): Promise<number> {
  const rows = await deps.db
    .updateTable('export_snapshots')
    .set({ status: 'failed', error: 'The server stopped before the snapshot was finished.', finished_at: new Date().toISOString() })
    .where('status', 'in', UNFINISHED)
    .returning(['id', 'project_id'])
    .execute();
  if (rows.length === 0) return 0;
  const store = await fileStoreOf(deps.config);
  for (const r of rows) await removeQuietly(store, snapshotKey(r.project_id, r.id));
  return rows.length;
}

/** The snapshot job, as registered with the job runner. */
export const snapshotJob: JobDefinition<SnapshotJobPayload> = {
  name: SNAPSHOT_JOB,
  handler: (deps) => ({
    run: (job) => runSnapshot(deps, job),
    onFailed: (job, error) => failSnapshot(deps, job.payload.snapshotId, error),
  }),
  recoverInterrupted: failInterruptedSnapshots,
};
