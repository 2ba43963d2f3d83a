/**
 * Organizations, their invite links and memberships. The invite token is derived from the server
 * secret and a per-organization nonce (shown again on request, never stored); the database keeps
 * the nonce and a keyed hash for lookup. Resetting replaces the nonce: the old link dies at once.
 */
import type { Transaction } from 'kysely';
import { containsText } from '../../db/sql-helpers.js';
import type { AppDeps } from '../../app-deps.js';
import type { AuditFn } from '../../http/route.js';
import type { Actor } from '../../http/actor.js';
import { ACTIVE_ROLES, isRole, ROLE_NAMES, type Role } from '../../authz/permissions.js';
import type { Db } from '../../db/database.js';
import type { Database, OrganizationRow } from '../../db/schema.js';
import { pageWindow } from '../../http/common-schemas.js';
import { AppError, invalid, notFound } from '../../http/errors.js';
import { randomToken, type Secrets } from '../../security/secret-key.js';
import { findMembership, findUserByEmail, findUserById } from '../users/users.repository.js';

type Q = Db | Transaction<Database>;

/** The invite token an organization's nonce derives (never stored). */
export const deriveInviteToken = (secrets: Secrets, orgId: number, nonce: string) => secrets.mac('invite', orgId, nonce).slice(0, 32);
const inviteLookup = (secrets: Secrets, token: string) => secrets.mac('invite-lookup', token);

