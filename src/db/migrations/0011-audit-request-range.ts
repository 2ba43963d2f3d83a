/**
 * The activity log finds a request's audit events by the range of event ids the request wrote
 * (kept on its request-log row) instead of an index on `audit_events.request_id`: one index
 * fewer is one page fewer written with every audited change. Existing rows are backfilled while
 * the old index still serves the lookup; then it is dropped.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const big = pg ? 'bigint' : 'integer';
  await db.schema.alterTable('request_logs').addColumn('first_event_id', big).execute();
  await db.schema.alterTable('request_logs').addColumn('last_event_id', big).execute();
  await sql`update request_logs set
      first_event_id = (select min(e.id) from audit_events e where e.request_id = request_logs.request_id),
      last_event_id = (select max(e.id) from audit_events e where e.request_id = request_logs.request_id)`.execute(db);
  await db.schema.dropIndex('audit_events_request_idx').execute();
}

export async function down(): Promise<void> {
  throw new Error('The audit request-range migration cannot be reverted');
}
