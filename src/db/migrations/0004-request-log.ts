/** Raw request log (Label Studio's activity log: method, URL, status, duration, user agent). */
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const base = pg
    ? db.schema.createTable('request_logs').addColumn('id', 'bigserial', (c) => c.primaryKey())
    : db.schema.createTable('request_logs').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  await base
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('organization_id', 'integer')
    .addColumn('user_id', 'integer')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('referer', 'text', (c) => c.notNull())
    .addColumn('project_id', 'integer')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('request_logs_org_created_idx').on('request_logs').columns(['organization_id', 'created_at']).execute();
  await db.schema.createIndex('request_logs_request_idx').on('request_logs').column('request_id').execute();
  await db.schema.createIndex('audit_events_request_idx').on('audit_events').column('request_id').execute();
  await db.schema.createIndex('audit_events_action_idx').on('audit_events').columns(['organization_id', 'action']).execute();
}

export async function down(): Promise<void> {
  throw new Error('The request-log migration cannot be reverted');
}
