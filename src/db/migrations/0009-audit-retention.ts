/**
 * Audit retention and a cheaper chain append.
 *
 * - `audit_checkpoints`: written by the retention pruner. Each records the last pruned event's id
 *   and hash, signed with the server secret, so the remaining chain still verifies from there.
 *   Append-only on PostgreSQL (a trigger refuses UPDATE and DELETE).
 * - A BEFORE INSERT trigger on `audit_events` that skips (inserts nothing, raises nothing) an
 *   event whose `prev_hash` is not the hash of the current last event. The recorder can then send
 *   one INSERT with the predecessor it remembers and re-read only when the insert was skipped
 *   (another process wrote meanwhile, or a transaction that wrote its last event rolled back).
 *   On PostgreSQL the trigger takes the advisory lock that serialises writers (held until
 *   commit) before reading the last event; the recorder no longer takes it itself.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const base = pg
    ? db.schema.createTable('audit_checkpoints').addColumn('id', 'serial', (c) => c.primaryKey())
    : db.schema.createTable('audit_checkpoints').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  await base
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('last_event_id', pg ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('last_event_hash', 'text', (c) => c.notNull())
    .addColumn('pruned_count', 'integer', (c) => c.notNull())
    .addColumn('retention_days', 'integer', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();

  if (pg) {
    await sql`CREATE FUNCTION audit_events_link() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE last_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(7240311);
        SELECT hash INTO last_hash FROM audit_events ORDER BY id DESC LIMIT 1;
        IF NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, 'genesis') THEN
          RETURN NULL;
        END IF;
        RETURN NEW;
      END $$`.execute(db);
    await sql`CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_link()`.execute(db);
    await sql`CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_checkpoints is append-only';
      END $$`.execute(db);
    await sql`CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change()`.execute(db);
  } else {
    await sql`CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events
      WHEN NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), 'genesis')
      BEGIN SELECT RAISE(IGNORE); END`.execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('The audit-retention migration cannot be reverted');
}
