/**
 * Audit chain on PostgreSQL: sealed after commit instead of linked under a lock.
 *
 * Until now every audited transaction took one advisory lock in the `audit_events` insert trigger
 * and held it to COMMIT, so all writes of the installation, on every app node, queued behind each
 * other. From this migration on, on PostgreSQL:
 * - an event is inserted unsealed: `seq` and `prev_hash` NULL, `hash` the HMAC of its content
 *   alone (so an unsealed event still cannot be edited or forged without the server secret);
 * - the sealer (src/audit/sealer.ts) numbers committed events in `seq` order and replaces each
 *   hash by the chained one, one process at a time (the same advisory lock, held only for its
 *   own short transaction). The chain's order is `seq`, not `id` (ids are taken at insert, in a
 *   different order from commits);
 * - the append-only trigger lets exactly that through: an UPDATE that only sets `seq`,
 *   `prev_hash` and `hash` of an unsealed event, inside a transaction that set
 *   `labelvault.audit_seal`. Every other UPDATE, and DELETE outside pruning, is still refused.
 * Existing events were chained in id order: they get `seq = id`.
 *
 * On SQLite (one writer at a time, events chained inside the writing transaction as before) the
 * column is added but stays NULL: the chain's order there is `id`.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const CONTENT = ['id', 'created_at', 'organization_id', 'actor_user_id', 'actor_email', 'auth_method', 'ip', 'user_agent', 'request_id', 'action', 'object_type', 'object_id', 'project_id', 'changes'];

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('audit_events').addColumn('seq', pg ? 'bigint' : 'integer').execute();
  if (!pg) return;
  await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`.execute(db);
  await sql`UPDATE audit_events SET seq = id`.execute(db);
  await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`.execute(db);
  await sql`ALTER TABLE audit_events ALTER COLUMN prev_hash DROP NOT NULL`.execute(db);
  await sql`DROP TRIGGER audit_events_link ON audit_events`.execute(db);
  await sql`DROP FUNCTION audit_events_link()`.execute(db);
  await sql`CREATE UNIQUE INDEX audit_events_seq_idx ON audit_events (seq)`.execute(db);
  await sql`CREATE INDEX audit_events_unsealed_idx ON audit_events (id) WHERE seq IS NULL`.execute(db);
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
  throw new Error('The audit-sealing migration cannot be reverted');
}
