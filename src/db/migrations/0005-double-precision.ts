/**
 * Lead times and scores as 8-byte floats on PostgreSQL (`real` lost precision and overflowed
 * above 3.4e38). SQLite's REAL is already 8 bytes: nothing to do there.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table annotations alter column lead_time type double precision`.execute(db);
  await sql`alter table drafts alter column lead_time type double precision`.execute(db);
  await sql`alter table predictions alter column score type double precision`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('The double-precision migration cannot be reverted');
}
