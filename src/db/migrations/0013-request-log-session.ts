/**
 * The request log records which browser session a request came from, as Label Studio's activity
 * log does (`user_session`): an 8-character tag derived from the session's stored token hash
 * (request-log.ts), enough to tell one session's requests from another's, useless to sign in
 * with. NULL for requests authenticated by a token or not at all.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('request_logs').addColumn('session_tag', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('The request-log session migration cannot be reverted');
}
