/** Queries over import_storages, export_storages and storage_links. Nothing here decides access. */
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { Database, StorageRow } from '../../db/schema.js';
import type { StorageKind } from './storage-types.js';

type Conn = Db | Transaction<Database>;

/** The table of a kind of storage. */
export const tableOf = (kind: StorageKind) => (kind === 'import' ? 'import_storages' : 'export_storages');

/** One storage of a kind, or undefined. */
export async function findStorage(db: Conn, kind: StorageKind, id: number): Promise<StorageRow | undefined> {
  return db.selectFrom(tableOf(kind)).selectAll().where('id', '=', id).executeTakeFirst();
}

/** A project's storages of a kind (of one type, or all), oldest first. */
export async function listStorageRows(db: Conn, kind: StorageKind, projectId: number, type?: string): Promise<StorageRow[]> {
  let q = db.selectFrom(tableOf(kind)).selectAll().where('project_id', '=', projectId);
  if (type !== undefined) q = q.where('type', '=', type);
  return q.orderBy('id').execute();
}

/** The fields of a new storage row. */
export interface NewStorage {
  projectId: number;
  type: string;
  title: string;
  description: string;
  settings: string;
  credentials: string | null;
  createdBy: number;
  now: string;
}

/** Inserts a storage and returns it. */
export async function insertStorage(db: Conn, kind: StorageKind, s: NewStorage): Promise<StorageRow> {
  return db
    .insertInto(tableOf(kind))
    .values({ project_id: s.projectId, type: s.type, title: s.title, description: s.description, settings: s.settings, credentials: s.credentials, meta: '{}', created_by_id: s.createdBy, created_at: s.now, updated_at: s.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Changes a storage's fields; returns it. */
export async function updateStorageRow(
  db: Conn,
  kind: StorageKind,
  id: number,
  set: Partial<{ title: string; description: string; settings: string; credentials: string | null; status: string; last_sync: string | null; last_sync_count: number | null; last_sync_job: string | null; traceback: string | null; meta: string; updated_at: string }>,
): Promise<StorageRow | undefined> {
  return db.updateTable(tableOf(kind)).set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Deletes a storage (its links go with it). */
export async function deleteStorageRow(db: Conn, kind: StorageKind, id: number): Promise<void> {
  await db.deleteFrom(tableOf(kind)).where('id', '=', id).execute();
}

/** Every key already synced from an import storage. */
export async function linkedKeys(db: Conn, storageId: number): Promise<Set<string>> {
  const rows = await db.selectFrom('storage_links').select('key').where('storage_id', '=', storageId).execute();
  return new Set(rows.map((r) => r.key));
}

/** A synced object's link: its key and first task (with how many tasks it gave). */
export interface LinkRow {
  storage_id: number;
  key: string;
  task_id: number;
  task_count: number;
  created_at: string;
}

/** Links per statement. */
const LINK_BATCH = 5000;

/**
 * Records synced objects and their first tasks (in the import's transaction). Each batch is ONE
 * statement with ONE parameter, the rows as a JSON array unpacked in SQL (as the import's
 * json-batch-insert.ts does): building a multi-row VALUES insert cost more than running it.
 */
export async function insertLinks(db: Conn, rows: LinkRow[]): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  for (let i = 0; i < rows.length; i += LINK_BATCH) {
    const part = rows.slice(i, i + LINK_BATCH);
    const query = pg
      ? sql`insert into storage_links (storage_id, key, task_id, task_count, created_at)
            select r.storage_id, r.key, r.task_id, r.task_count, r.created_at from jsonb_populate_recordset(null::storage_links, ${JSON.stringify(part)}::jsonb) as r`
      : sql`insert into storage_links (storage_id, key, task_id, task_count, created_at)
            select j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 from json_each(${JSON.stringify(part.map((r) => [r.storage_id, r.key, r.task_id, r.task_count, r.created_at]))}) as j`;
    await query.execute(db);
  }
}
