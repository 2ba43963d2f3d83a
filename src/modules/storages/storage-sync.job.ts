/**
 * The import sync job: lists a storage's objects (prefix, regex, recursive) and turns the ones
 * not synced before into tasks.
 * - Media mode (`use_blob_urls`): each object becomes `{<data key>: "s3://bucket/key"}`, the data
 *   key being the labeling config's object tag for that kind of file; the object is never read.
 * - JSON mode: each object is read and parsed like an import file (a task, a list of tasks, or
 *   JSONL for `.jsonl`/`.ndjson`), and validated against the config by the import service.
 *
 * Consistency: objects are imported in chunks, each chunk in ONE transaction that inserts its
 * tasks and the links (storage, key → first task) together. A failure rolls back the chunk it
 * happened in; chunks committed before it stay, each object whole with its link. The links are
 * the resumable cursor: the next sync skips every linked key, so it resumes where the failed one
 * stopped and a re-sync of an unchanged storage adds nothing. Cancelling (job cancel) stops
 * between chunks the same way.
 *
 * A worker killed mid-sync: its open chunk rolls back with its connection, and the job, handed to
 * another worker (Redis: stalled-job check; shutdown: re-queued), runs again from the links. A
 * run that finds its storage still `in_progress` is such a redelivery: it keeps the sync's start
 * and counts what the earlier run committed (the links made since), so the row ends `completed`
 * with the totals of the whole sync.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import type { AppDeps } from '../../app-deps.js';
import { recordAuditEvent, type AuditSource } from '../../audit/recorder.js';
import type { Db } from '../../db/database.js';
import { fromJson, type StorageRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import type { JobDefinition } from '../../jobs/job-definitions.js';
import { PermanentJobError, RunnerClosedError, type JobContext } from '../../jobs/job-runner.js';
import { mediaDataKey } from '../imports/import-sources.js';
import { importTasks, type ImportTask } from '../imports/import.service.js';
import { readTasks } from '../imports/task-readers.js';
import { configOf } from '../projects/projects.service.js';
import { StorageError, type StorageAdapter, type StorageObject } from '../../storage/storage-adapter.js';
import { readAhead } from './read-ahead.js';
import { adapterOfRow, settingsOfRow } from './storage-connection.js';
import { findStorage, insertLinks, linkedKeys, updateStorageRow } from './storages.repository.js';

export const IMPORT_SYNC_JOB = 'storage.import_sync';
/** One sync job per storage at a time (enqueueing again while one waits or runs returns it). */
export const importSyncJobId = (storageId: number) => `storage-import-sync-${storageId}`;

/** The job's payload: the storage and who asked (tasks are created in their name). */
export interface ImportSyncPayload {
  storageId: number;
  userId: number;
  email: string;
  organizationId: number;
}

/**
 * Objects per transaction in media mode (one S3 listing page; a killed sync redoes at most one
 * chunk); JSON mode also stops a chunk at JSON_CHUNK_BYTES.
 */
const MEDIA_CHUNK = 1000;
const JSON_CHUNK = 200;
const JSON_CHUNK_BYTES = 32 * 1024 * 1024;
const READ_CONCURRENCY = 8;
/** Listing pages requested ahead of the chunk being imported. */
const LIST_AHEAD = 4;

/** Queues the sync of an import storage. */
export async function enqueueImportSync(deps: AppDeps, actor: Actor, row: StorageRow) {
  const payload: ImportSyncPayload = { storageId: row.id, userId: actor.userId, email: actor.email, organizationId: actor.organizationId };
  return deps.jobs.enqueue(IMPORT_SYNC_JOB, payload, { jobId: importSyncJobId(row.id), attempts: 1 });
}

