/**
 * Export snapshots (Label Studio's /api/projects/{id}/exports): a snapshot is a JSON export
 * written to the file store (the data folder or a bucket: storage/file-store.ts) by a background
 * job, then streamed back from there as JSON (the file as is) or converted while streaming to
 * JSON_MIN, CSV or TSV. Converting is done at download time, so `…/convert` only validates the
 * format and lists it in `converted_formats`.
 */
import { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Selectable } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { fromJson, type ExportSnapshotsTable } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, invalid, notFound, type ValidationErrors } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { fileStoreOf, type StoredFile } from '../../storage/file-store.js';
import { configOf, getProjectRow } from '../projects/projects.service.js';
import { attachmentName, CONTENT_TYPES, dataKeysOf, formatNamed } from './exports.service.js';
import { exportCsv, exportJsonMin, type ExportFormatName } from './formats.js';
import { snapshotJobId, snapshotKey, SNAPSHOT_JOB, type SnapshotJobPayload } from './snapshot.job.js';
import { readSnapshotTasks } from './snapshot-reader.js';
import type { CreateSnapshotInput, SnapshotCounters, SnapshotCreatedOut, SnapshotOptions, SnapshotOut, SnapshotStatus } from './snapshots.schemas.js';

type SnapshotRow = Selectable<ExportSnapshotsTable>;
type Creator = { id: number; first_name: string; last_name: string; email: string } | undefined;

/** The options Labelvault accepts by shape but cannot honour, each with why (400 when any). */
function unsupportedOptions(input: CreateSnapshotInput, interpolateQuery: boolean): ValidationErrors {
  const errors: ValidationErrors = {};
  const { task_filter_options: tf, annotation_filter_options: af, serialization_options: so } = input;
  if (tf?.reviewed) errors['task_filter_options.reviewed'] = ['Reviews are not supported yet: leave it null.'];
  if (tf?.view !== undefined && tf.view !== null) errors['task_filter_options.view'] = ['Data Manager views are not supported yet: filter with annotated, finished or skipped.'];
  if (af?.reviewed) errors['annotation_filter_options.reviewed'] = ['Reviews are not supported yet: leave it null.'];
  if (so?.include_annotation_history) errors['serialization_options.include_annotation_history'] = ['Annotation history is not kept: leave it false.'];
  if (so?.interpolate_key_frames || interpolateQuery) errors['serialization_options.interpolate_key_frames'] = ['Video key-frame interpolation is not supported: leave it false.'];
  return errors;
}

function toOut(row: SnapshotRow, creator: Creator): SnapshotOut {
  return {
    id: row.id,
    title: row.title,
    created_by: creator ? { ...creator, avatar: null } : null,
    created_at: row.created_at,
    finished_at: row.finished_at,
    status: row.status as SnapshotStatus,
    md5: row.md5 ?? '',
    counters: fromJson<SnapshotCounters>(row.counters),
    converted_formats: fromJson<SnapshotOptions>(row.options).converted_formats,
  };
}

async function creatorOf(deps: AppDeps, row: SnapshotRow): Promise<Creator> {
  if (row.created_by_id === null) return undefined;
  return deps.db.selectFrom('users').select(['id', 'first_name', 'last_name', 'email']).where('id', '=', row.created_by_id).executeTakeFirst();
}

/** The snapshot if it belongs to the project and the project to the actor's organization; else 404. */
async function findSnapshot(deps: AppDeps, actor: Actor, projectId: number, exportPk: number): Promise<SnapshotRow> {
  await getProjectRow(deps.db, actor, projectId);
  const row = await deps.db.selectFrom('export_snapshots').selectAll().where('id', '=', exportPk).where('project_id', '=', projectId).executeTakeFirst();
  if (!row) throw notFound('Export snapshot not found.');
  return row;
}

/** 409 unless the snapshot is completed, saying what to do instead. */
function requireCompleted(row: SnapshotRow): void {
  if (row.status === 'completed') return;
  const why =
    row.status === 'failed'
      ? `Export snapshot ${row.id} failed; create a new snapshot.`
      : `Export snapshot ${row.id} is not ready (status ${row.status}); try again when its status is completed.`;
  throw new AppError(409, 'EXPORT_NOT_READY', why);
}

/**
 * Records a snapshot (status `created`) with its audit event, then queues the job that writes
 * it. Options Labelvault cannot honour are refused with a 400 naming them.
 */
