/**
 * Cloud and local storages: import (source) and export (target) storage connections per project,
 * and the link from each synced object to the task it became (unique per storage and key, so a
 * re-sync adds only new objects). Credentials are kept only as ciphertext (AES-256-GCM, key
 * derived from the server secret); settings hold everything else as JSON.
 */
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const json = pg ? 'jsonb' : 'text';
  const big = pg ? 'bigint' : 'integer';
  const table = (name: string, wide = false) =>
    pg
      ? db.schema.createTable(name).addColumn('id', wide ? 'bigserial' : 'serial', (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  for (const name of ['import_storages', 'export_storages']) {
    await table(name)
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      /** s3 | gcs | azure | redis | localfiles */
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      /** bucket, prefix, regex_filter, use_blob_urls, presign, presign_ttl, recursive_scan, region, endpoint, … */
      .addColumn('settings', json, (c) => c.notNull())
      /** Sealed credentials (`v1.<key id>.<iv|tag|ciphertext>`), or null when the storage has none. */
      .addColumn('credentials', 'text')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('initialized'))
      .addColumn('last_sync', ts)
      .addColumn('last_sync_count', 'integer')
      .addColumn('last_sync_job', 'text')
      .addColumn('traceback', 'text')
      .addColumn('meta', json, (c) => c.notNull())
      .addColumn('created_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${name}_project_idx`).on(name).column('project_id').execute();
  }

  await table('storage_links', true)
    .addColumn('storage_id', 'integer', (c) => c.notNull().references('import_storages.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    /**
     * The first task the object became (a JSON object may hold several: `task_count`). Deleting
     * that task deletes the link, so the next sync imports the object again (Label Studio's rule).
     */
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('task_count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('storage_links_unique', ['storage_id', 'key'])
    .execute();
  await db.schema.createIndex('storage_links_task_idx').on('storage_links').column('task_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('storage_links').execute();
  await db.schema.dropTable('export_storages').execute();
  await db.schema.dropTable('import_storages').execute();
}