const MEDIA_KINDS: Record<string, string> = {
  ...Object.fromEntries(['jpg', 'jpeg', 'png', 'gif', 'bmp', 'svg', 'webp', 'tif', 'tiff', 'avif'].map((e) => [e, 'image/x'])),
  ...Object.fromEntries(['mp3', 'wav', 'flac', 'ogg', 'm4a', 'aiff', 'au', 'opus'].map((e) => [e, 'audio/x'])),
  ...Object.fromEntries(['mp4', 'webm', 'avi', 'mov', 'mkv'].map((e) => [e, 'video/x'])),
  ...Object.fromEntries(['txt', 'html', 'htm', 'xml'].map((e) => [e, 'text/x'])),
  pdf: 'application/pdf',
};

/** The storage's row state the job reports as it goes. */
interface Progress {
  objects_listed: number;
  tasks_created: number;
  objects_synced: number;
  started_at: string;
}

/** An AuditFn for a job, recording in the name of the user who started it. */
function jobAudit(deps: AppDeps, p: ImportSyncPayload, jobId: string): AuditFn {
  const source: AuditSource = { organizationId: p.organizationId, actorUserId: p.userId, actorEmail: p.email, authMethod: 'system', ip: '', userAgent: 'storage sync', requestId: jobId };
  return (db, details) => recordAuditEvent(db, deps.secrets, source, details);
}

