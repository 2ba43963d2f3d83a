/**
 * Audit events on PostgreSQL get a nonce, and the sealer's inputs are locked down.
 *
 * - `nonce`: random, unique, written by the recorder and covered by the event's HMACs (content
 *   and chained), so a copy of an event — even one read from a replica while it was unsealed —
 *   cannot be inserted again to be sealed a second time (the unique index refuses it). Existing
 *   events and SQLite's keep NULL (their hashes do not cover a nonce).
 * - A BEFORE INSERT trigger refuses an event that arrives with `seq` or `prev_hash` set: only the
 *   sealer chains events. A node still running the code from before migration 0012 (a rolling
 *   upgrade) therefore fails its audited writes loudly instead of writing events the sealer
 *   could never chain.
 * - `seq` must be positive, and the sealing UPDATE may not change the nonce either.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const CONTENT = ['id', 'created_at', 'organization_id', 'actor_user_id', 'actor_email', 'auth_method', 'ip', 'user_agent', 'request_id', 'action', 'object_type', 'object_id', 'project_id', 'changes', 'nonce'];

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('audit_events').addColumn('nonce', 'text').execute();
  if (!pg) return;
  await sql`CREATE UNIQUE INDEX audit_events_nonce_idx ON audit_events (nonce)`.execute(db);
  await sql`ALTER TABLE audit_events ADD CONSTRAINT audit_events_seq_positive CHECK (seq > 0)`.execute(db);
  await sql`CREATE FUNCTION audit_events_insert_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit events are inserted unsealed (the sealer chains them): is an older Labelvault still writing to this database?';
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_events_insert_unsealed BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_insert_unsealed()`.execute(db);
  const same = (side: string) => sql.raw(`(${CONTENT.map((c) => `${side}.${c}`).join(', ')})`);
  await sql`CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('labelvault.audit_prune', true) = 'on' THEN
        RETURN OLD;
      END IF;
      IF TG_OP = 'UPDATE' AND current_setting('labelvault.audit_seal', true) = 'on'
         AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL
         AND ${same('NEW')} IS NOT DISTINCT FROM ${same('OLD')} THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit_events is append-only';
    END $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('The audit-nonce migration cannot be reverted');
}
