/**
 * Export (target) storages: annotations written to the customer's storage in Label Studio's
 * layout, one object per annotation at `<prefix>/<annotation id>` (local files: `<path>/<id>`;
 * Redis: `<path>:<id>`) holding the annotation with its task. Jobs, all queued after the change
 * has committed and without waiting for the storage:
 * - `storage.export_annotation`: one annotation created, changed or deleted (queued by
 *   `queueAnnotationExport` from the annotation routes).
 * - `storage.export_annotations`: many at once (queued by `AnnotationExports`, see
 *   annotation-exports.ts): up to EXPORT_CHUNK ids to write or remove, or every annotation of
 *   the tasks an import made (a task id range, so a 100,000-task import queues one job).
 *   An annotation to write that no longer exists is removed instead; removing happens only in
 *   storages with `can_delete_objects`.
 * - `storage.export_sync`: a manual sync writes every annotation of the project.
 * Handlers are idempotent (they write the annotation as it is now, or remove its object). The
 * first two are retried with backoff; a failure that outlasts the retries marks each storage it
 * failed on `failed` with what was not exported in `traceback` (never dropped silently: a manual
 * sync rewrites everything).
 */
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import { fromJson, type StorageRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import type { JobDefinition } from '../../jobs/job-definitions.js';
import type { JobContext, JobOptions } from '../../jobs/job-runner.js';
import { exportPage, ExportFailedError, safeText } from './storage-export.writer.js';
import { findStorage, listStorageRows, updateStorageRow } from './storages.repository.js';

export const EXPORT_ANNOTATION_JOB = 'storage.export_annotation';
export const EXPORT_ANNOTATIONS_JOB = 'storage.export_annotations';
export const EXPORT_SYNC_JOB = 'storage.export_sync';
/** One manual export sync per storage at a time. */
export const exportSyncJobId = (storageId: number) => `storage-export-sync-${storageId}`;
/** Annotation ids in one `storage.export_annotations` job. */
export const EXPORT_CHUNK = 1000;
/** Retries of the change jobs: five tries, 1, 2, 4 and 8 seconds apart. */
export const EXPORT_RETRY: JobOptions = { attempts: 5, backoff: { type: 'exponential', delayMs: 1000 } };

/** Payload of the per-annotation job. */
export interface ExportAnnotationPayload {
  projectId: number;
  annotationId: number;
  op: 'write' | 'delete';
}
/** Payload of the bulk job: `ids` (at most EXPORT_CHUNK), or (writes only) the annotations of the project's tasks with ids from `tasks.from` to `tasks.to`. */
export interface ExportAnnotationsPayload {
  projectId: number;
  op: 'write' | 'delete';
  ids?: number[];
  tasks?: { from: number; to: number };
}
/** Payload of the manual sync. */
export interface ExportSyncPayload {
  storageId: number;
}

/** Which export storages a project has: any at all, and any that removes deleted annotations' objects. */
export interface ExportTargets {
  any: boolean;
  deletes: boolean;
}

const PAGE = 500;

/** A project's export targets, in one indexed query (a project has a handful of storages at most). */
export async function exportTargetsOf(db: Db, projectId: number): Promise<ExportTargets> {
  const rows = await db.selectFrom('export_storages').select('settings').where('project_id', '=', projectId).execute();
  return { any: rows.length > 0, deletes: rows.some((r) => fromJson<Record<string, unknown>>(r.settings).can_delete_objects === true) };
}

/**
 * Marks a project's export storages `failed` (those named by an ExportFailedError, else all)
 * with what was not exported: the failure stays visible until a sync succeeds.
 */
export async function markExportFailed(db: Db, projectId: number, what: string, error: unknown): Promise<void> {
  const text = `${what} not exported: ${error instanceof Error ? error.message : 'failed'}. Sync the storage to write everything again.`;
  let q = db.updateTable('export_storages').set({ status: 'failed', traceback: text.slice(0, 4000), updated_at: new Date().toISOString() }).where('project_id', '=', projectId);
  if (error instanceof ExportFailedError) q = q.where('id', 'in', [...error.byStorage.keys()]);
  await q.execute();
}

/**
 * Queues the export of an annotation change when its project has export storages (one indexed
 * query; nothing is queued otherwise). Never throws: a queueing failure marks the storages failed.
 */
export async function queueAnnotationExport(deps: AppDeps, projectId: number, annotationId: number, op: 'write' | 'delete'): Promise<void> {
  const any = await deps.db.selectFrom('export_storages').select('id').where('project_id', '=', projectId).limit(1).executeTakeFirst();
  if (!any) return;
  await deps.jobs
    .enqueue<ExportAnnotationPayload>(EXPORT_ANNOTATION_JOB, { projectId, annotationId, op }, EXPORT_RETRY)
    .catch((err: unknown) => markExportFailed(deps.db, projectId, `annotation ${annotationId} (${op}) could not be queued and was`, err))
    .catch(() => undefined);
}

/** Queues the manual sync of an export storage. */
export async function enqueueExportSync(deps: AppDeps, _actor: Actor, row: StorageRow) {
  return deps.jobs.enqueue<ExportSyncPayload>(EXPORT_SYNC_JOB, { storageId: row.id }, { jobId: exportSyncJobId(row.id), attempts: 3 });
}

/** The annotation ids of a page of the project's tasks in the range, after task `after`; null when none is left. */
async function rangePage(deps: AppDeps, projectId: number, range: { from: number; to: number }, after: number): Promise<{ last: number; ids: number[] } | null> {
  const tasks = await deps.db.selectFrom('tasks').select('id').where('project_id', '=', projectId).where('id', '>', after).where('id', '<=', range.to).orderBy('id').limit(PAGE).execute();
  if (tasks.length === 0) return null;
  const rows = await deps.db.selectFrom('annotations').select('id').where('task_id', 'in', tasks.map((t) => t.id)).orderBy('id').execute();
  return { last: tasks[tasks.length - 1]!.id, ids: rows.map((r) => r.id) };
}

/** One try of the bulk job: every storage of the project; throws an ExportFailedError naming those that failed (retry). */
async function exportAnnotations(deps: AppDeps, job: JobContext<ExportAnnotationsPayload>): Promise<void> {
  const p = job.payload;
  const rows = await listStorageRows(deps.db, 'export', p.projectId);
  if (rows.length === 0) return;
  const failed = new Map<number, string>();
  for (let i = 0; p.ids && i < p.ids.length; i += PAGE) await exportPage(deps, rows, p.op, p.ids.slice(i, i + PAGE), failed);
  if (p.tasks && p.op === 'write') {
    const span = Math.max(p.tasks.to - p.tasks.from + 1, 1);
    for (let after = p.tasks.from - 1; failed.size < rows.length; ) {
      job.signal.throwIfAborted();
      const page = await rangePage(deps, p.projectId, p.tasks, after);
      if (!page) break;
      if (page.ids.length > 0) await exportPage(deps, rows, 'write', page.ids, failed);
      after = page.last;
      await job.reportProgress((after - p.tasks.from + 1) / span);
    }
  }
  if (failed.size > 0) throw new ExportFailedError(failed);
}

/** What a bulk payload covers, for the traceback. */
function describeBulk(p: ExportAnnotationsPayload): string {
  if (p.tasks) return `annotations of tasks ${p.tasks.from}…${p.tasks.to} (${p.op})`;
  const ids = p.ids ?? [];
  return ids.length === 1 ? `annotation ${ids[0]} (${p.op})` : `${ids.length} annotations ${ids[0]}…${ids[ids.length - 1]} (${p.op})`;
}

/** Writes every annotation of the storage's project. */
async function exportAll(deps: AppDeps, p: ExportSyncPayload): Promise<void> {
  const row = await findStorage(deps.db, 'export', p.storageId);
  if (!row) return;
  await updateStorageRow(deps.db, 'export', row.id, { status: 'in_progress' });
  const failed = new Map<number, string>();
  let written = 0;
  try {
    for (let after = 0; ; ) {
      const ids = await deps.db.selectFrom('annotations').select('id').where('project_id', '=', row.project_id).where('id', '>', after).orderBy('id').limit(PAGE).execute();
      if (ids.length === 0) break;
      written += await exportPage(deps, [row], 'write', ids.map((r) => r.id), failed);
      if (failed.size > 0) throw new ExportFailedError(failed);
      after = ids[ids.length - 1]!.id;
      await updateStorageRow(deps.db, 'export', row.id, { meta: JSON.stringify({ annotations_written: written }) });
    }
    await updateStorageRow(deps.db, 'export', row.id, { status: 'completed', last_sync: new Date().toISOString(), last_sync_count: written, traceback: null, meta: JSON.stringify({ annotations_written: written }) });
  } catch (err) {
    await updateStorageRow(deps.db, 'export', row.id, { status: 'failed', last_sync: new Date().toISOString(), last_sync_count: written, traceback: failed.get(row.id) ?? safeText(err) });
    throw err;
  }
}

/** The per-annotation export job. */
export const exportAnnotationJob: JobDefinition<ExportAnnotationPayload> = {
  name: EXPORT_ANNOTATION_JOB,
  handler: (deps) => ({
    run: async ({ payload: p }) => {
      const failed = new Map<number, string>();
      await exportPage(deps, await listStorageRows(deps.db, 'export', p.projectId), p.op, [p.annotationId], failed);
      if (failed.size > 0) throw new ExportFailedError(failed);
    },
    onFailed: (job, error) => markExportFailed(deps.db, job.payload.projectId, `annotation ${job.payload.annotationId} (${job.payload.op}), after ${job.maxAttempts} tries,`, error),
  }),
};

/** The bulk export job (many annotations written or removed). */
export const exportAnnotationsJob: JobDefinition<ExportAnnotationsPayload> = {
  name: EXPORT_ANNOTATIONS_JOB,
  handler: (deps) => ({
    run: (job) => exportAnnotations(deps, job),
    onFailed: (job, error) => markExportFailed(deps.db, job.payload.projectId, `${describeBulk(job.payload)}, after ${job.maxAttempts} tries,`, error),
  }),
};

/** The manual export sync job. */
export const exportSyncJob: JobDefinition<ExportSyncPayload> = {
  name: EXPORT_SYNC_JOB,
  handler: (deps) => ({ run: (job) => exportAll(deps, job.payload) }),
  recoverInterrupted: async (deps) => {
    const r = await deps.db.updateTable('export_storages').set({ status: 'failed', traceback: 'The server stopped during the sync: sync again.' }).where('status', 'in', ['queued', 'in_progress']).executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
};
