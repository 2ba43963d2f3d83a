/**
 * What the export jobs (storage-export.job.ts) write: the object key of an annotation in a
 * storage, its JSON document (Label Studio's layout: the annotation with its task), and writing
 * or removing a page of annotations in each export storage of a project, a few objects at a time.
 */
import path from 'node:path';
import type { AppDeps } from '../../app-deps.js';
import { fromJson, type StorageRow, type TaskRow } from '../../db/schema.js';
import { joinKey, StorageError, type StorageAdapter } from '../../storage/storage-adapter.js';
import { annotationOut } from '../tasks/tasks.mapper.js';
import { adapterOfRow, settingsOfRow } from './storage-connection.js';
import { specOf } from './storage-types.js';

/** Objects written or removed at once in one storage. */
const WRITE_CONCURRENCY = 8;

/** An export that failed in some storages: the safe text of each failure, by storage id. */
export class ExportFailedError extends Error {
  constructor(readonly byStorage: ReadonlyMap<number, string>) {
    super([...byStorage].map(([id, text]) => `storage ${id}: ${text}`).join('; '));
    this.name = 'ExportFailedError';
  }
}

/** A storage failure's text safe to show: a StorageError's message, else at most a system error code (ENOTDIR, ECONNRESET), never SDK text. */
export function safeText(err: unknown): string {
  if (err instanceof StorageError) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  return `Writing to the storage failed${typeof code === 'string' && /^E[A-Z0-9_]{1,30}$/.test(code) ? ` (${code})` : ''}.`;
}

/** A local-files storage's folder as a key prefix (relative to the document root, `/`-separated, as the adapter's keys are). */
function localFolderKey(deps: AppDeps, settings: Record<string, unknown>): string {
  const root = deps.config.localFiles.documentRoot;
  if (root === null || typeof settings.path !== 'string') return ''; // the adapter refuses such a storage anyway
  return path.relative(root, path.resolve(settings.path)).split(path.sep).join('/');
}

/** The object key of an annotation in a storage: `<prefix>/<id>`, `<path>/<id>` for local files, or the type's own layout (Redis `<path>:<id>`). */
function keyOf(deps: AppDeps, row: StorageRow, annotationId: number): string {
  const settings = settingsOfRow(row);
  const own = specOf(row.type).exportKey;
  if (own) return own(settings, annotationId);
  const prefix = row.type === 'localfiles' ? localFolderKey(deps, settings) : typeof settings.prefix === 'string' ? settings.prefix : '';
  return joinKey(prefix, String(annotationId));
}

/** The task inside an exported annotation: its data as stored (storage URIs, not the app's resolve URLs). */
const taskDocument = (t: TaskRow) => ({ id: t.id, data: fromJson(t.data), meta: fromJson(t.meta), project: t.project_id, inner_id: t.inner_id, is_labeled: t.is_labeled === 1, created_at: t.created_at, updated_at: t.updated_at });

/** An annotation's exported JSON, and its `updated_at` (what a later check compares). */
interface ExportDocument {
  json: string;
  version: string;
}

/** The documents of those of the annotations that still exist, by id (one query for them, one for their tasks). */
async function documentsOf(deps: AppDeps, ids: readonly number[]): Promise<Map<number, ExportDocument>> {
  const out = new Map<number, ExportDocument>();
  if (ids.length === 0) return out;
  const annotations = await deps.db.selectFrom('annotations').selectAll().where('id', 'in', [...ids]).orderBy('id').execute();
  if (annotations.length === 0) return out;
  const taskIds = [...new Set(annotations.map((a) => a.task_id))];
  const tasks = new Map((await deps.db.selectFrom('tasks').selectAll().where('id', 'in', taskIds).execute()).map((t) => [t.id, taskDocument(t)]));
  for (const a of annotations) {
    const task = tasks.get(a.task_id);
    if (task) out.set(a.id, { json: JSON.stringify({ ...annotationOut(a), task }), version: String(a.updated_at) });
  }
  return out;
}

/** Those of the written annotations changed or deleted since their documents were read. */
async function changedSince(deps: AppDeps, written: ReadonlyMap<number, ExportDocument>): Promise<number[]> {
  if (written.size === 0) return [];
  const now = await deps.db.selectFrom('annotations').select(['id', 'updated_at']).where('id', 'in', [...written.keys()]).execute();
  const version = new Map(now.map((r) => [r.id, String(r.updated_at)]));
  return [...written].filter(([id, doc]) => version.get(id) !== doc.version).map(([id]) => id);
}

/** Runs `fn` over the items, WRITE_CONCURRENCY at a time; after a failure no new item starts, and the first error is thrown once all have settled. */
async function writeEach<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let first: { error: unknown } | null = null;
  const worker = async () => {
    while (first === null && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        first ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
  if (first !== null) throw (first as { error: unknown }).error;
}

/** Opens the storage's adapter for `fn` and closes it after. */
async function withAdapter<T>(deps: AppDeps, row: StorageRow, fn: (a: StorageAdapter) => Promise<T>): Promise<T> {
  const adapter = await adapterOfRow(deps, 'export', row);
  try {
    return await fn(adapter);
  } finally {
    adapter.close?.();
  }
}

/** Rounds of exportPage: an annotation changed while it was being written is written again, this many times at most. */
const ROUNDS = 4;

/** Writes (or, where `can_delete_objects`, removes) a page in each storage not in `failed`; answers the documents written. */
async function writePage(deps: AppDeps, rows: readonly StorageRow[], op: 'write' | 'delete', ids: readonly number[], failed: Map<number, string>) {
  const docs = op === 'write' ? await documentsOf(deps, ids) : new Map<number, ExportDocument>();
  const gone = ids.filter((id) => !docs.has(id));
  for (const row of rows) {
    if (failed.has(row.id)) continue;
    const removals = settingsOfRow(row).can_delete_objects === true ? gone : [];
    if (docs.size === 0 && removals.length === 0) continue;
    try {
      await withAdapter(deps, row, async (a) => {
        await writeEach([...docs], ([id, doc]) => a.write(keyOf(deps, row, id), doc.json, 'application/json'));
        await writeEach(removals, (id) => a.delete(keyOf(deps, row, id)));
      });
    } catch (err) {
      failed.set(row.id, safeText(err));
    }
  }
  return docs;
}

/**
 * Exports a page of annotations to each storage not in `failed` yet: `write` writes those that
 * exist and removes the others, `delete` removes them all; removing only where
 * `can_delete_objects` is set. A storage that fails is added to `failed` (and skipped after).
 * Two jobs may export one annotation at once (a change, then another): after writing, the
 * annotations changed or deleted meanwhile are exported again, so the last write is never an
 * older version than the last change. Answers how many annotations were written.
 */
export async function exportPage(deps: AppDeps, rows: readonly StorageRow[], op: 'write' | 'delete', ids: readonly number[], failed: Map<number, string>): Promise<number> {
  let pending: readonly number[] = ids;
  let count = 0;
  for (let round = 0; round < ROUNDS && pending.length > 0; round += 1) {
    const written = await writePage(deps, rows, round === 0 ? op : 'write', pending, failed);
    if (round === 0) count = written.size;
    pending = await changedSince(deps, written);
  }
  return count;
}
