/**
 * Authentication: turns the request's credentials into an Actor. Accepted, in order:
 * `Authorization: Token <key>` or `X-Api-Key: <key>` (legacy API token), `Authorization: Bearer
 * <access JWT>` (personal access token flow), then the session cookie. A presented but invalid
 * header credential is a 401; a stale session cookie is simply ignored (and cleared).
 */
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ACTIVE_ROLES, isRole } from '../authz/permissions.js';
import { findSession, SESSION_COOKIE } from '../modules/auth/sessions.service.js';
import { findUserIdByApiToken } from '../modules/tokens/api-token.service.js';
import { verifyAccessToken } from '../modules/tokens/personal-token.service.js';
import { findUserById, resolveActiveMembership } from '../modules/users/users.repository.js';
import type { Actor, AuthMethod } from './actor.js';
import { AppError } from './errors.js';

const TOUCH_EVERY_MS = 60_000;

interface Credential {
  userId: number;
  method: AuthMethod;
  sessionId?: number;
  sessionTokenHash?: string;
  patJti?: string;
  presentedToken?: string;
}

const invalidToken = () => new AppError(401, 'TOKEN_INVALID', 'Invalid token.');

async function credentialFromHeaders(deps: AppDeps, req: FastifyRequest): Promise<Credential | null> {
  const authz = req.headers.authorization;
  const apiKey = req.headers['x-api-key'];
  if (typeof authz === 'string' && authz.trim() !== '') {
    const m = /^(\w+)\s+(\S+)\s*$/.exec(authz.trim());
    if (!m) throw invalidToken();
    const scheme = m[1]!.toLowerCase();
    const value = m[2]!;
    if (scheme === 'token') {
      const userId = await findUserIdByApiToken(deps.db, deps.secrets, value);
      if (userId === null) throw invalidToken();
      return { userId, method: 'token', presentedToken: value };
    }
    if (scheme === 'bearer') {
      const found = await verifyAccessToken(deps, value);
      if (!found) throw new AppError(401, 'TOKEN_INVALID', 'Token is invalid or expired');
      return { userId: found.userId, method: 'pat', patJti: found.patJti };
    }
    throw new AppError(401, 'TOKEN_INVALID', 'Unsupported authorization scheme; use Token or Bearer.');
  }
  if (typeof apiKey === 'string' && apiKey.trim() !== '') {
    const value = apiKey.trim();
    const userId = await findUserIdByApiToken(deps.db, deps.secrets, value);
    if (userId === null) throw invalidToken();
    return { userId, method: 'token', presentedToken: value };
  }
  return null;
}

/**
 * Resolves the actor of a request (or null when anonymous). Throws 401 for a bad header
 * credential and for users who are inactive, not activated or deactivated.
 */
export async function authenticate(deps: AppDeps, req: FastifyRequest, reply: FastifyReply): Promise<{ actor: Actor; sessionTokenHash?: string } | null> {
  let cred = await credentialFromHeaders(deps, req);
  if (!cred) {
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie) {
      const session = await findSession(deps, cookie);
      if (session) cred = { userId: session.userId, method: 'session', sessionId: session.id, sessionTokenHash: session.tokenHash };
      else void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    }
  }
  if (!cred) return null;
  const user = await findUserById(deps.db, cred.userId);
  const membership = user ? await resolveActiveMembership(deps.db, user) : undefined;
  if (!user || !membership || user.is_active !== 1 || !isRole(membership.role) || !ACTIVE_ROLES.includes(membership.role)) {
    throw new AppError(401, 'USER_INACTIVE', 'User inactive or deleted.');
  }
  if (user.last_activity === null || Date.now() - Date.parse(user.last_activity) > TOUCH_EVERY_MS) {
    await deps.db.updateTable('users').set({ last_activity: new Date().toISOString() }).where('id', '=', user.id).execute();
  }
  const actor: Actor = {
    userId: user.id,
    email: user.email,
    username: user.username,
    isSuperuser: user.is_superuser === 1,
    organizationId: membership.organization_id,
    role: membership.role,
    authMethod: cred.method,
    ...(cred.sessionId !== undefined && { sessionId: cred.sessionId }),
    ...(cred.patJti !== undefined && { patJti: cred.patJti }),
    ...(cred.presentedToken !== undefined && { presentedToken: cred.presentedToken }),
  };
  return { actor, ...(cred.sessionTokenHash !== undefined && { sessionTokenHash: cred.sessionTokenHash }) };
}