export async function createSnapshot(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { projectId: number; input: CreateSnapshotInput; interpolateKeyFrames: boolean }): Promise<SnapshotCreatedOut> {
  const project = await getProjectRow(deps.db, actor, opts.projectId);
  const problems = unsupportedOptions(opts.input, opts.interpolateKeyFrames);
  if (Object.keys(problems).length > 0) throw invalid(problems);
  const requested = {
    task_filter_options: opts.input.task_filter_options ?? {},
    annotation_filter_options: opts.input.annotation_filter_options ?? {},
    serialization_options: opts.input.serialization_options ?? {},
  };
  const options: SnapshotOptions = { ...requested, converted_formats: [] };
  const row = await deps.db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto('export_snapshots')
      .values({ project_id: project.id, created_by_id: actor.userId, status: 'created', title: opts.input.title ?? '', counters: JSON.stringify({ task_number: 0 }), options: JSON.stringify(options), created_at: new Date().toISOString() })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'export.create', objectType: 'export_snapshot', objectId: created.id, projectId: project.id, changes: { title: created.title, ...requested } });
    return created;
  });
  await queueSnapshot(deps, row.id);
  return { ...toOut(row, await creatorOf(deps, row)), ...requested };
}

/** Queues the snapshot's job; if the runner refuses (shutting down), the snapshot is failed. */
async function queueSnapshot(deps: AppDeps, snapshotId: number): Promise<void> {
  try {
    await deps.jobs.enqueue<SnapshotJobPayload>(SNAPSHOT_JOB, { snapshotId }, { jobId: snapshotJobId(snapshotId) });
  } catch {
    await deps.db.updateTable('export_snapshots').set({ status: 'failed', error: 'The job could not be queued.', finished_at: new Date().toISOString() }).where('id', '=', snapshotId).execute();
    throw new AppError(503, 'JOBS_UNAVAILABLE', 'The server cannot start the export now (it is shutting down); try again.');
  }
}

const ORDERINGS = { id: ['id', 'asc'], '-id': ['id', 'desc'], created_at: ['created_at', 'asc'], '-created_at': ['created_at', 'desc'] } as const;

/** The project's snapshots, newest first unless `ordering` says otherwise. */
export async function listSnapshots(deps: AppDeps, actor: Actor, opts: { projectId: number; ordering?: keyof typeof ORDERINGS | undefined }): Promise<SnapshotOut[]> {
  await getProjectRow(deps.db, actor, opts.projectId);
  const [column, direction] = ORDERINGS[opts.ordering ?? '-created_at'];
  const rows = await deps.db.selectFrom('export_snapshots').selectAll().where('project_id', '=', opts.projectId).orderBy(column, direction).orderBy('id', direction).execute();
  const creatorIds = [...new Set(rows.map((r) => r.created_by_id).filter((id): id is number => id !== null))];
  const creators = creatorIds.length === 0 ? [] : await deps.db.selectFrom('users').select(['id', 'first_name', 'last_name', 'email']).where('id', 'in', creatorIds).execute();
  return rows.map((r) => toOut(r, creators.find((u) => u.id === r.created_by_id)));
}

/** One snapshot (status and counters show its progress). */
export async function getSnapshot(deps: AppDeps, actor: Actor, opts: { projectId: number; exportPk: number }): Promise<SnapshotOut> {
  const row = await findSnapshot(deps, actor, opts.projectId, opts.exportPk);
  return toOut(row, await creatorOf(deps, row));
}

/**
 * Deletes a snapshot with its audit event, cancels its job if unfinished, then removes its file
 * from the file store (a job still writing removes its own file once it sees the row gone). A file
 * the store fails to remove is logged with its key, and the deletion still succeeds.
 */
export async function deleteSnapshot(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { projectId: number; exportPk: number; log?: FastifyBaseLogger }): Promise<void> {
  const row = await findSnapshot(deps, actor, opts.projectId, opts.exportPk);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('export_snapshots').where('id', '=', row.id).execute();
    await audit(trx, { action: 'export.delete', objectType: 'export_snapshot', objectId: row.id, projectId: row.project_id, changes: { title: row.title, status: row.status } });
  });
  await deps.jobs.cancel(snapshotJobId(row.id));
  const key = snapshotKey(row.project_id, row.id);
  try {
    await (await fileStoreOf(deps.config)).delete(key);
  } catch (err) {
    opts.log?.warn({ err, key }, 'export snapshot deleted, but its file could not be removed from the file store');
  }
}

