/**
 * Role-based access: workspaces (every project lives in one), workspace and project members,
 * task assignments (manual distribution, reviewer queues) and annotation reviews. Projects that
 * existed before get one "Default workspace" per organization.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const big = pg ? 'bigint' : 'integer';
  const table = (name: string, wide = false) =>
    pg
      ? db.schema.createTable(name).addColumn('id', wide ? 'bigserial' : 'serial', (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await table('workspaces')
    .addColumn('organization_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('color', 'text', (c) => c.notNull().defaultTo('#FFFFFF'))
    .addColumn('is_personal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_archived', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workspaces_org_idx').on('workspaces').column('organization_id').execute();
  // One sandbox per user per organization.
  await sql`CREATE UNIQUE INDEX workspaces_personal_unique ON workspaces (organization_id, created_by_id) WHERE is_personal = 1`.execute(db);

  await table('workspace_members')
    .addColumn('workspace_id', 'integer', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('workspace_members_unique', ['workspace_id', 'user_id'])
    .execute();
  await db.schema.createIndex('workspace_members_user_idx').on('workspace_members').column('user_id').execute();

  await db.schema
    .alterTable('projects')
    .addColumn('workspace_id', 'integer', (c) => c.references('workspaces.id').onDelete('restrict'))
    .execute();
  await db.schema.createIndex('projects_workspace_idx').on('projects').column('workspace_id').execute();

  await table('project_members')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('project_members_unique', ['project_id', 'user_id'])
    .execute();
  await db.schema.createIndex('project_members_user_idx').on('project_members').column('user_id').execute();

  await table('task_assignments', true)
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    /** 'AN' (annotate) or 'RE' (review). */
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('assigned_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('task_assignments_unique', ['task_id', 'user_id', 'type'])
    .execute();
  await db.schema.createIndex('task_assignments_user_idx').on('task_assignments').columns(['project_id', 'user_id', 'type']).execute();

  await table('annotation_reviews', true)
    .addColumn('annotation_id', big, (c) => c.notNull().references('annotations.id').onDelete('cascade'))
    .addColumn('task_id', big, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('created_by_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('accepted', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('annotation_reviews_annotation_idx').on('annotation_reviews').column('annotation_id').execute();
  await db.schema.createIndex('annotation_reviews_project_idx').on('annotation_reviews').column('project_id').execute();

  // Projects made before workspaces existed move into one shared workspace per organization.
  const now = new Date().toISOString();
  const orgs = await db.selectFrom('projects').select('organization_id').distinct().execute();
  for (const { organization_id } of orgs) {
    const ws = await db
      .insertInto('workspaces')
      .values({ organization_id, title: 'Default workspace', description: '', color: '#FFFFFF', is_personal: 0, is_archived: 0, created_by_id: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.updateTable('projects').set({ workspace_id: ws.id }).where('organization_id', '=', organization_id).execute();
  }
}

export async function down(): Promise<void> {
  throw new Error('The workspaces migration cannot be reverted');
}
