/**
 * Login, logout, invite-only signup and first-run setup. Failed logins get one generic message
 * (no account enumeration) and are throttled per account and per IP.
 */
import type { AppDeps } from '../../app-deps.js';
import { recordAuditEvent, type AuditSource } from '../../audit/recorder.js';
import { ACTIVE_ROLES, isRole } from '../../authz/permissions.js';
import type { UserRow } from '../../db/schema.js';
import { AppError, invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../../security/passwords.js';
import { findOrganizationByInvite } from '../organizations/organizations.service.js';
import { findUserByEmail, findUserByUsername, insertUserWithMembership, resolveActiveMembership } from '../users/users.repository.js';
import { assertPasswordAcceptable, availableUsername, userResponse } from '../users/users.service.js';
import { attemptSucceeded, beginAttempt, claimThrottledReport, emailAccount, isThrottled } from './login-throttle.service.js';
import { createSession, deleteSession } from './sessions.service.js';

const badCredentials = () => new AppError(401, 'LOGIN_FAILED', 'Invalid email or password.');

export interface LoginResult {
  userId: number;
  sessionToken: string;
  csrfToken: string;
}

/** The account a login request names, once known (the request log attributes the request to it). */
export interface LoginAccount {
  userId: number;
  email: string;
  organizationId: number | null;
  /** True once the password was right and the session opened. */
  authenticated: boolean;
}

/**
 * Records a failed login. For an existing account the event belongs to its active organization
 * (the one a successful login is recorded under, so its Administrators and Owner see both), with
 * the account as actor (`auth_method` stays "anonymous": nobody proved who they are). An unknown
 * email belongs to no organization: only `labelvault audit` and the database show it. Both run the
 * same queries (the membership look-up of an unknown email finds none), so timing tells neither.
 */
async function recordLoginFailure(deps: AppDeps, source: AuditSource, email: string, user: UserRow | undefined, reason: string, onAccount?: (a: LoginAccount) => void, extra: Record<string, unknown> = {}) {
  const membership = await resolveActiveMembership(deps.db, user ?? NO_USER);
  const organizationId = user ? (membership?.organization_id ?? null) : null;
  if (user) onAccount?.({ userId: user.id, email: user.email, organizationId, authenticated: false });
  const who = user ? { actorUserId: user.id, actorEmail: user.email } : {};
  await recordAuditEvent(deps.db, deps.secrets, { ...source, ...who, authMethod: 'anonymous' }, { action: 'auth.login_failed', objectType: 'user', objectId: user?.id ?? null, organizationId, changes: { email, reason, ...extra } });
}

/** Stands in for the account an unknown email would have named (no user has id 0). */
const NO_USER = { id: 0, active_organization_id: null };

/**
 * A throttled attempt: only the first refusal of an account's throttle window is recorded (event
 * and request-log attribution, with the attempts counted in the window); the later ones leave an
 * org-less request-log row only, so an anonymous flood cannot fill an organization's logs.
 */
async function recordThrottled(deps: AppDeps, source: AuditSource, email: string, onAccount?: (a: LoginAccount) => void) {
  const attempts = await claimThrottledReport(deps, emailAccount(email));
  if (attempts === null) return;
  await recordLoginFailure(deps, source, email, await findUserByEmail(deps.db, email), 'throttled', onAccount, { attempts_in_window: attempts });
}

/**
 * Checks credentials and opens a new session (a fresh id at every login; a session the browser
 * already had is ended). Refuses users who are not activated or deactivated. `onAccount` is told
 * the account as soon as the email names one (and again once logged in).
 */
export async function login(
  deps: AppDeps,
  source: AuditSource,
  input: { email: string; password: string; previousSessionId?: number | undefined; onAccount?: (a: LoginAccount) => void },
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const attempt = await beginAttempt(deps, emailAccount(email), source.ip).catch(async (err: unknown) => {
    if (isThrottled(err)) await recordThrottled(deps, source, email, input.onAccount);
    throw err;
  });
  const logN = deps.config.passwords.scryptLogN;
  const user = await findUserByEmail(deps.db, email);
  const check = user?.password_hash ? await verifyPassword(input.password, user.password_hash, logN) : (await burnPasswordCheck(input.password, logN), { ok: false, needsRehash: false });
  if (!user || !check.ok) {
    await recordLoginFailure(deps, source, email, user, 'bad credentials', input.onAccount);
    throw badCredentials();
  }
  const membership = await resolveActiveMembership(deps.db, user);
  const role = membership?.role;
  if (user.is_active !== 1 || !isRole(role) || !ACTIVE_ROLES.includes(role)) {
    await recordLoginFailure(deps, source, email, user, `inactive (${role ?? 'no membership'})`, input.onAccount);
    throw role === 'NO'
      ? new AppError(403, 'ACCOUNT_NOT_ACTIVATED', 'Your account is waiting for an administrator to give it a role.')
      : new AppError(403, 'ACCOUNT_DISABLED', 'This account is deactivated.');
  }
  await attemptSucceeded(deps, attempt);
  const newHash = check.needsRehash ? await hashPassword(input.password, logN) : undefined;
  return deps.db.transaction().execute(async (trx) => {
    if (input.previousSessionId !== undefined) await deleteSession(trx, input.previousSessionId);
    if (newHash) await trx.updateTable('users').set({ password_hash: newHash, updated_at: new Date().toISOString() }).where('id', '=', user.id).execute();
    const session = await createSession(trx, { userId: user.id, ip: source.ip, userAgent: source.userAgent, maxAgeMs: deps.config.session.maxAgeMs });
    await recordAuditEvent(trx, deps.secrets, { ...source, organizationId: membership!.organization_id, actorUserId: user.id, actorEmail: user.email, authMethod: 'session' }, {
      action: 'auth.login',
      objectType: 'session',
      objectId: session.id,
      changes: newHash ? { password_hash: 'upgraded to scrypt' } : {},
    });
    input.onAccount?.({ userId: user.id, email: user.email, organizationId: membership!.organization_id, authenticated: true });
    return { userId: user.id, sessionToken: session.token, csrfToken: deps.secrets.mac('csrf', session.tokenHash) };
  });
}

/** Ends the actor's session. */
export async function logout(deps: AppDeps, audit: AuditFn, sessionId: number | undefined): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    if (sessionId !== undefined) await deleteSession(trx, sessionId);
    await audit(trx, { action: 'auth.logout', objectType: 'session', objectId: sessionId ?? null });
  });
}

