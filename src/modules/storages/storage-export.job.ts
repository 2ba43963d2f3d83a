/**
 * Export (target) storages: annotations written to the customer's storage in Label Studio's
 * layout, one object per annotation at `<prefix>/<annotation id>` holding the annotation with its
 * task. Two jobs:
 * - `storage.export_annotation`: after an annotation is created, changed or deleted (queued by
 *   `queueAnnotationExport`, outside the request's transaction and without waiting for the
 *   storage), writes it to every export storage of its project, or removes it from those with
 *   `can_delete_objects`. Retried with backoff; a failure that outlasts the retries marks each
 *   storage it failed on `failed` with the annotation in `traceback` (never dropped silently:
 *   a manual sync rewrites everything).
 * - `storage.export_sync`: a manual sync writes every annotation of the project.
 */
import type { AppDeps } from '../../app-deps.js';
import { fromJson, type StorageRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import type { JobDefinition } from '../../jobs/job-definitions.js';
import { joinKey, StorageError, type StorageAdapter } from '../../storage/storage-adapter.js';
import { annotationOut } from '../tasks/tasks.mapper.js';
import { adapterOfRow, settingsOfRow } from './storage-connection.js';
import { specOf } from './storage-types.js';
import { findStorage, listStorageRows, updateStorageRow } from './storages.repository.js';

export const EXPORT_ANNOTATION_JOB = 'storage.export_annotation';
export const EXPORT_SYNC_JOB = 'storage.export_sync';
/** One manual export sync per storage at a time. */
export const exportSyncJobId = (storageId: number) => `storage-export-sync-${storageId}`;

/** Payload of the per-annotation job. */
export interface ExportAnnotationPayload {
  projectId: number;
  annotationId: number;
  op: 'write' | 'delete';
}
/** Payload of the manual sync. */
export interface ExportSyncPayload {
  storageId: number;
}

const PAGE = 500;

/** The object key of an annotation in a storage (`<prefix>/<id>`, or the type's own layout, e.g. Redis `<path>:<id>`). */
const keyOf = (row: StorageRow, annotationId: number) => {
  const settings = settingsOfRow(row);
  const own = specOf(row.type).exportKey;
  if (own) return own(settings, annotationId);
  return joinKey(typeof settings.prefix === 'string' ? settings.prefix : '', String(annotationId));
};

/** The JSON written for an annotation: the annotation with its task (Label Studio's layout). */
async function documentOf(deps: AppDeps, annotationId: number): Promise<string | null> {
  const a = await deps.db.selectFrom('annotations').selectAll().where('id', '=', annotationId).executeTakeFirst();
  if (!a) return null;
  const t = await deps.db.selectFrom('tasks').selectAll().where('id', '=', a.task_id).executeTakeFirstOrThrow();
  // The task's data as stored (storage URIs, not the app's resolve URLs).
  const task = { id: t.id, data: fromJson(t.data), meta: fromJson(t.meta), project: t.project_id, inner_id: t.inner_id, is_labeled: t.is_labeled === 1, created_at: t.created_at, updated_at: t.updated_at };
  return JSON.stringify({ ...annotationOut(a), task });
}

/**
 * Queues the export of an annotation change when its project has export storages (one indexed
 * query; nothing is queued otherwise). Never throws: a queueing failure is logged by the runner.
 */
export async function queueAnnotationExport(deps: AppDeps, projectId: number, annotationId: number, op: 'write' | 'delete'): Promise<void> {
  const any = await deps.db.selectFrom('export_storages').select('id').where('project_id', '=', projectId).limit(1).executeTakeFirst();
  if (!any) return;
  await deps.jobs
    .enqueue<ExportAnnotationPayload>(EXPORT_ANNOTATION_JOB, { projectId, annotationId, op }, { attempts: 5, backoff: { type: 'exponential', delayMs: 1000 } })
    .catch(() => undefined);
}

/** Queues the manual sync of an export storage. */
export async function enqueueExportSync(deps: AppDeps, _actor: Actor, row: StorageRow) {
  return deps.jobs.enqueue<ExportSyncPayload>(EXPORT_SYNC_JOB, { storageId: row.id }, { jobId: exportSyncJobId(row.id), attempts: 3 });
}

function safeText(err: unknown): string {
  return err instanceof StorageError ? err.message : 'Writing to the storage failed (see the server log).';
}

async function withAdapter<T>(deps: AppDeps, row: StorageRow, fn: (a: StorageAdapter) => Promise<T>): Promise<T> {
  const adapter = await adapterOfRow(deps, 'export', row);
  try {
    return await fn(adapter);
  } finally {
    adapter.close?.();
  }
}

/** Writes or removes one annotation in every export storage of its project; throws if any failed (retry). */
async function exportAnnotation(deps: AppDeps, p: ExportAnnotationPayload): Promise<void> {
  const rows = await listStorageRows(deps.db, 'export', p.projectId);
  const doc = p.op === 'write' ? await documentOf(deps, p.annotationId) : null;
  const op = doc === null ? 'delete' : 'write';
  const failures: string[] = [];
  for (const row of rows) {
    try {
      if (op === 'delete' && settingsOfRow(row).can_delete_objects !== true) continue;
      await withAdapter(deps, row, (a) => (op === 'write' ? a.write(keyOf(row, p.annotationId), doc!, 'application/json') : a.delete(keyOf(row, p.annotationId))));
    } catch (err) {
      failures.push(`storage ${row.id}: ${safeText(err)}`);
    }
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}

/** Writes every annotation of the storage's project. */
async function exportAll(deps: AppDeps, p: ExportSyncPayload): Promise<void> {
  const row = await findStorage(deps.db, 'export', p.storageId);
  if (!row) return;
  await updateStorageRow(deps.db, 'export', row.id, { status: 'in_progress' });
  let written = 0;
  try {
    await withAdapter(deps, row, async (a) => {
      let after = 0;
      for (;;) {
        const ids = await deps.db.selectFrom('annotations').select('id').where('project_id', '=', row.project_id).where('id', '>', after).orderBy('id').limit(PAGE).execute();
        if (ids.length === 0) break;
        for (const { id } of ids) {
          const doc = await documentOf(deps, id);
          if (doc !== null) await a.write(keyOf(row, id), doc, 'application/json');
          written += 1;
        }
        after = ids[ids.length - 1]!.id;
        await updateStorageRow(deps.db, 'export', row.id, { meta: JSON.stringify({ annotations_written: written }) });
      }
    });
    await updateStorageRow(deps.db, 'export', row.id, { status: 'completed', last_sync: new Date().toISOString(), last_sync_count: written, traceback: null, meta: JSON.stringify({ annotations_written: written }) });
  } catch (err) {
    await updateStorageRow(deps.db, 'export', row.id, { status: 'failed', last_sync: new Date().toISOString(), last_sync_count: written, traceback: safeText(err) });
    throw err;
  }
}

/** The per-annotation export job. */
export const exportAnnotationJob: JobDefinition<ExportAnnotationPayload> = {
  name: EXPORT_ANNOTATION_JOB,
  handler: (deps) => ({
    run: (job) => exportAnnotation(deps, job.payload),
    onFailed: async (job, error) => {
      const text = `annotation ${job.payload.annotationId} (${job.payload.op}) not exported after ${job.maxAttempts} tries: ${error instanceof Error ? error.message : 'failed'}`;
      await deps.db.updateTable('export_storages').set({ status: 'failed', traceback: text.slice(0, 4000) }).where('project_id', '=', job.payload.projectId).execute();
    },
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
