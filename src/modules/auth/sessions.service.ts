/**
 * Server-side browser sessions. The cookie holds a random value; the database holds only its
 * SHA-256. Sessions end at logout, after the idle timeout, or at their absolute expiry.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../db/database.js';
import type { AppDeps } from '../../app-deps.js';
import { randomToken } from '../../security/secret-key.js';

export const SESSION_COOKIE = 'lv_session';
export const CSRF_COOKIE = 'lv_csrftoken';
export const CSRF_HEADER = 'x-csrftoken';
const TOUCH_EVERY_MS = 60_000;

/** The SHA-256 stored for a session cookie value. */
export const hashSessionToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface ActiveSession {
  id: number;
  userId: number;
  tokenHash: string;
}

/** Opens a new session; returns the cookie value (shown to the browser only). */
export async function createSession(db: Db, opts: { userId: number; ip: string; userAgent: string; maxAgeMs: number }): Promise<{ token: string; id: number; tokenHash: string }> {
  const token = randomToken(32);
  const now = new Date();
  const row = await db
    .insertInto('sessions')
    .values({
      token_hash: hashSessionToken(token),
      user_id: opts.userId,
      ip: opts.ip,
      user_agent: opts.userAgent.slice(0, 512),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + opts.maxAgeMs).toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token, id: row.id, tokenHash: hashSessionToken(token) };
}

/** Finds the live session for a cookie value, ending it if idle or expired; touches it at most once a minute. */
export async function findSession(deps: AppDeps, token: string): Promise<ActiveSession | null> {
  if (token.length < 20 || token.length > 100) return null;
  const tokenHash = hashSessionToken(token);
  const row = await deps.db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  if (!row) return null;
  const now = Date.now();
  const idleFor = now - Date.parse(row.last_seen_at);
  if (Date.parse(row.expires_at) <= now || idleFor > deps.config.session.idleTimeoutMs) {
    await deps.db.deleteFrom('sessions').where('id', '=', row.id).execute();
    return null;
  }
  if (idleFor > TOUCH_EVERY_MS) {
    await deps.db.updateTable('sessions').set({ last_seen_at: new Date(now).toISOString() }).where('id', '=', row.id).execute();
  }
  return { id: row.id, userId: row.user_id, tokenHash };
}

/** Ends one session. */
export async function deleteSession(db: Db, id: number): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Ends every session of a user except, optionally, one (after a password change). */
export async function deleteUserSessions(db: Db, userId: number, exceptId?: number): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  await q.execute();
}
