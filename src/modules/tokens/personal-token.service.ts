/**
 * Personal access tokens, as Label Studio's newer SDK uses them: a long-lived refresh JWT (shown
 * once) exchanged at `/api/token/refresh/` for short-lived access JWTs sent as `Bearer`. Both are
 * signed with a key derived from the server secret; the database keeps only the token id (jti)
 * and its unsigned part, which cannot be replayed.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/database.js';
import type { AppDeps } from '../../app-deps.js';
import { signJwt, verifyJwt, type JwtClaims } from '../../security/jwt.js';
import { ACTIVE_ROLES, isRole } from '../../authz/permissions.js';
import { AppError } from '../../http/errors.js';
import { findUserById, resolveActiveMembership } from '../users/users.repository.js';

const now = () => Math.floor(Date.now() / 1000);

export interface PersonalTokenInfo {
  jti: string;
  token: string;
  created_at: string;
  expires_at: string;
}

/** Creates a personal access token for a user; the signed token is returned once. */
export async function createPersonalToken(deps: AppDeps, db: Db, userId: number): Promise<PersonalTokenInfo> {
  const iat = now();
  const exp = iat + deps.config.tokens.personalTtlDays * 86_400;
  const claims: JwtClaims = { token_type: 'refresh', jti: randomUUID(), user_id: userId, iat, exp };
  const { token, unsigned } = signJwt(deps.secrets.key('jwt'), claims);
  const created_at = new Date(iat * 1000).toISOString();
  const expires_at = new Date(exp * 1000).toISOString();
  await db.insertInto('personal_tokens').values({ jti: claims.jti, user_id: userId, unsigned_part: unsigned, created_at, expires_at }).execute();
  return { jti: claims.jti, token, created_at, expires_at };
}

/** The caller's live personal access tokens; `token` is the unsigned part (identifies, cannot authenticate). */
export async function listPersonalTokens(db: Db, userId: number) {
  return db
    .selectFrom('personal_tokens')
    .select(['jti', 'unsigned_part as token', 'created_at', 'expires_at'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date().toISOString())
    .orderBy('id', 'desc')
    .execute();
}

const invalidToken = () => new AppError(401, 'TOKEN_INVALID', 'Token is invalid or expired');

/** Verifies a refresh token (signature, expiry, not revoked); returns its claims. */
export async function checkRefreshToken(deps: AppDeps, db: Db, refresh: string): Promise<JwtClaims> {
  const claims = verifyJwt(deps.secrets.key('jwt'), refresh);
  if (!claims || claims.token_type !== 'refresh') throw invalidToken();
  const row = await db.selectFrom('personal_tokens').select(['revoked_at', 'user_id']).where('jti', '=', claims.jti).executeTakeFirst();
  if (!row || row.revoked_at !== null || row.user_id !== claims.user_id) throw invalidToken();
  if (!(await isUserActive(db, claims.user_id))) throw invalidToken();
  return claims;
}

/** Exchanges a refresh token for an access token; returns it and the personal token's jti. */
export async function refreshAccessToken(deps: AppDeps, refresh: string): Promise<{ access: string; jti: string; userId: number }> {
  const claims = await checkRefreshToken(deps, deps.db, refresh);
  const iat = now();
  const access: JwtClaims = { token_type: 'access', jti: randomUUID(), user_id: claims.user_id, iat, exp: iat + deps.config.tokens.accessTtlSeconds, pat: claims.jti };
  await deps.db.updateTable('personal_tokens').set({ last_used_at: new Date().toISOString() }).where('jti', '=', claims.jti).execute();
  return { access: signJwt(deps.secrets.key('jwt'), access).token, jti: claims.jti, userId: claims.user_id };
}

/**
 * Revokes one of the user's personal access tokens, named by the token itself or by its `jti`
 * (the list shows it, so a lost token can still be revoked). Its access tokens stop working too.
 */
export async function revokePersonalToken(deps: AppDeps, db: Db, which: { refresh?: string | undefined; jti?: string | undefined }, userId: number): Promise<string> {
  const jti = which.refresh !== undefined ? (verifyJwt(deps.secrets.key('jwt'), which.refresh)?.jti ?? null) : (which.jti ?? null);
  const row = jti === null ? undefined : await db.selectFrom('personal_tokens').select(['jti', 'user_id', 'revoked_at']).where('jti', '=', jti).executeTakeFirst();
  if (!row || row.user_id !== userId || row.revoked_at !== null) throw new AppError(404, 'TOKEN_NOT_FOUND', 'Token not found or already revoked');
  await db.updateTable('personal_tokens').set({ revoked_at: new Date().toISOString() }).where('jti', '=', row.jti).execute();
  return row.jti;
}

/** Whether a user may still authenticate (active, with an active role in their organization). */
async function isUserActive(db: Db, userId: number): Promise<boolean> {
  const user = await findUserById(db, userId);
  const m = user ? await resolveActiveMembership(db, user) : undefined;
  return !!user && user.is_active === 1 && !!m && isRole(m.role) && ACTIVE_ROLES.includes(m.role);
}

/** Verifies an access token and that its personal access token is still live; returns the user id and PAT jti. */
export async function verifyAccessToken(deps: AppDeps, access: string): Promise<{ userId: number; patJti: string } | null> {
  const claims = verifyJwt(deps.secrets.key('jwt'), access);
  if (!claims || claims.token_type !== 'access' || !claims.pat) return null;
  const row = await deps.db.selectFrom('personal_tokens').select(['revoked_at', 'expires_at', 'user_id']).where('jti', '=', claims.pat).executeTakeFirst();
  if (!row || row.revoked_at !== null || row.user_id !== claims.user_id || Date.parse(row.expires_at) <= Date.now()) return null;
  return { userId: claims.user_id, patJti: claims.pat };
}
