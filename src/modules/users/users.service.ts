/** Users: profiles, creation by administrators, passwords and the legacy API token. */
import type { Transaction } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../../app-deps.js';
import { can } from '../../authz/permissions.js';
import type { Db } from '../../db/database.js';
import type { Database, UserRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, forbidden, invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { hashPassword, passwordProblems, verifyPassword } from '../../security/passwords.js';
import { attemptSucceeded, beginAttempt, userAccount } from '../auth/login-throttle.service.js';
import { deleteUserSessions } from '../auth/sessions.service.js';
import { deriveApiToken, issueApiToken } from '../tokens/api-token.service.js';
import { findMembership, findUserByEmail, findUserById, findUserByUsername, insertUserWithMembership, listMembershipsOfUser } from './users.repository.js';
import { toUserResponse } from './users.schemas.js';

type Q = Db | Transaction<Database>;

/** A free username derived from an email (Label Studio derives it the same way when none is given). */
export async function availableUsername(db: Q, email: string): Promise<string> {
  const base = (email.split('@')[0] ?? 'user').replace(/[^\w.@+-]/g, '').slice(0, 120) || 'user';
  if (!(await findUserByUsername(db, base))) return base;
  for (;;) {
    const candidate = `${base}_${randomBytes(3).toString('hex')}`;
    if (!(await findUserByUsername(db, candidate))) return candidate;
  }
}

/** Throws a 400 naming `field` when the password breaks the policy. */
export function assertPasswordAcceptable(password: string, identity: { email?: string; username?: string }, field = 'password'): void {
  const problems = passwordProblems(password, identity);
  if (problems.length > 0) throw invalid({ [field]: problems });
}

/** The response shape of one user. */
export async function userResponse(db: Q, user: UserRow) {
  return toUserResponse(user, await listMembershipsOfUser(db, user.id));
}

/** A user the actor may see: themselves, or (with members.view) a member of their organization. */
export async function getVisibleUser(db: Db, actor: Actor, id: number): Promise<UserRow> {
  const user = await findUserById(db, id);
  if (!user) throw notFound();
  if (id === actor.userId) return user;
  const shared = await findMembership(db, actor.organizationId, id);
  if (!shared) throw notFound();
  if (!can(actor, 'members.view')) throw forbidden();
  return user;
}

/** Users of the actor's organization. */
export async function listUsers(db: Db, actor: Actor) {
  const users = await db
    .selectFrom('users as u')
    .innerJoin('memberships as m', 'm.user_id', 'u.id')
    .selectAll('u')
    .where('m.organization_id', '=', actor.organizationId)
    .orderBy('u.id')
    .execute();
  return Promise.all(users.map((u) => userResponse(db, u)));
}

export interface ProfileChanges {
  first_name?: string | undefined;
  last_name?: string | undefined;
  username?: string | undefined;
  phone?: string | undefined;
}

/** Updates a profile: one's own, or another member's with users.update. Email cannot change here. */
export async function updateUser(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, changes: ProfileChanges & { email?: string | undefined }) {
  if (changes.email !== undefined) throw new AppError(405, 'EMAIL_READ_ONLY', 'The email address cannot be changed through this endpoint.');
  const user = await getVisibleUser(deps.db, actor, id);
  if (id !== actor.userId) {
    if (!can(actor, 'users.update')) throw forbidden();
    // Administrators edit members below them; only the Owner edits Administrators, and nobody else the Owner.
    const target = await findMembership(deps.db, actor.organizationId, id);
    if (target?.role === 'OW' || (target?.role === 'AD' && actor.role !== 'OW')) throw forbidden('You cannot edit the profile of a member of equal or higher role.');
  }
  return deps.db.transaction().execute(async (trx) => {
    if (changes.username !== undefined && changes.username !== user.username) {
      const taken = await findUserByUsername(trx, changes.username);
      if (taken) throw invalid({ username: ['A user with that username already exists.'] });
    }
    const diff: Record<string, { before: unknown; after: unknown }> = {};
    for (const [k, v] of Object.entries(changes) as [keyof ProfileChanges, string | undefined][]) {
      if (v !== undefined && v !== user[k]) diff[k] = { before: user[k], after: v };
    }
    const updated = await trx
      .updateTable('users')
      .set({ ...Object.fromEntries(Object.entries(diff).map(([k, d]) => [k, d.after])), updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (Object.keys(diff).length > 0) await audit(trx, { action: 'user.update', objectType: 'user', objectId: id, changes: diff });
    return userResponse(trx, updated);
  });
}

export interface CreateUserInput {
  email: string;
  username?: string | undefined;
  first_name?: string | undefined;
  last_name?: string | undefined;
  phone?: string | undefined;
  password?: string | undefined;
  active_organization?: number | undefined;
}

/**
 * An administrator adds a user to their organization, as an Annotator (the least active role;
 * roles change through memberships). Without a password the user signs in only after one is set.
 */
export async function createUser(deps: AppDeps, actor: Actor, audit: AuditFn, input: CreateUserInput) {
  const email = input.email.trim().toLowerCase();
  if (input.active_organization !== undefined && input.active_organization !== actor.organizationId) {
    throw invalid({ active_organization: ['Users are created in your own organization.'] });
  }
  if (input.password !== undefined) assertPasswordAcceptable(input.password, { email, ...(input.username !== undefined && { username: input.username }) });
  const passwordHash = input.password !== undefined ? await hashPassword(input.password, deps.config.passwords.scryptLogN) : null;
  return deps.db.transaction().execute(async (trx) => {
    if (await findUserByEmail(trx, email)) throw invalid({ email: ['A user with that email already exists.'] });
    if (input.username !== undefined && (await findUserByUsername(trx, input.username))) throw invalid({ username: ['A user with that username already exists.'] });
    const user = await insertUserWithMembership(trx, {
      email,
      username: input.username ?? (await availableUsername(trx, email)),
      firstName: input.first_name,
      lastName: input.last_name,
      passwordHash,
      organizationId: actor.organizationId,
      role: 'AN',
    });
    if (input.phone) await trx.updateTable('users').set({ phone: input.phone }).where('id', '=', user.id).execute();
    await audit(trx, { action: 'user.create', objectType: 'user', objectId: user.id, changes: { email, role: 'AN' } });
    return userResponse(trx, { ...user, phone: input.phone ?? '' });
  });
}

/** Changes the actor's own password after checking the current one; ends their other sessions. */
export async function changeOwnPassword(deps: AppDeps, actor: Actor, audit: AuditFn, source: { ip: string }, input: { old_password: string; new_password: string }) {
  const user = await findUserById(deps.db, actor.userId);
  if (!user) throw notFound();
  // Guessing the current password through this form is throttled like logins.
  const attempt = await beginAttempt(deps, userAccount(user.id), source.ip);
  const check = user.password_hash ? await verifyPassword(input.old_password, user.password_hash, deps.config.passwords.scryptLogN) : { ok: false };
  if (!check.ok) {
    await audit(deps.db, { action: 'auth.password_change_failed', objectType: 'user', objectId: user.id, changes: { reason: 'wrong current password' } });
    throw invalid({ old_password: ['Current password is not correct.'] });
  }
  await attemptSucceeded(deps, attempt);
  assertPasswordAcceptable(input.new_password, { email: user.email, username: user.username }, 'new_password');
  const hash = await hashPassword(input.new_password, deps.config.passwords.scryptLogN);
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: hash, updated_at: new Date().toISOString() }).where('id', '=', user.id).execute();
    await deleteUserSessions(trx, user.id, actor.sessionId);
    await audit(trx, { action: 'auth.password_change', objectType: 'user', objectId: user.id });
  });
}

/** Replaces the actor's API token; the old one stops working at once. */
export async function resetOwnToken(deps: AppDeps, actor: Actor, audit: AuditFn): Promise<string> {
  return deps.db.transaction().execute(async (trx) => {
    const token = await issueApiToken(trx, deps.secrets, actor.userId);
    await audit(trx, { action: 'token.reset', objectType: 'user', objectId: actor.userId });
    return token;
  });
}

/**
 * The actor's current API token, to its owner only. A derived token is recomputed; a token
 * supplied at bootstrap is known only when the request itself presented it.
 */
export async function getOwnToken(deps: AppDeps, actor: Actor): Promise<string> {
  const user = await findUserById(deps.db, actor.userId);
  if (!user || user.token_hash === null) throw new AppError(404, 'TOKEN_NONE', 'You have no API token yet; reset it to create one.');
  if (user.token_nonce !== null) return deriveApiToken(deps.secrets, user.id, user.token_nonce);
  if (actor.presentedToken !== undefined) return actor.presentedToken;
  throw new AppError(404, 'TOKEN_NOT_KEPT', 'This token was supplied at setup and is stored only as a hash; reset it to get a new one.');
}
