/**
 * Data manager: saved views (tabs) of a project's task list, with their filters and ordering;
 * and the indexes its bulk actions need on tasks and drafts.
 */
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const json = pg ? 'jsonb' : 'text';
  const base = pg
    ? db.schema.createTable('dm_views').addColumn('id', 'serial', (c) => c.primaryKey())
    : db.schema.createTable('dm_views').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await base
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('data', json, (c) => c.notNull())
    .addColumn('selected_items', json)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dm_views_project_idx').on('dm_views').columns(['project_id', 'order']).execute();

  // The data manager walks a project's tasks in id order (paging, bulk actions in keyset batches).
  await db.schema.createIndex('tasks_project_id_idx').on('tasks').columns(['project_id', 'id']).execute();
  // Bulk annotation deletes cascade to drafts by annotation_id: without an index, a scan per row.
  await db.schema.createIndex('drafts_annotation_idx').on('drafts').column('annotation_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('The data-manager migration cannot be reverted');
}
