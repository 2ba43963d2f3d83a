/**
 * Uploaded files kept for a project (media that became tasks, task files kept for reimport),
 * stored in THE file store (storage/file-store.ts; keys in upload-keys.ts) — with
 * FILE_STORAGE=local the same place in the data folder as ever, with FILE_STORAGE=s3 the bucket
 * every node reads — and served back, through `/data/upload/…`, to those who work in the project
 * (Annotators: only the files of tasks they may open).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { canOpenUpload } from '../../authz/data-filters.js';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, invalid, notFound } from '../../http/errors.js';
import { userContentHeaders } from '../../http/user-content.js';
import { checkKey, fileStoreOf, type FileStore } from '../../storage/file-store.js';
import { getProjectRow } from '../projects/projects.service.js';
import { uploadKey } from './upload-keys.js';

/** Where a file store failure is logged (a request's logger). */
type ErrorLog = { error(obj: object, msg: string): void };

/** 503 for a file store that cannot be reached (its error stays in the server log). */
const storeUnavailable = () => new AppError(503, 'FILE_STORE_UNAVAILABLE', 'The file store cannot be reached now; try again.');

/** Whether a stored name makes a valid key (every name `storedName` makes does; a hand-edited row may not). */
function isStoredName(name: string): boolean {
  try {
    checkKey(uploadKey(1, name));
    return name === path.basename(name);
  } catch {
    return false;
  }
}

/**
 * A file name safe on every file system, in a URL and as a file store key: random prefix, ASCII
 * letters kept, and never ending in `.part` (`photo．part` normalises to it), the suffix of an
 * unfinished write in other tools' eyes.
 */
export function storedName(original: string): string {
  const base = path.basename(original).normalize('NFKD').replace(/[^\w.-]+/g, '_').replace(/^[._]+/, '').slice(-100).replace(/\.part$/i, '_part') || 'file';
  return `${randomBytes(6).toString('hex')}-${base}`;
}

/** The chunks of a multipart file part; throws 413 at the end when the parser cut it at the size limit. */
async function* untruncated(deps: AppDeps, original: string, stream: NodeJS.ReadableStream & { truncated?: boolean }): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) yield chunk as Uint8Array;
  if (stream.truncated) throw new AppError(413, 'FILE_TOO_LARGE', `${original} is larger than ${deps.config.imports.maxFileBytes} bytes.`);
}

/**
 * Streams `body` into the file store as a new upload of the project; returns its stored name and
 * size. An error of the body (too large, the client gone) is rethrown as it is; one of the store
 * becomes 503 (logged with `log`).
 */
async function putUpload(deps: AppDeps, projectId: number, original: string, body: AsyncIterable<Uint8Array>, log?: ErrorLog): Promise<{ name: string; size: number }> {
  const name = storedName(original);
  const key = uploadKey(projectId, name);
  const store = await fileStoreOf(deps.config);
  let bodyError: unknown;
  async function* watched(): AsyncGenerator<Uint8Array> {
    try {
      yield* body;
    } catch (err) {
      bodyError = err;
      throw err;
    }
  }
  try {
    // The type the file is served with (from its extension), never the uploader's claim.
    const { size } = await store.put(key, watched(), { contentType: userContentHeaders(name)['content-type']! });
    return { name, size };
  } catch (err) {
    if (err === bodyError) throw err;
    log?.error({ err, key }, 'the file store failed to store an upload');
    throw storeUnavailable();
  }
}

/**
 * Streams an upload into the file store (size-limited by the multipart parser); returns its stored
 * name and size. When the upload fails or is too large, nothing of it is stored.
 */
export async function saveUpload(deps: AppDeps, projectId: number, original: string, stream: NodeJS.ReadableStream & { truncated?: boolean }, log?: ErrorLog): Promise<{ name: string; size: number }> {
  return putUpload(deps, projectId, original, untruncated(deps, original, stream), log);
}

/**
 * Copies a spooled temporary file (e.g. a URL's download) into the project's uploads under a new
 * stored name, so it can be kept as an upload; the temporary file stays for the caller to read
 * and remove.
 */
export async function keepFileAsUpload(deps: AppDeps, projectId: number, tempFile: string, original: string, log?: ErrorLog): Promise<{ name: string; size: number }> {
  return putUpload(deps, projectId, original, fs.createReadStream(tempFile), log);
}

