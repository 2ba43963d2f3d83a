/** Usage statistics: daily counters per organization and metric (collected only when enabled). */
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('usage_counters')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('value', pg ? 'bigint' : 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_counters_pk', ['day', 'organization_id', 'metric'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('The usage migration cannot be reverted');
}