export interface SignupInput {
  email: string;
  password: string;
  token?: string | undefined;
  username?: string | undefined;
  first_name?: string | undefined;
  last_name?: string | undefined;
}

/**
 * Signs up through an organization's invite link (or, only when open signup is enabled, into the
 * first organization). New users start as Not activated until an Administrator gives a role.
 */
export async function signup(deps: AppDeps, audit: AuditFn, input: SignupInput) {
  const email = input.email.trim().toLowerCase();
  let org = input.token ? await findOrganizationByInvite(deps.db, deps.secrets, input.token) : undefined;
  if (input.token && !org) throw new AppError(403, 'INVITE_INVALID', 'This invite link is not valid (it may have been reset). Ask an administrator for a new one.');
  if (!org) {
    if (deps.config.signup.requireInviteLink) throw new AppError(403, 'INVITE_REQUIRED', 'Signup needs an invite link from an administrator of an organization.');
    org = await deps.db.selectFrom('organizations').selectAll().orderBy('id').limit(1).executeTakeFirstOrThrow();
  }
  assertPasswordAcceptable(input.password, { email, ...(input.username !== undefined && { username: input.username }) });
  const passwordHash = await hashPassword(input.password, deps.config.passwords.scryptLogN);
  const orgId = org.id;
  return deps.db.transaction().execute(async (trx) => {
    if (await findUserByEmail(trx, email)) throw invalid({ email: ['A user with that email already exists.'] });
    if (input.username !== undefined && (await findUserByUsername(trx, input.username))) throw invalid({ username: ['A user with that username already exists.'] });
    const user = await insertUserWithMembership(trx, {
      email,
      username: input.username ?? (await availableUsername(trx, email)),
      firstName: input.first_name,
      lastName: input.last_name,
      passwordHash,
      organizationId: orgId,
      role: 'NO',
    });
    await audit(trx, { action: 'auth.signup', objectType: 'user', objectId: user.id, organizationId: orgId, changes: { email, role: 'NO', via: input.token ? 'invite' : 'open signup' } });
    return userResponse(trx, user);
  });
}
