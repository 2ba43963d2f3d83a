/**
 * Fewer indexes on audit_events: every index is one more page written per audited change.
 * Listings filter by organization and read in id order, so (organization_id, id) serves them;
 * the request_id index stays for the activity log.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_events_org_created_idx').execute();
  await db.schema.dropIndex('audit_events_action_idx').execute();
  await db.schema.createIndex('audit_events_org_id_idx').on('audit_events').columns(['organization_id', 'id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('The audit-index migration cannot be reverted');
}
