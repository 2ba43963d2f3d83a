/**
 * Media from storages, served to the browser (Label Studio's `/tasks/{id}/resolve/?fileuri=` and
 * `/presign/`, also under `/projects/{id}/`). Stricter than Label Studio:
 * - the URI must be one the task's data references (a caller cannot fetch any object of the
 *   bucket through any task);
 * - it must belong to an import storage connected to the task's project (bucket and prefix);
 *   anything else is refused (403), so another project's bucket is never reachable here.
 * With `presign` on, the answer is a 303 to a pre-signed GET valid `presign_ttl` minutes, with
 * `Cache-Control: no-store` (the URL must not outlive its check in a cache); with presign off
 * (and for local files, which cannot presign), the bytes stream through with Range support.
 */
import type { FastifyReply } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { fromJson, type ProjectRow, type StorageRow } from '../../db/schema.js';
import { AppError, invalid } from '../../http/errors.js';
import { userContentHeaders } from '../../http/user-content.js';
import type { ByteRange, StorageAdapter } from '../../storage/storage-adapter.js';
import { StorageError } from '../../storage/storage-adapter.js';
import { adapterOfRow, settingsOfRow } from './storage-connection.js';
import { listStorageRows } from './storages.repository.js';

/** Decodes `fileuri` (url-safe base64 of the URI, padding optional); a 400 naming it otherwise. */
export function decodeFileUri(value: string): string {
  if (!/^[A-Za-z0-9_\-+/]+=*$/.test(value)) throw invalid({ fileuri: ['Give the URI as url-safe base64.'] });
  const uri = Buffer.from(value.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url').toString('utf8');
  if (uri === '' || uri.includes('\0') || uri.length > 4096) throw invalid({ fileuri: ['Not a storage URI.'] });
  return uri;
}

/** Whether a JSON value holds the string anywhere (task data is small; nesting is bounded by import limits). */
export function referencesUri(value: unknown, uri: string, depth = 0): boolean {
  if (typeof value === 'string') return value === uri;
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (referencesUri(v, uri, depth + 1)) return true;
  return false;
}

/** A project's import storage that serves the URI, with its adapter and key; 403 when none. */
async function storageFor(deps: AppDeps, project: ProjectRow, uri: string): Promise<{ row: StorageRow; adapter: StorageAdapter; key: string }> {
  for (const row of await listStorageRows(deps.db, 'import', project.id)) {
    const adapter = await adapterOfRow(deps, 'import', row).catch(() => null);
    if (adapter === null) continue;
    const key = adapter.keyOf(uri);
    if (key !== null) return { row, adapter, key };
    adapter.close?.();
  }
  throw new AppError(403, 'STORAGE_NOT_CONNECTED', 'This URI belongs to no storage connected to the project.');
}

/** Reads `Range: bytes=a-b` (one range); undefined when absent or not understood (then the whole object). */
function parseRange(header: string | undefined): ByteRange | undefined {
  const m = header ? /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim()) : null;
  if (!m || m[1] === '') return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  return end !== undefined && end < start ? undefined : { start, ...(end !== undefined && { end }) };
}

/** Answers a 303 to a pre-signed URL, or streams the object. */
async function serve(reply: FastifyReply, range: string | undefined, t: { row: StorageRow; adapter: StorageAdapter; key: string }) {
  const settings = settingsOfRow(t.row);
  try {
    if (settings.presign !== false) {
      const ttl = typeof settings.presign_ttl === 'number' && settings.presign_ttl > 0 ? settings.presign_ttl : 1;
      const url = await t.adapter.presign(t.key, ttl * 60);
      if (url !== null) return reply.code(303).header('location', url).header('cache-control', 'no-store').send();
    }
    const r = parseRange(range);
    const obj = await t.adapter.read(t.key, r).catch((err: unknown) => {
      if (r && err instanceof StorageError && err.code === 'invalid') throw new AppError(416, 'RANGE_NOT_SATISFIABLE', 'Range not satisfiable.');
      throw err;
    });
    void reply.headers(userContentHeaders(t.key.split('/').pop() ?? 'file')).header('cache-control', 'private, no-store').header('accept-ranges', 'bytes');
    if (obj.length !== null) void reply.header('content-length', String(obj.length));
    if (obj.partial && obj.totalSize !== null && obj.length !== null) {
      const start = r?.start ?? 0;
      void reply.code(206).header('content-range', `bytes ${start}-${start + obj.length - 1}/${obj.totalSize}`);
    }
    return reply.send(obj.body);
  } catch (err) {
    if (err instanceof StorageError) throw err.code === 'not_found' || err.code === 'refused' ? new AppError(404, 'NOT_FOUND', 'Not found.') : new AppError(502, 'STORAGE_ERROR', err.message);
    throw err;
  } finally {
    // Streams keep their own connection; the S3 client's agent lets it finish.
  }
}

/** `/tasks/:id/resolve`: the task (visible to the caller: checked by the route) must reference the URI. */
export async function resolveTaskMedia(deps: AppDeps, project: ProjectRow, taskId: number, fileuri: string, reply: FastifyReply, range: string | undefined) {
  const uri = decodeFileUri(fileuri);
  const task = await deps.db.selectFrom('tasks').select(['data', 'project_id']).where('id', '=', taskId).executeTakeFirst();
  if (!task || task.project_id !== project.id) throw new AppError(404, 'NOT_FOUND', 'Task not found.');
  if (!referencesUri(fromJson(task.data), uri)) throw new AppError(403, 'URI_NOT_IN_TASK', "This URI is not in the task's data.");
  return serve(reply, range, await storageFor(deps, project, uri));
}

/** `/projects/:id/resolve`: any object of a storage connected to the project (Managers' previews). */
export async function resolveProjectMedia(deps: AppDeps, project: ProjectRow, fileuri: string, reply: FastifyReply, range: string | undefined) {
  return serve(reply, range, await storageFor(deps, project, decodeFileUri(fileuri)));
}


/**
 * `/data/local-files/?d=<path>` (Label Studio's local-files URL): 403 when serving is disabled;
 * the path must be safe (no traversal, see local-files.adapter.ts) and inside the folder of a
 * local-files storage of a project the caller works in (404 otherwise). Streams with Range.
 * Annotators can read any file of such a folder, as in Label Studio (no per-task check here).
 */
export async function serveLocalFile(deps: AppDeps, visibleProjects: number[], d: string, reply: FastifyReply, range: string | undefined) {
  if (!deps.config.localFiles.enabled) throw new AppError(403, 'LOCAL_FILES_DISABLED', 'Serving local files is disabled on this server (LOCAL_FILES_SERVING_ENABLED).');
  const uri = `/data/local-files/?d=${encodeURIComponent(d).replace(/%2F/g, '/')}`;
  if (visibleProjects.length > 0) {
    const rows = await deps.db.selectFrom('import_storages').selectAll().where('type', '=', 'localfiles').where('project_id', 'in', visibleProjects).execute();
    for (const row of rows) {
      const adapter = await adapterOfRow(deps, 'import', row).catch(() => null);
      const key = adapter?.keyOf(uri) ?? null;
      if (adapter && key !== null) return serve(reply, range, { row: { ...row, settings: JSON.stringify({ ...settingsOfRow(row), presign: false }) }, adapter, key });
    }
  }
  throw new AppError(404, 'NOT_FOUND', 'No local-files storage you can use covers this path.');
}