/**
 * Removes uploaded files from the file store (after their rows are gone, or when the import that
 * stored them failed). A file the store fails to remove is logged and left: no row points at it.
 */
export async function removeUploads(deps: AppDeps, projectId: number, names: readonly string[], log?: { warn(obj: object, msg: string): void }): Promise<void> {
  const store = await fileStoreOf(deps.config);
  for (const name of names.filter(isStoredName)) {
    const key = uploadKey(projectId, name);
    await store.delete(key).catch((err: unknown) => log?.warn({ err, key }, 'an uploaded file could not be removed from the file store'));
  }
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

/** Uploads checked against the store at once (one HEAD each on S3). */
const CHECKS_AT_ONCE = 16;

/** The names among `names` that have no file in the store. */
async function missingFiles(store: FileStore, projectId: number, names: string[]): Promise<Set<string>> {
  const missing = new Set(names.filter((n) => !isStoredName(n)));
  const rest = names.filter((n) => !missing.has(n));
  for (let i = 0; i < rest.length; i += CHECKS_AT_ONCE) {
    const batch = rest.slice(i, i + CHECKS_AT_ONCE);
    const found = await Promise.all(batch.map((n) => store.exists(uploadKey(projectId, n))));
    batch.forEach((n, j) => found[j] || missing.add(n));
  }
  return missing;
}

/**
 * The project's upload rows with the given ids, in the ids' order. Refuses (400 naming
 * `file_upload_ids`) ids that are not this project's, or whose file is gone from the file store.
 */
export async function findUploads(deps: AppDeps, projectId: number, ids: readonly number[]) {
  const unique = [...new Set(ids)];
  const rows = await deps.db.selectFrom('file_uploads').selectAll().where('project_id', '=', projectId).where('id', 'in', unique).execute();
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const unknown = unique.filter((id) => !byId.has(id));
  if (unknown.length > 0) throw invalid({ file_upload_ids: [`No such uploads in this project: ${unknown.slice(0, 20).join(', ')}.`] });
  const missing = await missingFiles(await fileStoreOf(deps.config), projectId, rows.map((r) => r.file)).catch(() => {
    throw storeUnavailable();
  });
  const gone = rows.filter((r) => missing.has(r.file));
  if (gone.length > 0) throw invalid({ file_upload_ids: [`The files of these uploads were deleted: ${gone.map((r) => r.id).join(', ')}.`] });
  return unique.map((id) => byId.get(id)!);
}

/**
 * Opens an uploaded file of the project for reading (reimport); 400 naming `file_upload_ids`
 * when it is gone from the file store, 503 when the store cannot be reached.
 */
export async function readUpload(deps: AppDeps, projectId: number, name: string): Promise<Readable> {
  const store = await fileStoreOf(deps.config);
  const file = isStoredName(name)
    ? await store.get(uploadKey(projectId, name)).catch(() => {
        throw storeUnavailable();
      })
    : null;
  if (file === null) throw invalid({ file_upload_ids: [`The file ${name} was deleted.`] });
  return file.body;
}

/** The app URL a task uses to reach an uploaded file. */
export const uploadUrl = (projectId: number, name: string) => `/data/upload/${projectId}/${name}`;

/**
 * Opens an uploaded file for someone who works in the project and, without `task.view_all`
 * (Annotators), only when a task they may open uses it (`canOpenUpload`); else not found. The
 * file streams from the file store (404 when it is gone, 503 when the store cannot be reached).
 */
export async function openUpload(deps: AppDeps, actor: Actor, projectId: number, name: string, log?: ErrorLog) {
  await getProjectRow(deps.db, actor, projectId).catch(() => {
    throw notFound('File not found.');
  });
  const row = await deps.db.selectFrom('file_uploads').selectAll().where('project_id', '=', projectId).where('file', '=', name).executeTakeFirst();
  if (!row || !isStoredName(name)) throw notFound('File not found.');
  if (!(await canOpenUpload(deps.db, actor, row, uploadUrl(projectId, row.file)))) throw notFound('File not found.');
  const key = uploadKey(projectId, row.file);
  const file = await (await fileStoreOf(deps.config)).get(key).catch((err: unknown) => {
    log?.error({ err, key }, 'the file store failed to open an uploaded file');
    throw storeUnavailable();
  });
  if (file === null) throw notFound('File not found.');
  return { stream: file.body, size: file.size, row };
}