/** Reads a whole object (JSON task files are bounded by IMPORT_MAX_FILE_BYTES). */
async function readObject(adapter: StorageAdapter, key: string, max: number): Promise<Buffer> {
  const { body } = await adapter.read(key);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += (c as Buffer).length;
    if (size > max) {
      body.destroy();
      throw new StorageError('invalid', `${key}: larger than ${max} bytes (IMPORT_MAX_FILE_BYTES)`, 'key');
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads objects with bounded concurrency, in order. */
async function readAll(adapter: StorageAdapter, keys: string[], max: number): Promise<Buffer[]> {
  const out: Buffer[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      out[i] = await readObject(adapter, keys[i]!, max);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
  return out;
}

/** The run of one sync: state shared by its chunks. */
class SyncRun {
  progress: Progress = { objects_listed: 0, tasks_created: 0, objects_synced: 0, started_at: new Date().toISOString() };
  constructor(
    private readonly deps: AppDeps,
    private readonly row: StorageRow,
    private readonly adapter: StorageAdapter,
    private readonly actor: Actor,
    private readonly audit: AuditFn,
  ) {}

  private get settings() {
    return settingsOfRow(this.row);
  }

  /** Tasks of a chunk of objects, and how many tasks each object gave (in order). */
  private async tasksOf(objects: StorageObject[]): Promise<{ tasks: ImportTask[]; counts: number[] }> {
    if (this.settings.use_blob_urls === true) {
      const config = configOf(await this.project());
      const tasks = objects.map((o, index) => {
        const kind = MEDIA_KINDS[path.extname(o.key).slice(1).toLowerCase()] ?? 'image/x';
        return { index, data: { [mediaDataKey(config, kind)]: this.adapter.uriOf(o.key) }, annotations: [], predictions: [], meta: {} };
      });
      return { tasks, counts: objects.map(() => 1) };
    }
    const limits = this.deps.config.imports;
    const bodies = await readAll(this.adapter, objects.map((o) => o.key), limits.maxFileBytes);
    const tasks: ImportTask[] = [];
    const counts: number[] = [];
    for (const [i, o] of objects.entries()) {
      const format = /\.(jsonl|ndjson)$/i.test(o.key) ? 'jsonl' : 'json';
      let n = 0;
      for await (const t of readTasks(Readable.from([bodies[i]!]), format, { maxTasks: limits.maxTasks, maxTaskBytes: limits.maxTaskBytes, errorKey: o.key })) {
        tasks.push({ ...t, index: tasks.length });
        n += 1;
      }
      counts.push(n);
    }
    return { tasks, counts };
  }

  private projectRow: Awaited<ReturnType<SyncRun['loadProject']>> | undefined;
  private async loadProject() {
    return this.deps.db.selectFrom('projects').selectAll().where('id', '=', this.row.project_id).executeTakeFirstOrThrow();
  }
  private async project() {
    this.projectRow ??= await this.loadProject();
    return this.projectRow;
  }

  /** Imports one chunk with its links in one transaction. */
  async importChunk(objects: StorageObject[]): Promise<void> {
    if (objects.length === 0) return;
    const { tasks, counts } = await this.tasksOf(objects);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return; // only empty task files: nothing to import (they are read again next time)
    const project = await this.project();
    const storageId = this.row.id;
    // The import service calls its audit function inside its transaction once every task is
    // stored, with the first new task's id: the links are written right there, in the same
    // transaction. Inner ids are dense and in order, so object i's first task is at its offset.
    const linkAndAudit: AuditFn = async (trx, details) => {
      const first = Number((details.changes as { first_task?: number }).first_task);
      const start = await trx.selectFrom('tasks').select('inner_id').where('id', '=', first).executeTakeFirstOrThrow();
      const rows = await trx
        .selectFrom('tasks')
        .select(['id', 'inner_id'])
        .where('project_id', '=', project.id)
        .where('inner_id', '>=', start.inner_id)
        .where('inner_id', '<', Number(start.inner_id) + total)
        .orderBy('inner_id')
        .execute();
      const now = new Date().toISOString();
      const links: { storage_id: number; key: string; task_id: number; task_count: number; created_at: string }[] = [];
      let offset = 0;
      for (const [i, o] of objects.entries()) {
        if (counts[i]! > 0) links.push({ storage_id: storageId, key: o.key, task_id: rows[offset]!.id, task_count: counts[i]!, created_at: now });
        offset += counts[i]!;
      }
      await insertLinks(trx, links);
      await this.audit(trx, details);
    };
    try {
      await importTasks(this.deps, this.actor, linkAndAudit, project, tasks);
    } catch (err) {
      throw withObjectKey(err, objects, counts);
    }
    this.progress.tasks_created += total;
    this.progress.objects_synced += counts.filter((c) => c > 0).length;
    this.deps.metrics?.countSynced(this.row.type, counts.filter((c) => c > 0).length);
  }

  /** Continues the progress of the sync this run resumes: its start, and what its links say was committed since. */
  async resume(db: Db): Promise<void> {
    const started = fromJson<Partial<Progress> | null>(this.row.meta)?.started_at;
    if (typeof started !== 'string') return;
    const done = await db
      .selectFrom('storage_links')
      .select((eb) => [eb.fn.countAll<number>().as('objects'), eb.fn.sum<number>('task_count').as('tasks')])
      .where('storage_id', '=', this.row.id)
      .where('created_at', '>=', started)
      .executeTakeFirstOrThrow();
    this.progress = { ...this.progress, started_at: started, objects_synced: Number(done.objects), tasks_created: Number(done.tasks ?? 0) };
  }

  async report(db: Db, status = 'in_progress'): Promise<void> {
    await updateStorageRow(db, 'import', this.row.id, { status, meta: JSON.stringify(this.progress), last_sync_count: this.progress.tasks_created });
  }
}

/** An import error naming `task N` of a chunk, re-thrown naming the object it came from. */
function withObjectKey(err: unknown, objects: StorageObject[], counts: number[]): unknown {
  if (!(err instanceof AppError) || !err.validationErrors?.tasks) return err;
  const text = err.validationErrors.tasks[0] ?? '';
  const m = /^task (\d+): (.*)$/.exec(text);
  if (!m) return err;
  let n = Number(m[1]) - 1;
  for (const [i, o] of objects.entries()) {
    if (n < counts[i]!) return new StorageError('invalid', `${o.key}: ${counts[i]! > 1 ? `task ${n + 1}: ` : ''}${m[2]}`, 'key');
    n -= counts[i]!;
  }
  return err;
}

/** A message safe to store and show for a failed sync. */
function failureText(err: unknown): string {
  if (err instanceof StorageError || err instanceof PermanentJobError) return err.message;
  if (err instanceof RunnerClosedError) return 'The server stopped during the sync: sync again (it resumes).';
  if (err instanceof AppError) return [err.message, ...Object.entries(err.validationErrors ?? {}).map(([k, v]) => `${k}: ${v.join(' ')}`)].join('\n');
  if (err instanceof Error && err.name === 'AbortError') return 'The sync was cancelled.';
  return 'The sync failed (see the server log).';
}

async function runSync(deps: AppDeps, job: JobContext<ImportSyncPayload>): Promise<void> {
  const p = job.payload;
  const row = await findStorage(deps.db, 'import', p.storageId);
  if (!row) return; // deleted meanwhile
  const actor: Actor = { userId: p.userId, email: p.email, username: p.email, isSuperuser: false, organizationId: p.organizationId, role: 'MA', authMethod: 'token' };
  const adapter = await adapterOfRow(deps, 'import', row).catch((err: unknown) => {
    throw new PermanentJobError(failureText(err));
  });
  const run = new SyncRun(deps, row, adapter, actor, jobAudit(deps, p, job.id));
  try {
    if (row.status === 'in_progress') await run.resume(deps.db);
    await run.report(deps.db);
    const settings = settingsOfRow(row);
    const regex = typeof settings.regex_filter === 'string' && settings.regex_filter !== '' ? new RegExp(settings.regex_filter) : null;
    const media = settings.use_blob_urls === true;
    const done = await linkedKeys(deps.db, row.id);
    let pending: StorageObject[] = [];
    let bytes = 0;
    const flush = async () => {
      const chunk = pending;
      pending = [];
      bytes = 0;
      await run.importChunk(chunk);
      await run.report(deps.db);
    };
    const prefix = typeof settings.prefix === 'string' ? settings.prefix : '';
    // The next pages are listed while a chunk is imported (the storage answers meanwhile).
    for await (const page of readAhead(adapter.list({ prefix, regex, recursive: settings.recursive_scan === true, signal: job.signal }), LIST_AHEAD)) {
      run.progress.objects_listed += page.length;
      for (const o of page) {
        if (done.has(o.key)) continue;
        pending.push(o);
        bytes += o.size ?? 0;
        if (pending.length >= (media ? MEDIA_CHUNK : JSON_CHUNK) || (!media && bytes >= JSON_CHUNK_BYTES)) {
          job.signal.throwIfAborted();
          await flush();
        }
      }
    }
    await flush();
    await updateStorageRow(deps.db, 'import', row.id, { status: 'completed', last_sync: new Date().toISOString(), last_sync_count: run.progress.tasks_created, meta: JSON.stringify(run.progress), traceback: null });
  } catch (err) {
    // Stopped by a shutdown: the row stays in progress; Redis re-queues the job (it resumes),
    // the in-process runner fails it through onFailed.
    if (job.signal.aborted && job.signal.reason instanceof RunnerClosedError) throw err;
    await updateStorageRow(deps.db, 'import', row.id, { status: 'failed', last_sync: new Date().toISOString(), last_sync_count: run.progress.tasks_created, meta: JSON.stringify(run.progress), traceback: failureText(err) });
    throw err instanceof StorageError || err instanceof AppError ? new PermanentJobError(failureText(err)) : err;
  } finally {
    adapter.close?.();
  }
}

/** The import sync job definition. */
export const importSyncJob: JobDefinition<ImportSyncPayload> = {
  name: IMPORT_SYNC_JOB,
  handler: (deps) => ({
    run: (job) => runSync(deps, job),
    onFailed: async (job, error) => {
      await updateStorageRow(deps.db, 'import', job.payload.storageId, { status: 'failed', traceback: failureText(error) });
    },
  }),
  recoverInterrupted: async (deps) => {
    const r = await deps.db.updateTable('import_storages').set({ status: 'failed', traceback: 'The server stopped during the sync: sync again (it resumes).' }).where('status', 'in', ['queued', 'in_progress']).executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
};