/** What a download sends: headers and a stream of the file. */
export interface SnapshotDownload {
  filename: string;
  contentType: string;
  /** Known for JSON (the stored file); conversions stream without a length. */
  size?: number;
  body: Readable;
}

/**
 * Opens the snapshot's file in the file store: 404 when it is gone, 503 when the store cannot
 * be reached (its error stays in the server log, never in the answer).
 */
async function openFile(deps: AppDeps, row: SnapshotRow, log: FastifyBaseLogger | undefined): Promise<StoredFile> {
  const missing = () => notFound('The export file is missing; create a new snapshot.');
  if (row.file !== snapshotKey(row.project_id, row.id)) throw missing();
  let file: StoredFile | null;
  try {
    file = await (await fileStoreOf(deps.config)).get(row.file);
  } catch (err) {
    log?.error({ err, key: row.file }, 'the file store failed to open an export snapshot');
    throw new AppError(503, 'FILE_STORE_UNAVAILABLE', 'The export file store cannot be reached now; try again.');
  }
  if (file === null) throw missing();
  return file;
}

/**
 * Streams a completed snapshot from the file store: JSON as stored, other formats converted while
 * streaming the stored file back through the formats module. Records the download as an audit
 * event. 404 when the file is gone, 503 when the file store cannot be reached.
 */
export async function downloadSnapshot(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { projectId: number; exportPk: number; format: ExportFormatName; log?: FastifyBaseLogger }): Promise<SnapshotDownload> {
  const row = await findSnapshot(deps, actor, opts.projectId, opts.exportPk);
  requireCompleted(row);
  const file = await openFile(deps, row, opts.log);
  try {
    await audit(deps.db, { action: 'export.download', objectType: 'export_snapshot', objectId: row.id, projectId: row.project_id, changes: { format: opts.format } });
    return await downloadOf(deps, actor, row, file, opts.format);
  } catch (err) {
    file.body.destroy();
    throw err;
  }
}

/** The download of an opened file: JSON as stored, other formats converted while streaming. */
async function downloadOf(deps: AppDeps, actor: Actor, row: SnapshotRow, file: StoredFile, format: ExportFormatName): Promise<SnapshotDownload> {
  const filename = attachmentName(row.project_id, new Date(row.created_at), format);
  const contentType = CONTENT_TYPES[format];
  if (format === 'JSON') return { filename, contentType, size: file.size, body: file.body };
  const project = await getProjectRow(deps.db, actor, row.project_id);
  const config = configOf(project);
  const options = fromJson<SnapshotOptions>(row.options);
  const info = { controls: config.controls, dataKeys: config.dataKeys };
  const tasks = readSnapshotTasks(file.body);
  if (format === 'JSON_MIN') return { filename, contentType, body: Readable.from(exportJsonMin(tasks, info)) };
  const dataKeys = options.data_keys ?? (await dataKeysOf(deps.db, row.project_id));
  const delimiter = format === 'CSV' ? ',' : '\t';
  return { filename, contentType, body: Readable.from(exportCsv(tasks, { delimiter, info: { ...info, dataKeys } })) };
}

/**
 * Label Studio's convert: Labelvault converts at download time, so this checks the snapshot is
 * completed and the format known, and lists the format (completed) in `converted_formats`.
 */
export async function convertSnapshot(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { projectId: number; exportPk: number; exportType: string }): Promise<{ export_type: string; converted_format: number }> {
  const format = formatNamed(opts.exportType, 'export_type');
  const row = await findSnapshot(deps, actor, opts.projectId, opts.exportPk);
  requireCompleted(row);
  return deps.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('export_snapshots').select('options').where('id', '=', row.id).executeTakeFirstOrThrow();
    const options = fromJson<SnapshotOptions>(current.options);
    const existing = options.converted_formats.find((c) => c.export_type === format);
    if (existing) return { export_type: format, converted_format: existing.id };
    const added = { id: options.converted_formats.length + 1, export_type: format, status: 'completed' as const, traceback: null };
    options.converted_formats.push(added);
    await trx.updateTable('export_snapshots').set({ options: JSON.stringify(options) }).where('id', '=', row.id).execute();
    await audit(trx, { action: 'export.create', objectType: 'export_conversion', objectId: row.id, projectId: row.project_id, changes: { export_type: format } });
    return { export_type: format, converted_format: added.id };
  });
}