/** Creates an organization with a fresh invite link. */
export async function createOrganization(db: Q, secrets: Secrets, opts: { title: string; createdById?: number | null }): Promise<OrganizationRow> {
  const now = new Date().toISOString();
  const placeholder = randomToken(16);
  const org = await db
    .insertInto('organizations')
    .values({ title: opts.title, contact_info: null, created_by_id: opts.createdById ?? null, invite_nonce: placeholder, invite_hash: `pending:${placeholder}`, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return resetInviteNonce(db, secrets, org.id);
}

async function resetInviteNonce(db: Q, secrets: Secrets, orgId: number): Promise<OrganizationRow> {
  const nonce = randomToken(24);
  const token = deriveInviteToken(secrets, orgId, nonce);
  return db
    .updateTable('organizations')
    .set({ invite_nonce: nonce, invite_hash: inviteLookup(secrets, token), updated_at: new Date().toISOString() })
    .where('id', '=', orgId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

const inviteOf = (secrets: Secrets, org: OrganizationRow) => {
  const token = deriveInviteToken(secrets, org.id, org.invite_nonce);
  return { invite_url: `/user/signup/?token=${token}`, token };
};

/** The actor's organization invite link, as Label Studio returns it. */
export async function getInvite(deps: AppDeps, actor: Actor) {
  const org = await deps.db.selectFrom('organizations').selectAll().where('id', '=', actor.organizationId).executeTakeFirstOrThrow();
  return inviteOf(deps.secrets, org);
}

/** Replaces the actor's organization invite link; the old one stops working. */
export async function resetInvite(deps: AppDeps, actor: Actor, audit: AuditFn) {
  return deps.db.transaction().execute(async (trx) => {
    const org = await resetInviteNonce(trx, deps.secrets, actor.organizationId);
    await audit(trx, { action: 'invite.reset', objectType: 'organization', objectId: org.id });
    return inviteOf(deps.secrets, org);
  });
}

/** The organization an invite token opens, or undefined. */
export async function findOrganizationByInvite(db: Q, secrets: Secrets, token: string): Promise<OrganizationRow | undefined> {
  if (token.length < 10 || token.length > 200) return undefined;
  return db.selectFrom('organizations').selectAll().where('invite_hash', '=', inviteLookup(secrets, token)).executeTakeFirst();
}

/** Organizations the actor belongs to. */
export async function listOrganizationsOf(db: Db, userId: number) {
  return db
    .selectFrom('organizations as o')
    .innerJoin('memberships as m', 'm.organization_id', 'o.id')
    .select(['o.id', 'o.title', 'o.contact_info', 'o.created_at'])
    .where('m.user_id', '=', userId)
    .orderBy('o.id')
    .execute();
}

/** One organization, if the actor is a member of it (else not found). */
export async function getOrganization(db: Db, actor: Actor, id: number) {
  const m = await findMembership(db, id, actor.userId);
  if (!m) throw notFound();
  return db.selectFrom('organizations').select(['id', 'title', 'contact_info', 'created_at', 'created_by_id']).where('id', '=', id).executeTakeFirstOrThrow();
}

/** Members of the actor's own organization (others' are not found), newest first, searchable. */
export async function listMembers(db: Db, actor: Actor, orgId: number, q: { search?: string | undefined; page?: number | undefined; page_size?: number | undefined }) {
  if (orgId !== actor.organizationId) throw notFound();
  let base = db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id').where('m.organization_id', '=', orgId);
  if (q.search) {
    const text = q.search;
    base = base.where((eb) => eb.or(['u.email', 'u.username', 'u.first_name', 'u.last_name'].map((c) => containsText(c, text))));
  }
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const window = pageWindow(q, total);
  const rows = await base
    .select(['m.id', 'm.organization_id', 'm.role', 'u.id as user_id', 'u.email', 'u.username', 'u.first_name', 'u.last_name', 'u.last_activity'])
    .orderBy('m.id')
    .limit(window.size)
    .offset(window.offset)
    .execute();
  return { total, rows, window };
}

/** Gives a member of the actor's organization a role. Owner is never assigned this way. */
export async function changeMemberRole(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { orgId: number; userId: number; role: string }) {
  if (opts.orgId !== actor.organizationId) throw notFound();
  if (!isRole(opts.role)) throw invalid({ role: [`Unknown role; one of ${Object.keys(ROLE_NAMES).join(', ')}.`] });
  const role: Role = opts.role;
  if (role === 'OW') throw invalid({ role: ['Ownership is transferred, not assigned.'] });
  if (opts.userId === actor.userId) throw new AppError(403, 'OWN_ROLE', 'You cannot change your own role.');
  return deps.db.transaction().execute(async (trx) => {
    const m = await findMembership(trx, opts.orgId, opts.userId);
    if (!m) throw invalid({ user_id: ['No such member in this organization.'] });
    if (m.role === 'OW') throw new AppError(403, 'OWNER_ROLE', "The Owner's role cannot be changed; transfer ownership instead.");
    const now = new Date().toISOString();
    await trx.updateTable('memberships').set({ role, updated_at: now }).where('id', '=', m.id).execute();
    await audit(trx, { action: 'membership.role_change', objectType: 'membership', objectId: m.id, changes: { user_id: opts.userId, role: { before: m.role, after: role } } });
    return { ...m, role, updated_at: now };
  });
}

/** An existing, enabled user named by id or email; 400 naming `field` otherwise. */
async function namedUser(db: Q, ref: number | string, field: string) {
  const text = String(ref).trim();
  const user = /^\d{1,10}$/.test(text) ? await findUserById(db, Number(text)) : await findUserByEmail(db, text);
  if (!user || user.is_active !== 1) throw invalid({ [field]: [`No active user ${text}.`] });
  return user;
}

/**
 * Creates an organization owned by an existing user (the instance superuser's power, from the
 * API or the CLI). The owner keeps their active organization; they switch when they choose to.
 */
export async function createOrganizationWithOwner(deps: Pick<AppDeps, 'db' | 'secrets'>, audit: AuditFn, opts: { title: string; owner: number | string }): Promise<OrganizationRow> {
  const title = opts.title.trim();
  if (!title || title.length > 1000) throw invalid({ title: ['A title of 1 to 1000 characters.'] });
  return deps.db.transaction().execute(async (trx) => {
    const owner = await namedUser(trx, opts.owner, 'owner');
    const org = await createOrganization(trx, deps.secrets, { title, createdById: owner.id });
    const now = new Date().toISOString();
    await trx.insertInto('memberships').values({ organization_id: org.id, user_id: owner.id, role: 'OW', created_at: now, updated_at: now }).execute();
    await audit(trx, { action: 'organization.create', objectType: 'organization', objectId: org.id, organizationId: org.id, changes: { title, owner: owner.id } });
    return org;
  });
}

const isActiveRole = (role: string) => isRole(role) && ACTIVE_ROLES.includes(role);

/**
 * Hands the actor's organization to another active member in one transaction: the new Owner gets
 * OW, the old one (the actor) becomes an Administrator. The only way a role becomes OW.
 */
export async function transferOwnership(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { orgId: number; userId: number }) {
  if (opts.orgId !== actor.organizationId) throw notFound();
  if (opts.userId === actor.userId) throw invalid({ user: ['You already own this organization.'] });
  return deps.db.transaction().execute(async (trx) => {
    const current = await findMembership(trx, opts.orgId, actor.userId);
    if (!current || current.role !== 'OW') throw new AppError(403, 'NOT_OWNER', 'Only the Owner can transfer ownership.');
    const next = await findMembership(trx, opts.orgId, opts.userId);
    const nextUser = next ? await findUserById(trx, opts.userId) : undefined;
    if (!next || !nextUser || nextUser.is_active !== 1 || !isActiveRole(next.role)) throw invalid({ user: [`User ${opts.userId} is not an active member of this organization.`] });
    const now = new Date().toISOString();
    await trx.updateTable('memberships').set({ role: 'AD', updated_at: now }).where('id', '=', current.id).execute();
    await trx.updateTable('memberships').set({ role: 'OW', updated_at: now }).where('id', '=', next.id).execute();
    await audit(trx, {
      action: 'organization.ownership_transfer',
      objectType: 'organization',
      objectId: opts.orgId,
      changes: { owner: { before: actor.userId, after: opts.userId }, previous_owner_role: { before: 'OW', after: 'AD' }, new_owner_role: { before: next.role, after: 'OW' } },
    });
    return { organization: opts.orgId, owner: opts.userId, previous_owner: actor.userId };
  });
}

/** Makes one of the actor's organizations (an active membership) the one its requests act in. */
export async function setActiveOrganization(deps: AppDeps, actor: Actor, audit: AuditFn, orgId: number) {
  return deps.db.transaction().execute(async (trx) => {
    const m = await findMembership(trx, orgId, actor.userId);
    if (!m || !isActiveRole(m.role)) throw invalid({ organization: [`You have no active membership in organization ${orgId}.`] });
    const user = await findUserById(trx, actor.userId);
    if (!user) throw notFound();
    if (user.active_organization_id === orgId) return user;
    const updated = await trx.updateTable('users').set({ active_organization_id: orgId, updated_at: new Date().toISOString() }).where('id', '=', actor.userId).returningAll().executeTakeFirstOrThrow();
    await audit(trx, { action: 'user.active_organization', objectType: 'user', objectId: actor.userId, changes: { active_organization: { before: user.active_organization_id, after: orgId } } });
    return updated;
  });
}
