/** Foundation: organizations, users, memberships, sessions, tokens, settings, audit events. */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const id = (t: any) =>
    pg ? t.addColumn('id', 'serial', (c: any) => c.primaryKey()) : t.addColumn('id', 'integer', (c: any) => c.primaryKey().autoIncrement());

  await id(db.schema.createTable('organizations'))
    .addColumn('title', 'text', (c: any) => c.notNull())
    .addColumn('contact_info', 'text')
    .addColumn('created_by_id', 'integer')
    .addColumn('invite_nonce', 'text', (c: any) => c.notNull())
    .addColumn('invite_hash', 'text', (c: any) => c.notNull().unique())
    .addColumn('created_at', ts, (c: any) => c.notNull())
    .addColumn('updated_at', ts, (c: any) => c.notNull())
    .execute();

  await id(db.schema.createTable('users'))
    .addColumn('email', 'text', (c: any) => c.notNull().unique())
    .addColumn('username', 'text', (c: any) => c.notNull().unique())
    .addColumn('first_name', 'text', (c: any) => c.notNull().defaultTo(''))
    .addColumn('last_name', 'text', (c: any) => c.notNull().defaultTo(''))
    .addColumn('phone', 'text', (c: any) => c.notNull().defaultTo(''))
    .addColumn('password_hash', 'text')
    .addColumn('is_superuser', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('is_active', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('active_organization_id', 'integer', (c: any) => c.references('organizations.id').onDelete('set null'))
    .addColumn('token_hash', 'text', (c: any) => c.unique())
    .addColumn('token_nonce', 'text')
    .addColumn('token_created_at', ts)
    .addColumn('date_joined', ts, (c: any) => c.notNull())
    .addColumn('last_activity', ts)
    .addColumn('updated_at', ts, (c: any) => c.notNull())
    .execute();

  await id(db.schema.createTable('memberships'))
    .addColumn('organization_id', 'integer', (c: any) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c: any) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c: any) => c.notNull())
    .addColumn('created_at', ts, (c: any) => c.notNull())
    .addColumn('updated_at', ts, (c: any) => c.notNull())
    .addUniqueConstraint('memberships_org_user_unique', ['organization_id', 'user_id'])
    .execute();
  await db.schema.createIndex('memberships_user_idx').on('memberships').column('user_id').execute();

  await id(db.schema.createTable('sessions'))
    .addColumn('token_hash', 'text', (c: any) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c: any) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('ip', 'text', (c: any) => c.notNull())
    .addColumn('user_agent', 'text', (c: any) => c.notNull())
    .addColumn('created_at', ts, (c: any) => c.notNull())
    .addColumn('last_seen_at', ts, (c: any) => c.notNull())
    .addColumn('expires_at', ts, (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await id(db.schema.createTable('login_failures'))
    .addColumn('key', 'text', (c: any) => c.notNull())
    .addColumn('at', ts, (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('login_failures_key_at_idx').on('login_failures').columns(['key', 'at']).execute();

  await id(db.schema.createTable('personal_tokens'))
    .addColumn('jti', 'text', (c: any) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c: any) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('unsigned_part', 'text', (c: any) => c.notNull())
    .addColumn('created_at', ts, (c: any) => c.notNull())
    .addColumn('expires_at', ts, (c: any) => c.notNull())
    .addColumn('revoked_at', ts)
    .addColumn('last_used_at', ts)
    .execute();
  await db.schema.createIndex('personal_tokens_user_idx').on('personal_tokens').column('user_id').execute();

  await db.schema
    .createTable('instance_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await id(db.schema.createTable('audit_events'))
    .addColumn('created_at', ts, (c: any) => c.notNull())
    .addColumn('organization_id', 'integer')
    .addColumn('actor_user_id', 'integer')
    .addColumn('actor_email', 'text', (c: any) => c.notNull())
    .addColumn('auth_method', 'text', (c: any) => c.notNull())
    .addColumn('ip', 'text', (c: any) => c.notNull())
    .addColumn('user_agent', 'text', (c: any) => c.notNull())
    .addColumn('request_id', 'text', (c: any) => c.notNull())
    .addColumn('action', 'text', (c: any) => c.notNull())
    .addColumn('object_type', 'text', (c: any) => c.notNull())
    .addColumn('object_id', 'text')
    .addColumn('project_id', 'integer')
    .addColumn('changes', 'text', (c: any) => c.notNull())
    .addColumn('prev_hash', 'text', (c: any) => c.notNull())
    .addColumn('hash', 'text', (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_org_created_idx').on('audit_events').columns(['organization_id', 'created_at']).execute();

  if (pg) {
    // The audit log is append-only: the database itself refuses edits, and deletions except by
    // the retention pruner, which sets labelvault.audit_prune for its own transaction.
    await sql`CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('labelvault.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only';
      END $$`.execute(db);
    await sql`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`.execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('The foundation migration cannot be reverted');
}
