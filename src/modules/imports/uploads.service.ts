/**
 * Uploaded files kept for a project (media that became tasks), stored under the data folder and
 * served back, through `/data/upload/…`, to those who work in the project (Annotators: only the
 * files of tasks they may open).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { canOpenUpload } from '../../authz/data-filters.js';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, invalid, notFound } from '../../http/errors.js';
import { getProjectRow } from '../projects/projects.service.js';

/** Folder of a project's uploads (created 0700 with its parents). */
export function uploadDir(deps: AppDeps, projectId: number): string {
  const dir = path.join(deps.config.dataDir, 'media', 'upload', String(projectId));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A file name safe on every file system and in a URL: random prefix, ASCII letters kept. */
export function storedName(original: string): string {
  const base = path.basename(original).normalize('NFKD').replace(/[^\w.-]+/g, '_').replace(/^[._]+/, '').slice(-100) || 'file';
  return `${randomBytes(6).toString('hex')}-${base}`;
}

/**
 * Streams an upload to disk (size-limited by the multipart parser); returns its stored name and
 * size. When the upload fails or is too large, nothing of it stays on disk.
 */
export async function saveUpload(deps: AppDeps, projectId: number, original: string, stream: NodeJS.ReadableStream & { truncated?: boolean }): Promise<{ name: string; size: number; file: string }> {
  const name = storedName(original);
  const file = path.join(uploadDir(deps, projectId), name);
  try {
    await pipeline(stream, fs.createWriteStream(file, { mode: 0o600, flags: 'wx' }));
    if (stream.truncated) throw new AppError(413, 'FILE_TOO_LARGE', `${original} is larger than ${deps.config.imports.maxFileBytes} bytes.`);
  } catch (err) {
    // Never remove a file this call did not create (`wx`: an existing name fails with EEXIST).
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fs.rmSync(file, { force: true });
    throw err;
  }
  return { name, size: fs.statSync(file).size, file };
}

/** Records an upload; returns its id. */
export async function recordUpload(trx: Transaction<Database> | AppDeps['db'], opts: { projectId: number; userId: number; name: string; original: string; size: number; contentType: string }): Promise<number> {
  const row = await trx
    .insertInto('file_uploads')
    .values({ project_id: opts.projectId, user_id: opts.userId, file: opts.name, original_name: opts.original, size: opts.size, content_type: opts.contentType, created_at: new Date().toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Moves a spooled temporary file (e.g. a URL's download) into the project's uploads under a new
 * stored name, so it can be kept as an upload; returns the same shape as `saveUpload`.
 */
export function adoptUpload(deps: AppDeps, projectId: number, tempFile: string, original: string): { name: string; size: number; file: string } {
  const name = storedName(original);
  const file = path.join(uploadDir(deps, projectId), name);
  fs.renameSync(tempFile, file);
  return { name, size: fs.statSync(file).size, file };
}

/**
 * The project's upload rows with the given ids, in the ids' order. Refuses (400 naming
 * `file_upload_ids`) ids that are not this project's, or whose file is gone from disk.
 */
export async function findUploads(deps: AppDeps, projectId: number, ids: readonly number[]) {
  const unique = [...new Set(ids)];
  const rows = await deps.db.selectFrom('file_uploads').selectAll().where('project_id', '=', projectId).where('id', 'in', unique).execute();
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const unknown = unique.filter((id) => !byId.has(id));
  if (unknown.length > 0) throw invalid({ file_upload_ids: [`No such uploads in this project: ${unknown.slice(0, 20).join(', ')}.`] });
  const dir = uploadDir(deps, projectId);
  const gone = rows.filter((r) => !fs.existsSync(path.join(dir, path.basename(r.file))));
  if (gone.length > 0) throw invalid({ file_upload_ids: [`The files of these uploads were deleted: ${gone.map((r) => r.id).join(', ')}.`] });
  return unique.map((id) => byId.get(id)!);
}

/** The app URL a task uses to reach an uploaded file. */
export const uploadUrl = (projectId: number, name: string) => `/data/upload/${projectId}/${name}`;

/** Types that a browser could run as a document in our origin: always downloaded, never rendered inline. */
const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml)/i;

/**
 * Opens an uploaded file for someone who works in the project and, without `task.view_all`
 * (Annotators), only when a task they may open uses it (`canOpenUpload`); else not found.
 */
export async function openUpload(deps: AppDeps, actor: Actor, projectId: number, name: string) {
  await getProjectRow(deps.db, actor, projectId).catch(() => {
    throw notFound('File not found.');
  });
  const row = await deps.db.selectFrom('file_uploads').selectAll().where('project_id', '=', projectId).where('file', '=', name).executeTakeFirst();
  if (!row || name !== path.basename(name)) throw notFound('File not found.');
  if (!(await canOpenUpload(deps.db, actor, row, uploadUrl(projectId, row.file)))) throw notFound('File not found.');
  const file = path.join(uploadDir(deps, projectId), row.file);
  if (!fs.existsSync(file)) throw notFound('File not found.');
  return { stream: fs.createReadStream(file), row, attachment: ACTIVE_TYPES.test(row.content_type) };
}
