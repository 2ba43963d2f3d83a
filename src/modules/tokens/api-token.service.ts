/**
 * Legacy API tokens (`Authorization: Token …`, `X-Api-Key`), one per user.
 *
 * Storage: the database keeps a keyed hash of the token (HMAC with a key derived from the server
 * secret) for lookup, never the token. A generated token is itself derived from the server secret
 * and a per-user random nonce, so `GET /api/current-user/token` can show it again to its owner
 * without it being stored; resetting replaces the nonce, so the old token stops working at once.
 * A token supplied at bootstrap (LABEL_STUDIO_USER_TOKEN) cannot be derived: only its hash is kept.
 */
import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import { randomToken, type Secrets } from '../../security/secret-key.js';

const hex40 = (mac: string) => Buffer.from(mac, 'base64url').toString('hex').slice(0, 40);

/** The lookup hash stored for a token. */
export const tokenLookupHash = (secrets: Secrets, token: string) => secrets.mac('api-token-lookup', token);

/** The token a user's nonce derives (40 hex characters, the shape Label Studio's tokens have). */
export const deriveApiToken = (secrets: Secrets, userId: number, nonce: string) => hex40(secrets.mac('api-token', userId, nonce));

/** Issues a new derived token for a user, replacing any previous one. Returns the token. */
export async function issueApiToken(db: Db | Transaction<Database>, secrets: Secrets, userId: number): Promise<string> {
  const nonce = randomToken(24);
  const token = deriveApiToken(secrets, userId, nonce);
  await db
    .updateTable('users')
    .set({ token_hash: tokenLookupHash(secrets, token), token_nonce: nonce, token_created_at: new Date().toISOString() })
    .where('id', '=', userId)
    .execute();
  return token;
}

/** Sets a token chosen outside (bootstrap); only its hash is kept. */
export async function setSuppliedApiToken(db: Db | Transaction<Database>, secrets: Secrets, userId: number, token: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ token_hash: tokenLookupHash(secrets, token), token_nonce: null, token_created_at: new Date().toISOString() })
    .where('id', '=', userId)
    .execute();
}

/** The user id a presented token belongs to, or null. */
export async function findUserIdByApiToken(db: Db, secrets: Secrets, token: string): Promise<number | null> {
  if (token.length < 20 || token.length > 256) return null;
  const row = await db.selectFrom('users').select('id').where('token_hash', '=', tokenLookupHash(secrets, token)).executeTakeFirst();
  return row?.id ?? null;
}
