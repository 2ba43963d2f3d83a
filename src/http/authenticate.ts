/**
 * Authentication: turns the request's credentials into an Actor. Accepted, in order:
 * `Authorization: Token <key>` or `X-Api-Key: <key>` (legacy API token), `Authorization: Bearer
 * <access JWT>` (personal access token flow), then the session cookie. A presented but invalid
 * header credential is a 401; a stale session cookie is simply ignored (and cleared).
 *
 * The organization a request acts in is the user's active one (`users.active_organization_id`,
 * set by `POST /api/current-user/active-organization`), or, for one request, the one named by the
 * `X-Labelvault-Organization: <id>` header. A header naming an organization the user has no
 * active membership in is a 403 (the credentials are good; that organization is not theirs), and
 * a malformed one a 400: never a silent fall back to another organization.
 */
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ACTIVE_ROLES, isRole } from '../authz/permissions.js';
import { findSession, SESSION_COOKIE } from '../modules/auth/sessions.service.js';
import { findUserIdByApiToken } from '../modules/tokens/api-token.service.js';
import { verifyAccessToken } from '../modules/tokens/personal-token.service.js';
import type { MembershipRow, UserRow } from '../db/schema.js';
import { findMembership, findUserById, resolveActiveMembership } from '../modules/users/users.repository.js';
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

/** The request header that picks the organization one request acts in. */
export const ORGANIZATION_HEADER = 'x-labelvault-organization';

/**
 * The membership a request acts through: the header's organization when present (403 unless the
 * user is active in it), else the user's active organization (see `resolveActiveMembership`).
 */
async function membershipOf(deps: AppDeps, req: FastifyRequest, user: UserRow): Promise<MembershipRow | undefined> {
  const raw = req.headers[ORGANIZATION_HEADER];
  if (raw === undefined || raw === '') return resolveActiveMembership(deps.db, user);
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw.trim())) {
    throw new AppError(400, 'ORGANIZATION_HEADER_INVALID', 'X-Labelvault-Organization must be one organization id.');
  }
  const orgId = Number(raw.trim());
  const m = await findMembership(deps.db, orgId, user.id);
  if (!m || !isRole(m.role) || !ACTIVE_ROLES.includes(m.role)) {
    throw new AppError(403, 'ORGANIZATION_NOT_AVAILABLE', `You have no active membership in organization ${orgId} (X-Labelvault-Organization).`);
  }
  return m;
}

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
  const inactive = () => new AppError(401, 'USER_INACTIVE', 'User inactive or deleted.');
  if (!user || user.is_active !== 1) throw inactive();
  const membership = await membershipOf(deps, req, user);
  if (!membership || !isRole(membership.role) || !ACTIVE_ROLES.includes(membership.role)) throw inactive();
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
