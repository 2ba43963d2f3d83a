/**
 * The export snapshot job: writes the project's JSON export (the same text as
 * `exportChunks(JSON)`) to `<dataDir>/exports/<project>/<id>.json` (file 0600, folders 0700),
 * computing its MD5 as it streams and recording status, counters and progress on the row.
 *
 * Idempotent: each attempt rewrites `<id>.json.part` from scratch and renames it into place; a
 * snapshot deleted meanwhile leaves no file behind. In-process jobs do not survive a restart, so
 * at start-up a snapshot still `created` or `in_progress` is marked failed.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppDeps } from '../../app-deps.js';
import type { Selectable } from 'kysely';
import { fromJson, type ExportSnapshotsTable } from '../../db/schema.js';
import type { JobDefinition } from '../../jobs/job-definitions.js';
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

/** Where a snapshot's file lives, absolute, and as stored in the row (relative to the data folder). */
export function snapshotPaths(dataDir: string, projectId: number, snapshotId: number) {
  const relative = path.join('exports', String(projectId), `${snapshotId}.json`);
  const file = path.join(dataDir, relative);
  return { dir: path.dirname(file), file, part: `${file}.part`, relative };
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

/** Removes a file if it is there; best effort (cleanup must not hide the error that caused it). */
export async function removeQuietly(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true }).catch(() => undefined);
}

/** Thrown inside the write when the snapshot row disappeared (deleted): stop quietly. */
class SnapshotDeleted extends Error {}

async function makePrivateDir(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.promises.chmod(dir, 0o700);
  await fs.promises.chmod(path.dirname(dir), 0o700);
}

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

/** Streams the export to the `.part` file; returns its MD5 and tally. */
async function writeFile(deps: AppDeps, job: JobContext<SnapshotJobPayload>, row: SnapshotRow, part: string): Promise<{ md5: string; tally: Tally }> {
  const sel = selectionOf(row.project_id, fromJson<SnapshotOptions>(row.options));
  const total = await countExportTasks(deps.db, sel);
  const tally: Tally = { counters: { task_number: 0, annotation_number: 0, prediction_number: 0 }, dataKeys: new Set() };
  const hash = createHash('md5');
  const onProgress = async () => {
    await job.reportProgress(total === 0 ? 1 : tally.counters.task_number / total);
    await saveCounters(deps, row.id, tally.counters);
  };
  const chunks = hashed(exportJson(tallied(exportTasks(deps.db, sel), tally, onProgress)), hash);
  await fs.promises.rm(part, { force: true });
  await pipeline(Readable.from(chunks), fs.createWriteStream(part, { mode: 0o600, flags: 'wx' }), { signal: job.signal });
  return { md5: hash.digest('hex'), tally };
}

/** Marks the snapshot completed; false when it was deleted meanwhile. */
async function complete(deps: AppDeps, row: SnapshotRow, relative: string, md5: string, tally: Tally): Promise<boolean> {
  const options: SnapshotOptions = { ...fromJson<SnapshotOptions>(row.options), data_keys: [...tally.dataKeys].sort() };
  const r = await deps.db
    .updateTable('export_snapshots')
    .set({ status: 'completed', file: relative, md5, counters: JSON.stringify(tally.counters), options: JSON.stringify(options), error: null, finished_at: new Date().toISOString() })
    .where('id', '=', row.id)
    .where('status', '=', 'in_progress')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** One attempt: claim the row, write the file, rename it into place, record the result. */
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
  const paths = snapshotPaths(deps.config.dataDir, row.project_id, id);
  try {
    await makePrivateDir(paths.dir);
    const { md5, tally } = await writeFile(deps, job, row, paths.part);
    await fs.promises.rename(paths.part, paths.file);
    if (!(await complete(deps, row, paths.relative, md5, tally))) await removeQuietly(paths.file);
  } catch (err) {
    await removeQuietly(paths.part);
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
  if (row) await removeQuietly(snapshotPaths(deps.config.dataDir, row.project_id, row.id).part);
}

/** Start-up recovery: a snapshot still unfinished was lost with the previous process; mark it failed. */
async function failInterruptedSnapshots(deps: AppDeps): Promise<number> {
  const rows = await deps.db
    .updateTable('export_snapshots')
    .set({ status: 'failed', error: 'The server stopped before the snapshot was finished.', finished_at: new Date().toISOString() })
    .where('status', 'in', UNFINISHED)
    .returning(['id', 'project_id'])
    .execute();
  for (const r of rows) await removeQuietly(snapshotPaths(deps.config.dataDir, r.project_id, r.id).part);
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
