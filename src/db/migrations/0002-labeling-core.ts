/** Labeling core: projects, tasks, annotations, predictions, drafts, uploads, locks, exports. */
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

  await table('projects')
    .addColumn('organization_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('label_config', 'text', (c) => c.notNull())
    .addColumn('expert_instruction', 'text', (c) => c.notNull())
    .addColumn('settings', json, (c) => c.notNull())
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('pinned_at', ts)
    .addColumn('created_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('projects_org_idx').on('projects').column('organization_id').execute();

  await table('file_uploads')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('size', big, (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('file_uploads_project_idx').on('file_uploads').column('project_id').execute();

  await table('tasks', true)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('inner_id', big, (c) => c.notNull())
    .addColumn('data', json, (c) => c.notNull())
    .addColumn('meta', json, (c) => c.notNull())
    .addColumn('is_labeled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total_annotations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cancelled_annotations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total_predictions', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('file_upload_id', 'integer', (c) => c.references('file_uploads.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('updated_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addUniqueConstraint('tasks_project_inner_unique', ['project_id', 'inner_id'])
    .execute();

  await table('annotations', true)
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('completed_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('result', json, (c) => c.notNull())
    .addColumn('was_cancelled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ground_truth', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lead_time', 'real')
    .addColumn('unique_id', 'text', (c) => c.notNull())
    .addColumn('import_id', big)
    .addColumn('last_action', 'text')
    .addColumn('parent_prediction_id', big)
    .addColumn('parent_annotation_id', big)
    .addColumn('draft_created_at', ts)
    .addColumn('updated_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('annotations_task_idx').on('annotations').column('task_id').execute();
  await db.schema.createIndex('annotations_project_user_idx').on('annotations').columns(['project_id', 'completed_by_id']).execute();

  await table('predictions', true)
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('result', json, (c) => c.notNull())
    .addColumn('score', 'real')
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('predictions_task_idx').on('predictions').column('task_id').execute();
  await db.schema.createIndex('predictions_project_version_idx').on('predictions').columns(['project_id', 'model_version']).execute();

  await table('drafts', true)
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('annotation_id', big, (c) => c.references('annotations.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('result', json, (c) => c.notNull())
    .addColumn('lead_time', 'real')
    .addColumn('was_postponed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('drafts_task_user_idx').on('drafts').columns(['task_id', 'user_id']).execute();

  await db.schema
    .createTable('task_locks')
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('task_locks_pk', ['task_id', 'user_id'])
    .execute();
  await db.schema.createIndex('task_locks_project_idx').on('task_locks').columns(['project_id', 'expires_at']).execute();

  await table('export_snapshots')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('created_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('file', 'text')
    .addColumn('md5', 'text')
    .addColumn('counters', json, (c) => c.notNull())
    .addColumn('options', json, (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .execute();
  await db.schema.createIndex('export_snapshots_project_idx').on('export_snapshots').column('project_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('The labeling-core migration cannot be reverted');
}
